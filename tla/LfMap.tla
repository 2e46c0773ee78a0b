\* SPDX-License-Identifier: LGPL-2.1-or-later
-------------------------------- MODULE LfMap --------------------------------
(***************************************************************************)
(* lfmap's resize protocol: a split-ordered list (Shalev & Shavit) over a  *)
(* Harris-Michael list, a segmented bucket directory with a published     *)
(* bucket count, lazy bucket initialisation, grow, shrink with two grace  *)
(* periods, and RCU (liburcu call_rcu) reclamation.                       *)
(*                                                                         *)
(* Each action is one atomic step of the C code: one load, store, CAS or  *)
(* fetch-or of a shared word, plus thread-local work.  README.md lists    *)
(* the few places where two C steps are merged into one action, and maps  *)
(* every action to the C function that implements it.                     *)
(*                                                                         *)
(* BucketScheme selects how buckets are initialised and removed:          *)
(*   "claim"  what src/bucket.c does: each bucket's list node lives in    *)
(*            its segment with a state word EMPTY/CLAIMED/LINKED; the     *)
(*            claimer links the node, others start from the parent; a    *)
(*            shrink marks the LINKED nodes and sweeps the list once.     *)
(*   "dummy"  the DESIGN.md variant: separately allocated dummy nodes,    *)
(*            find-or-insert from the parent's dummy, CAS of a bucket     *)
(*            pointer NULL -> dummy; a shrink unlinks each removed dummy  *)
(*            by a find from its surviving parent.                        *)
(* Mutant selects a seeded bug (see README.md); "none" is the protocol.   *)
(***************************************************************************)
EXTENDS Integers, Sequences, FiniteSets, TLC

CONSTANTS
    Threads,      \* application threads (model values)
    NK,           \* keys are 1..NK
    HashOf,       \* [1..NK -> 0..MaxSize-1]: the hash bits that matter
    MaxSize,      \* largest bucket count (a power of two)
    InitSize,     \* bucket count at creation (a power of two, >= 2)
    MinSize,      \* a shrink never goes below this
    Prog,         \* [Threads -> Seq(SUBSET Ops)]: each thread runs one op
                  \* of each set in turn, chosen nondeterministically
    MaxInc,       \* incarnations per key / bucket / segment (state bound)
    BucketScheme, \* "claim" or "dummy"
    Mutant,       \* "none", or the name of a seeded bug
    Triggers,     \* "program": threads grow and shrink when their program
                  \* says so (Grow, Shrink ops); "count": the C triggers
                  \* (bucket_after_insert / bucket_after_delete) after every
                  \* insert and delete, and the re-check after every resize
    LoadNum, LoadDen, \* LOAD_FACTOR = LoadNum / LoadDen (count triggers)
    ShrinkDiv,    \* SHRINK_DIVISOR (count triggers)
    AutoShrink    \* FALSE: LFMAP_NO_AUTO_SHRINK (count triggers)

Keys  == 1..NK
W     == "rcu"                 \* liburcu's call_rcu worker thread
Procs == Threads \cup {W}
NULL  == 0
TOMB  == 0                     \* the value word's tombstone

Get(k) == [k |-> "get", key |-> k]    \* lfmap_get
Ins(k) == [k |-> "ins", key |-> k]    \* lfmap_insert
Put(k) == [k |-> "put", key |-> k]    \* lfmap_put
Del(k) == [k |-> "del", key |-> k]    \* lfmap_delete
Grow   == [k |-> "grow", key |-> 0]   \* resize -> grow_locked
Shrink == [k |-> "shrink", key |-> 0] \* resize -> shrink_publish

Mutants == {"none", "NO_GP1", "NO_GP2", "FREE_AT_RETIRE", "COUNT_BEFORE_SEG",
            "NO_TOMBSTONE", "CAS_IGNORES_MARK", "RETRY_NO_REFIND",
            "INIT_OWN_DUMMY", "PUBLISH_BEFORE_LINK", "GET_EARLY_UNLOCK",
            "LOOKUP_STOPS_AT_MARK", "HELPER_NO_RETIRE",
            "NO_RECHECK_AFTER_SHRINK", "NO_RECHECK_AFTER_NOOP"}
ASSUME Mutant \in Mutants
ASSUME Triggers \in {"program", "count"}
ASSUME LoadNum \in Nat \ {0} /\ LoadDen \in Nat \ {0} /\ ShrinkDiv \in Nat \ {0}
ASSUME AutoShrink \in BOOLEAN
ASSUME BucketScheme \in {"claim", "dummy"}
ASSUME InitSize >= 2 /\ MinSize >= 2 /\ InitSize <= MaxSize

Claim == BucketScheme = "claim"
Count == Triggers = "count"

-----------------------------------------------------------------------------
(* Split order.                                                            *)

RECURSIVE Log2(_)
Log2(n) == IF n <= 1 THEN 0 ELSE 1 + Log2(n \div 2)
HB      == Log2(MaxSize)                 \* hash bits in use
Buckets == 0..MaxSize-1
Orders  == 0..HB
\* Segment o holds bucket 0 (o = 0; in the C code bucket 0 is the head node
\* inside the map) or buckets [2^(o-1), 2^o).
Order(b)      == IF b = 0 THEN 0 ELSE Log2(b) + 1
SegBuckets(o) == IF o = 0 THEN {0} ELSE 2^(o-1) .. 2^o - 1
Parent(b)     == b - 2^Log2(b)          \* b > 0: clear the highest set bit

RECURSIVE RevBits(_, _)
RevBits(x, n) == IF n = 0 THEN 0 ELSE (x % 2) * 2^(n-1) + RevBits(x \div 2, n-1)
\* Split-order keys with the key-bytes tie-break folded in: bucket nodes
\* have an even so-key, entries an odd one; equal so-keys order by key.
OrdD(b) == 2 * RevBits(b, HB) * (NK + 1)
OrdK(k) == (2 * RevBits(HashOf[k], HB) + 1) * (NK + 1) + k
OrdEnd  == 2 * MaxSize * (NK + 1)        \* above every key: list_sweep

-----------------------------------------------------------------------------
(* Object identities.  An entry, value or dummy gets its identity when it *)
(* is published (private allocations are thread-local and unnamed), so    *)
(* equal histories give equal states.  In the claim scheme a bucket node  *)
(* is named after its segment's incarnation.                              *)

DId(b, i)  == 1 + b * MaxInc + (i - 1)                          \* bucket node
KId(k, i)  == 1 + MaxSize * MaxInc + (k - 1) * MaxInc + (i - 1) \* entry
NodeIds    == 1 .. (MaxSize + NK) * MaxInc
IsDummy(n) == n <= MaxSize * MaxInc
NBucket(n) == (n - 1) \div MaxInc
NKey(n)    == (n - 1 - MaxSize * MaxInc) \div MaxInc + 1
OrdTab     == [n \in NodeIds |-> IF IsDummy(n) THEN OrdD(NBucket(n))
                                               ELSE OrdK(NKey(n))]
Ord(n)     == OrdTab[n]
ListHead   == DId(0, 1)                 \* bucket 0's node: the list head

VId(k, j)  == (k - 1) * MaxInc + j       \* j-th value ever stored under k
ValueIds   == 1 .. NK * MaxInc
SId(o, i)  == o * MaxInc + i             \* i-th segment made for order o
SegIds     == {SId(o, i) : o \in Orders, i \in 1..MaxInc}
SOrder(s)  == (s - 1) \div MaxInc
SInc(s)    == ((s - 1) % MaxInc) + 1
\* claim scheme: bucket b's node inside segment s
BNode(b, s) == IF b = 0 THEN ListHead ELSE DId(b, SInc(s))

-----------------------------------------------------------------------------
VARIABLES
    \* the list: next pointer + mark bit (one word), value word
    nxt, mrk, val,
    dead,       \* a deleted entry's value, stored in its retirement record
    nst,        \* node: "none" | "priv" | "live" | "retired" | "freed"
    vst,        \* value: "none" | "live" | "retired" | "freed"
    \* the bucket directory
    size,       \* published bucket count
    segPtr,     \* [Orders -> SegIds \cup {NULL}]: published segment pointers
    sst,        \* segment: "none" | "priv" | "pub" | "unpub" | "freed"
    bptr,       \* dummy scheme: bucket pointers (inside the segments)
    bst,        \* claim scheme: bucket state words (inside the segments)
    resizing,   \* the resize try-lock
    cnt,        \* the entry counter (COUNTER_SUM of the stripes: exact in
                \* this sequentially consistent model)
    \* RCU: callbacks queued, covered by the current grace period, ready
    cbQ, cbG, cbR,
    gp,         \* a grace period is in progress
    gpw,        \* readers the current grace period still waits for
    \* per-thread state: pc, operation, locals, pointers held, read side
    L,
    \* ghosts: the abstract map, lookups' admissible results, violations
    amap, seen, graceBad, linBad

listVars  == <<nxt, mrk, val, dead, nst, vst>>
dirVars   == <<size, segPtr, sst, bptr, bst, resizing, cnt>>
rcuVars   == <<cbQ, cbG, cbR, gp, gpw>>
ghostVars == <<amap, seen, graceBad, linBad>>
vars == <<listVars, dirVars, rcuVars, L, ghostVars>>

Readers == {p \in Procs : L[p].rs}

InitOrders == 0 .. Order(InitSize - 1)
InitBNodes == {DId(b, 1) : b \in 1..InitSize-1}

LInit(p) == [pc |-> IF p = W THEN "w_idle" ELSE "idle",
             opi |-> 1, op |-> Get(1), rs |-> FALSE,
             sz |-> 0, bk |-> 0, gb |-> 0, ist |-> <<>>,
             start |-> NULL, pred |-> NULL, curr |-> NULL, succ |-> NULL,
             anchor |-> NULL, hv |-> NULL, segH |-> NULL,
             tgt |-> 0, fret |-> "", res |-> 0, wd |-> <<>>, wi |-> 1,
             to |-> 0, ent |-> 0, dc |-> 0]

Init ==
    /\ nxt = [n \in NodeIds |-> NULL]
    /\ mrk = [n \in NodeIds |-> FALSE]
    /\ val = [n \in NodeIds |-> TOMB]
    /\ dead = [n \in NodeIds |-> NULL]
    /\ nst = [n \in NodeIds |-> IF n = ListHead THEN "live"
                                ELSE IF Claim /\ n \in InitBNodes THEN "priv"
                                ELSE "none"]
    /\ vst = [v \in ValueIds |-> "none"]
    /\ size = InitSize
    /\ segPtr = [o \in Orders |-> IF o \in InitOrders THEN SId(o, 1) ELSE NULL]
    /\ sst = [s \in SegIds |-> IF s \in {SId(o, 1) : o \in InitOrders}
                               THEN "pub" ELSE "none"]
    /\ bptr = [b \in Buckets |-> IF b = 0 THEN ListHead ELSE NULL]
    /\ bst = [b \in Buckets |-> IF b = 0 THEN "linked" ELSE "empty"]
    /\ resizing = FALSE
    /\ cnt = 0
    /\ cbQ = {} /\ cbG = {} /\ cbR = {}
    /\ gp = FALSE /\ gpw = {}
    /\ L = [p \in Procs |-> LInit(p)]
    /\ amap = [k \in Keys |-> 0]
    /\ seen = [t \in Threads |-> {}]
    /\ graceBad = FALSE
    /\ linBad = FALSE

-----------------------------------------------------------------------------
(* Helpers.                                                                *)

\* Fresh identities (TLC stops with an assertion if MaxInc is too small).
Fresh(used(_)) ==
    LET i == Cardinality({j \in 1..MaxInc : used(j)}) + 1
    IN  IF Assert(i <= MaxInc, "MaxInc too small") THEN i ELSE 0
NewKNode(k) == KId(k, Fresh(LAMBDA j : nst[KId(k, j)] # "none"))
NewDummy(b) == DId(b, Fresh(LAMBDA j : nst[DId(b, j)] # "none"))
NewValue(k) == VId(k, Fresh(LAMBDA j : vst[VId(k, j)] # "none"))
NewSeg(o)   == SId(o, Fresh(LAMBDA j : sst[SId(o, j)] # "none"))

\* The abstract map changes at a linearisation point: every lookup of k in
\* progress may now legitimately return v.
SetMap(k, v) ==
    /\ amap' = [amap EXCEPT ![k] = v]
    /\ seen' = [t \in Threads |->
                  IF seen[t] # {} /\ L[t].op.k = "get" /\ L[t].op.key = k
                  THEN seen[t] \cup {v} ELSE seen[t]]

\* call_rcu of object o (kind "node" or "value"); FREE_AT_RETIRE frees it on
\* the spot instead.  Sets cbQ', graceBad' and the object's state.
RetireNode(n) ==
    IF Mutant = "FREE_AT_RETIRE"
    THEN /\ nst' = [nst EXCEPT ![n] = "freed"]
         /\ graceBad' = (graceBad \/ Readers # {})
         /\ UNCHANGED cbQ
    ELSE /\ nst' = [nst EXCEPT ![n] = "retired"]
         /\ cbQ' = cbQ \cup {[kind |-> "node", obj |-> n, pre |-> Readers]}
         /\ UNCHANGED graceBad

\* The link CAS: pred.next must still be curr, unmarked (one word).
LinkCasOk(p) ==
    /\ nxt[L[p].pred] = L[p].curr
    /\ (Mutant = "CAS_IGNORES_MARK" \/ ~mrk[L[p].pred])
\* RETRY_NO_REFIND: a failed link CAS is retried with new.next := the
\* current pred.next, without a new search (collapsed into one step).
LinkOk(p)   == LinkCasOk(p) \/ (Mutant = "RETRY_NO_REFIND" /\ ~mrk[L[p].pred])
LinkSucc(p) == IF Mutant = "RETRY_NO_REFIND" THEN nxt[L[p].pred] ELSE L[p].curr

\* Call list_find from st towards target tg; it returns to label r.
CallFind(l, st, tg, r) ==
    [l EXCEPT !.start = st, !.tgt = tg, !.fret = r, !.pc = "f_head"]

\* Where an operation continues once it has its bucket's node d.
OpEntry(l, d) ==
    IF l.op.k = "get"
    THEN [l EXCEPT !.start = d, !.curr = d, !.tgt = OrdK(l.op.key),
                   !.pc = "lookup"]
    ELSE CallFind(l, d, OrdK(l.op.key), "found")

ClearPtrs(l) ==
    [l EXCEPT !.start = NULL, !.pred = NULL, !.curr = NULL, !.succ = NULL,
              !.anchor = NULL, !.hv = NULL, !.segH = NULL, !.ist = <<>>,
              !.wd = <<>>]

Unpre(S, p) == {[c EXCEPT !.pre = @ \ {p}] : c \in S}

\* reclaim_read_unlock as RCU sees it.
LeaveSection(p) ==
    /\ gpw' = gpw \ {p}
    /\ cbQ' = Unpre(cbQ, p) /\ cbG' = Unpre(cbG, p) /\ cbR' = Unpre(cbR, p)

-----------------------------------------------------------------------------
(* Application threads: begin an operation.                               *)

\* reclaim_read_lock: map operations run inside a read-side section.
BeginRead(t) ==
    /\ L[t].pc = "idle"
    /\ L[t].opi <= Len(Prog[t])
    /\ \E o \in Prog[t][L[t].opi] :
         /\ o.k \in {"get", "ins", "put", "del"}
         /\ L' = [L EXCEPT ![t].op = o, ![t].opi = @ + 1, ![t].pc = "rdsize",
                           ![t].rs = TRUE]
         /\ seen' = [seen EXCEPT ![t] = IF o.k = "get" THEN {amap[o.key]}
                                        ELSE {}]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, amap, graceBad, linBad>>

\* bucket_start: load the published size (acquire), pick the bucket.
LoadSize(t) ==
    /\ L[t].pc = "rdsize"
    /\ L' = [L EXCEPT ![t].sz = size, ![t].bk = HashOf[L[t].op.key] % size,
                      ![t].pc = "rdseg"]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

\* bucket_get: load the segment pointer for the bucket's order (acquire).
\* NULL here is a crash in the C code: the thread goes to "fault".
LoadSegment(t) ==
    /\ L[t].pc = "rdseg"
    /\ LET b == L[t].bk
           s == segPtr[Order(b)]
       IN  L' = IF Claim /\ b = 0 THEN [L EXCEPT ![t] = OpEntry(@, ListHead)]
                ELSE IF s = NULL THEN [L EXCEPT ![t].pc = "fault"]
                ELSE [L EXCEPT ![t].segH = s, ![t].gb = b, ![t].pc = "rdbkt"]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

-----------------------------------------------------------------------------
(* Claim scheme (src/bucket.c bucket_get / bucket_init).                   *)

\* The node bucket_get(gb) has obtained: continue the pending bucket_init
\* of the innermost claimed bucket, or start the operation.
GotNode(l, n) ==
    IF l.ist = <<>> THEN OpEntry(l, n)
    ELSE CallFind(l, n, Ord(Head(l.ist)), "clink")

\* bucket_get(parent of gb), after gb was found CLAIMED or was just claimed.
\* The parent's segment-pointer load is merged into this step (a parent's
\* segment is published whenever its child's is); its state load is next.
ToParent(l) ==
    LET p == Parent(l.gb) IN
    IF p = 0 THEN GotNode(l, ListHead)
    ELSE [l EXCEPT !.gb = p, !.segH = segPtr[Order(p)], !.pc = "rdbkt"]

\* bucket_get: load the state word of bucket gb (acquire).
LoadBucketState(t) ==
    /\ Claim
    /\ L[t].pc = "rdbkt"
    /\ LET l == L[t]
           b == l.gb
       IN  L' = [L EXCEPT ![t] =
                   CASE bst[b] = "linked" -> GotNode(l, BNode(b, l.segH))
                     [] bst[b] = "empty"  -> [l EXCEPT !.pc = "claim"]
                     [] OTHER             -> ToParent(l)]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

\* TLA+ ClaimBucket: CAS state EMPTY -> CLAIMED; the winner initialises the
\* parent (bucket_get on it) and then links the node.  PUBLISH_BEFORE_LINK
\* stores LINKED here, before the node is linked.
ClaimBucket(t) ==
    /\ L[t].pc = "claim"
    /\ LET l == L[t]
           b == l.gb
           n == BNode(b, l.segH)
       IN  IF bst[b] = "empty"
           THEN /\ bst' = [bst EXCEPT ![b] = IF Mutant = "PUBLISH_BEFORE_LINK"
                                             THEN "linked" ELSE "claimed"]
                /\ L' = [L EXCEPT ![t] = ToParent([l EXCEPT !.ist = <<n>> \o @])]
           ELSE /\ L' = [L EXCEPT ![t] = IF bst[b] = "linked"
                                         THEN GotNode(l, n) ELSE ToParent(l)]
                /\ UNCHANGED bst
    /\ UNCHANGED <<listVars, size, segPtr, sst, bptr, resizing, cnt, rcuVars,
                   ghostVars>>

\* TLA+ InitBucket: after list_find from the parent's node, link the
\* claimed node (list_link: store n.next, CAS pred.next); retry on failure.
InitBucket(t) ==
    /\ Claim
    /\ L[t].pc = "clink"
    /\ LET l  == L[t]
           n  == Head(l.ist)
       IN  IF LinkOk(t)
           THEN /\ nst' = [nst EXCEPT ![n] = "live"]
                /\ nxt' = [nxt EXCEPT ![n] = LinkSucc(t), ![l.pred] = n]
                /\ L' = [L EXCEPT ![t].pc = "cpub"]
                /\ UNCHANGED <<mrk, val, dead, vst>>
           ELSE /\ L' = [L EXCEPT ![t].pc = "f_head"]
                /\ UNCHANGED listVars
    /\ UNCHANGED <<dirVars, rcuVars, ghostVars>>

\* TLA+ PublishBucket: store LINKED (release); bucket_get returns the node.
PublishBucket(t) ==
    /\ L[t].pc = "cpub"
    /\ LET l == L[t]
           n == Head(l.ist)
       IN  /\ bst' = [bst EXCEPT ![NBucket(n)] = "linked"]
           /\ L' = [L EXCEPT ![t] = GotNode([l EXCEPT !.ist = Tail(@)], n)]
    /\ UNCHANGED <<listVars, size, segPtr, sst, bptr, resizing, cnt, rcuVars,
                   ghostVars>>

-----------------------------------------------------------------------------
(* Dummy scheme (DESIGN.md): bucket pointers, find-or-insert of dummies.   *)

\* Load the bucket pointer; NULL: initialise the bucket.
LoadBucketPtr(t) ==
    /\ ~Claim
    /\ L[t].pc = "rdbkt"
    /\ LET d == bptr[L[t].bk] IN
       L' = IF d # NULL THEN [L EXCEPT ![t] = OpEntry(@, d)]
            ELSE [L EXCEPT ![t].ist = <<L[t].bk>>, ![t].pc = "iparent"]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

\* Load the parent's bucket pointer (segment and bucket loads merged); if it
\* is NULL, initialise the parent first.
LoadParentPtr(t) ==
    /\ L[t].pc = "iparent"
    /\ LET b == Head(L[t].ist)
           d == bptr[Parent(b)]
       IN  L' = IF d = NULL
                THEN [L EXCEPT ![t].ist = <<Parent(b)>> \o @]
                ELSE [L EXCEPT ![t] = CallFind(@, d, OrdD(b), "ilink")]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

\* After list_find from the parent's dummy: use the dummy found (and discard
\* ours), or CAS ours in.
LinkDummy(t) ==
    /\ L[t].pc = "ilink"
    /\ LET b  == Head(L[t].ist)
           c  == L[t].curr
           nd == NewDummy(b)
       IN
       IF c # NULL /\ Ord(c) = OrdD(b)
       THEN IF Mutant = "INIT_OWN_DUMMY"
            THEN \* keeps its own, never linked, dummy for the bucket pointer
                 /\ nst' = [nst EXCEPT ![nd] = "priv"]
                 /\ nxt' = [nxt EXCEPT ![nd] = c]
                 /\ L' = [L EXCEPT ![t].curr = nd, ![t].pc = "ibkt"]
                 /\ UNCHANGED <<mrk, val, dead, vst>>
            ELSE /\ L' = [L EXCEPT ![t].pc = "ibkt"]
                 /\ UNCHANGED listVars
       ELSE IF LinkOk(t)
            THEN /\ nst' = [nst EXCEPT ![nd] = "live"]
                 /\ nxt' = [nxt EXCEPT ![nd] = LinkSucc(t), ![L[t].pred] = nd]
                 /\ L' = [L EXCEPT ![t].curr = nd, ![t].pc = "ibkt"]
                 /\ UNCHANGED <<mrk, val, dead, vst>>
            ELSE /\ L' = [L EXCEPT ![t].pc = "f_head"]
                 /\ UNCHANGED listVars
    /\ UNCHANGED <<dirVars, rcuVars, ghostVars>>

\* CAS the bucket pointer NULL -> dummy; on failure use the winner's.
SetBucketPtr(t) ==
    /\ L[t].pc = "ibkt"
    /\ LET b  == Head(L[t].ist)
           d  == IF bptr[b] = NULL THEN L[t].curr ELSE bptr[b]
           st == Tail(L[t].ist)
       IN  /\ bptr' = IF bptr[b] = NULL THEN [bptr EXCEPT ![b] = d] ELSE bptr
           /\ L' = [L EXCEPT ![t] =
                      IF st = <<>> THEN OpEntry(@, d)
                      ELSE CallFind([@ EXCEPT !.ist = st], d, OrdD(Head(st)),
                                    "ilink")]
    /\ UNCHANGED <<listVars, size, segPtr, sst, bst, resizing, cnt, rcuVars,
                   ghostVars>>

-----------------------------------------------------------------------------
(* list_find: from L[p].start to the first unmarked node with Ord >= tgt, *)
(* unlinking every marked node met; returns (pred, curr) at label fret.   *)
(* list_sweep is the same walk to the end of the list (tgt = OrdEnd),     *)
(* restarting from its anchor (the last bucket node passed).              *)

FindGo(l, c) == [l EXCEPT !.curr = c, !.pc = IF c = NULL THEN l.fret ELSE "f_next"]

\* Load start.next.
FindStart(p) ==
    /\ L[p].pc = "f_head"
    /\ L' = [L EXCEPT ![p] = FindGo([@ EXCEPT !.pred = L[p].start],
                                    nxt[L[p].start])]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

\* list_sweep's restart: from the anchor, or from the head if the anchor has
\* been marked (mark test and load of anchor.next merged).
SweepStart(p) ==
    /\ L[p].pc = "sw_head"
    /\ LET a == L[p].anchor IN
       L' = IF mrk[a] THEN [L EXCEPT ![p].anchor = ListHead]
            ELSE [L EXCEPT ![p] = FindGo([@ EXCEPT !.pred = a], nxt[a])]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

\* Load curr.next (pointer and mark: one word).
Find(p) ==
    /\ L[p].pc = "f_next"
    /\ LET l == L[p]
           c == l.curr
           s == nxt[c]
       IN  L' = [L EXCEPT ![p] =
                   IF mrk[c] THEN [l EXCEPT !.succ = s, !.pc = "f_cas"]
                   ELSE IF Ord(c) >= l.tgt THEN [l EXCEPT !.succ = s, !.pc = l.fret]
                   ELSE FindGo([l EXCEPT !.pred = c, !.succ = s,
                                         !.anchor = IF l.fret = "w_sweep"
                                                       /\ IsDummy(c)
                                                    THEN c ELSE @],
                               s)]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

