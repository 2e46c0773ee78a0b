\* SPDX-License-Identifier: LGPL-2.1-or-later
------------------------------- MODULE CkEngine -------------------------------
(***************************************************************************)
(* The callback hand-off of lfmap's ck_epoch engine (src/engine_ck.c):     *)
(* where each queued callback is, who runs it, and what a barrier waits    *)
(* for.  LfMap.tla abstracts a grace period for every engine; this module  *)
(* models only what the ck engine adds on top of ck_epoch, one action per  *)
(* step of the C code that another thread can observe:                     *)
(*                                                                         *)
(*   Queue      engine_call: ck_epoch_call_strict on the caller's own     *)
(*              record, filed at the current epoch (CAS push; the mutant   *)
(*              CK_PLAIN_PUSH does ck_epoch_call's plain load + store).    *)
(*   PollBegin  poll_record: `running` odd, then ck_epoch_poll_deferred    *)
(*              detaches the callbacks due (filed two epochs back).        *)
(*   PollRun    run one of them (reclaim_run); a callback with a successor *)
(*              (a retire batch's next batch, a shrink's second step)      *)
(*              queues it on the running thread's record.                  *)
(*   PollEnd    `running` even again.                                      *)
(*   Exit       engine_unregister at thread exit: under move_lock, the     *)
(*              record's callbacks go to the orphan list, the record is    *)
(*              ck_epoch_unregister'ed.                                    *)
(*   Adopt*     gather: under move_lock, take the orphan list, re-file it  *)
(*              on the caller's record at the current epoch.               *)
(*   Steal*     gather: the same from another (stale) record.             *)
(*   Barrier*   engine_barrier: sweep every record and the orphan list     *)
(*              under move_lock, noting the records whose `running` is     *)
(*              odd; wait until each of those has changed; synchronize;    *)
(*              run what was swept.                                        *)
(*   Advance    some poll or synchronize moves the global epoch.           *)
(*                                                                         *)
(* Sections are not modelled: ck_epoch's own argument (a callback filed at *)
(* epoch e is safe to run once the epoch is e + 2) is taken as given, and  *)
(* checked as the Graced invariant: every callback ran at least two epoch  *)
(* advances after it was first queued.  Theft is allowed at any time (the  *)
(* C code's staleness test is only a policy).                              *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets, TLC

CONSTANTS
    Threads,     \* lfmap threads: queue, poll, adopt, steal, exit
    Bar,         \* the thread that runs lfmap_barrier (one round each)
    NRoot,       \* callbacks each thread queues; each has one successor
    MaxPolls,    \* polls per thread
    MaxEpoch,    \* Advance actions allowed up to this epoch
    BarRounds,   \* barrier rounds
    Mutant       \* "none" or a seeded bug (MutantNames)

MutantNames == {"none",
                "CK_DIRECT_DISPATCH",  \* ck_epoch_poll runs callbacks itself
                "CK_EXIT_NO_HANDOFF",  \* unregister drops the callbacks
                "CK_BARRIER_NO_WAIT",  \* barrier ignores running polls
                "CK_MOVE_UNLOCKED",    \* adopt/steal without move_lock
                "CK_PLAIN_PUSH"}       \* ck_epoch_call's plain push

ASSUME Mutant \in MutantNames
ASSUME Bar \notin Threads

Recs  == Threads \cup {Bar}                  \* threads with a record
Roots == Threads \X (1..NRoot) \X {0}         \* queued by their thread
Succs == Threads \X (1..NRoot) \X {1}         \* queued by whoever ran the root
Cbs   == Roots \cup Succs
Succ(c) == <<c[1], c[2], 1>>
None  == "none"

VARIABLES
    epoch,    \* ck_global.epoch
    rec,      \* record -> callbacks on its pending lists
    stamp,    \* callback -> epoch it is filed at on its record
    orphans,  \* the orphan list
    local,    \* thread -> callbacks its poll detached and has not run
    seq,      \* record -> its `running` count (odd: polling)
    polls,    \* thread -> polls made
    transit,  \* thread -> callbacks it is moving (adopt, steal)
    lock,     \* holder of move_lock, or None
    alive,    \* thread -> not exited
    pushing,  \* thread -> the callback of its half-done plain push ({} or one)
    pushSeen, \* thread -> what that push loaded from its record
    bpc,      \* barrier thread's program counter
    brounds,  \* barrier rounds started
    blist,    \* callbacks the barrier swept and has not run
    bwait,    \* record -> `running` the sweep saw odd (0: no wait)
    want,     \* ghost: callbacks queued and not run when the round began
    queued,   \* ghost: callbacks ever queued
    qepoch,   \* ghost: callback -> epoch when first queued
    ran,      \* ghost: callbacks run
    early,    \* ghost: a callback ran less than two epochs after queued
    dup       \* ghost: a callback ran twice

vars == <<epoch, rec, stamp, orphans, local, seq, polls, transit, lock, alive,
          pushing, pushSeen, bpc, brounds, blist, bwait, want, queued, qepoch,
          ran, early, dup>>

Init ==
    /\ epoch = 1
    /\ rec = [r \in Recs |-> {}]
    /\ stamp = [c \in Cbs |-> 0]
    /\ orphans = {}
    /\ local = [t \in Threads |-> {}]
    /\ seq = [r \in Recs |-> 0]
    /\ polls = [t \in Threads |-> 0]
    /\ transit = [t \in Threads |-> {}]
    /\ lock = None
    /\ alive = [t \in Threads |-> TRUE]
    /\ pushing = [t \in Threads |-> {}]
    /\ pushSeen = [t \in Threads |-> {}]
    /\ bpc = "idle" /\ brounds = 0 /\ blist = {}
    /\ bwait = [r \in Recs |-> 0]
    /\ want = {} /\ queued = {}
    /\ qepoch = [c \in Cbs |-> 0]
    /\ ran = {} /\ early = FALSE /\ dup = FALSE

Polling(t) == seq[t] % 2 = 1
\* A thread is between calls (may poll, exit, move) when it is not in the
\* middle of a poll, a move or a push.
Idle(t) == alive[t] /\ ~Polling(t) /\ transit[t] = {} /\ pushing[t] = {}

\* Run callback c on a thread with record r (reclaim_run): mark it run,
\* queue its successor on r, or, if direct (ck's dispatch loop reaching the
\* slot the successor was just filed in), hand it to the caller to run.
RunOn(r, c, direct) ==
    /\ dup' = (dup \/ c \in ran)
    /\ early' = (early \/ epoch < qepoch[c] + 2)
    /\ ran' = ran \cup {c}
    /\ IF c \in Roots
       THEN /\ rec' = IF direct THEN rec
                      ELSE [rec EXCEPT ![r] = @ \cup {Succ(c)}]
            /\ stamp' = [stamp EXCEPT ![Succ(c)] = epoch]
            /\ qepoch' = [qepoch EXCEPT ![Succ(c)] = epoch]
            /\ queued' = queued \cup {Succ(c)}
       ELSE UNCHANGED <<rec, stamp, qepoch, queued>>

-----------------------------------------------------------------------------
(* Threads                                                                 *)

Queue(t) ==
    \E i \in 1..NRoot :
        LET c == <<t, i, 0>> IN
        /\ Idle(t) /\ c \notin queued
        /\ c \notin pushing[t]
        /\ qepoch' = [qepoch EXCEPT ![c] = epoch]
        /\ stamp' = [stamp EXCEPT ![c] = epoch]
        /\ IF Mutant = "CK_PLAIN_PUSH"
           \* load the head; the call returns (queued) at the store
           THEN /\ pushing' = [pushing EXCEPT ![t] = {c}]
                /\ pushSeen' = [pushSeen EXCEPT ![t] = rec[t]]
                /\ UNCHANGED <<rec, queued>>
           ELSE /\ rec' = [rec EXCEPT ![t] = @ \cup {c}]  \* CAS push
                /\ queued' = queued \cup {c}
                /\ UNCHANGED <<pushing, pushSeen>>
        /\ UNCHANGED <<epoch, orphans, local, seq, polls, transit, lock, alive,
                       bpc, brounds, blist, bwait, want, ran, early, dup>>

\* The plain push's store: head = the new entry, linked to what it loaded.
PushStore(t) ==
    /\ pushing[t] # {}
    /\ rec' = [rec EXCEPT ![t] = pushSeen[t] \cup pushing[t]]
    /\ pushing' = [pushing EXCEPT ![t] = {}]
    /\ pushSeen' = [pushSeen EXCEPT ![t] = {}]
    /\ queued' = queued \cup pushing[t]
    /\ UNCHANGED <<epoch, stamp, orphans, local, seq, polls, transit, lock,
                   alive, bpc, brounds, blist, bwait, want, qepoch,
                   ran, early, dup>>

PollBegin(t) ==
    /\ Idle(t) /\ polls[t] < MaxPolls
    /\ LET due == {c \in rec[t] : epoch >= stamp[c] + 2} IN
       /\ local' = [local EXCEPT ![t] = due]
       /\ rec' = [rec EXCEPT ![t] = @ \ due]
    /\ seq' = [seq EXCEPT ![t] = @ + 1]
    /\ polls' = [polls EXCEPT ![t] = @ + 1]
    /\ UNCHANGED <<epoch, stamp, orphans, transit, lock, alive, pushing,
                   pushSeen, bpc, brounds, blist, bwait, want, queued, qepoch,
                   ran, early, dup>>

PollRun(t) ==
    /\ Polling(t)
    /\ \E c \in local[t] :
        LET direct == Mutant = "CK_DIRECT_DISPATCH" /\ c \in Roots IN
        /\ RunOn(t, c, direct)
        /\ local' = [local EXCEPT ![t] = (@ \ {c}) \cup
                                         (IF direct THEN {Succ(c)} ELSE {})]
    /\ UNCHANGED <<epoch, orphans, seq, polls, transit, lock, alive, pushing,
                   pushSeen, bpc, brounds, blist, bwait, want>>

PollEnd(t) ==
    /\ Polling(t) /\ local[t] = {}
    /\ seq' = [seq EXCEPT ![t] = @ + 1]
    /\ UNCHANGED <<epoch, rec, stamp, orphans, local, polls, transit, lock,
                   alive, pushing, pushSeen, bpc, brounds, blist, bwait, want,
                   queued, qepoch, ran, early, dup>>

Exit(t) ==
    /\ Idle(t) /\ lock = None
    /\ orphans' = IF Mutant = "CK_EXIT_NO_HANDOFF" THEN orphans
                  ELSE orphans \cup rec[t]
    /\ rec' = [rec EXCEPT ![t] = {}]
    /\ alive' = [alive EXCEPT ![t] = FALSE]
    /\ UNCHANGED <<epoch, stamp, local, seq, polls, transit, lock, pushing,
                   pushSeen, bpc, brounds, blist, bwait, want, queued, qepoch,
                   ran, early, dup>>

\* Adopt and steal take callbacks off a list and re-file them on the
\* caller's record at the current epoch.  Under move_lock nobody else can
\* observe the callbacks in between (the barrier's sweep and Exit take the
\* lock too), so the move is one step; the mutant CK_MOVE_UNLOCKED makes it
\* two, with the callbacks in transit between them.
Move(t, taken, rest) ==
    IF Mutant = "CK_MOVE_UNLOCKED"
    THEN /\ transit' = [transit EXCEPT ![t] = taken]
         /\ rest
         /\ UNCHANGED stamp
    ELSE /\ lock = None
         /\ rest
         /\ stamp' = [c \in Cbs |-> IF c \in taken THEN epoch ELSE stamp[c]]
         /\ UNCHANGED transit

AdoptTake(t) ==
    /\ Idle(t) /\ orphans # {}
    /\ orphans' = {}
    /\ Move(t, orphans,
            IF Mutant = "CK_MOVE_UNLOCKED" THEN UNCHANGED rec
            ELSE rec' = [rec EXCEPT ![t] = @ \cup orphans])
    /\ UNCHANGED <<epoch, local, seq, polls, lock, alive, pushing,
                   pushSeen, bpc, brounds, blist, bwait, want, queued, qepoch,
                   ran, early, dup>>

StealTake(t) ==
    /\ Idle(t)
    /\ \E u \in Threads \ {t} :
        /\ rec[u] # {}
        /\ Move(t, rec[u],
                IF Mutant = "CK_MOVE_UNLOCKED" THEN rec' = [rec EXCEPT ![u] = {}]
                ELSE rec' = [rec EXCEPT ![u] = {}, ![t] = @ \cup rec[u]])
    /\ UNCHANGED <<epoch, orphans, local, seq, polls, lock, alive, pushing,
                   pushSeen, bpc, brounds, blist, bwait, want, queued, qepoch,
                   ran, early, dup>>

\* CK_MOVE_UNLOCKED's second step: re-file what was taken.
Refile(t) ==
    /\ alive[t] /\ transit[t] # {}
    /\ rec' = [rec EXCEPT ![t] = @ \cup transit[t]]
    /\ stamp' = [c \in Cbs |-> IF c \in transit[t] THEN epoch ELSE stamp[c]]
    /\ transit' = [transit EXCEPT ![t] = {}]
    /\ UNCHANGED <<epoch, orphans, local, seq, polls, lock, alive, pushing,
                   pushSeen, bpc, brounds, blist, bwait, want, queued, qepoch,
                   ran, early, dup>>

ThreadStep(t) ==
    \/ Queue(t) \/ PushStore(t) \/ PollBegin(t) \/ PollRun(t) \/ PollEnd(t)
    \/ Exit(t) \/ AdoptTake(t) \/ StealTake(t) \/ Refile(t)

-----------------------------------------------------------------------------
(* The barrier thread: one engine_barrier round per BarrierStart          *)

BarrierStart ==
    /\ bpc = "idle" /\ brounds < BarRounds
    /\ bpc' = "sweep"
    /\ brounds' = brounds + 1
    /\ want' = queued \ ran
    /\ UNCHANGED <<epoch, rec, stamp, orphans, local, seq, polls, transit,
                   lock, alive, pushing, pushSeen, blist, bwait, queued,
                   qepoch, ran, early, dup>>

\* Under move_lock (taken and dropped within the step).
BarrierSweep ==
    /\ bpc = "sweep" /\ lock = None
    /\ blist' = orphans \cup UNION {rec[r] : r \in Recs}
    /\ rec' = [r \in Recs |-> {}]
    /\ orphans' = {}
    /\ bwait' = [r \in Recs |-> IF seq[r] % 2 = 1 THEN seq[r] ELSE 0]
    /\ bpc' = "wait"
    /\ UNCHANGED <<epoch, stamp, local, seq, polls, transit, lock, alive,
                   pushing, pushSeen, brounds, want, queued, qepoch, ran,
                   early, dup>>

BarrierWait ==
    /\ bpc = "wait"
    /\ Mutant = "CK_BARRIER_NO_WAIT" \/
       \A r \in Recs : bwait[r] = 0 \/ seq[r] # bwait[r]
    /\ bpc' = "sync"
    /\ UNCHANGED <<epoch, rec, stamp, orphans, local, seq, polls, transit,
                   lock, alive, pushing, pushSeen, brounds, blist, bwait,
                   want, queued, qepoch, ran, early, dup>>

\* ck_epoch_synchronize: at least two epoch advances.
BarrierSync ==
    /\ bpc = "sync"
    /\ epoch' = epoch + 2
    /\ bpc' = "run"
    /\ UNCHANGED <<rec, stamp, orphans, local, seq, polls, transit, lock,
                   alive, pushing, pushSeen, brounds, blist, bwait, want,
                   queued, qepoch, ran, early, dup>>

BarrierRun ==
    /\ bpc = "run"
    /\ \E c \in blist :
        /\ RunOn(Bar, c, FALSE)
        /\ blist' = blist \ {c}
    /\ UNCHANGED <<epoch, orphans, local, seq, polls, transit, lock, alive,
                   pushing, pushSeen, bpc, brounds, bwait, want>>

BarrierEnd ==
    /\ bpc = "run" /\ blist = {}
    /\ bpc' = "done"
    /\ UNCHANGED <<epoch, rec, stamp, orphans, local, seq, polls, transit,
                   lock, alive, pushing, pushSeen, brounds, blist, bwait,
                   want, queued, qepoch, ran, early, dup>>

BarrierNext ==
    /\ bpc = "done"
    /\ bpc' = "idle"
    /\ UNCHANGED <<epoch, rec, stamp, orphans, local, seq, polls, transit,
                   lock, alive, pushing, pushSeen, brounds, blist, bwait,
                   want, queued, qepoch, ran, early, dup>>

BarrierStep ==
    \/ BarrierStart \/ BarrierSweep \/ BarrierWait \/ BarrierSync
    \/ BarrierRun \/ BarrierEnd \/ BarrierNext

-----------------------------------------------------------------------------

Advance ==
    /\ epoch < MaxEpoch
    /\ epoch' = epoch + 1
    /\ UNCHANGED <<rec, stamp, orphans, local, seq, polls, transit, lock,
                   alive, pushing, pushSeen, bpc, brounds, blist, bwait, want,
                   queued, qepoch, ran, early, dup>>

\* The bounded run may end once no thread and no barrier is in the middle
\* of anything; a barrier waiting forever is still a deadlock.
Finished ==
    /\ bpc \in {"idle", "done"}
    /\ \A t \in Threads : ~Polling(t) /\ transit[t] = {} /\ pushing[t] = {}
    /\ UNCHANGED vars

Next == Advance \/ BarrierStep \/ Finished \/ \E t \in Threads : ThreadStep(t)

Spec == Init /\ [][Next]_vars

\* The threads are interchangeable (TLC: SYMMETRY Perms).
Perms == Permutations(Threads)

-----------------------------------------------------------------------------
(* Properties                                                              *)

TypeOK ==
    /\ epoch \in Nat
    /\ \A r \in Recs : rec[r] \subseteq Cbs
    /\ orphans \subseteq Cbs /\ blist \subseteq Cbs
    /\ lock \in Threads \cup {None}
    /\ bpc \in {"idle", "sweep", "wait", "sync", "run", "done"}

\* The places a queued callback can be (engine_ck.c, 3.).
Places(c) ==
    {r \in Recs : c \in rec[r]} \cup
    (IF c \in orphans THEN {"orphans"} ELSE {}) \cup
    {<<"local", t>> : t \in {u \in Threads : c \in local[u]}} \cup
    {<<"transit", t>> : t \in {u \in Threads : c \in transit[u]}} \cup
    (IF c \in blist THEN {"barrier"} ELSE {})

\* (1) Every callback queued and not yet run is in exactly one place: none
\* is lost (a record dropped with its lists) and none is in two lists
\* (which would run it twice).
OnePlace == \A c \in queued \ ran : Cardinality(Places(c)) = 1

\* (2) No callback runs twice.
ExactlyOnce == ~dup

\* (3) Every callback runs at least two epoch advances after it was first
\* queued (ck_epoch's grace period), successors included.
Graced == ~early

\* (4) engine_barrier (E.3): when a round returns, every callback queued
\* before it began has run.
BarrierComplete == bpc = "done" => want \subseteq ran

\* Coverage witness: a barrier waited for a poll that was running.  Must be
\* violated (the wait is exercised).
NoBarrierWaitsForPoll ==
    ~(bpc = "wait" /\ \E r \in Recs : bwait[r] # 0 /\ seq[r] = bwait[r])

=============================================================================
