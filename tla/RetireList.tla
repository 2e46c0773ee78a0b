\* SPDX-License-Identifier: LGPL-2.1-or-later
------------------------------ MODULE RetireList ------------------------------
(***************************************************************************)
(* The per-map retire list of src/reclaim.c and the hand-off of its busy   *)
(* flag between the threads that retire objects and the batch callback.   *)
(* LfMap.tla abstracts this away (one call_rcu per retired object); this   *)
(* module models only it, one action per C atomic operation:               *)
(*                                                                         *)
(*   retire(m, r)            push by CAS on retire_head (Treiber stack,    *)
(*                           push only), then load retire_busy,            *)
(*                           reclaim_chain_begin, CAS busy 0 -> 1 (lost:   *)
(*                           chain_end), batch_queue_or_release, maybe     *)
(*                           chain_end;                                    *)
(*   batch_queue(m)          exchange retire_head with 0; if non-empty,    *)
(*                           store retire_batch, call_rcu;                 *)
(*   batch_queue_or_release  loop: batch_queue, or store busy = 0, load    *)
(*                           retire_head, CAS busy 0 -> 1;                 *)
(*   reclaim_batch_free      (after a grace period) batch_free, clear      *)
(*                           retire_batch, batch_queue_or_release, maybe   *)
(*                           reclaim_chain_end.                            *)
(*                                                                         *)
(* Pushers retire NObj objects each, inside read-side sections (several    *)
(* retires may share a section, as when list_find unlinks more than one    *)
(* entry).  Retiring starts with the unlink (the object stops being        *)
(* reachable); pure readers may pick up an object while it is reachable    *)
(* and hold it until their section ends.  A call_rcu callback runs after   *)
(* every read-side section open at its call_rcu has ended; one call_rcu    *)
(* worker runs callbacks in order, one at a time.                          *)
(*                                                                         *)
(* Memory: "SC" (sequential consistency), "TSO" (x86-TSO with the C code's *)
(* orderings: the release store busy = 0 is a plain store that may wait in *)
(* the storing thread's store buffer while it loads retire_head; locked    *)
(* read-modify-writes drain the buffer), "TSO_FENCE" (TSO with a full      *)
(* fence between that store and the load of retire_head).                  *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    Pushers,       \* threads that retire objects
    Readers,       \* threads that only read (and may hold objects)
    Worker,        \* the call_rcu worker thread (runs reclaim_batch_free)
    NObj,          \* objects each pusher retires
    ReaderRounds,  \* read-side sections per reader
    Memory,        \* "SC", "TSO" or "TSO_FENCE"
    Mutant         \* "none" or a seeded bug (see MutantNames)

MutantNames == {"none",
                "RETIRE_NO_RECHECK",      \* no second look after busy = 0
                "RETIRE_DOUBLE_RELEASE",  \* busy = 0 again after the re-check
                "RETIRE_NO_GRACE",        \* free at push (C: FREE_NO_GRACE)
                "RETIRE_NO_DETACH",       \* batch_queue loads, no exchange
                "RETIRE_COUNT_LATE"}      \* busy taken before the count

ASSUME Mutant \in MutantNames
ASSUME Memory \in {"SC", "TSO", "TSO_FENCE"}
ASSUME NObj \in Nat /\ ReaderRounds \in Nat

Objs    == Pushers \X (1..NObj)
Threads == Pushers \cup Readers      \* threads with read-side sections
Actors  == Pushers \cup {Worker}     \* who runs batch_queue_or_release
NoObj   == <<>>                      \* a reader holding nothing
NoStore == 2                         \* an empty store buffer

VARIABLES
    head,     \* m->retire_head: the objects on the stack (0 = {})
    busy,     \* m->retire_busy
    batch,    \* m->retire_batch (0 = {})
    chains,   \* m->chains (the map's chains in flight)
    cbq,      \* call_rcu queue of reclaim_batch_free: per queued callback,
              \*   the threads whose section open at call_rcu has not ended
    pc,       \* program counter of each pusher and of the worker
    seen,     \* pusher: the value of retire_head its push CAS expects
    got,      \* actor: what its exchange of retire_head returned
    done,     \* pusher: objects retired so far (its current one is the last)
    inSec,    \* threads inside a read-side section
    rpc,      \* reader: "out" or "in"
    rounds,   \* reader: sections started
    holds,    \* reader: the object it holds, or NoObj
    linked,   \* objects still reachable (not yet unlinked)
    retired,  \* objects unlinked (retirement begun)
    openAt,   \* object -> threads whose section, open when it was
              \*   unlinked, has not ended yet
    freed,    \* objects freed
    sb,       \* actor -> pending store to retire_busy (TSO), or NoStore
    clobber,  \* ghost: retire_batch stored while a batch was in flight
    dfree     \* ghost: an object freed twice

vars == <<head, busy, batch, chains, cbq, pc, seen, got, done, inSec, rpc,
          rounds, holds, linked, retired, openAt, freed, sb, clobber, dfree>>

Cur(p) == <<p, done[p]>>     \* the object pusher p is retiring

Init ==
    /\ head = {} /\ busy = 0 /\ batch = {} /\ chains = 0 /\ cbq = << >>
    /\ pc = [a \in Actors |-> IF a = Worker THEN "idle" ELSE "out"]
    /\ seen = [p \in Pushers |-> {}]
    /\ got = [a \in Actors |-> {}]
    /\ done = [p \in Pushers |-> 0]
    /\ inSec = {}
    /\ rpc = [r \in Readers |-> "out"]
    /\ rounds = [r \in Readers |-> 0]
    /\ holds = [r \in Readers |-> NoObj]
    /\ linked = Objs /\ retired = {} /\ freed = {}
    /\ openAt = [o \in Objs |-> {}]
    /\ sb = [a \in Actors |-> NoStore]
    /\ clobber = FALSE /\ dfree = FALSE

\* Where an actor goes when batch_queue_or_release returns true (the chain
\* goes on in the callback just queued): the pusher's retire returns, the
\* callback returns.
Back(a) == IF a = Worker THEN "idle" ELSE "in"

\* Locked read-modify-writes (and, under TSO_FENCE, the fence) need the
\* actor's store buffer drained first.
Drained(a) == sb[a] = NoStore

Goto(a, l) == pc' = [pc EXCEPT ![a] = l]

-----------------------------------------------------------------------------
(* Read-side sections                                                      *)

\* A section ends: the thread drops every pointer; the grace periods of the
\* objects and callbacks that waited for it no longer do.
EndSection(t) ==
    /\ inSec' = inSec \ {t}
    /\ openAt' = [o \in Objs |-> openAt[o] \ {t}]
    /\ cbq' = [i \in 1..Len(cbq) |-> cbq[i] \ {t}]

ReaderBegin(r) ==
    /\ rpc[r] = "out" /\ rounds[r] < ReaderRounds
    /\ rpc' = [rpc EXCEPT ![r] = "in"]
    /\ rounds' = [rounds EXCEPT ![r] = @ + 1]
    /\ inSec' = inSec \cup {r}
    /\ UNCHANGED <<head, busy, batch, chains, cbq, pc, seen, got, done, holds,
                   linked, retired, openAt, freed, sb, clobber, dfree>>

ReaderGrab(r) ==            \* reach an object that is still linked
    /\ rpc[r] = "in" /\ holds[r] = NoObj
    /\ \E o \in linked : holds' = [holds EXCEPT ![r] = o]
    /\ UNCHANGED <<head, busy, batch, chains, cbq, pc, seen, got, done, inSec,
                   rpc, rounds, linked, retired, openAt, freed, sb, clobber,
                   dfree>>

ReaderEnd(r) ==
    /\ rpc[r] = "in"
    /\ rpc' = [rpc EXCEPT ![r] = "out"]
    /\ holds' = [holds EXCEPT ![r] = NoObj]
    /\ EndSection(r)
    /\ UNCHANGED <<head, busy, batch, chains, pc, seen, got, done, rounds,
                   linked, retired, freed, sb, clobber, dfree>>

PusherEnd(p) ==             \* reclaim_read_unlock
    /\ pc[p] = "in"
    /\ Goto(p, "out")
    /\ EndSection(p)
    /\ UNCHANGED <<head, busy, batch, chains, seen, got, done, rpc, rounds,
                   holds, linked, retired, freed, sb, clobber, dfree>>

-----------------------------------------------------------------------------
(* retire(): the unlink that makes an object retired (list.c / lfmap.c),  *)
(* then the push and the busy flag.                                        *)

\* The CAS that unlinked (or replaced) the object, inside a read-side
\* section: a new one (reclaim_read_lock; merged with the unlink, as an
\* empty section of a pusher is one of the reader's), or the section of
\* the pusher's previous retire.
Unlink(p) ==
    /\ pc[p] \in {"out", "in"} /\ done[p] < NObj
    /\ LET o   == <<p, done[p] + 1>>
           sec == inSec \cup {p} IN
       /\ linked' = linked \ {o}
       /\ retired' = retired \cup {o}
       /\ openAt' = [openAt EXCEPT ![o] = sec]
       /\ inSec' = sec
    /\ done' = [done EXCEPT ![p] = @ + 1]
    /\ Goto(p, "load")
    /\ UNCHANGED <<head, busy, batch, chains, cbq, seen, got, rpc, rounds,
                   holds, freed, sb, clobber, dfree>>

PushLoad(p) ==              \* head = load(retire_head)
    /\ pc[p] = "load"
    /\ seen' = [seen EXCEPT ![p] = head]
    /\ Goto(p, "cas")
    /\ UNCHANGED <<head, busy, batch, chains, cbq, got, done, inSec, rpc,
                   rounds, holds, linked, retired, openAt, freed, sb, clobber,
                   dfree>>

PushCas(p) ==               \* CAS retire_head: head -> r (r->next = head)
    /\ pc[p] = "cas" /\ Drained(p)
    /\ IF Mutant = "RETIRE_NO_GRACE"
       THEN \* LFMAP_MUTANT_FREE_NO_GRACE: batch_free right away
            /\ freed' = freed \cup {Cur(p)}
            /\ dfree' = (dfree \/ Cur(p) \in freed)
            /\ Goto(p, "in")
            /\ UNCHANGED <<head, seen>>
       ELSE /\ IF head = seen[p]
               THEN /\ head' = head \cup {Cur(p)}
                    /\ Goto(p, "busyload")
                    /\ seen' = [seen EXCEPT ![p] = {}]   \* dead now
               ELSE /\ seen' = [seen EXCEPT ![p] = head]   \* retry
                    /\ UNCHANGED <<head, pc>>
            /\ UNCHANGED <<freed, dfree>>
    /\ UNCHANGED <<busy, batch, chains, cbq, got, done, inSec, rpc, rounds,
                   holds, linked, retired, openAt, sb, clobber>>

\* The chain is counted before the busy flag is taken (reclaim_chain_begin,
\* then the CAS; a lost CAS ends the count again), so whenever a pusher
\* holds the flag its chain is counted.  Mutant RETIRE_COUNT_LATE: the old
\* order (CAS, then count).
CountFirst == Mutant # "RETIRE_COUNT_LATE"

BusyLoad(p) ==              \* load(retire_busy) == 0 ?
    /\ pc[p] = "busyload"
    /\ LET v == IF sb[p] # NoStore THEN sb[p] ELSE busy IN
       Goto(p, IF v # 0 THEN "in"
               ELSE IF CountFirst THEN "chainbegin" ELSE "busycas")
    /\ UNCHANGED <<head, busy, batch, chains, cbq, seen, got, done, inSec, rpc,
                   rounds, holds, linked, retired, openAt, freed, sb, clobber,
                   dfree>>

BusyCas(p) ==               \* CAS retire_busy 0 -> 1
    /\ pc[p] = "busycas" /\ Drained(p)
    /\ IF busy = 0
       THEN busy' = 1 /\ Goto(p, IF CountFirst THEN "xchg" ELSE "chainbegin")
       ELSE UNCHANGED busy /\ Goto(p, IF CountFirst THEN "chainend" ELSE "in")
    /\ UNCHANGED <<head, batch, chains, cbq, seen, got, done, inSec, rpc,
                   rounds, holds, linked, retired, openAt, freed, sb, clobber,
                   dfree>>

ChainBegin(p) ==            \* reclaim_chain_begin: fetch_add
    /\ pc[p] = "chainbegin" /\ Drained(p)
    /\ chains' = chains + 1
    /\ Goto(p, IF CountFirst THEN "busycas" ELSE "xchg")
    /\ UNCHANGED <<head, busy, batch, cbq, seen, got, done, inSec, rpc,
                   rounds, holds, linked, retired, openAt, freed, sb, clobber,
                   dfree>>

-----------------------------------------------------------------------------
(* batch_queue_or_release(), run by a pusher or by the callback            *)

Xchg(a) ==                  \* batch_queue: exchange(retire_head, 0)
    /\ pc[a] = "xchg" /\ Drained(a)
    /\ got' = [got EXCEPT ![a] = head]
    /\ IF Mutant = "RETIRE_NO_DETACH" THEN UNCHANGED head ELSE head' = {}
    /\ Goto(a, IF head # {} THEN "store" ELSE "release")
    /\ UNCHANGED <<busy, batch, chains, cbq, seen, done, inSec, rpc, rounds,
                   holds, linked, retired, openAt, freed, sb, clobber, dfree>>

StoreBatch(a) ==            \* m->retire_batch = batch
    /\ pc[a] = "store"
    /\ batch' = got[a]
    /\ got' = [got EXCEPT ![a] = {}]                 \* dead now
    /\ clobber' = (clobber \/ batch # {} \/ cbq # << >>)
    /\ Goto(a, "call")
    /\ UNCHANGED <<head, busy, chains, cbq, seen, done, inSec, rpc,
                   rounds, holds, linked, retired, openAt, freed, sb, dfree>>

CallRcu(a) ==               \* call_rcu(&m->retire_rcu, ...); return true
    /\ pc[a] = "call"
    /\ cbq' = Append(cbq, inSec)
    /\ Goto(a, Back(a))
    /\ UNCHANGED <<head, busy, batch, chains, seen, got, done, inSec, rpc,
                   rounds, holds, linked, retired, openAt, freed, sb, clobber,
                   dfree>>

Release(a) ==               \* store(retire_busy, 0, release)
    /\ pc[a] = "release"
    /\ IF Memory = "SC"
       THEN busy' = 0 /\ UNCHANGED sb
       ELSE sb' = [sb EXCEPT ![a] = 0] /\ UNCHANGED busy
    /\ Goto(a, IF Mutant = "RETIRE_NO_RECHECK" THEN "chainend" ELSE "recheck")
    /\ UNCHANGED <<head, batch, chains, cbq, seen, got, done, inSec, rpc,
                   rounds, holds, linked, retired, openAt, freed, clobber,
                   dfree>>

Recheck(a) ==               \* load(retire_head, acquire) == 0 ?
    /\ pc[a] = "recheck"
    /\ Memory = "TSO_FENCE" => Drained(a)
    /\ Goto(a, IF head # {} THEN "recas"
               ELSE IF Mutant = "RETIRE_DOUBLE_RELEASE" THEN "release2"
               ELSE "chainend")
    /\ UNCHANGED <<head, busy, batch, chains, cbq, seen, got, done, inSec, rpc,
                   rounds, holds, linked, retired, openAt, freed, sb, clobber,
                   dfree>>

Release2(a) ==              \* mutant: store(retire_busy, 0) once more
    /\ pc[a] = "release2"
    /\ IF Memory = "SC"
       THEN busy' = 0 /\ UNCHANGED sb
       ELSE sb' = [sb EXCEPT ![a] = 0] /\ UNCHANGED busy
    /\ Goto(a, "chainend")
    /\ UNCHANGED <<head, batch, chains, cbq, seen, got, done, inSec, rpc,
                   rounds, holds, linked, retired, openAt, freed, clobber,
                   dfree>>

Recas(a) ==                 \* CAS retire_busy 0 -> 1, or return false
    /\ pc[a] = "recas" /\ Drained(a)
    /\ IF busy = 0
       THEN busy' = 1 /\ Goto(a, "xchg")
       ELSE UNCHANGED busy /\ Goto(a, "chainend")
    /\ UNCHANGED <<head, batch, chains, cbq, seen, got, done, inSec, rpc,
                   rounds, holds, linked, retired, openAt, freed, sb, clobber,
                   dfree>>

ChainEnd(a) ==              \* reclaim_chain_end: fetch_sub (returned false)
    /\ pc[a] = "chainend" /\ Drained(a)
    /\ chains' = chains - 1
    /\ Goto(a, Back(a))
    /\ UNCHANGED <<head, busy, batch, cbq, seen, got, done, inSec, rpc,
                   rounds, holds, linked, retired, openAt, freed, sb, clobber,
                   dfree>>

Flush(a) ==                 \* TSO: the buffered store reaches memory
    /\ sb[a] # NoStore
    /\ busy' = sb[a]
    /\ sb' = [sb EXCEPT ![a] = NoStore]
    /\ UNCHANGED <<head, batch, chains, cbq, pc, seen, got, done, inSec, rpc,
                   rounds, holds, linked, retired, openAt, freed, clobber,
                   dfree>>

-----------------------------------------------------------------------------
(* reclaim_batch_free, on the call_rcu worker                              *)

CbStart(w) ==               \* grace period over: the first callback runs
    /\ pc[w] = "idle" /\ cbq # << >> /\ Head(cbq) = {}
    /\ cbq' = Tail(cbq)
    /\ Goto(w, "free")
    /\ UNCHANGED <<head, busy, batch, chains, seen, got, done, inSec, rpc,
                   rounds, holds, linked, retired, openAt, freed, sb, clobber,
                   dfree>>

CbFree(w) ==                \* batch_free(m, m->retire_batch)
    /\ pc[w] = "free"
    /\ freed' = freed \cup batch
    /\ dfree' = (dfree \/ batch \cap freed # {})
    /\ Goto(w, "clear")
    /\ UNCHANGED <<head, busy, batch, chains, cbq, seen, got, done, inSec, rpc,
                   rounds, holds, linked, retired, openAt, sb, clobber>>

CbClear(w) ==               \* m->retire_batch = 0; batch_queue_or_release
    /\ pc[w] = "clear"
    /\ batch' = {}
    /\ Goto(w, "xchg")
    /\ UNCHANGED <<head, busy, chains, cbq, seen, got, done, inSec, rpc,
                   rounds, holds, linked, retired, openAt, freed, sb, clobber,
                   dfree>>

-----------------------------------------------------------------------------

BqorStep(a) ==
    \/ Xchg(a) \/ StoreBatch(a) \/ CallRcu(a) \/ Release(a) \/ Recheck(a)
    \/ Release2(a) \/ Recas(a) \/ ChainEnd(a) \/ Flush(a)

PusherStep(p) ==
    \/ PusherEnd(p) \/ Unlink(p) \/ PushLoad(p)
    \/ PushCas(p) \/ BusyLoad(p) \/ BusyCas(p) \/ ChainBegin(p) \/ BqorStep(p)

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

Retiring == {"load", "cas", "busyload", "busycas", "chainbegin", "xchg",
             "store", "call", "release", "recheck", "release2", "recas",
             "chainend"}

TypeOK ==
    /\ head \subseteq Objs /\ batch \subseteq Objs
    /\ busy \in {0, 1} /\ chains \in Nat
    /\ pc \in [Actors -> Retiring \cup {"out", "in", "idle", "free", "clear"}]
    /\ \A i \in 1..Len(cbq) : cbq[i] \subseteq Threads
    /\ freed \subseteq retired /\ retired \cup linked = Objs
    /\ retired \cap linked = {}
    /\ sb \in [Actors -> {0, NoStore}]

\* (1) An object is freed only after every read-side section that was open
\* when it was retired has ended; in particular no reader holds it.
GraceRespected ==
    \A o \in freed :
        /\ openAt[o] = {}
        /\ \A r \in Readers : holds[r] # o

\* (2) One batch in flight: at most one callback queued, none queued while
\* the callback is still working on its batch, and retire_batch never
\* stored while a batch is in flight.
AtMostOneBatch ==
    /\ ~clobber
    /\ Len(cbq) <= 1
    /\ cbq # << >> => pc[Worker] \notin {"free", "clear"}

\* (3)
NoDoubleFree == ~dfree

\* (4) What reclaim_wait_map (quiesce, destroy) relies on: with no retire in
\* progress and no chain in flight, every retired object has been freed
\* (so the retire list is empty).
NoStranded ==
    ((\A p \in Pushers : pc[p] \in {"out", "in"}) /\ chains = 0)
        => (retired \subseteq freed /\ head = {})

\* (4') What quiesce and barrier rely on while other threads retire: an
\* object whose retire() has returned is freed, or a chain of the map is
\* counted (chains > 0) that will free it.  Stronger than (4): it holds in
\* every state, also while another pusher is inside retire().  It fails
\* when the busy flag is taken before the chain is counted: a pusher that
\* sees the flag held leaves its object to a holder that has not counted
\* its chain yet (issue 9, finding 10; mutant RETIRE_COUNT_LATE).
RetireReturned(o) ==
    done[o[1]] > o[2] \/ pc[o[1]] \in {"out", "in"}

NoUncountedPending ==
    chains = 0 => \A o \in retired : RetireReturned(o) => o \in freed

\* (5) Liveness: every retired object is eventually freed.
EventuallyFreed == \A o \in Objs : (o \in retired) ~> (o \in freed)

\* Coverage witness: the re-check takes the flag back (a push landed in the
\* window between the release and the re-check).  Expected to be violated.
NoRetake == \A a \in Actors : ~(pc[a] = "recas" /\ busy = 0)

=============================================================================