\* curr is marked: CAS pred.next from (curr, unmarked) to succ.  The thread
\* whose CAS unlinks an entry retires it (reclaim_retire_entry); bucket
\* nodes are left to the shrinker.  On failure restart.  HELPER_NO_RETIRE:
\* only a delete of that very key retires what it unlinks (helpers do not).
Helper(p, c) ==
    Mutant = "HELPER_NO_RETIRE"
    /\ (p = W \/ L[p].op.k # "del" \/ L[p].op.key # NKey(c))
Unlink(p) ==
    /\ L[p].pc = "f_cas"
    /\ LET c  == L[p].curr
           pr == L[p].pred
           s  == L[p].succ
       IN
       IF nxt[pr] = c /\ ~mrk[pr]
       THEN /\ nxt' = [nxt EXCEPT ![pr] = s]
            /\ L' = [L EXCEPT ![p] = FindGo(@, s)]
            /\ IF IsDummy(c) \/ Helper(p, c) THEN UNCHANGED <<nst, cbQ, graceBad>>
               ELSE RetireNode(c)
            /\ UNCHANGED <<mrk, val, dead, vst, dirVars, cbG, cbR, gp, gpw,
                           amap, seen, linBad>>
       ELSE /\ L' = [L EXCEPT ![p].pc = IF L[p].fret = "w_sweep" THEN "sw_head"
                                        ELSE "f_head"]
            /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

