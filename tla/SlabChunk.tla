\* SPDX-License-Identifier: LGPL-2.1-or-later
------------------------------ MODULE SlabChunk ------------------------------
(***************************************************************************)
(* The chunk state machine of src/slab.c, for one stripe and one class:    *)
(* the state word (live slots and the flags OWNED, LISTED, PUSHING,        *)
(* EMPTIED), the stripe's pushed[] and emptied[] stacks and its partial    *)
(* list, and who returns a chunk.  One action per C atomic operation:     *)
(*                                                                         *)
(*   the flag holder (one at a time: the stripe's busy flag)               *)
(*     Alloc          stripe_alloc: a slot of cur, charged from the        *)
(*                    owner's credit (chunk_charge: with none left, live   *)
(*                    + Credit by fetch_add, then the credit counts down); *)
(*     Exhausted      chunk_take found no slot in cur (or no cur);         *)
(*     GiveUp         stripe_refill: cur = NULL, fetch_sub of OWNED and    *)
(*                    the credit (chunk_give_up; nothing left: return it); *)
(*     AdoptCollect   stripe_adopt: partial_collect (exchange pushed[]);   *)
(*     Adopt          CAS LISTED -> OWNED of a partial chunk not EMPTIED,  *)
(*                    or chunk_new;                                        *)
(*     SweepCur       stripe_sweep_held: cur OWNED with nothing live but   *)
(*                    the credit: return it;                               *)
(*     SweepTakeE     exchange emptied[];                                  *)
(*     SweepCollect   partial_collect (exchange pushed[]);                 *)
(*     SweepRelease   return one chunk taken from emptied[] (partial_remove,*)
(*                    chunk_release);                                      *)
(*   a free (chunk_free_run), by any thread                                *)
(*     Free           the CAS on the state word (one slot, or a run of    *)
(*                    them) and its decision;                              *)
(*     PushP          push on pushed[] (we listed it);                     *)
(*     ClearP         CAS clearing PUSHING (and setting EMPTIED if no live *)
(*                    slot is left), deciding on the old value;            *)
(*     PushE          push on emptied[].                                   *)
(*                                                                         *)
(* Sequentially consistent memory: every RMW in slab.c is acq_rel or       *)
(* release/acquire paired as the top of slab.c argues.  A free's push of   *)
(* its slot on the chunk's remote list and the owner's taking of slots are *)
(* not modelled (a slot is live from its Alloc to its Free: the ghost     *)
(* `used`; the state word's live count is used plus the owner's credit);  *)
(* sweeps are                                                              *)
(* allowed whenever the flag is free, not only when asked for (a superset  *)
(* of the C code's sweeps).  Each sweep step is one class's step of        *)
(* stripe_sweep_held.                                                      *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

CONSTANTS
    Chunks,    \* chunk identities (each is made at most once)
    Freers,    \* threads freeing slots
    Cap,       \* slots of a chunk
    Relist,    \* a given-up chunk is listed once a free leaves <= Relist live
    Credit,    \* slots the owner charges at once (SLAB_CREDIT)
    Mutant     \* "none" or a seeded bug (see MutantNames)

MutantNames == {"none",
                "SWEEP_PUSHED_FIRST",   \* the bug: pushed[] taken first
                "ADOPT_EMPTIED",        \* adopt ignores EMPTIED
                "CLEAR_THEN_CAS",       \* the second bug: two RMWs
                "CREDIT_KEPT",          \* give-up clears OWNED only
                "SWEEP_BELOW_CREDIT"}   \* sweep: "empty" is <= Credit live

ASSUME Mutant \in MutantNames
ASSUME Cap \in Nat /\ Cap >= 1 /\ Relist \in 0..(Cap - 1)
ASSUME Credit \in Nat /\ Credit >= 1

NoChunk == "none"

VARIABLES
    life,     \* chunk -> "unborn" | "live" | "released"
    st,       \* chunk -> the state word, a record (live, the four flags)
    cur,      \* the stripe's cur[] (flag holder), or NoChunk
    pushed,   \* the chunks on pushed[]
    emptied,  \* the chunks on emptied[]
    partial,  \* the partial list (flag holder)
    hpc,      \* the flag holder's program counter ("idle" = flag free)
    takenE,   \* what the sweep's exchange of emptied[] returned
    fpc,      \* freer -> program counter
    fc,       \* freer -> the chunk it is working on
    credit,   \* the owner's credit on cur (chunk->credit; 0 without cur)
    used,     \* ghost: chunk -> slots handed out and not freed
    uaf,      \* ghost: a released chunk was read or written
    bad       \* ghost: a sweep returned a chunk not in the partial list,
              \*   or a chunk pushed on a stack it was on already

vars == <<life, st, cur, pushed, emptied, partial, hpc, takenE, fpc, fc,
          uaf, bad, credit, used>>

S(live, o, l, p, e) == [live |-> live, owned |-> o, listed |-> l,
                        pushing |-> p, emptied |-> e]
NoFlags(s) == ~s.owned /\ ~s.listed /\ ~s.pushing /\ ~s.emptied

Init ==
    /\ life = [c \in Chunks |-> "unborn"]
    /\ st = [c \in Chunks |-> S(0, FALSE, FALSE, FALSE, FALSE)]
    /\ cur = NoChunk
    /\ pushed = {} /\ emptied = {} /\ partial = {}
    /\ hpc = "idle" /\ takenE = {}
    /\ fpc = [f \in Freers |-> "idle"]
    /\ fc = [f \in Freers |-> NoChunk]
    /\ uaf = FALSE /\ bad = FALSE
    /\ credit = 0
    /\ used = [c \in Chunks |-> 0]

\* chunk_release (the caller's own use of c is the last).
Release(c) ==
    /\ life' = [life EXCEPT ![c] = "released"]
    /\ uaf' = (uaf \/ life[c] = "released")

\* partial_collect: every chunk on pushed[] into the partial list (its
\* push_next is read: a released chunk there is a use after free).
Collect ==
    /\ partial' = partial \cup pushed
    /\ pushed' = {}
    /\ uaf' = (uaf \/ \E c \in pushed : life[c] = "released")

-----------------------------------------------------------------------------
(* The flag holder                                                         *)

\* chunk_charge: a slot of cur handed out.
Charge ==
    /\ used' = [used EXCEPT ![cur] = @ + 1]
    /\ IF credit = 0
       THEN /\ st' = [st EXCEPT ![cur].live = @ + Credit]
            /\ credit' = Credit - 1
       ELSE /\ credit' = credit - 1
            /\ UNCHANGED st

Alloc ==
    /\ hpc = "idle" /\ cur # NoChunk /\ used[cur] < Cap
    /\ Charge
    /\ UNCHANGED <<life, cur, pushed, emptied, partial, hpc, takenE, fpc, fc,
                   uaf, bad>>

\* chunk_take found no slot (or there is no cur): refill.
Exhausted ==
    /\ hpc = "idle"
    /\ IF cur = NoChunk THEN TRUE ELSE used[cur] = Cap
    /\ hpc' = "giveup"
    /\ UNCHANGED <<life, st, cur, pushed, emptied, partial, takenE, fpc, fc,
                   uaf, bad, credit, used>>

\* Give it up (every slot may have come back since), then adopt or make
\* one.  One RMW clears OWNED and takes the credit off (mutant
\* CREDIT_KEPT: clears OWNED only, returning the chunk if that left 0).
GiveUp ==
    /\ hpc = "giveup"
    /\ IF cur = NoChunk
       THEN UNCHANGED <<st, life, uaf>>
       ELSE LET off == IF Mutant = "CREDIT_KEPT" THEN 0 ELSE credit IN
            /\ st' = [st EXCEPT ![cur].owned = FALSE, ![cur].live = @ - off]
            /\ IF st[cur] = S(off, TRUE, FALSE, FALSE, FALSE)
               THEN Release(cur) ELSE UNCHANGED <<life, uaf>>
    /\ cur' = NoChunk
    /\ credit' = 0
    /\ hpc' = "adopt"
    /\ UNCHANGED <<pushed, emptied, partial, takenE, fpc, fc, bad, used>>

AdoptCollect ==
    /\ hpc = "adopt"
    /\ Collect
    /\ hpc' = "adopt2"
    /\ UNCHANGED <<life, st, cur, emptied, takenE, fpc, fc, bad, credit, used>>

\* The CAS loop over the partial list: one chunk is taken (the skipped
\* EMPTIED ones stay), or a new chunk is made, or none (ENOMEM).
Adopt ==
    /\ hpc = "adopt2"
    /\ \/ \E c \in partial :
            /\ ~st[c].emptied \/ Mutant = "ADOPT_EMPTIED"
            /\ st' = [st EXCEPT ![c].listed = FALSE, ![c].owned = TRUE]
            /\ partial' = partial \ {c}
            /\ cur' = c
            /\ uaf' = (uaf \/ life[c] = "released")
            /\ UNCHANGED life
       \/ \E c \in Chunks :
            /\ life[c] = "unborn"
            /\ life' = [life EXCEPT ![c] = "live"]
            /\ st' = [st EXCEPT ![c] = S(0, TRUE, FALSE, FALSE, FALSE)]
            /\ cur' = c
            /\ UNCHANGED <<partial, uaf>>
       \/ UNCHANGED <<life, st, cur, partial, uaf>>
    /\ hpc' = "take"
    /\ UNCHANGED <<pushed, emptied, takenE, fpc, fc, bad, credit, used>>

\* stripe_refill's chunk_take from what it adopted or made, under the same
\* flag: a slot (live + 1), or none (give it up again).
Take ==
    /\ hpc = "take"
    /\ IF cur = NoChunk
       THEN hpc' = "idle" /\ UNCHANGED <<st, credit, used>>
       ELSE IF used[cur] < Cap
       THEN /\ Charge
            /\ hpc' = "idle"
       ELSE hpc' = "giveup" /\ UNCHANGED <<st, credit, used>>
    /\ UNCHANGED <<life, cur, pushed, emptied, partial, takenE, fpc, fc, uaf,
                   bad>>

\* Nothing live but the credit (mutant SWEEP_BELOW_CREDIT: at most Credit
\* live, as a free's test for asking; only the holder knows the credit).
SweepCur ==
    /\ hpc = "idle"
    /\ IF /\ cur # NoChunk
          /\ IF Mutant = "SWEEP_BELOW_CREDIT"
             THEN /\ st[cur].owned /\ ~st[cur].listed
                  /\ ~st[cur].pushing /\ ~st[cur].emptied
                  /\ st[cur].live <= Credit
             ELSE st[cur] = S(credit, TRUE, FALSE, FALSE, FALSE)
       THEN Release(cur) /\ cur' = NoChunk /\ credit' = 0
       ELSE UNCHANGED <<life, uaf, cur, credit>>
    /\ hpc' = "sweep1"
    /\ UNCHANGED <<st, pushed, emptied, partial, takenE, fpc, fc, bad, used>>

TakeE ==
    /\ takenE' = emptied
    /\ emptied' = {}

\* The sweep's two exchanges, in the C code's order (emptied[] first);
\* mutant SWEEP_PUSHED_FIRST: the order before the fix.
Sweep1 ==
    /\ hpc = "sweep1"
    /\ IF Mutant = "SWEEP_PUSHED_FIRST"
       THEN Collect /\ UNCHANGED <<emptied, takenE>>
       ELSE TakeE /\ UNCHANGED <<partial, pushed, uaf>>
    /\ hpc' = "sweep2"
    /\ UNCHANGED <<life, st, cur, fpc, fc, bad, credit, used>>

Sweep2 ==
    /\ hpc = "sweep2"
    /\ IF Mutant = "SWEEP_PUSHED_FIRST"
       THEN TakeE /\ UNCHANGED <<partial, pushed, uaf>>
       ELSE Collect /\ UNCHANGED <<emptied, takenE>>
    /\ hpc' = "sweep3"
    /\ UNCHANGED <<life, st, cur, fpc, fc, bad, credit, used>>

\* Return one chunk taken from emptied[] (the C code asserts its state).
SweepRelease ==
    /\ hpc = "sweep3"
    /\ IF takenE = {}
       THEN hpc' = "idle" /\ UNCHANGED <<life, uaf, partial, takenE, bad>>
       ELSE \E c \in takenE :
            /\ partial' = partial \ {c}
            /\ bad' = (bad \/ c \notin partial
                           \/ st[c] # S(0, FALSE, TRUE, FALSE, TRUE))
            /\ Release(c)
            /\ takenE' = takenE \ {c}
            /\ UNCHANGED hpc
    /\ UNCHANGED <<st, cur, pushed, emptied, fpc, fc, credit, used>>

-----------------------------------------------------------------------------
(* Frees                                                                   *)

GoF(f, l, c) == /\ fpc' = [fpc EXCEPT ![f] = l]
                /\ fc' = [fc EXCEPT ![f] = c]

\* The CAS of chunk_free_run and its decision on the value it leaves: one
\* slot (slab_free), or a run of k slots at once (slab_pending_free's
\* splice of what a retire batch took from the chunk).
Free(f) ==
    /\ fpc[f] = "idle"
    /\ \E c \in Chunks, k \in 1..Cap :
        /\ life[c] = "live" /\ used[c] >= k
        /\ LET o    == st[c]
               left == [o EXCEPT !.live = @ - k]
               list == NoFlags(left) /\ left.live > 0 /\ left.live <= Relist
               empt == left = S(0, FALSE, TRUE, FALSE, FALSE)
               new  == IF list THEN [left EXCEPT !.listed = TRUE,
                                                 !.pushing = TRUE]
                       ELSE IF empt THEN [left EXCEPT !.emptied = TRUE]
                       ELSE left IN
           /\ st' = [st EXCEPT ![c] = new]
           /\ used' = [used EXCEPT ![c] = @ - k]
           /\ IF new = S(0, FALSE, FALSE, FALSE, FALSE)
              THEN Release(c) /\ GoF(f, "idle", NoChunk)
              ELSE IF empt THEN GoF(f, "pushE", c) /\ UNCHANGED <<life, uaf>>
              ELSE IF list THEN GoF(f, "pushP", c) /\ UNCHANGED <<life, uaf>>
              ELSE UNCHANGED <<life, uaf, fpc, fc>>  \* (OWNED: want sweep)
    /\ UNCHANGED <<cur, pushed, emptied, partial, hpc, takenE, bad, credit>>

PushP(f) ==
    /\ fpc[f] = "pushP"
    /\ pushed' = pushed \cup {fc[f]}
    /\ bad' = (bad \/ fc[f] \in pushed)
    /\ uaf' = (uaf \/ life[fc[f]] = "released")
    /\ fpc' = [fpc EXCEPT ![f] = "clearP"]
    /\ UNCHANGED <<life, st, cur, emptied, partial, hpc, takenE, fc, credit,
                   used>>

\* Let go of PUSHING; if the last slot came back meanwhile (LISTED|PUSHING,
\* no live slot), set EMPTIED in the same CAS.  Mutant CLEAR_THEN_CAS: the
\* code before the fix, fetch_and ~PUSHING and then a CAS LISTED ->
\* LISTED|EMPTIED, between which the chunk (LISTED, no flag keeping
\* anyone off) can be adopted, used, emptied and returned.
ClearP(f) ==
    /\ fpc[f] = "clearP"
    /\ LET c == fc[f]
           o == st[c]
           e == o = S(0, FALSE, TRUE, TRUE, FALSE) IN
       /\ st' = [st EXCEPT ![c].pushing = FALSE,
                          ![c].emptied = (e /\ Mutant # "CLEAR_THEN_CAS")]
       /\ IF o = S(0, FALSE, FALSE, TRUE, FALSE)
          THEN Release(c) /\ GoF(f, "idle", NoChunk)
          ELSE IF e
          THEN /\ GoF(f, IF Mutant = "CLEAR_THEN_CAS" THEN "casE" ELSE "pushE",
                      c)
               /\ UNCHANGED <<life, uaf>>
          ELSE GoF(f, "idle", NoChunk) /\ UNCHANGED <<life, uaf>>
    /\ UNCHANGED <<cur, pushed, emptied, partial, hpc, takenE, bad, credit,
                   used>>

\* (Mutant CLEAR_THEN_CAS only.)
CasE(f) ==
    /\ fpc[f] = "casE"
    /\ LET c == fc[f] IN
       /\ uaf' = (uaf \/ life[c] = "released")
       /\ IF st[c] = S(0, FALSE, TRUE, FALSE, FALSE)
          THEN /\ st' = [st EXCEPT ![c].emptied = TRUE]
               /\ GoF(f, "pushE", c)
          ELSE /\ GoF(f, "idle", NoChunk)
               /\ UNCHANGED st
    /\ UNCHANGED <<life, cur, pushed, emptied, partial, hpc, takenE, bad,
                   credit, used>>

PushE(f) ==
    /\ fpc[f] = "pushE"
    /\ emptied' = emptied \cup {fc[f]}
    /\ bad' = (bad \/ fc[f] \in emptied)
    /\ uaf' = (uaf \/ life[fc[f]] = "released")
    /\ GoF(f, "idle", NoChunk)
    /\ UNCHANGED <<life, st, cur, pushed, partial, hpc, takenE, credit, used>>

-----------------------------------------------------------------------------

HolderStep == Alloc \/ Exhausted \/ GiveUp \/ AdoptCollect \/ Adopt \/ Take
              \/ SweepCur \/ Sweep1
              \/ Sweep2 \/ SweepRelease

FreerStep(f) == Free(f) \/ PushP(f) \/ ClearP(f) \/ CasE(f) \/ PushE(f)

Next == HolderStep \/ \E f \in Freers : FreerStep(f)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(* Properties                                                              *)

TypeOK ==
    /\ life \in [Chunks -> {"unborn", "live", "released"}]
    /\ \A c \in Chunks : st[c].live \in 0..(Cap + Credit)
    /\ used \in [Chunks -> 0..Cap]
    /\ credit \in 0..(Credit - 1)
    /\ cur \in Chunks \cup {NoChunk}
    /\ pushed \subseteq Chunks /\ emptied \subseteq Chunks
    /\ partial \subseteq Chunks /\ takenE \subseteq Chunks

\* The chunks someone may still touch.
Reachable ==
    pushed \cup emptied \cup partial \cup takenE
    \cup (IF cur = NoChunk THEN {} ELSE {cur})
    \cup {fc[f] : f \in {g \in Freers : fpc[g] # "idle"}}

\* (1) A released chunk is on no list and nobody holds it; nothing read or
\* wrote a released chunk.
ReleasedOnNoList ==
    /\ \A c \in Chunks : life[c] = "released" => c \notin Reachable
    /\ ~uaf

\* (2) The sweep's partial_remove finds its chunk in the partial list
\* (else it cuts the list), with the state the C code asserts; no chunk is
\* pushed twice on one stack.
ListsConsistent == ~bad

\* (3) OWNED and LISTED exclude each other; OWNED is cur.
FlagsExclusive ==
    \A c \in Chunks :
        /\ ~(st[c].owned /\ st[c].listed)
        /\ (life[c] = "live" /\ st[c].owned) <=> cur = c

\* (4) No live slot is lost: a live chunk with live slots is not released.
NoLiveReleased ==
    \A c \in Chunks : life[c] = "released" => used[c] = 0

\* (5) The state word counts what is handed out, plus the credit while the
\* chunk is the owner's: a given-up chunk's count is exact, so the frees'
\* decisions on it (return at 0, list at Relist) are right.
Charged ==
    /\ \A c \in Chunks : life[c] = "live" =>
           st[c].live = used[c] + (IF c = cur THEN credit ELSE 0)
    /\ cur = NoChunk => credit = 0

=============================================================================
