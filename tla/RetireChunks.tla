\* SPDX-License-Identifier: LGPL-2.1-or-later
----------------------------- MODULE RetireChunks -----------------------------
(***************************************************************************)
(* The two-level retire hand-off of src/reclaim.c and src/slab.c: a slab   *)
(* entry is retired onto its chunk's pending list (a Treiber stack linked  *)
(* by 16-bit slot indices inside the chunk); the map's retire list holds   *)
(* chunks with pending entries.  One action per C atomic operation:        *)
(*                                                                         *)
(*   slab_retire            CAS the chunk's pending head (push the entry); *)
(*                          if the list was empty, the retirer is the      *)
(*                          chunk's "lister": it pushes the chunk on       *)
(*                          m->retire_chunks (CAS) and then runs           *)
(*                          retire()'s busy-flag protocol (fence, load     *)
(*                          retire_busy, chain_begin, CAS busy 0 -> 1,     *)
(*                          batch_queue_or_release); any other retirer     *)
(*                          returns right after its pending CAS;           *)
(*   batch_queue            exchange m->retire_chunks with 0; for each     *)
(*                          chunk taken, exchange its pending head with    *)
(*                          empty into the chunk's `taken` (what this      *)
(*                          batch frees from it), link it into the batch;  *)
(*                          store the batch, call_rcu;                     *)
(*   batch_queue_or_release as RetireList.tla;                             *)
(*   reclaim_batch_free     (after a grace period) free every chunk's      *)
(*                          taken entries (one splice onto the chunk's     *)
(*                          free list), clear the batch, bqor, maybe       *)
(*                          chain_end.                                     *)
(*                                                                         *)
(* The CAS retry loops of the two pushes are one action each (the set of  *)
(* pushed entries is what matters; a failed CAS is a re-read).  Value     *)
(* records and entries from the allocator still go on the single-level    *)
(* list m->retire_head (RetireList.tla); the re-check of                  *)
(* batch_queue_or_release loads both heads, and such a record is the     *)
(* degenerate case here (a "chunk" whose every push makes it non-empty).  *)
(*                                                                         *)
(* The safety invariant is GraceRespected: an entry is freed only after   *)
(* every read-side section open at its retirement has ended.  Taking, per *)
(* chunk, exactly what was pushed before the batch's call_rcu (the        *)
(* exchange at queue time) is how the C code gets it; mutant              *)
(* CHUNK_TAKE_LATE (take the pending list in the callback) breaks it.     *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    Pushers,       \* threads that retire entries
    Readers,       \* threads that only read (and may hold entries)
    Worker,        \* the call_rcu worker thread
    NObj,          \* entries each pusher retires
    NChunks,       \* chunks; a pusher's i-th entry is in chunk (i-1)%NChunks+1
    ReaderRounds,  \* read-side sections per reader
    Memory,        \* "SC" or "TSO_FENCE" (RetireList.tla: the fences)
    Mutant         \* "none" or a seeded bug (see MutantNames)

MutantNames == {"none",
                "CHUNK_LOST_PUSH",   \* no map push when pending became non-empty
                "CHUNK_TAKE_LATE",   \* the callback takes the pending lists
                "CHUNK_PUSH_ALWAYS", \* every retire pushes its chunk
                "CHUNK_NO_KICK"}     \* the lister returns after its map push

ASSUME Mutant \in MutantNames
ASSUME Memory \in {"SC", "TSO_FENCE"}

Objs    == Pushers \X (1..NObj)
Chunks  == 1..NChunks
ChunkOf(o) == ((o[2] - 1) % NChunks) + 1
Threads == Pushers \cup Readers
Actors  == Pushers \cup {Worker}
NoObj   == <<>>
NoStore == 2
NoChunk == 0

VARIABLES
    pend,     \* chunk -> its pending entries (c->pending)
    taken,    \* chunk -> what the batch in flight took from it (c->taken)
    head,     \* m->retire_chunks: chunks on the map's list
    busy,     \* m->retire_busy
    batch,    \* m->retire_chunk_batch: the chunks of the batch in flight
    chains,   \* m->chains
    cbq,      \* call_rcu queue: per callback, the sections still to end
    pc,       \* program counter of each pusher and of the worker
    got,      \* actor: chunks its exchange of retire_chunks returned, not
              \*   yet taken
    bl,       \* actor: chunks taken so far (the batch being built)
    done,     \* pusher: entries retired so far (its current one is the last)
    listing,  \* ghost: pusher -> chunk whose pending list its current
              \*   retire made non-empty (until that retire returns)
    inSec, rpc, rounds, holds, linked, retired, openAt, freed, sb,
    clobber,  \* ghost: a batch stored while one is in flight
    dup,      \* ghost: a chunk pushed on the map's list while on it
    dfree     \* ghost: an entry freed twice

vars == <<pend, taken, head, busy, batch, chains, cbq, pc, got, bl, done,
          listing, inSec, rpc, rounds, holds, linked, retired, openAt, freed,
          sb, clobber, dup, dfree>>

Cur(p) == <<p, done[p]>>

Init ==
    /\ pend = [c \in Chunks |-> {}] /\ taken = [c \in Chunks |-> {}]
    /\ head = {} /\ busy = 0 /\ batch = {} /\ chains = 0 /\ cbq = << >>
    /\ pc = [a \in Actors |-> IF a = Worker THEN "idle" ELSE "out"]
    /\ got = [a \in Actors |-> {}] /\ bl = [a \in Actors |-> {}]
    /\ done = [p \in Pushers |-> 0]
    /\ listing = [p \in Pushers |-> NoChunk]
    /\ inSec = {}
    /\ rpc = [r \in Readers |-> "out"]
    /\ rounds = [r \in Readers |-> 0]
    /\ holds = [r \in Readers |-> NoObj]
    /\ linked = Objs /\ retired = {} /\ freed = {}
    /\ openAt = [o \in Objs |-> {}]
    /\ sb = [a \in Actors |-> NoStore]
    /\ clobber = FALSE /\ dup = FALSE /\ dfree = FALSE

Back(a) == IF a = Worker THEN "idle" ELSE "in"
Drained(a) == sb[a] = NoStore
Goto(a, l) == pc' = [pc EXCEPT ![a] = l]
\* A pusher's retire returns: the ghost forgets what it listed.
Return(a) ==
    /\ Goto(a, Back(a))
    /\ listing' = IF a \in Pushers THEN [listing EXCEPT ![a] = NoChunk]
                  ELSE listing

-----------------------------------------------------------------------------
(* Read-side sections                                                      *)

EndSection(t) ==
    /\ inSec' = inSec \ {t}
    /\ openAt' = [o \in Objs |-> openAt[o] \ {t}]
    /\ cbq' = [i \in 1..Len(cbq) |-> cbq[i] \ {t}]

ReaderBegin(r) ==
    /\ rpc[r] = "out" /\ rounds[r] < ReaderRounds
    /\ rpc' = [rpc EXCEPT ![r] = "in"]
    /\ rounds' = [rounds EXCEPT ![r] = @ + 1]
    /\ inSec' = inSec \cup {r}
    /\ UNCHANGED <<pend, taken, head, busy, batch, chains, cbq, pc, got, bl,
                   done, listing, holds, linked, retired, openAt, freed, sb,
                   clobber, dup, dfree>>

ReaderGrab(r) ==
    /\ rpc[r] = "in" /\ holds[r] = NoObj
    /\ \E o \in linked : holds' = [holds EXCEPT ![r] = o]
    /\ UNCHANGED <<pend, taken, head, busy, batch, chains, cbq, pc, got, bl,
                   done, listing, inSec, rpc, rounds, linked, retired, openAt,
                   freed, sb, clobber, dup, dfree>>

ReaderEnd(r) ==
    /\ rpc[r] = "in"
    /\ rpc' = [rpc EXCEPT ![r] = "out"]
    /\ holds' = [holds EXCEPT ![r] = NoObj]
    /\ EndSection(r)
    /\ UNCHANGED <<pend, taken, head, busy, batch, chains, pc, got, bl, done,
                   listing, rounds, linked, retired, freed, sb, clobber, dup,
                   dfree>>

PusherEnd(p) ==
    /\ pc[p] = "in"
    /\ Goto(p, "out")
    /\ EndSection(p)
    /\ UNCHANGED <<pend, taken, head, busy, batch, chains, got, bl, done,
                   listing, rpc, rounds, holds, linked, retired, freed, sb,
                   clobber, dup, dfree>>

-----------------------------------------------------------------------------
(* Retiring a slab entry                                                   *)

Unlink(p) ==
    /\ pc[p] \in {"out", "in"} /\ done[p] < NObj
    /\ LET o   == <<p, done[p] + 1>>
           sec == inSec \cup {p} IN
       /\ linked' = linked \ {o}
       /\ retired' = retired \cup {o}
       /\ openAt' = [openAt EXCEPT ![o] = sec]
       /\ inSec' = sec
    /\ done' = [done EXCEPT ![p] = @ + 1]
    /\ Goto(p, "pend")
    /\ UNCHANGED <<pend, taken, head, busy, batch, chains, cbq, got, bl,
                   listing, rpc, rounds, holds, freed, sb, clobber, dup,
                   dfree>>

\* slab_retire: CAS c->pending (the entry's 16-bit link = the old head).
PendPush(p) ==
    /\ pc[p] = "pend"
    /\ LET o == Cur(p)
           c == ChunkOf(o)
           first == pend[c] = {} IN
       /\ pend' = [pend EXCEPT ![c] = @ \cup {o}]
       /\ IF Mutant = "CHUNK_PUSH_ALWAYS" \/ (first /\ Mutant # "CHUNK_LOST_PUSH")
          THEN /\ Goto(p, "mappush")
               /\ listing' = IF first THEN [listing EXCEPT ![p] = c]
                             ELSE listing
          ELSE /\ Goto(p, "in")   \* not the lister: return
               /\ UNCHANGED listing
    /\ UNCHANGED <<taken, head, busy, batch, chains, cbq, got, bl, done, inSec,
                   rpc, rounds, holds, linked, retired, openAt, freed, sb,
                   clobber, dup, dfree>>

\* The lister pushes the chunk on m->retire_chunks (c->retire_next).
MapPush(p) ==
    /\ pc[p] = "mappush" /\ Drained(p)
    /\ LET c == ChunkOf(Cur(p)) IN
       /\ dup' = (dup \/ c \in head \/ \E a \in Actors : c \in got[a])
       /\ head' = head \cup {c}
    /\ Goto(p, IF Mutant = "CHUNK_NO_KICK" THEN "in" ELSE "busyload")
    /\ listing' = IF Mutant = "CHUNK_NO_KICK"
                  THEN [listing EXCEPT ![p] = NoChunk] ELSE listing
    /\ UNCHANGED <<pend, taken, busy, batch, chains, cbq, got, bl, done, inSec,
                   rpc, rounds, holds, linked, retired, openAt, freed, sb,
                   clobber, dfree>>

\* After the seq_cst fence (RetireList.tla): load retire_busy.
BusyLoad(p) ==
    /\ pc[p] = "busyload"
    /\ LET v == IF sb[p] # NoStore THEN sb[p] ELSE busy IN
       IF v # 0 THEN Return(p) ELSE Goto(p, "chainbegin") /\ UNCHANGED listing
    /\ UNCHANGED <<pend, taken, head, busy, batch, chains, cbq, got, bl, done,
                   inSec, rpc, rounds, holds, linked, retired, openAt, freed,
                   sb, clobber, dup, dfree>>

ChainBegin(p) ==
    /\ pc[p] = "chainbegin" /\ Drained(p)
    /\ chains' = chains + 1
    /\ Goto(p, "busycas")
    /\ UNCHANGED <<pend, taken, head, busy, batch, cbq, got, bl, done, listing,
                   inSec, rpc, rounds, holds, linked, retired, openAt, freed,
                   sb, clobber, dup, dfree>>

BusyCas(p) ==
    /\ pc[p] = "busycas" /\ Drained(p)
    /\ IF busy = 0
       THEN busy' = 1 /\ Goto(p, "xchg")
       ELSE UNCHANGED busy /\ Goto(p, "chainend")
    /\ UNCHANGED <<pend, taken, head, batch, chains, cbq, got, bl, done,
                   listing, inSec, rpc, rounds, holds, linked, retired, openAt,
                   freed, sb, clobber, dup, dfree>>

-----------------------------------------------------------------------------
(* batch_queue_or_release                                                  *)

Xchg(a) ==                  \* exchange(retire_chunks, 0)
    /\ pc[a] = "xchg" /\ Drained(a)
    /\ got' = [got EXCEPT ![a] = head]
    /\ head' = {}
    /\ Goto(a, IF head # {} THEN "take" ELSE "release")
    /\ UNCHANGED <<pend, taken, busy, batch, chains, cbq, bl, done, listing,
                   inSec, rpc, rounds, holds, linked, retired, openAt, freed,
                   sb, clobber, dup, dfree>>

\* slab_pending_take: c->taken = exchange(c->pending, empty) (read
\* c->retire_next first); c->batch_next = the batch so far.
Take(a) ==
    /\ pc[a] = "take" /\ got[a] # {}
    /\ \E c \in got[a] :
       /\ got' = [got EXCEPT ![a] = @ \ {c}]
       /\ bl' = [bl EXCEPT ![a] = @ \cup {c}]
       /\ clobber' = (clobber \/ taken[c] # {})
       /\ IF Mutant = "CHUNK_TAKE_LATE"
          THEN UNCHANGED <<pend, taken>>
          ELSE /\ taken' = [taken EXCEPT ![c] = pend[c]]
               /\ pend' = [pend EXCEPT ![c] = {}]
    /\ Goto(a, IF Cardinality(got[a]) = 1 THEN "store" ELSE "take")
    /\ UNCHANGED <<head, busy, batch, chains, cbq, done, listing, inSec, rpc,
                   rounds, holds, linked, retired, openAt, freed, sb, dup,
                   dfree>>

StoreBatch(a) ==
    /\ pc[a] = "store"
    /\ batch' = bl[a]
    /\ bl' = [bl EXCEPT ![a] = {}]
    /\ clobber' = (clobber \/ batch # {} \/ cbq # << >>)
    /\ Goto(a, "call")
    /\ UNCHANGED <<pend, taken, head, busy, chains, cbq, got, done, listing,
                   inSec, rpc, rounds, holds, linked, retired, openAt, freed,
                   sb, dup, dfree>>

CallRcu(a) ==
    /\ pc[a] = "call"
    /\ cbq' = Append(cbq, inSec)
    /\ Return(a)
    /\ UNCHANGED <<pend, taken, head, busy, batch, chains, got, bl, done,
                   inSec, rpc, rounds, holds, linked, retired, openAt, freed,
                   sb, clobber, dup, dfree>>

Release(a) ==
    /\ pc[a] = "release"
    /\ IF Memory = "SC"
       THEN busy' = 0 /\ UNCHANGED sb
       ELSE sb' = [sb EXCEPT ![a] = 0] /\ UNCHANGED busy
    /\ Goto(a, "recheck")
    /\ UNCHANGED <<pend, taken, head, batch, chains, cbq, got, bl, done,
                   listing, inSec, rpc, rounds, holds, linked, retired, openAt,
                   freed, clobber, dup, dfree>>

Recheck(a) ==               \* after the fence: load retire_chunks
    /\ pc[a] = "recheck" /\ Drained(a)
    /\ Goto(a, IF head # {} THEN "recas" ELSE "chainend")
    /\ UNCHANGED <<pend, taken, head, busy, batch, chains, cbq, got, bl, done,
                   listing, inSec, rpc, rounds, holds, linked, retired, openAt,
                   freed, sb, clobber, dup, dfree>>

Recas(a) ==
    /\ pc[a] = "recas" /\ Drained(a)
    /\ IF busy = 0
       THEN busy' = 1 /\ Goto(a, "xchg")
       ELSE UNCHANGED busy /\ Goto(a, "chainend")
    /\ UNCHANGED <<pend, taken, head, batch, chains, cbq, got, bl, done,
                   listing, inSec, rpc, rounds, holds, linked, retired, openAt,
                   freed, sb, clobber, dup, dfree>>

ChainEnd(a) ==
    /\ pc[a] = "chainend" /\ Drained(a)
    /\ chains' = chains - 1
    /\ Return(a)
    /\ UNCHANGED <<pend, taken, head, busy, batch, cbq, got, bl, done, inSec,
                   rpc, rounds, holds, linked, retired, openAt, freed, sb,
                   clobber, dup, dfree>>

Flush(a) ==
    /\ sb[a] # NoStore
    /\ busy' = sb[a]
    /\ sb' = [sb EXCEPT ![a] = NoStore]
    /\ UNCHANGED <<pend, taken, head, batch, chains, cbq, pc, got, bl, done,
                   listing, inSec, rpc, rounds, holds, linked, retired, openAt,
                   freed, clobber, dup, dfree>>

-----------------------------------------------------------------------------
(* reclaim_batch_free                                                      *)

CbStart(w) ==
    /\ pc[w] = "idle" /\ cbq # << >> /\ Head(cbq) = {}
    /\ cbq' = Tail(cbq)
    /\ Goto(w, "free")
    /\ UNCHANGED <<pend, taken, head, busy, batch, chains, got, bl, done,
                   listing, inSec, rpc, rounds, holds, linked, retired, openAt,
                   freed, sb, clobber, dup, dfree>>

\* slab_pending_free for every chunk of the batch (CHUNK_TAKE_LATE: the
\* chunk's pending list, taken now).
CbFree(w) ==
    /\ pc[w] = "free"
    /\ LET late == Mutant = "CHUNK_TAKE_LATE"
           f == UNION {IF late THEN pend[c] ELSE taken[c] : c \in batch} IN
       /\ freed' = freed \cup f
       /\ dfree' = (dfree \/ f \cap freed # {})
       /\ IF late
          THEN pend' = [c \in Chunks |-> IF c \in batch THEN {} ELSE pend[c]]
               /\ UNCHANGED taken
          ELSE taken' = [c \in Chunks |-> IF c \in batch THEN {} ELSE taken[c]]
               /\ UNCHANGED pend
    /\ Goto(w, "clear")
    /\ UNCHANGED <<head, busy, batch, chains, cbq, got, bl, done, listing,
                   inSec, rpc, rounds, holds, linked, retired, openAt, sb,
                   clobber, dup>>

CbClear(w) ==
    /\ pc[w] = "clear"
    /\ batch' = {}
    /\ Goto(w, "xchg")
    /\ UNCHANGED <<pend, taken, head, busy, chains, cbq, got, bl, done,
                   listing, inSec, rpc, rounds, holds, linked, retired, openAt,
                   freed, sb, clobber, dup, dfree>>

-----------------------------------------------------------------------------

BqorStep(a) ==
    \/ Xchg(a) \/ Take(a) \/ StoreBatch(a) \/ CallRcu(a) \/ Release(a)
    \/ Recheck(a) \/ Recas(a) \/ ChainEnd(a) \/ Flush(a)

PusherStep(p) ==
    \/ PusherEnd(p) \/ Unlink(p) \/ PendPush(p) \/ MapPush(p) \/ BusyLoad(p)
    \/ ChainBegin(p) \/ BusyCas(p) \/ BqorStep(p)

WorkerStep ==
    CbStart(Worker) \/ CbFree(Worker) \/ CbClear(Worker) \/ BqorStep(Worker)

ReaderStep(r) == ReaderBegin(r) \/ ReaderGrab(r) \/ ReaderEnd(r)

AllDone ==
    /\ \A p \in Pushers : pc[p] = "out" /\ done[p] = NObj
    /\ \A r \in Readers : rpc[r] = "out" /\ rounds[r] = ReaderRounds
    /\ pc[Worker] = "idle" /\ cbq = << >>
    /\ \A a \in Actors : sb[a] = NoStore

Terminated == AllDone /\ UNCHANGED vars

Next ==
    \/ \E p \in Pushers : PusherStep(p)
    \/ \E r \in Readers : ReaderStep(r)
    \/ WorkerStep
    \/ Terminated

Spec == Init /\ [][Next]_vars

Fairness ==
    /\ \A p \in Pushers : WF_vars(PusherStep(p))
    /\ \A r \in Readers : WF_vars(ReaderStep(r))
    /\ WF_vars(WorkerStep)

LiveSpec == Spec /\ Fairness

-----------------------------------------------------------------------------
(* Properties                                                              *)

Retiring == {"pend", "mappush", "busyload", "chainbegin", "busycas", "xchg",
             "take", "store", "call", "release", "recheck", "recas",
             "chainend"}

TypeOK ==
    /\ pend \in [Chunks -> SUBSET Objs] /\ taken \in [Chunks -> SUBSET Objs]
    /\ head \subseteq Chunks /\ batch \subseteq Chunks
    /\ busy \in {0, 1} /\ chains \in Nat
    /\ pc \in [Actors -> Retiring \cup {"out", "in", "idle", "free", "clear"}]
    /\ freed \subseteq retired /\ retired \cap linked = {}
    /\ sb \in [Actors -> {0, NoStore}]

\* (1) The safety property itself: an entry is freed only after every
\* read-side section open at its retirement has ended, and no reader holds
\* it.  (Not "a batch frees exactly what was pushed before its call_rcu":
\* that is how the C code gets this, and only one way to.)
GraceRespected ==
    \A o \in freed :
        /\ openAt[o] = {}
        /\ \A r \in Readers : holds[r] # o

\* (2) One batch in flight; a chunk's taken list never overwritten while a
\* batch still has it.
AtMostOneBatch ==
    /\ ~clobber
    /\ Len(cbq) <= 1
    /\ cbq # << >> => pc[Worker] \notin {"free", "clear"}

NoDoubleFree == ~dfree

\* (3) A chunk is on the map's list at most once (its one retire_next
\* link), and only while its pending list is non-empty.
ChunkListed ==
    /\ ~dup
    /\ \A c \in head : pend[c] # {}

\* (4) No retire in progress and no chain: nothing pending anywhere.
NoStranded ==
    ((\A p \in Pushers : pc[p] \in {"out", "in"}) /\ chains = 0)
        => (retired \subseteq freed /\ head = {})

\* (5) What quiesce relies on while other threads retire.  With chains = 0,
\* an entry whose retire() has returned is freed, or its chunk's pending
\* list was made non-empty by a retire still in progress (the lister,
\* which has yet to push the chunk and count a chain).  The lister's
\* section began before that entry's push, so the grace period that
\* reclaim_wait_map waits for before looking at chains waits for it.
RetireReturned(o) ==
    done[o[1]] > o[2] \/ pc[o[1]] \in {"out", "in"}

NoUncountedPending ==
    chains = 0 =>
        \A o \in retired :
            (RetireReturned(o) /\ o \notin freed)
                => \E p \in Pushers : listing[p] = ChunkOf(o)

\* Liveness: every retired entry is eventually freed.
EventuallyFreed == \A o \in Objs : (o \in retired) ~> (o \in freed)

\* Coverage witness: an entry joins a pending list its chunk's lister has
\* not pushed yet (the window NoUncountedPending allows).
NoJoinBeforeListed ==
    ~\E p, q \in Pushers :
        p # q /\ pc[p] = "mappush" /\ listing[p] # NoChunk
        /\ \E o \in pend[listing[p]] : o[1] = q /\ RetireReturned(o)

=============================================================================