-----------------------------------------------------------------------------
(* lfmap_get: list_lookup (no helping), then the value load.              *)

\* Load curr.next; stop at the first node >= the key.
Lookup(t) ==
    /\ L[t].pc = "lookup"
    /\ LET c == L[t].curr
           n == nxt[c]
           absent == [L EXCEPT ![t].res = 0, ![t].pc = "unlock"]
       IN
       /\ IF Mutant = "LOOKUP_STOPS_AT_MARK" /\ mrk[c]
          THEN L' = absent
          ELSE IF n = NULL \/ Ord(n) > L[t].tgt
          THEN L' = absent
          ELSE IF Ord(n) = L[t].tgt
          THEN \* GET_EARLY_UNLOCK: the section ends once the entry is found,
               \* before its value is loaded and used
               L' = [L EXCEPT ![t].curr = n, ![t].pc = "getval",
                              ![t].rs = (Mutant # "GET_EARLY_UNLOCK")]
          ELSE L' = [L EXCEPT ![t].curr = n]
       /\ linBad' = (linBad \/ (L'[t].pc = "unlock" /\ 0 \notin seen[t]))
       /\ IF L[t].rs /\ ~L'[t].rs THEN LeaveSection(t)
          ELSE UNCHANGED <<cbQ, cbG, cbR, gpw>>
    /\ UNCHANGED <<listVars, dirVars, gp, amap, seen, graceBad>>

