\* SPDX-License-Identifier: LGPL-2.1-or-later
----------------------------- MODULE RangeUpkeep -----------------------------
(***************************************************************************)
(* The open/closed orders of the map's reserved bucket range               *)
(* (src/bucket.c) and the upkeep callback that opens the next order ahead  *)
(* of a grow.  Order o (1..MaxOrder) holds buckets [2^(o-1), 2^o); its     *)
(* pages are open (read/write) or closed (PROT_NONE: a touch is a crash).  *)
(* One action per C atomic operation or system call:                       *)
(*                                                                         *)
(*   users (inside a read-side section)                                    *)
(*     Begin, LoadSize   enter the section, acquire load of size 2^k;      *)
(*     Touch             touch a bucket of an order <= k;                  *)
(*     GrowLock          resize_trylock (loser: skip), load size;          *)
(*     GrowCheck         openTo < k+1 ?                                    *)
(*     GrowOpen          open order k+1 (mprotect read/write);             *)
(*     GrowMark          openTo := k+1;                                    *)
(*     GrowPublish       release store of size 2^(k+1);                    *)
(*     GrowRequest       fetch_or of the upkeep mask (old 0: queue it);    *)
(*     GrowQueue         call_rcu(&m->upkeep_head, upkeep);                *)
(*     GrowUnlock        resize_unlock (the re-check: abstracted);         *)
(*     ShrinkLock        resize_trylock (loser: skip), load size;          *)
(*     ShrinkPublish     release store of size 2^j, j < k;                 *)
(*     ShrinkCall        call_rcu step 2 (the try-lock stays held);        *)
(*     SlabAsk           fetch_or of the slab bit (old 0: SlabQueue it);   *)
(*     End               leave the section;                                *)
(*   callbacks (on a call_rcu thread, after a grace period)                *)
(*     UpkSlab, UpkAnd   the slab bit set: slab_refill, then fetch_and of  *)
(*                       the bit (the mask 0: the head is free, return);   *)
(*     UpkLock           resize_trylock; lost: call_rcu itself again;      *)
(*     UpkXchg           fetch_and of the mask with the slab bit (a late  *)
(*                       slab bit keeps the head: UpkUnlock re-queues);    *)
(*     UpkLoad           load size 2^k and openTo (k+1 <= MaxOrder);       *)
(*     UpkOpen, UpkMark  open order k+1, openTo := k+1;                    *)
(*     UpkUnlock         resize_unlock (re-check abstracted);              *)
(*     Step2             unlink the removed buckets (abstracted),          *)
(*                       call_rcu step 3;                                  *)
(*     S3Close           close every order in (j, openTo];                 *)
(*     S3Mark            openTo := j;                                      *)
(*     S3Unlock          resize_unlock (re-check abstracted).              *)
(*                                                                         *)
(* RCU as in RetireList.tla: a callback waits for every read-side section  *)
(* open at its call_rcu.  CbThreads threads run callbacks, each one at a   *)
(* time, any ready callback (not only the oldest: a superset of FIFO).     *)
(* With one callback thread two callbacks of a map never run at once;      *)
(* with two (the ck engine runs callbacks on whichever thread polls,       *)
(* liburcu may have per-thread call_rcu data) they may, and the try-lock   *)
(* is what keeps the upkeep off a shrink's step 3.  Sequentially           *)
(* consistent memory (every access here is a locked RMW, an acquire /      *)
(* release pair, or a plain access under the try-lock).                    *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    Users,       \* threads that read, grow and shrink
    CbThreads,   \* threads that run call_rcu callbacks
    MaxOrder,    \* the range's highest order
    InitOrder,   \* size at create is 2^InitOrder, orders 1..InitOrder open
    Ops,         \* read-side sections per user
    Mutant       \* "none" or a seeded bug (see MutantNames)

MutantNames == {"none",
                "UPKEEP_NO_LOCK",          \* upkeep without the try-lock
                "SHRINK_KEEPS_WATERMARK",  \* step 3 leaves openTo as it was
                "UPKEEP_DOUBLE_QUEUE",     \* every request queues the head
                "SLAB_CLEAR_FIRST",        \* slab bit cleared before refill
                "SLAB_AFTER_XCHG"}         \* a late slab bit taken by the
                                           \* exchange, refilled after it

ASSUME Mutant \in MutantNames
ASSUME MaxOrder \in Nat /\ InitOrder \in 1..MaxOrder /\ Ops \in Nat
ASSUME Users \cap CbThreads = {}

Orders == 1..MaxOrder
NoLock == "none"

VARIABLES
    size,     \* the published count, as its order k (2^k buckets)
    open,     \* the orders whose pages are open
    openTo,   \* the watermark: "every order <= openTo is open"
    lock,     \* m->resizing: who holds the try-lock (a user, a callback
              \*   thread, "chain" for a shrink's steps 2 and 3), or NoLock
    mask,     \* m->upkeep: the bits asked for, a subset of {"open", "slab"}
    cbq,      \* call_rcu queue: records [cb, wait] (wait: the threads whose
              \*   section open at call_rcu has not ended)
    upc,      \* user -> program counter
    ops,      \* user -> sections begun
    rk,       \* user -> the order k of the size it loaded (0: none yet)
    gk,       \* user -> the size order its grow or shrink read under the lock
    wpc,      \* callback thread -> program counter
    wk,       \* callback thread -> the order its upkeep opens
    target,   \* the shrink chain's new order j
    inSec,    \* users inside a read-side section
    crash,    \* ghost: a touch of a closed order
    refill,   \* callback threads inside slab_refill
    wslab     \* callback thread -> its fetch_and left the slab bit set

vars == <<size, open, openTo, lock, mask, cbq, upc, ops, rk, gk, wpc,
          wk, target, inSec, crash, refill, wslab>>

Init ==
    /\ size = InitOrder /\ open = 1..InitOrder /\ openTo = InitOrder
    /\ lock = NoLock /\ mask = {} /\ cbq = << >>
    /\ upc = [u \in Users |-> "out"]
    /\ ops = [u \in Users |-> 0]
    /\ rk = [u \in Users |-> 0]
    /\ gk = [u \in Users |-> 0]
    /\ wpc = [w \in CbThreads |-> "idle"]
    /\ wk = [w \in CbThreads |-> 0]
    /\ target = 0
    /\ inSec = {}
    /\ crash = FALSE
    /\ refill = {}
    /\ wslab = [w \in CbThreads |-> FALSE]

UGo(u, l) == upc' = [upc EXCEPT ![u] = l]
WGo(w, l) == wpc' = [wpc EXCEPT ![w] = l]

\* call_rcu: the callback waits for every section open now.
Queue(cb) == cbq' = Append(cbq, [cb |-> cb, wait |-> inSec])

-----------------------------------------------------------------------------
(* Read-side sections and readers                                          *)

Begin(u) ==
    /\ upc[u] = "out" /\ ops[u] < Ops
    /\ ops' = [ops EXCEPT ![u] = @ + 1]
    /\ inSec' = inSec \cup {u}
    /\ UGo(u, "load")
    /\ UNCHANGED <<size, open, openTo, lock, mask, cbq, rk, gk, wpc, wk,
                   target, crash, refill, wslab>>

LoadSize(u) ==              \* bucket_start: acquire load of size
    /\ upc[u] = "load"
    /\ rk' = [rk EXCEPT ![u] = size]
    /\ UGo(u, "body")
    /\ UNCHANGED <<size, open, openTo, lock, mask, cbq, ops, gk, wpc, wk,
                   target, inSec, crash, refill, wslab>>

\* A bucket of any order <= the loaded k, at any time in the section (the
\* operation's own bucket, its parent, a grow's or shrink's caller's).
Touch(u) ==
    /\ u \in inSec /\ rk[u] >= 1
    /\ \E o \in 1..rk[u] : o \notin open
    /\ crash' = TRUE
    /\ UNCHANGED <<size, open, openTo, lock, mask, cbq, upc, ops, rk, gk,
                   wpc, wk, target, inSec, refill, wslab>>

End(u) ==                   \* reclaim_read_unlock
    /\ upc[u] \in {"body", "rest"}
    /\ inSec' = inSec \ {u}
    /\ cbq' = [i \in 1..Len(cbq) |-> [cbq[i] EXCEPT !.wait = @ \ {u}]]
    /\ rk' = [rk EXCEPT ![u] = 0]
    /\ UGo(u, "out")
    /\ UNCHANGED <<size, open, openTo, lock, mask, ops, gk, wpc, wk,
                   target, crash, refill, wslab>>

-----------------------------------------------------------------------------
(* Grow (an inserting thread, in its section)                              *)

GrowLock(u) ==              \* resize_trylock; under it, load size
    /\ upc[u] = "body"
    /\ IF lock = NoLock
       THEN /\ lock' = u
            /\ gk' = [gk EXCEPT ![u] = size]
            /\ UGo(u, IF size < MaxOrder THEN "gcheck" ELSE "gunlock")
       ELSE UNCHANGED <<lock, gk, refill, wslab>> /\ UGo(u, "rest")   \* the loser skips
    /\ UNCHANGED <<size, open, openTo, mask, cbq, ops, rk, wpc, wk,
                   target, inSec, crash, refill, wslab>>

GrowCheck(u) ==             \* openTo < k + 1 ?
    /\ upc[u] = "gcheck"
    /\ UGo(u, IF openTo < gk[u] + 1 THEN "gopen" ELSE "gpublish")
    /\ UNCHANGED <<size, open, openTo, lock, mask, cbq, ops, rk, gk, wpc,
                   wk, target, inSec, crash, refill, wslab>>

GrowOpen(u) ==              \* mprotect(order k+1, PROT_READ | PROT_WRITE)
    /\ upc[u] = "gopen"
    /\ open' = open \cup {gk[u] + 1}
    /\ UGo(u, "gmark")
    /\ UNCHANGED <<size, openTo, lock, mask, cbq, ops, rk, gk, wpc, wk,
                   target, inSec, crash, refill, wslab>>

GrowMark(u) ==              \* openTo = k + 1
    /\ upc[u] = "gmark"
    /\ openTo' = gk[u] + 1
    /\ UGo(u, "gpublish")
    /\ UNCHANGED <<size, open, lock, mask, cbq, ops, rk, gk, wpc, wk,
                   target, inSec, crash, refill, wslab>>

GrowPublish(u) ==           \* release store of size 2^(k+1)
    /\ upc[u] = "gpublish"
    /\ size' = gk[u] + 1
    /\ UGo(u, "greq")
    /\ UNCHANGED <<open, openTo, lock, mask, cbq, ops, rk, gk, wpc, wk,
                   target, inSec, crash, refill, wslab>>

GrowRequest(u) ==           \* fetch_or(&m->upkeep, bit)
    /\ upc[u] = "greq"
    /\ mask' = mask \cup {"open"}
    /\ UGo(u, IF mask = {} \/ Mutant = "UPKEEP_DOUBLE_QUEUE"
              THEN "gqueue" ELSE "gunlock")
    /\ UNCHANGED <<size, open, openTo, lock, cbq, ops, rk, gk, wpc, wk,
                   target, inSec, crash, refill, wslab>>

GrowQueue(u) ==             \* the old mask was 0: call_rcu the upkeep
    /\ upc[u] = "gqueue"
    /\ Queue("upkeep")
    /\ UGo(u, "gunlock")
    /\ UNCHANGED <<size, open, openTo, lock, mask, ops, rk, gk, wpc, wk,
                   target, inSec, crash, refill, wslab>>

GrowUnlock(u) ==            \* resize_unlock (then the re-check: abstracted)
    /\ upc[u] = "gunlock"
    /\ lock' = NoLock
    /\ UGo(u, "rest")
    /\ UNCHANGED <<size, open, openTo, mask, cbq, ops, rk, gk, wpc, wk,
                   target, inSec, crash, refill, wslab>>

-----------------------------------------------------------------------------
(* Slab ask (an insert's resize check that sees slab.want, in its section) *)

SlabAsk(u) ==               \* fetch_or(&m->upkeep, UPKEEP_SLAB)
    /\ upc[u] = "body"
    /\ mask' = mask \cup {"slab"}
    /\ UGo(u, IF mask = {} THEN "squeue" ELSE "rest")
    /\ UNCHANGED <<size, open, openTo, lock, cbq, ops, rk, gk, wpc, wk,
                   target, inSec, crash, refill, wslab>>

SlabQueue(u) ==             \* the old mask was 0: call_rcu the upkeep
    /\ upc[u] = "squeue"
    /\ Queue("upkeep")
    /\ UGo(u, "rest")
    /\ UNCHANGED <<size, open, openTo, lock, mask, ops, rk, gk, wpc, wk,
                   target, inSec, crash, refill, wslab>>

-----------------------------------------------------------------------------
(* Shrink (a deleting thread, in its section); steps 2 and 3 are callbacks *)

ShrinkLock(u) ==            \* resize_trylock; under it, load size
    /\ upc[u] = "body"
    /\ IF lock = NoLock
       THEN /\ lock' = u
            /\ gk' = [gk EXCEPT ![u] = size]
            /\ UGo(u, IF size > 1 THEN "spublish" ELSE "gunlock")
       ELSE UNCHANGED <<lock, gk, refill, wslab>> /\ UGo(u, "rest")
    /\ UNCHANGED <<size, open, openTo, mask, cbq, ops, rk, wpc, wk,
                   target, inSec, crash, refill, wslab>>

ShrinkPublish(u) ==         \* release store of size 2^j, any j < k
    /\ upc[u] = "spublish"
    /\ \E j \in 1..(gk[u] - 1) : size' = j /\ target' = j
    /\ UGo(u, "scall")
    /\ UNCHANGED <<open, openTo, lock, mask, cbq, ops, rk, gk, wpc, wk,
                   inSec, crash, refill, wslab>>

ShrinkCall(u) ==            \* call_rcu step 2; the chain holds the lock
    /\ upc[u] = "scall"
    /\ Queue("step2")
    /\ lock' = "chain"
    /\ UGo(u, "rest")
    /\ UNCHANGED <<size, open, openTo, mask, ops, rk, gk, wpc, wk,
                   target, inSec, crash, refill, wslab>>

-----------------------------------------------------------------------------
(* Callbacks                                                               *)

\* A callback thread takes a callback whose grace period is over.
CbStart(w) ==
    /\ wpc[w] = "idle"
    /\ \E i \in 1..Len(cbq) :
        /\ cbq[i].wait = {}
        /\ cbq' = [n \in 1..(Len(cbq) - 1) |->
                      IF n < i THEN cbq[n] ELSE cbq[n + 1]]
        /\ WGo(w, CASE cbq[i].cb = "upkeep" -> "uslab"
                    [] cbq[i].cb = "step2"  -> "step2"
                    [] cbq[i].cb = "step3"  -> "s3close")
    /\ UNCHANGED <<size, open, openTo, lock, mask, upc, ops, rk, gk, wk,
                   target, inSec, crash, refill, wslab>>

\* The slab part, without the try-lock, while the slab bit keeps the head
\* ours; SLAB_CLEAR_FIRST clears the bit first (the head may be free then).
UpkSlab(w) ==               \* load the mask: the slab bit?  slab_refill
    /\ wpc[w] = "uslab"
    /\ IF "slab" \notin mask
       THEN WGo(w, "ulock") /\ UNCHANGED <<mask, refill>>
       ELSE IF Mutant = "SLAB_CLEAR_FIRST"
       THEN /\ mask' = mask \ {"slab"}
            /\ refill' = refill \cup {w}
            /\ WGo(w, IF mask' = {} THEN "urefree" ELSE "ureown")
       ELSE /\ refill' = refill \cup {w}
            /\ WGo(w, "uand") /\ UNCHANGED mask
    /\ UNCHANGED <<size, open, openTo, lock, cbq, upc, ops, rk, gk, wk,
                   target, inSec, crash, wslab>>

UpkAnd(w) ==                \* refill done; fetch_and(~UPKEEP_SLAB): 0 ends
    /\ wpc[w] = "uand"
    /\ refill' = refill \ {w}
    /\ mask' = mask \ {"slab"}
    /\ WGo(w, IF mask' = {} THEN "idle" ELSE "ulock")
    /\ UNCHANGED <<size, open, openTo, lock, cbq, upc, ops, rk, gk, wk,
                   target, inSec, crash, wslab>>

UpkRefillMutant(w) ==       \* SLAB_CLEAR_FIRST: the refill after the clear
    /\ wpc[w] \in {"urefree", "ureown"}
    /\ refill' = refill \ {w}
    /\ WGo(w, IF wpc[w] = "urefree" THEN "idle" ELSE "ulock")
    /\ UNCHANGED <<size, open, openTo, lock, mask, cbq, upc, ops, rk, gk,
                   wk, target, inSec, crash, wslab>>

UpkLock(w) ==               \* resize_trylock; lost: call_rcu again, return
    /\ wpc[w] = "ulock"
    /\ IF Mutant = "UPKEEP_NO_LOCK"
       THEN WGo(w, "uxchg") /\ UNCHANGED <<lock, cbq, refill, wslab>>
       ELSE IF lock = NoLock
       THEN lock' = w /\ WGo(w, "uxchg") /\ UNCHANGED cbq
       ELSE Queue("upkeep") /\ WGo(w, "idle") /\ UNCHANGED lock
    /\ UNCHANGED <<size, open, openTo, mask, upc, ops, rk, gk, wk,
                   target, inSec, crash, refill, wslab>>

UpkXchg(w) ==               \* fetch_and(&m->upkeep, UPKEEP_SLAB)
    /\ wpc[w] = "uxchg"
    /\ IF Mutant = "SLAB_AFTER_XCHG"
       THEN /\ mask' = {} /\ UNCHANGED wslab
            /\ IF "slab" \in mask
               THEN refill' = refill \cup {w} /\ WGo(w, "uxrefill")
               ELSE UNCHANGED refill /\ WGo(w, "uload")
       ELSE /\ mask' = mask \cap {"slab"}
            /\ wslab' = [wslab EXCEPT ![w] = "slab" \in mask]
            /\ WGo(w, "uload") /\ UNCHANGED refill
    /\ UNCHANGED <<size, open, openTo, lock, cbq, upc, ops, rk, gk, wk,
                   target, inSec, crash>>

UpkXRefill(w) ==            \* SLAB_AFTER_XCHG: slab_refill, head released
    /\ wpc[w] = "uxrefill"
    /\ refill' = refill \ {w}
    /\ WGo(w, "uload")
    /\ UNCHANGED <<size, open, openTo, lock, mask, cbq, upc, ops, rk, gk,
                   wk, target, inSec, crash, wslab>>

UpkLoad(w) ==               \* load size 2^k, openTo < k + 1 <= MaxOrder ?
    /\ wpc[w] = "uload"
    /\ IF openTo < size + 1 /\ size + 1 <= MaxOrder
       THEN wk' = [wk EXCEPT ![w] = size + 1] /\ WGo(w, "uopen")
       ELSE WGo(w, "uunlock") /\ UNCHANGED wk
    /\ UNCHANGED <<size, open, openTo, lock, mask, cbq, upc, ops, rk, gk,
                   target, inSec, crash, refill, wslab>>

UpkOpen(w) ==               \* mprotect(order k+1, PROT_READ | PROT_WRITE)
    /\ wpc[w] = "uopen"
    /\ open' = open \cup {wk[w]}
    /\ WGo(w, "umark")
    /\ UNCHANGED <<size, openTo, lock, mask, cbq, upc, ops, rk, gk, wk,
                   target, inSec, crash, refill, wslab>>

UpkMark(w) ==               \* openTo = k + 1
    /\ wpc[w] = "umark"
    /\ openTo' = wk[w]
    /\ WGo(w, "uunlock")
    /\ UNCHANGED <<size, open, lock, mask, cbq, upc, ops, rk, gk, wk,
                   target, inSec, crash, refill, wslab>>

UpkUnlock(w) ==             \* resize_unlock (re-check abstracted); the
                            \* slab bit stayed: call_rcu again; return
    /\ wpc[w] = "uunlock"
    /\ IF Mutant = "UPKEEP_NO_LOCK" THEN UNCHANGED lock ELSE lock' = NoLock
    /\ wk' = [wk EXCEPT ![w] = 0]
    /\ IF wslab[w] THEN Queue("upkeep") ELSE UNCHANGED cbq
    /\ wslab' = [wslab EXCEPT ![w] = FALSE]
    /\ WGo(w, "idle")
    /\ UNCHANGED <<size, open, openTo, mask, upc, ops, rk, gk,
                   target, inSec, crash, refill>>

Step2(w) ==                 \* unlink the removed buckets; call_rcu step 3
    /\ wpc[w] = "step2"
    /\ Queue("step3")
    /\ WGo(w, "idle")
    /\ UNCHANGED <<size, open, openTo, lock, mask, upc, ops, rk, gk, wk,
                   target, inSec, crash, refill, wslab>>

S3Close(w) ==               \* mprotect(orders (j, openTo], PROT_NONE)
    /\ wpc[w] = "s3close"
    /\ open' = open \ ((target + 1)..openTo)
    /\ WGo(w, "s3mark")
    /\ UNCHANGED <<size, openTo, lock, mask, cbq, upc, ops, rk, gk, wk,
                   target, inSec, crash, refill, wslab>>

S3Mark(w) ==                \* openTo = j
    /\ wpc[w] = "s3mark"
    /\ IF Mutant = "SHRINK_KEEPS_WATERMARK" THEN UNCHANGED openTo
       ELSE openTo' = target
    /\ WGo(w, "s3unlock")
    /\ UNCHANGED <<size, open, lock, mask, cbq, upc, ops, rk, gk, wk,
                   target, inSec, crash, refill, wslab>>

S3Unlock(w) ==              \* resize_unlock (re-check abstracted); return
    /\ wpc[w] = "s3unlock"
    /\ lock' = NoLock
    /\ target' = 0
    /\ WGo(w, "idle")
    /\ UNCHANGED <<size, open, openTo, mask, cbq, upc, ops, rk, gk, wk,
                   inSec, crash, refill, wslab>>

-----------------------------------------------------------------------------

UserStep(u) ==
    \/ Begin(u) \/ LoadSize(u) \/ Touch(u) \/ End(u)
    \/ GrowLock(u) \/ GrowCheck(u) \/ GrowOpen(u) \/ GrowMark(u)
    \/ GrowPublish(u) \/ GrowRequest(u) \/ GrowQueue(u) \/ GrowUnlock(u)
    \/ ShrinkLock(u) \/ ShrinkPublish(u) \/ ShrinkCall(u)
    \/ SlabAsk(u) \/ SlabQueue(u)

CbStep(w) ==
    \/ CbStart(w) \/ UpkSlab(w) \/ UpkAnd(w) \/ UpkRefillMutant(w)
    \/ UpkXRefill(w) \/ UpkLock(w) \/ UpkXchg(w) \/ UpkLoad(w) \/ UpkOpen(w)
    \/ UpkMark(w) \/ UpkUnlock(w) \/ Step2(w) \/ S3Close(w) \/ S3Mark(w)
    \/ S3Unlock(w)

\* Everything has finished.  With the upkeep re-queueing itself while a
\* shrink chain holds the lock, the queue is empty only once it has run.
AllDone ==
    /\ \A u \in Users : upc[u] = "out" /\ ops[u] = Ops
    /\ \A w \in CbThreads : wpc[w] = "idle"
    /\ cbq = << >>

Terminated == AllDone /\ UNCHANGED vars

Next ==
    \/ \E u \in Users : UserStep(u)
    \/ \E w \in CbThreads : CbStep(w)
    \/ Terminated

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(* Properties                                                              *)

UserPcs == {"out", "load", "body", "rest", "gcheck", "gopen", "gmark",
            "gpublish", "greq", "gqueue", "gunlock", "spublish", "scall",
            "squeue"}
CbPcs   == {"idle", "uslab", "uand", "urefree", "ureown", "uxrefill",
            "ulock", "uxchg", "uload", "uopen", "umark", "uunlock",
            "step2", "s3close", "s3mark", "s3unlock"}

TypeOK ==
    /\ size \in Orders /\ open \subseteq Orders /\ openTo \in Orders
    /\ lock \in Users \cup CbThreads \cup {"chain", NoLock}
    /\ mask \subseteq {"open", "slab"}
    /\ refill \subseteq CbThreads /\ wslab \in [CbThreads -> BOOLEAN]
    /\ \A i \in 1..Len(cbq) :
          cbq[i].cb \in {"upkeep", "step2", "step3"}
          /\ cbq[i].wait \subseteq Users
    /\ upc \in [Users -> UserPcs] /\ wpc \in [CbThreads -> CbPcs]
    /\ inSec \subseteq Users

\* (1) No reader touches a closed order, and a reader holding size 2^k
\* never sees an order <= k closed (the state form: a touch may come at
\* any time in the section).
NoClosedTouch ==
    /\ ~crash
    /\ \A u \in inSec : 1..rk[u] \subseteq open

\* (2) The watermark is true: every order <= openTo is open, except while
\* step 3 is between its close and its watermark store; and it covers the
\* published size.
WatermarkTrue ==
    /\ size <= openTo
    /\ (\A w \in CbThreads : wpc[w] # "s3mark") => 1..openTo \subseteq open

\* (3) No stray open order: with the try-lock free, the open orders are
\* exactly 1..openTo (an order opened ahead and then forgotten would stay
\* open, its pages resident, until the map is destroyed).
OpenExact == lock = NoLock => open = 1..openTo

\* (4) The map's one upkeep head is never queued twice: at most one queued
\* upkeep callback, plus at most one running that has not yet left the
\* mask 0 (it may still re-queue the head; once it has, a requester that
\* sees 0 may queue the head again): before its fetch_and, or after one
\* that left the slab bit set.
HeadOwners ==
    Cardinality({i \in 1..Len(cbq) : cbq[i].cb = "upkeep"})
    + Cardinality({w \in CbThreads :
                     \/ wpc[w] \in {"uslab", "uand", "ureown", "ulock",
                                    "uxchg"}
                     \/ wslab[w]})

AtMostOneQueued == HeadOwners <= 1

\* (5) No lost upkeep: a nonzero mask always has its callback coming (the
\* head queued, or running before its exchange, or its requester about to
\* queue it); so once everything is quiescent the mask is 0.
NoLostUpkeep ==
    /\ mask # {} => (HeadOwners > 0 \/
                     \E u \in Users : upc[u] \in {"gqueue", "squeue"})
    /\ AllDone => mask = {}

\* (7) One slab refill at a time: slab_refill stores a spare only into 0,
\* which is safe only with one writer.
OneRefill == Cardinality(refill) <= 1

\* (6) A shrink chain is in flight exactly while "chain" holds the lock.
ChainLocked ==
    (\E i \in 1..Len(cbq) : cbq[i].cb \in {"step2", "step3"})
        \/ (\E w \in CbThreads : wpc[w] \in {"step2", "s3close", "s3mark",
                                             "s3unlock"})
    => lock = "chain"

\* Coverage witnesses (cfg/cover_*_range.cfg): reachable, so expected to be
\* violated.  The upkeep opens an order ahead of any grow:
NoOpenAhead == \A w \in CbThreads : wpc[w] # "uopen"

\* A grow finds its order already open (the upkeep's point):
NoGrowOnOpened == \A u \in Users : ~(upc[u] = "gcheck" /\ openTo >= gk[u] + 1)

\* The upkeep loses the try-lock (to a grow or to a shrink chain, whose step
\* may be running on the other callback thread) and re-queues itself:
NoRequeue == \A w \in CbThreads : ~(wpc[w] = "ulock" /\ lock # NoLock)

=============================================================================