\* Load the value word (acquire); the caller uses the value until EndRead.
LoadValue(t) ==
    /\ L[t].pc = "getval"
    /\ LET v == val[L[t].curr] IN
       /\ L' = [L EXCEPT ![t].res = v, ![t].hv = v, ![t].pc = "unlock"]
       /\ linBad' = (linBad \/ v \notin seen[t])
    /\ UNCHANGED <<listVars, dirVars, rcuVars, amap, seen, graceBad>>

-----------------------------------------------------------------------------
(* search_live and what follows it: lfmap_put / lfmap_insert (map_store), *)
(* lfmap_delete (map_remove, entry_remove).                               *)

\* search_live, after list_find found an entry for the key: load its value
\* word (acquire).  Tombstone: help (mark) and search again.  Live: insert
\* returns EEXIST (the caller may use the value), put replaces, delete
\* tombstones.  No entry: delete returns ENOENT.
Found(t) ==
    /\ L[t].pc = "found"
    /\ LET l == L[t]
           k == l.op.key
           c == l.curr
           v == val[c]
       IN
       IF c # NULL /\ Ord(c) = OrdK(k)
       THEN L' = [L EXCEPT ![t] =
                    IF v = TOMB THEN [l EXCEPT !.pc = "help"]
                    ELSE IF l.op.k = "ins"
                    THEN [l EXCEPT !.hv = v, !.pc = "unlock"]           \* EEXIST
                    ELSE [l EXCEPT !.res = v,
                                   !.pc = IF l.op.k = "put" THEN "replace"
                                          ELSE "tomb"]]
       ELSE /\ l.op.k = "del"
            /\ L' = [L EXCEPT ![t].pc = "unlock"]                       \* ENOENT
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

\* TLA+ Link (entry_link, list_link) when list_find found no entry for the
\* key: store new.next := curr, CAS pred.next curr -> new: the insertion's
\* linearisation point.  On failure search again.
Link(t) ==
    /\ L[t].pc = "found"
    /\ L[t].op.k \in {"put", "ins"}
    /\ LET l  == L[t]
           k  == l.op.key
           c  == l.curr
           nn == NewKNode(k)
           nv == NewValue(k)
       IN
       /\ ~(c # NULL /\ Ord(c) = OrdK(k))
       /\ IF LinkOk(t)
          THEN /\ nst' = [nst EXCEPT ![nn] = "live"]
               /\ nxt' = [nxt EXCEPT ![nn] = LinkSucc(t), ![l.pred] = nn]
               /\ val' = [val EXCEPT ![nn] = nv]
               /\ vst' = [vst EXCEPT ![nv] = "live"]
               /\ L' = [L EXCEPT ![t].pc = "unlock", ![t].dc = IF Count THEN 1 ELSE 0]
               /\ SetMap(k, nv)
               /\ UNCHANGED <<mrk, dead, rcuVars, graceBad, linBad>>
          ELSE /\ L' = [L EXCEPT ![t].pc = "f_head"]
               /\ UNCHANGED <<listVars, rcuVars, ghostVars>>
    /\ UNCHANGED dirVars

\* list_mark (fetch-or) of a tombstoned entry met by a search, then search
\* again: the search unlinks it.
HelpMark(t) ==
    /\ L[t].pc = "help"
    /\ mrk' = [mrk EXCEPT ![L[t].curr] = TRUE]
    /\ L' = [L EXCEPT ![t].pc = "f_head"]
    /\ UNCHANGED <<nxt, val, dead, nst, vst, dirVars, rcuVars, ghostVars>>

\* entry_replace: CAS the value word from a live value to a new one
\* (retried while another live value is there); the old value is retired
\* (reclaim_retire_value).  On the tombstone: search again and insert.
Replace(t) ==
    /\ L[t].pc = "replace"
    /\ LET k  == L[t].op.key
           c  == L[t].curr
           v  == val[c]
           nv == NewValue(k)
       IN
       IF v # TOMB
       THEN /\ val' = [val EXCEPT ![c] = nv]
            /\ L' = [L EXCEPT ![t].pc = "unlock"]
            /\ SetMap(k, nv)
            /\ IF Mutant = "FREE_AT_RETIRE"
               THEN /\ vst' = [vst EXCEPT ![nv] = "live", ![v] = "freed"]
                    /\ graceBad' = (graceBad \/ Readers # {})
                    /\ UNCHANGED cbQ
               ELSE /\ vst' = [vst EXCEPT ![nv] = "live", ![v] = "retired"]
                    /\ cbQ' = cbQ \cup {[kind |-> "value", obj |-> v,
                                         pre |-> Readers]}
                    /\ UNCHANGED graceBad
            /\ UNCHANGED <<nxt, mrk, dead, nst, cbG, cbR, gp, gpw, linBad>>
       ELSE /\ L' = [L EXCEPT ![t].pc = "f_head"]
            /\ UNCHANGED <<listVars, rcuVars, ghostVars>>
    /\ UNCHANGED dirVars

\* entry_tombstone: CAS the value word from a live value to the tombstone
\* (retried while another live value is there): the linearisation point of
\* the delete; ENOENT on the tombstone.  NO_TOMBSTONE: "succeeds" without
\* touching the value word (the C stress mutant LFMAP_MUTANT_DELETE_NO_TOMBSTONE).
Tombstone(t) ==
    /\ L[t].pc = "tomb"
    /\ LET c == L[t].curr
           v == val[c]
       IN
       IF Mutant = "NO_TOMBSTONE" \/ v # TOMB
       THEN /\ IF Mutant = "NO_TOMBSTONE" THEN UNCHANGED val
               ELSE val' = [val EXCEPT ![c] = TOMB]
            /\ SetMap(L[t].op.key, 0)
            /\ L' = [L EXCEPT ![t].res = IF Mutant = "NO_TOMBSTONE"
                                         THEN L[t].res ELSE v,
                              ![t].dc = IF Count THEN -1 ELSE 0,
                              ![t].pc = "dead"]
       ELSE /\ L' = [L EXCEPT ![t].pc = "unlock"]
            /\ UNCHANGED <<val, amap, seen>>
    /\ UNCHANGED <<nxt, mrk, dead, nst, vst, dirVars, rcuVars, graceBad, linBad>>

\* entry_remove: store the value in the entry for the destructor
\* (entry_retired(e)->value: a plain store into the entry the thread holds).
StoreDeadValue(t) ==
    /\ L[t].pc = "dead"
    /\ dead' = [dead EXCEPT ![L[t].curr] = L[t].res]
    /\ L' = [L EXCEPT ![t].pc = "mark"]
    /\ UNCHANGED <<nxt, mrk, val, nst, vst, dirVars, rcuVars, ghostVars>>

\* entry_remove: list_mark, then list_find, whose CAS unlinks (and retires)
\* the entry unless another search has done it.
Mark(t) ==
    /\ L[t].pc = "mark"
    /\ mrk' = [mrk EXCEPT ![L[t].curr] = TRUE]
    /\ L' = [L EXCEPT ![t] = CallFind(@, @.start, @.tgt, "unlock")]
    /\ UNCHANGED <<nxt, val, dead, nst, vst, dirVars, rcuVars, ghostVars>>

\* reclaim_read_unlock: leave the read-side section; drop every pointer.
\* Count triggers: an insert or delete goes on to its resize trigger.
EndRead(t) ==
    /\ L[t].pc = "unlock"
    /\ L' = [L EXCEPT ![t] = [ClearPtrs(@) EXCEPT !.rs = FALSE,
                                !.pc = IF L[t].dc # 0 THEN "trig" ELSE "idle"]]
    /\ LeaveSection(t)
    /\ seen' = [seen EXCEPT ![t] = {}]
    /\ UNCHANGED <<listVars, dirVars, gp, amap, graceBad, linBad>>

-----------------------------------------------------------------------------
(* Resize (src/bucket.c resize, grow_locked, shrink_publish) behind the  *)
(* resize try-lock.                                                       *)
(* Triggers = "program": a thread runs one when its program says so (one  *)
(* order per grow, any number of orders per shrink).  Triggers = "count": *)
(* the C triggers after every insert and delete (bucket_after_insert,     *)
(* bucket_after_delete), and after every release of the try-lock the     *)
(* releaser re-checks both triggers against the current count (the fix of *)
(* issue 9 finding 6): a grow or shrink that loses the try-lock does not  *)
(* retry, the holder's re-check does it for it.                           *)

\* Where a process goes when it has finished (no resize pending).
Done(p) == IF p = W THEN "w_idle" ELSE "idle"

\* The C triggers for a count c at bucket count s; LOAD_FACTOR is
\* LoadNum / LoadDen.  Grow: entries > size * LOAD_FACTOR, below the
\* largest size.  Shrink: auto-shrink on, above the smallest size, and
\* entries * SHRINK_DIVISOR < size * LOAD_FACTOR.
GrowTrig(c, s)   == s < MaxSize /\ c * LoadDen > s * LoadNum
ShrinkCond(c, s) == s > MinSize /\ c * ShrinkDiv * LoadDen < s * LoadNum
ShrinkTrig(c, s) == AutoShrink /\ ShrinkCond(c, s)
\* shrink_publish's target: halve while the condition holds (possibly
\* several orders at once).
RECURSIVE ShrinkTo(_, _)
ShrinkTo(c, s) == IF ShrinkCond(c, s) THEN ShrinkTo(c, s \div 2) ELSE s

GrowNext == IF Mutant = "COUNT_BEFORE_SEG" THEN "grow_size" ELSE "grow_seg"

\* segment_alloc: segment s of order o, private, its buckets EMPTY (claim:
\* its bucket nodes unlinked); the allocator holds it in segH.
AllocVars(o, s) ==
    LET bn == {BNode(b, s) : b \in SegBuckets(o)} IN
    /\ sst' = [sst EXCEPT ![s] = "priv"]
    /\ bptr' = [b \in Buckets |-> IF b \in SegBuckets(o) THEN NULL ELSE bptr[b]]
    /\ bst' = [b \in Buckets |-> IF b \in SegBuckets(o) THEN "empty" ELSE bst[b]]
    /\ IF Claim
       THEN /\ nst' = [n \in NodeIds |-> IF n \in bn THEN "priv" ELSE nst[n]]
            /\ nxt' = [n \in NodeIds |-> IF n \in bn THEN NULL ELSE nxt[n]]
            /\ mrk' = [n \in NodeIds |-> IF n \in bn THEN FALSE ELSE mrk[n]]
       ELSE UNCHANGED <<nst, nxt, mrk>>

\* TLA+ AllocSegment, program triggers: a Grow op: try-lock CAS resizing
\* 0 -> 1 (losers skip), load the size, allocate the next segment.
GrowOp(t) ==
    /\ L[t].pc = "idle"
    /\ ~Count
    /\ L[t].opi <= Len(Prog[t])
    /\ Grow \in Prog[t][L[t].opi]
    /\ IF ~resizing /\ size < MaxSize
       THEN LET o == Log2(size) + 1
                s == NewSeg(o)
            IN  /\ resizing' = TRUE
                /\ AllocVars(o, s)
                /\ L' = [L EXCEPT ![t].op = Grow, ![t].opi = @ + 1,
                                  ![t].sz = size, ![t].segH = s,
                                  ![t].pc = GrowNext]
                /\ UNCHANGED <<size, segPtr, cnt>>
       ELSE /\ L' = [L EXCEPT ![t].opi = @ + 1]
            /\ UNCHANGED <<dirVars, nst, nxt, mrk>>
    /\ UNCHANGED <<val, dead, vst, rcuVars, ghostVars>>

\* TLA+ AllocSegment, count triggers: resize's try-lock (a loser
\* returns: no retry), then (merged) load the size, sum the counter into
\* ent, and allocate the first segment the sampled count needs; if it
\* needs none, release the lock next (grow_rel) without growing.
GrowLock(p) ==
    /\ L[p].pc = "grow_lock"
    /\ IF resizing
       THEN /\ L' = [L EXCEPT ![p].pc = Done(p)]
            /\ UNCHANGED <<dirVars, nst, nxt, mrk>>
       ELSE IF GrowTrig(cnt, size)
       THEN LET o == Log2(size) + 1
                s == NewSeg(o)
            IN  /\ resizing' = TRUE
                /\ AllocVars(o, s)
                /\ L' = [L EXCEPT ![p].sz = size, ![p].ent = cnt,
                                  ![p].segH = s, ![p].pc = GrowNext]
                /\ UNCHANGED <<size, segPtr, cnt>>
       ELSE /\ resizing' = TRUE
            /\ L' = [L EXCEPT ![p].pc = "grow_rel"]
            /\ UNCHANGED <<size, segPtr, sst, bptr, bst, cnt, nst, nxt, mrk>>
    /\ UNCHANGED <<val, dead, vst, rcuVars, ghostVars>>

\* TLA+ AllocSegment, the next round of grow_locked's loop (count
\* triggers): the sampled count still exceeds the new size's load.
GrowAlloc(p) ==
    /\ L[p].pc = "grow_alloc"
    /\ LET o == Log2(L[p].sz) + 1
           s == NewSeg(o)
       IN  /\ AllocVars(o, s)
           /\ L' = [L EXCEPT ![p].segH = s, ![p].pc = GrowNext]
    /\ UNCHANGED <<size, segPtr, resizing, cnt, val, dead, vst, rcuVars,
                   ghostVars>>

AllocSegment(p) == GrowOp(p) \/ GrowLock(p) \/ GrowAlloc(p)

\* TLA+ PublishSegment: store the segment pointer (release).
PublishSegment(p) ==
    /\ L[p].pc = "grow_seg"
    /\ segPtr' = [segPtr EXCEPT ![SOrder(L[p].segH)] = L[p].segH]
    /\ sst' = [sst EXCEPT ![L[p].segH] = "pub"]
    /\ L' = [L EXCEPT ![p].pc = IF Mutant = "COUNT_BEFORE_SEG"
                                THEN "grow_rel" ELSE "grow_size"]
    /\ UNCHANGED <<listVars, size, bptr, bst, resizing, cnt, rcuVars, ghostVars>>

\* TLA+ PublishCount: store the doubled bucket count (release); count
\* triggers: loop while the sampled count exceeds the new size's load.
PublishCount(p) ==
    /\ L[p].pc = "grow_size"
    /\ size' = 2 * L[p].sz
    /\ L' = [L EXCEPT ![p].sz = IF Count THEN 2 * @ ELSE @,
                      ![p].pc = IF Mutant = "COUNT_BEFORE_SEG" THEN "grow_seg"
                                ELSE IF Count /\ GrowTrig(L[p].ent, 2 * L[p].sz)
                                THEN "grow_alloc" ELSE "grow_rel"]
    /\ UNCHANGED <<listVars, segPtr, sst, bptr, bst, resizing, cnt, rcuVars,
                   ghostVars>>

\* TLA+ GrowUnlock: resize_unlock.  Count triggers: then re-check
\* (NO_RECHECK_AFTER_NOOP: not after a grow that grew nothing).
GrowUnlock(p) ==
    /\ L[p].pc = "grow_rel"
    /\ resizing' = FALSE
    /\ L' = [L EXCEPT ![p].segH = NULL,
                      ![p].pc = IF ~Count THEN Done(p)
                                ELSE IF Mutant = "NO_RECHECK_AFTER_NOOP"
                                        /\ L[p].segH = NULL
                                THEN Done(p) ELSE "recheck"]
    /\ UNCHANGED <<listVars, size, segPtr, sst, bptr, bst, cnt, rcuVars,
                   ghostVars>>

\* TLA+ ShrinkLock: resize's try-lock (a loser returns: no
\* retry) and load of the size.  Program triggers: a Shrink op, to any
\* smaller size >= MinSize.  Count triggers: (merged) sum the counter and
\* compute the target as the C loop does; if it is the current size,
\* release the lock next (shrink_rel) without shrinking.
ShrinkLock(p) ==
    /\ \/ /\ L[p].pc = "idle"
          /\ ~Count
          /\ L[p].opi <= Len(Prog[p])
          /\ Shrink \in Prog[p][L[p].opi]
          /\ IF ~resizing /\ size > MinSize
             THEN \E to \in {2^i : i \in Orders} :
                    /\ MinSize <= to /\ to < size
                    /\ resizing' = TRUE
                    /\ L' = [L EXCEPT ![p].op = Shrink, ![p].opi = @ + 1,
                                      ![p].sz = size, ![p].to = to,
                                      ![p].pc = "shrink_pub"]
             ELSE /\ L' = [L EXCEPT ![p].opi = @ + 1]
                  /\ UNCHANGED resizing
       \/ /\ L[p].pc = "shrink_lock"
          /\ IF resizing
             THEN /\ L' = [L EXCEPT ![p].pc = Done(p)]
                  /\ UNCHANGED resizing
             ELSE LET to == ShrinkTo(cnt, size) IN
                  /\ resizing' = TRUE
                  /\ L' = IF to = size THEN [L EXCEPT ![p].pc = "shrink_rel"]
                          ELSE [L EXCEPT ![p].sz = size, ![p].to = to,
                                         ![p].pc = "shrink_pub"]
    /\ UNCHANGED <<listVars, size, segPtr, sst, bptr, bst, cnt, rcuVars,
                   ghostVars>>

\* resize found nothing to do under the lock: resize_unlock; count
\* triggers: then re-check (NO_RECHECK_AFTER_NOOP: return).
ShrinkRelease(p) ==
    /\ L[p].pc = "shrink_rel"
    /\ resizing' = FALSE
    /\ L' = [L EXCEPT ![p].pc = IF Mutant = "NO_RECHECK_AFTER_NOOP"
                                THEN Done(p) ELSE "recheck"]
    /\ UNCHANGED <<listVars, size, segPtr, sst, bptr, bst, cnt, rcuVars,
                   ghostVars>>

\* TLA+ PublishShrink: store the smaller count 2^j (release) and
\* call_rcu(bucket_shrink_unlink) for the orders above j
\* (m->shrink_from / m->shrink_to).  NO_GP1 makes the callback ready at
\* once.  The try-lock stays held until bucket_shrink_free.
PublishShrink(p) ==
    /\ L[p].pc = "shrink_pub"
    /\ size' = L[p].to
    /\ LET c == [kind |-> "unlink", obj |-> [from |-> L[p].sz, to |-> L[p].to],
                 pre |-> Readers] IN
       IF Mutant = "NO_GP1"
       THEN /\ cbR' = cbR \cup {c}
            /\ UNCHANGED cbQ
       ELSE /\ cbQ' = cbQ \cup {c}
            /\ UNCHANGED cbR
    /\ L' = [L EXCEPT ![p].to = 0, ![p].pc = Done(p)]
    /\ UNCHANGED <<listVars, segPtr, sst, bptr, bst, resizing, cnt, cbG, gp,
                   gpw, ghostVars>>

\* TLA+ Recheck (count triggers), after every release of the try-lock: load
\* the size and sum the counter; grow if the grow trigger holds, else
\* shrink if the shrink trigger holds.  "recheck_shrink" (the last step of
\* a shrink under NO_RECHECK_AFTER_SHRINK, the C code before the fix):
\* the shrink trigger only.
Recheck(p) ==
    /\ L[p].pc \in {"recheck", "recheck_shrink"}
    /\ L' = [L EXCEPT ![p].pc =
               IF L[p].pc = "recheck" /\ GrowTrig(cnt, size) THEN "grow_lock"
               ELSE IF ShrinkTrig(cnt, size) THEN "shrink_lock"
               ELSE Done(p)]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

\* TLA+ AfterUpdate (count triggers): counter_add of the insert (+1) or
\* delete (-1), then bucket_after_insert / bucket_after_delete: load the
\* size, sum the counter, test the trigger (merged into one step).
AfterUpdate(t) ==
    /\ L[t].pc = "trig"
    /\ cnt' = cnt + L[t].dc
    /\ L' = [L EXCEPT ![t].dc = 0,
                      ![t].pc = IF L[t].dc > 0
                                THEN IF GrowTrig(cnt', size) THEN "grow_lock"
                                     ELSE "idle"
                                ELSE IF ShrinkTrig(cnt', size) THEN "shrink_lock"
                                     ELSE "idle"]
    /\ UNCHANGED <<listVars, size, segPtr, sst, bptr, bst, resizing, rcuVars,
                   ghostVars>>

ResizeStep(p) ==
    \/ AllocSegment(p) \/ PublishSegment(p) \/ PublishCount(p) \/ GrowUnlock(p)
    \/ ShrinkLock(p) \/ ShrinkRelease(p) \/ PublishShrink(p) \/ Recheck(p)

-----------------------------------------------------------------------------
(* RCU: grace periods, and the call_rcu worker W running callbacks one at *)
(* a time.                                                                 *)

\* A grace period starts: it covers every callback queued so far and waits
\* for every read-side section in progress now.
GPStart ==
    /\ ~gp /\ cbQ # {}
    /\ gp' = TRUE /\ cbG' = cbQ /\ cbQ' = {}
    /\ gpw' = Readers
    /\ UNCHANGED <<listVars, dirVars, cbR, L, ghostVars>>

GPEnd ==
    /\ gp /\ gpw = {}
    /\ gp' = FALSE /\ cbR' = cbR \cup cbG /\ cbG' = {}
    /\ UNCHANGED <<listVars, dirVars, cbQ, gpw, L, ghostVars>>

\* What bucket_shrink_free does: free the removed segments S and their
\* bucket nodes (claim) or the removed buckets' dummies (dummy), release the
\* try-lock.  pre: readers that were in a section when it was queued.
ShrinkFreeVars(S, pre) ==
    LET bs == UNION {SegBuckets(SOrder(s)) : s \in S}
        D  == IF Claim
              THEN UNION {{BNode(b, s) : b \in SegBuckets(SOrder(s))} : s \in S}
              ELSE {bptr[b] : b \in bs} \ {NULL}
    IN
    /\ nst' = [n \in NodeIds |-> IF n \in D THEN "freed" ELSE nst[n]]
    /\ sst' = [x \in SegIds |-> IF x \in S THEN "freed" ELSE sst[x]]
    /\ bptr' = [b \in Buckets |-> IF b \in bs THEN NULL ELSE bptr[b]]
    /\ resizing' = FALSE
    /\ graceBad' = (graceBad \/ pre # {} \/ \E n \in D : nst[n] = "freed")

\* TLA+ Reclaim: the call_rcu worker runs a ready callback:
\* reclaim_batch_free: an entry (and the value recorded in it) or a value.
Reclaim ==
    /\ L[W].pc = "w_idle"
    /\ \E c \in cbR :
         /\ c.kind \in {"node", "value"}
         /\ cbR' = cbR \ {c}
         /\ IF c.kind = "node"
            THEN LET n == c.obj
                     v == dead[n]
                 IN
                 /\ nst' = [nst EXCEPT ![n] = "freed"]
                 /\ vst' = IF v # NULL THEN [vst EXCEPT ![v] = "freed"] ELSE vst
                 /\ graceBad' = (graceBad \/ c.pre # {} \/ nst[n] = "freed"
                                 \/ (v # NULL /\ vst[v] = "freed"))
            ELSE /\ vst' = [vst EXCEPT ![c.obj] = "freed"]
                 /\ graceBad' = (graceBad \/ c.pre # {} \/ vst[c.obj] = "freed")
                 /\ UNCHANGED nst
    /\ UNCHANGED <<nxt, mrk, val, dead, dirVars, L, cbQ, cbG, gp, gpw, amap,
                   seen, linBad>>

\* TLA+ ShrinkFree: the worker runs bucket_shrink_free.  Count triggers:
\* after releasing the try-lock it re-checks both triggers (Recheck);
\* NO_RECHECK_AFTER_SHRINK: only the shrink trigger (the C code before
\* the fix of issue 9 finding 6).
ShrinkFree ==
    /\ L[W].pc = "w_idle"
    /\ \E c \in cbR :
         /\ c.kind = "sfree"
         /\ cbR' = cbR \ {c}
         /\ ShrinkFreeVars(c.obj, c.pre)
    /\ L' = IF ~Count THEN L
            ELSE [L EXCEPT ![W].pc = IF Mutant = "NO_RECHECK_AFTER_SHRINK"
                                     THEN "recheck_shrink" ELSE "recheck"]
    /\ UNCHANGED <<nxt, mrk, val, dead, vst, size, segPtr, bst, cnt, cbQ, cbG,
                   gp, gpw, amap, seen, linBad>>

\* TLA+ ShrinkUnlink, start: the worker runs bucket_shrink_unlink: read
\* lock, load the removed buckets' states (claim) or pointers (dummy),
\* merged into one step (nobody writes them after grace period 1).  The
\* removed buckets are [to, from): every order above to's, at once.
ShrinkUnlinkBegin ==
    /\ L[W].pc = "w_idle"
    /\ \E c \in cbR :
         /\ c.kind = "unlink"
         /\ cbR' = cbR \ {c}
         /\ LET fr == c.obj.from
                to == c.obj.to
                B(i) == to + i - 1
                ds == IF Claim
                      THEN SelectSeq([i \in 1..fr - to |->
                                        IF bst[B(i)] = "linked"
                                        THEN BNode(B(i), segPtr[Order(B(i))])
                                        ELSE NULL],
                                     LAMBDA x : x # NULL)
                      ELSE SelectSeq([i \in 1..fr - to |-> bptr[B(i)]],
                                     LAMBDA x : x # NULL)
            IN  L' = [L EXCEPT ![W].rs = TRUE, ![W].wd = ds, ![W].wi = 1,
                               ![W].sz = fr, ![W].to = to,
                               ![W].pc = IF ds = <<>> THEN "w_find" ELSE "w_mark"]
    /\ UNCHANGED <<listVars, dirVars, cbQ, cbG, gp, gpw, ghostVars>>

\* TLA+ ShrinkUnlink, first part: list_mark each removed bucket node.
ShrinkMark ==
    /\ L[W].pc = "w_mark"
    /\ mrk' = [mrk EXCEPT ![L[W].wd[L[W].wi]] = TRUE]
    /\ L' = IF L[W].wi = Len(L[W].wd)
            THEN [L EXCEPT ![W].wi = 1, ![W].pc = "w_find"]
            ELSE [L EXCEPT ![W].wi = @ + 1]
    /\ UNCHANGED <<nxt, val, dead, nst, vst, dirVars, rcuVars, ghostVars>>

\* TLA+ ShrinkUnlink, second part.  Claim: list_sweep from the head once.
\* Dummy: list_find from each removed dummy's surviving ancestor (bucket
\* b & (to - 1), initialised before b).  Then leave the read-side section,
\* clear the removed segment pointers and call_rcu(bucket_shrink_free)
\* (NO_GP2: free at once).
ShrinkUnlink ==
    /\ L[W].pc \in {"w_find", "w_sweep"}
    /\ IF L[W].pc = "w_find" /\ Claim
       THEN /\ L' = [L EXCEPT ![W] = CallFind([@ EXCEPT !.anchor = ListHead],
                                             ListHead, OrdEnd, "w_sweep")]
            /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>
       ELSE IF L[W].pc = "w_find" /\ L[W].wi <= Len(L[W].wd)
       THEN LET d == L[W].wd[L[W].wi]
                p == bptr[NBucket(d) % L[W].to]
            IN  /\ L' = [L EXCEPT ![W] = [CallFind(@, p, Ord(d), "w_find")
                                            EXCEPT !.wi = @ + 1]]
                /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>
       ELSE LET O  == Log2(L[W].to) + 1 .. Log2(L[W].sz)
                S  == {segPtr[o] : o \in O}
                rd == Readers \ {W}
            IN  /\ segPtr' = [o \in Orders |-> IF o \in O THEN NULL ELSE segPtr[o]]
                /\ L' = [L EXCEPT ![W] = [ClearPtrs(@) EXCEPT !.rs = FALSE,
                                                        !.to = 0,
                                                        !.pc = "w_idle"]]
                /\ gpw' = gpw \ {W}
                /\ cbG' = Unpre(cbG, W) /\ cbR' = Unpre(cbR, W)
                /\ IF Mutant = "NO_GP2"
                   THEN /\ ShrinkFreeVars(S, rd)
                        /\ cbQ' = Unpre(cbQ, W)
                   ELSE /\ sst' = [x \in SegIds |-> IF x \in S THEN "unpub" ELSE sst[x]]
                        /\ cbQ' = Unpre(cbQ, W) \cup
                                  {[kind |-> "sfree", obj |-> S, pre |-> rd]}
                        /\ UNCHANGED <<nst, bptr, resizing, graceBad>>
                /\ UNCHANGED <<nxt, mrk, val, dead, vst, size, bst, cnt, gp, amap,
                               seen, linBad>>

-----------------------------------------------------------------------------
AllDone ==
    /\ \A t \in Threads : L[t].pc = "idle" /\ L[t].opi > Len(Prog[t])
    /\ L[W].pc = "w_idle"
    /\ cbQ = {} /\ cbG = {} /\ cbR = {} /\ ~gp

\* Stutter at the end, so that TLC's deadlock check flags only stuck states.
Terminated == AllDone /\ UNCHANGED vars

ThreadStep(t) ==
    \/ BeginRead(t) \/ ResizeStep(t) \/ AfterUpdate(t)
    \/ LoadSize(t) \/ LoadSegment(t)
    \/ LoadBucketState(t) \/ ClaimBucket(t) \/ InitBucket(t) \/ PublishBucket(t)
    \/ LoadBucketPtr(t) \/ LoadParentPtr(t) \/ LinkDummy(t) \/ SetBucketPtr(t)
    \/ Lookup(t) \/ LoadValue(t)
    \/ Found(t) \/ Link(t) \/ HelpMark(t) \/ Replace(t) \/ Tombstone(t)
    \/ StoreDeadValue(t) \/ Mark(t) \/ EndRead(t)

FindStep(p) == FindStart(p) \/ SweepStart(p) \/ Find(p) \/ Unlink(p)

Next ==
    \/ \E t \in Threads : ThreadStep(t)
    \/ \E p \in Procs : FindStep(p)
    \/ GPStart \/ GPEnd \/ Reclaim \/ ShrinkFree \/ ShrinkUnlinkBegin
    \/ ShrinkMark \/ ShrinkUnlink
    \/ ResizeStep(W)
    \/ Terminated

Spec == Init /\ [][Next]_vars

\* Optional liveness (tla/cfg/large_live.cfg): under weak fairness every
\* thread finishes its program and every callback runs.
Fairness ==
    /\ \A t \in Threads : WF_vars(ThreadStep(t))
    /\ \A p \in Procs : WF_vars(FindStep(p))
    /\ WF_vars(GPStart) /\ WF_vars(GPEnd) /\ WF_vars(Reclaim)
    /\ WF_vars(ShrinkFree) /\ WF_vars(ShrinkUnlinkBegin)
    /\ WF_vars(ShrinkMark) /\ WF_vars(ShrinkUnlink)
    /\ WF_vars(ResizeStep(W))
LiveSpec == Spec /\ Fairness
EventuallyDone == <>AllDone

\* Resize progress (count triggers; issue 9 finding 6): the entries in the
\* map, the band of bucket counts they call for (grow trigger false and,
\* with auto-shrink, shrink trigger false), and: once every update has
\* finished, eventually no resize is in flight and the bucket count stays
\* in the band.
Entries     == Cardinality({k \in Keys : amap[k] # 0})
InBand      == ~GrowTrig(Entries, size) /\ ~ShrinkTrig(Entries, size)
UpdatesDone == \A t \in Threads : L[t].pc = "idle" /\ L[t].opi > Len(Prog[t])
ResizeIdle  ==
    /\ ~resizing /\ L[W].pc = "w_idle"
    /\ \A c \in cbQ \cup cbG \cup cbR : c.kind \notin {"unlink", "sfree"}
ResizeProgress == UpdatesDone ~> [](ResizeIdle /\ InBand)

-----------------------------------------------------------------------------
(* Invariants.                                                             *)

RECURSIVE Walk(_, _)
Walk(n, d) == IF n = NULL \/ d = 0 THEN <<>> ELSE <<n>> \o Walk(nxt[n], d - 1)
\* The list from the head (marked nodes included); cut after more steps
\* than there are nodes, so that a cycle shows up as disorder.
Reach    == Walk(ListHead, Cardinality(NodeIds) + 1)
ReachSet == {Reach[i] : i \in 1..Len(Reach)}

\* No key lost, none duplicated: the keys reachable from the head with a
\* live value are exactly the abstract map's keys, with its values, and no
\* key is reachable twice.
MapConsistent ==
    \A k \in Keys :
        LET pos  == {i \in 1..Len(Reach) :
                        ~IsDummy(Reach[i]) /\ NKey(Reach[i]) = k}
            live == {i \in pos : val[Reach[i]] # TOMB}
        IN  /\ Cardinality(pos) <= 1
            /\ IF amap[k] = 0 THEN live = {}
               ELSE \E i \in live : val[Reach[i]] = amap[k]

\* The list is strictly sorted by split-order key (key bytes break ties).
Sorted == \A i \in 1..Len(Reach) - 1 : Ord(Reach[i]) < Ord(Reach[i + 1])

\* Every initialised bucket of the current size leads to its own bucket
\* node, which is in the list and not marked.  Claim: a LINKED bucket's node
\* is in the list, an EMPTY bucket's node is not (only the claimer links).
BucketsOk ==
    \A b \in 1..size - 1 :
        IF Claim
        THEN segPtr[Order(b)] # NULL =>
             LET n == BNode(b, segPtr[Order(b)]) IN
             /\ bst[b] = "linked" => n \in ReachSet /\ ~mrk[n]
             /\ bst[b] = "empty" => n \notin ReachSet
        ELSE bptr[b] # NULL =>
             /\ IsDummy(bptr[b]) /\ NBucket(bptr[b]) = b
             /\ bptr[b] \in ReachSet /\ ~mrk[bptr[b]]

\* Every segment covering the published size is published, and no thread
\* ever loaded a NULL segment pointer for a bucket below the size it read.
SegmentPublished ==
    /\ \A b \in 0..size - 1 : segPtr[Order(b)] # NULL
    /\ \A t \in Threads : L[t].pc # "fault"

\* No thread holds a pointer to a freed node, value or segment, and no
\* freed node is reachable from the head.
NoUseAfterFree ==
    /\ \A p \in Procs :
         /\ \A n \in {L[p].start, L[p].pred, L[p].curr, L[p].succ,
                      L[p].anchor} \ {NULL} :
              nst[n] # "freed"
         /\ \A i \in 1..Len(L[p].ist) : nst[L[p].ist[i]] # "freed"
         /\ L[p].hv # NULL => vst[L[p].hv] # "freed"
         /\ L[p].segH # NULL => sst[L[p].segH] # "freed"
    /\ \A n \in ReachSet : nst[n] # "freed"

\* Each retired object (entry, value, bucket node, segment) is freed once,
\* and only after every read-side section in progress when it was retired
\* has ended.
GraceRespected == ~graceBad

\* Every lookup returns a value (or absence) that the abstract map held at
\* some moment during the lookup.
GetLinearizable == ~linBad

\* Once everything has finished: every node is in the list or freed (claim
\* scheme: or an unlinked bucket node inside a live segment), every segment
\* is published or freed, and every value is in the map or freed (so each
\* removed value reached the destructor).
NoLeak ==
    AllDone =>
        /\ \A n \in NodeIds : nst[n] \in {"none", "priv", "freed"} \/ n \in ReachSet
        /\ \A n \in NodeIds : nst[n] = "priv" => Claim
        /\ \A s \in SegIds : sst[s] \in {"none", "pub", "freed"}
        /\ \A v \in ValueIds :
              vst[v] \in {"live", "retired"} <=> \E k \in Keys : amap[k] = v

-----------------------------------------------------------------------------
(* Coverage witnesses: each of these "invariants" is violated by a         *)
(* reachable state of the default configuration, which shows that TLC     *)
(* explores the scenario (cfg/cover_*.cfg expect the violation).          *)

\* A thread initialises a bucket whose parent is not initialised either.
NoRecursiveInit == \A t \in Threads : Len(L[t].ist) < 2
\* Two threads race to initialise one bucket: one is about to CAS a bucket
\* state (claim) or pointer (dummy) that another thread has already set.
NoInitRace ==
    ~\E t \in Threads :
        \/ L[t].pc = "claim" /\ bst[L[t].gb] # "empty"
        \/ L[t].pc = "ibkt" /\ bptr[Head(L[t].ist)] # NULL
\* A thread's search or lookup stands on a bucket node that a shrink has
\* marked.
NoWalkOverRemovedBucket ==
    ~\E t \in Threads : L[t].curr # NULL /\ IsDummy(L[t].curr) /\ mrk[L[t].curr]

\* The safety side of ResizeProgress (count triggers): when everything has
\* finished, the counter is exact and the bucket count is in the band.
SizedAtEnd == Count /\ AllDone => cnt = Entries /\ InBand

\* Count triggers (cfg/cover_*_resize.cfg): one shrink drops two orders or
\* more at once.
ShrinkCbs == {c \in cbQ \cup cbG \cup cbR : c.kind \in {"unlink", "sfree"}}
NoMultiOrderShrink ==
    ~\E c \in cbQ \cup cbG \cup cbR :
        c.kind = "unlink" /\ c.obj.from >= 4 * c.obj.to
\* A thread's grow is about to lose the try-lock to a shrink in flight.
NoGrowBehindShrink ==
    ~\E t \in Threads : L[t].pc = "grow_lock" /\ resizing /\ ShrinkCbs # {}
\* The re-check at the end of a shrink grows the table.
NoRecheckGrow == L[W].pc # "grow_lock"

TypeOK ==
    /\ size \in {2^i : i \in Orders}
    /\ \A p \in Procs : L[p].rs \in BOOLEAN
    /\ \A n \in NodeIds : nst[n] \in {"none", "priv", "live", "retired", "freed"}
    /\ \A v \in ValueIds : vst[v] \in {"none", "live", "retired", "freed"}

=============================================================================
