-------------------------------- MODULE LfMap --------------------------------
(***************************************************************************)
(* lfmap's resize protocol: a split-ordered list (Shalev & Shavit) over a  *)
(* Harris-Michael list, a segmented bucket directory with a published     *)
(* bucket count, lazy bucket initialisation, grow, shrink with two grace  *)
(* periods, and RCU (liburcu call_rcu) reclamation.                       *)
(*                                                                         *)
(* Every action is one atomic step of the C code (one load, store, CAS or *)
(* fetch-or on a shared word, plus thread-local computation).  The places *)
(* where two C steps are merged into one action are listed in README.md.  *)
(* tla/README.md maps every action to the C function implementing it.    *)
(*                                                                         *)
(* Mutant selects a seeded bug (see README.md); "none" is the protocol.   *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets, TLC

CONSTANTS
    Threads,    \* application threads (model values)
    NK,         \* keys are 1..NK
    HashOf,     \* [1..NK -> 0..MaxSize-1]: the hash bits that matter
    MaxSize,    \* largest bucket count (a power of two)
    InitSize,   \* bucket count at creation (a power of two)
    MinSize,    \* shrink never goes below this
    Prog,       \* [Threads -> Seq(SUBSET Ops)]: each thread runs one op of
                \* each set in turn, chosen nondeterministically
    MaxInc,     \* incarnations per key / bucket / segment (state bound)
    Mutant      \* "none", or the name of a seeded bug

Keys  == 1..NK
W     == "rcu"                 \* the call_rcu worker thread
Procs == Threads \cup {W}
NULL  == 0
TOMB  == 0                     \* the value word's tombstone

Ops == {[k |-> o, key |-> k] : o \in {"get", "ins", "put", "del"}, k \in Keys}
       \cup {[k |-> o, key |-> 0] : o \in {"grow", "shrink"}}
Get(k) == [k |-> "get", key |-> k]
Ins(k) == [k |-> "ins", key |-> k]
Put(k) == [k |-> "put", key |-> k]
Del(k) == [k |-> "del", key |-> k]
Grow   == [k |-> "grow", key |-> 0]
Shrink == [k |-> "shrink", key |-> 0]

ASSUME Mutant \in {"none", "NO_GP1", "NO_GP2", "FREE_AT_RETIRE",
                   "COUNT_BEFORE_SEG", "NO_TOMBSTONE", "CAS_IGNORES_MARK",
                   "RETRY_NO_REFIND", "INIT_OWN_DUMMY", "GET_EARLY_UNLOCK",
                   "LOOKUP_STOPS_AT_MARK"}

-----------------------------------------------------------------------------
(* Split order.                                                            *)

RECURSIVE Log2(_)
Log2(n) == IF n <= 1 THEN 0 ELSE 1 + Log2(n \div 2)
HB      == Log2(MaxSize)                 \* hash bits in use
Buckets == 0..MaxSize-1
Orders  == 0..HB
\* Segment o holds bucket 0 (o = 0) or buckets [2^(o-1), 2^o).
Order(b)     == IF b = 0 THEN 0 ELSE Log2(b) + 1
SegBuckets(o) == IF o = 0 THEN {0} ELSE 2^(o-1) .. 2^o - 1
Parent(b)    == b - 2^Log2(b)           \* b > 0: clear the highest set bit

RECURSIVE RevBits(_, _)
RevBits(x, n) == IF n = 0 THEN 0 ELSE (x % 2) * 2^(n-1) + RevBits(x \div 2, n-1)
\* Split-order keys, with the key bytes as tie-break folded in: dummies have
\* an even so-key, regular nodes an odd one; equal so-keys are ordered by key.
OrdD(b) == 2 * RevBits(b, HB) * (NK + 1)
OrdK(k) == (2 * RevBits(HashOf[k], HB) + 1) * (NK + 1) + k

-----------------------------------------------------------------------------
(* Object identities.  A node, value or segment gets its identity when it *)
(* is first published (private allocations are thread-local and unnamed), *)
(* so equal histories give equal states.                                  *)

DId(b, i) == 1 + b * MaxInc + (i - 1)                       \* dummy of bucket b
KId(k, i) == 1 + MaxSize * MaxInc + (k - 1) * MaxInc + (i - 1)  \* node of key k
NodeIds   == 1 .. (MaxSize + NK) * MaxInc
IsDummy(n) == n <= MaxSize * MaxInc
NBucket(n) == (n - 1) \div MaxInc
NKey(n)    == (n - 1 - MaxSize * MaxInc) \div MaxInc + 1
OrdTab     == [n \in NodeIds |-> IF IsDummy(n) THEN OrdD(NBucket(n))
                                               ELSE OrdK(NKey(n))]
Ord(n)     == OrdTab[n]
ListHead   == DId(0, 1)                 \* bucket 0's dummy: the list head

VId(k, j)  == (k - 1) * MaxInc + j       \* j-th value ever stored under k
ValueIds   == 1 .. NK * MaxInc
SId(o, i)  == o * MaxInc + i             \* i-th segment ever made for order o
SegIds     == {SId(o, i) : o \in Orders, i \in 1..MaxInc}
SOrder(s)  == (s - 1) \div MaxInc

-----------------------------------------------------------------------------
VARIABLES
    \* the list: next pointer + mark bit (one word), value word, life cycle
    nxt, mrk, val,
    nst,        \* node: "none" | "priv" | "live" | "retired" | "freed"
    vst,        \* value: "none" | "live" | "retired" | "freed"
    \* the bucket directory
    size,       \* published bucket count
    segPtr,     \* [Orders -> SegIds \cup {NULL}]: published segment pointers
    sst,        \* segment: "none" | "priv" | "pub" | "unpub" | "freed"
    bptr,       \* [Buckets -> node]: bucket pointers (inside the segments)
    resizing,   \* the resize try-lock flag
    \* RCU: callbacks queued, waiting for the current grace period, ready
    cbQ, cbG, cbR,
    gp,         \* a grace period is in progress
    gpw,        \* readers the current grace period still waits for
    \* per-thread state (pc, op, locals, pointers held, read-side flag)
    L,
    \* ghosts: the abstract map, lookups' admissible results, violations
    amap, seen, graceBad, linBad

listVars  == <<nxt, mrk, val, nst, vst>>
dirVars   == <<size, segPtr, sst, bptr, resizing>>
rcuVars   == <<cbQ, cbG, cbR, gp, gpw>>
ghostVars == <<amap, seen, graceBad, linBad>>
vars == <<listVars, dirVars, rcuVars, L, ghostVars>>

Readers == {p \in Procs : L[p].rs}

InitOrders == 0 .. Order(InitSize - 1)

LInit(p) == [pc |-> IF p = W THEN "w_idle" ELSE "idle",
             opi |-> 1, op |-> Get(1), rs |-> FALSE,
             sz |-> 0, bk |-> 0, ist |-> <<>>,
             start |-> NULL, pred |-> NULL, curr |-> NULL, succ |-> NULL,
             hv |-> NULL, segH |-> NULL, tgt |-> 0, fret |-> "",
             res |-> 0, wd |-> <<>>, wi |-> 1, wseg |-> NULL]

Init ==
    /\ nxt = [n \in NodeIds |-> NULL]
    /\ mrk = [n \in NodeIds |-> FALSE]
    /\ val = [n \in NodeIds |-> TOMB]
    /\ nst = [n \in NodeIds |-> IF n = ListHead THEN "live" ELSE "none"]
    /\ vst = [v \in ValueIds |-> "none"]
    /\ size = InitSize
    /\ segPtr = [o \in Orders |-> IF o \in InitOrders THEN SId(o, 1) ELSE NULL]
    /\ sst = [s \in SegIds |-> IF s \in {SId(o, 1) : o \in InitOrders}
                               THEN "pub" ELSE "none"]
    /\ bptr = [b \in Buckets |-> IF b = 0 THEN ListHead ELSE NULL]
    /\ resizing = FALSE
    /\ cbQ = {} /\ cbG = {} /\ cbR = {}
    /\ gp = FALSE /\ gpw = {}
    /\ L = [p \in Procs |-> LInit(p)]
    /\ amap = [k \in Keys |-> 0]
    /\ seen = [t \in Threads |-> {}]
    /\ graceBad = FALSE
    /\ linBad = FALSE

-----------------------------------------------------------------------------
(* Allocation of fresh identities (TLC stops if MaxInc is too small).     *)

Fresh(used(_)) ==
    LET i == Cardinality({j \in 1..MaxInc : used(j)}) + 1
    IN  IF Assert(i <= MaxInc, "MaxInc too small") THEN i ELSE 0
NewKNode(k) == KId(k, Fresh(LAMBDA j : nst[KId(k, j)] # "none"))
NewDummy(b) == DId(b, Fresh(LAMBDA j : nst[DId(b, j)] # "none"))
NewValue(k) == VId(k, Fresh(LAMBDA j : vst[VId(k, j)] # "none"))
NewSeg(o)   == SId(o, Fresh(LAMBDA j : sst[SId(o, j)] # "none"))

\* The abstract map changes (at a linearisation point): every lookup of k in
\* progress may now legitimately return v.
SetMap(k, v) ==
    /\ amap' = [amap EXCEPT ![k] = v]
    /\ seen' = [t \in Threads |->
                  IF seen[t] # {} /\ L[t].op.k = "get" /\ L[t].op.key = k
                  THEN seen[t] \cup {v} ELSE seen[t]]

\* The link CAS: pred.next must still be curr, unmarked (one word).
LinkCasOk(p) ==
    /\ nxt[L[p].pred] = L[p].curr
    /\ (Mutant = "CAS_IGNORES_MARK" \/ ~mrk[L[p].pred])
\* RETRY_NO_REFIND: a failed link CAS is retried with new.next := the
\* current pred.next, without a new find (collapsed into one step).
LinkSucc(p) ==
    IF Mutant = "RETRY_NO_REFIND" THEN nxt[L[p].pred] ELSE L[p].curr
LinkOk(p) ==
    \/ LinkCasOk(p)
    \/ Mutant = "RETRY_NO_REFIND" /\ ~mrk[L[p].pred]

\* find's entry: start from L[p].start towards target tg, then go to label r.
CallFind(p, st, tg, r) ==
    [L EXCEPT ![p].start = st, ![p].tgt = tg, ![p].fret = r,
              ![p].pc = "f_head"]

\* Where an operation continues once it has its bucket's dummy d.
OpEntry(p, d) ==
    LET o == L[p].op IN
    IF o.k = "get"
    THEN [L EXCEPT ![p].start = d, ![p].curr = d, ![p].tgt = OrdK(o.key),
                   ![p].pc = "get_walk"]
    ELSE [L EXCEPT ![p].start = d, ![p].tgt = OrdK(o.key),
                   ![p].fret = IF o.k = "del" THEN "del_at" ELSE "ins_at",
                   ![p].pc = "f_head"]

ClearPtrs(l) ==
    [l EXCEPT !.start = NULL, !.pred = NULL, !.curr = NULL, !.succ = NULL,
              !.hv = NULL, !.segH = NULL, !.ist = <<>>, !.wd = <<>>]

Unpre(S, p) == {[c EXCEPT !.pre = @ \ {p}] : c \in S}

-----------------------------------------------------------------------------
(* Application threads: choose the next operation.                        *)

\* Map operations enter a read-side section (reclaim_read_lock).
StartMapOp(t) ==
    /\ L[t].pc = "idle"
    /\ L[t].opi <= Len(Prog[t])
    /\ \E o \in Prog[t][L[t].opi] :
         /\ o.k \in {"get", "ins", "put", "del"}
         /\ L' = [L EXCEPT ![t].op = o, ![t].opi = @ + 1, ![t].pc = "rdsize",
                           ![t].rs = TRUE]
         /\ seen' = [seen EXCEPT ![t] = IF o.k = "get" THEN {amap[o.key]}
                                        ELSE {}]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, amap, graceBad, linBad>>

\* bucket_start: load the published size, pick the bucket.
ReadSize(t) ==
    /\ L[t].pc = "rdsize"
    /\ L' = [L EXCEPT ![t].sz = size, ![t].bk = HashOf[L[t].op.key] % size,
                      ![t].pc = "rdseg"]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

\* bucket_start: load the segment pointer for the bucket's order.  NULL here
\* is a crash in C ("fault").
ReadSeg(t) ==
    /\ L[t].pc = "rdseg"
    /\ LET s == segPtr[Order(L[t].bk)] IN
       L' = IF s = NULL THEN [L EXCEPT ![t].pc = "fault"]
            ELSE [L EXCEPT ![t].segH = s, ![t].pc = "rdbkt"]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

\* bucket_start: load the bucket pointer; NULL: bucket_init.
ReadBkt(t) ==
    /\ L[t].pc = "rdbkt"
    /\ LET d == bptr[L[t].bk] IN
       L' = IF d # NULL THEN OpEntry(t, d)
            ELSE [L EXCEPT ![t].ist = <<L[t].bk>>, ![t].pc = "iparent"]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

-----------------------------------------------------------------------------
(* bucket_init: lazy, recursive initialisation of bucket Head(ist).       *)

\* Load the parent's bucket pointer (segment and bucket load merged); if it
\* is NULL, initialise the parent first.
InitParent(t) ==
    /\ L[t].pc = "iparent"
    /\ LET b == Head(L[t].ist)
           d == bptr[Parent(b)]
       IN  L' = IF d = NULL
                THEN [L EXCEPT ![t].ist = <<Parent(b)>> \o @]
                ELSE CallFind(t, d, OrdD(b), "ilink")
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

\* After find from the parent's dummy: use the dummy found, or CAS ours in.
InitLink(t) ==
    /\ L[t].pc = "ilink"
    /\ LET b  == Head(L[t].ist)
           c  == L[t].curr
           nd == NewDummy(b)
       IN
       IF c # NULL /\ Ord(c) = OrdD(b)
       THEN IF Mutant = "INIT_OWN_DUMMY"
            THEN \* keeps its own (unlinked) dummy for the bucket pointer
                 /\ nst' = [nst EXCEPT ![nd] = "priv"]
                 /\ nxt' = [nxt EXCEPT ![nd] = c]
                 /\ L' = [L EXCEPT ![t].curr = nd, ![t].pc = "ibkt"]
                 /\ UNCHANGED <<mrk, val, vst>>
            ELSE /\ L' = [L EXCEPT ![t].pc = "ibkt"]
                 /\ UNCHANGED listVars
       ELSE IF LinkOk(t)
            THEN /\ nst' = [nst EXCEPT ![nd] = "live"]
                 /\ nxt' = [nxt EXCEPT ![nd] = LinkSucc(t), ![L[t].pred] = nd]
                 /\ L' = [L EXCEPT ![t].curr = nd, ![t].pc = "ibkt"]
                 /\ UNCHANGED <<mrk, val, vst>>
            ELSE /\ L' = [L EXCEPT ![t].pc = "f_head"]
                 /\ UNCHANGED listVars
    /\ UNCHANGED <<dirVars, rcuVars, ghostVars>>

\* CAS the bucket pointer NULL -> dummy; on failure use the winner's.
InitBucket(t) ==
    /\ L[t].pc = "ibkt"
    /\ LET b  == Head(L[t].ist)
           d  == IF bptr[b] = NULL THEN L[t].curr ELSE bptr[b]
           st == Tail(L[t].ist)
       IN  /\ bptr' = IF bptr[b] = NULL THEN [bptr EXCEPT ![b] = d] ELSE bptr
           /\ L' = IF st = <<>>
                   THEN OpEntry(t, d)
                   ELSE [CallFind(t, d, OrdD(Head(st)), "ilink")
                           EXCEPT ![t].ist = st]
    /\ UNCHANGED <<listVars, size, segPtr, sst, resizing, rcuVars, ghostVars>>

-----------------------------------------------------------------------------
(* list_find: Harris-Michael search with helping, from L[p].start to the  *)
(* first unmarked node with Ord >= tgt; returns (pred, curr) at L[p].fret.*)

\* After moving curr to c: a NULL curr ends the search.
FindGo(l, c) == [l EXCEPT !.curr = c, !.pc = IF c = NULL THEN l.fret ELSE "f_next"]

FindHead(p) ==
    /\ L[p].pc = "f_head"
    /\ L' = [L EXCEPT ![p] = FindGo([@ EXCEPT !.pred = L[p].start],
                                    nxt[L[p].start])]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

\* Load curr's next word (pointer + mark).
FindNext(p) ==
    /\ L[p].pc = "f_next"
    /\ LET c == L[p].curr
           s == nxt[c]
       IN  L' = IF mrk[c]
                THEN [L EXCEPT ![p].succ = s, ![p].pc = "f_cas"]
                ELSE IF Ord(c) >= L[p].tgt
                THEN [L EXCEPT ![p].succ = s, ![p].pc = L[p].fret]
                ELSE [L EXCEPT ![p] = FindGo([@ EXCEPT !.pred = c, !.succ = s], s)]
    /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

\* curr is marked: CAS pred.next from (curr, unmarked) to succ.  The thread
\* whose CAS unlinks a regular node retires it (call_rcu); dummies are left
\* to the shrinker.  On failure restart from the start dummy.
FindUnlink(p) ==
    /\ L[p].pc = "f_cas"
    /\ LET c  == L[p].curr
           pr == L[p].pred
           s  == L[p].succ
       IN
       IF nxt[pr] = c /\ ~mrk[pr]
       THEN /\ nxt' = [nxt EXCEPT ![pr] = s]
            /\ L' = [L EXCEPT ![p] = FindGo(@, s)]
            /\ IF IsDummy(c)
               THEN UNCHANGED <<nst, cbQ, graceBad>>
               ELSE IF Mutant = "FREE_AT_RETIRE"
               THEN /\ nst' = [nst EXCEPT ![c] = "freed"]
                    /\ graceBad' = (graceBad \/ Readers # {})
                    /\ UNCHANGED cbQ
               ELSE /\ nst' = [nst EXCEPT ![c] = "retired"]
                    /\ cbQ' = cbQ \cup {[kind |-> "node", obj |-> c,
                                         pre |-> Readers]}
                    /\ UNCHANGED graceBad
            /\ UNCHANGED <<mrk, val, vst, dirVars, cbG, cbR, gp, gpw,
                           amap, seen, linBad>>
       ELSE /\ L' = [L EXCEPT ![p].pc = "f_head"]
            /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>

-----------------------------------------------------------------------------
(* list_lookup (lfmap_get): walk without helping, then load the value.    *)

\* Leaving the read-side section (reclaim_read_unlock), as seen by RCU.
ExitSection(p) ==
    /\ gpw' = gpw \ {p}
    /\ cbQ' = Unpre(cbQ, p) /\ cbG' = Unpre(cbG, p) /\ cbR' = Unpre(cbR, p)

GetWalk(t) ==
    /\ L[t].pc = "get_walk"
    /\ LET c == L[t].curr
           n == nxt[c]
           absent == [L EXCEPT ![t].res = 0, ![t].pc = "unlock"]
       IN
       /\ IF Mutant = "LOOKUP_STOPS_AT_MARK" /\ mrk[c]
          THEN L' = absent
          ELSE IF n = NULL \/ Ord(n) > L[t].tgt
          THEN L' = absent
          ELSE IF Ord(n) = L[t].tgt
          THEN \* GET_EARLY_UNLOCK: the section ends once the node is found,
               \* before its value is loaded and used
               L' = [L EXCEPT ![t].curr = n, ![t].pc = "get_val",
                              ![t].rs = (Mutant # "GET_EARLY_UNLOCK")]
          ELSE L' = [L EXCEPT ![t].curr = n]
       /\ linBad' = (linBad \/ (L'[t].pc = "unlock" /\ 0 \notin seen[t]))
       /\ IF L[t].rs /\ ~L'[t].rs THEN ExitSection(t)
          ELSE UNCHANGED <<cbQ, cbG, cbR, gpw>>
    /\ UNCHANGED <<listVars, dirVars, gp, amap, seen, graceBad>>

GetVal(t) ==
    /\ L[t].pc = "get_val"
    /\ LET v == val[L[t].curr] IN
       /\ L' = [L EXCEPT ![t].res = v, ![t].hv = v, ![t].pc = "unlock"]
       /\ linBad' = (linBad \/ v \notin seen[t])
    /\ UNCHANGED <<listVars, dirVars, rcuVars, amap, seen, graceBad>>

-----------------------------------------------------------------------------
(* list_link (lfmap_insert, lfmap_put) after list_find.                   *)

InsAt(t) ==
    /\ L[t].pc = "ins_at"
    /\ LET k  == L[t].op.key
           c  == L[t].curr
           pr == L[t].pred
           v  == val[c]
           nv == NewValue(k)
           nn == NewKNode(k)
       IN
       IF c # NULL /\ Ord(c) = OrdK(k)
       THEN IF v = TOMB
            THEN \* a deleted node not yet unlinked: help mark it, retry
                 /\ L' = [L EXCEPT ![t].pc = "help_mark"]
                 /\ UNCHANGED <<listVars, rcuVars, ghostVars>>
            ELSE IF L[t].op.k = "ins"
            THEN \* EEXIST: the caller may use the existing value
                 /\ L' = [L EXCEPT ![t].hv = v, ![t].pc = "unlock"]
                 /\ UNCHANGED <<listVars, rcuVars, ghostVars>>
            ELSE \* entry_replace: CAS live value -> new; retire the old one
                 /\ val' = [val EXCEPT ![c] = nv]
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
                 /\ UNCHANGED <<nxt, mrk, nst, cbG, cbR, gp, gpw, linBad>>
       ELSE IF LinkOk(t)
       THEN \* the link CAS: the insertion's linearisation point
            /\ nst' = [nst EXCEPT ![nn] = "live"]
            /\ nxt' = [nxt EXCEPT ![nn] = LinkSucc(t), ![pr] = nn]
            /\ val' = [val EXCEPT ![nn] = nv]
            /\ vst' = [vst EXCEPT ![nv] = "live"]
            /\ L' = [L EXCEPT ![t].pc = "unlock"]
            /\ SetMap(k, nv)
            /\ UNCHANGED <<mrk, rcuVars, graceBad, linBad>>
       ELSE /\ L' = [L EXCEPT ![t].pc = "f_head"]
            /\ UNCHANGED <<listVars, rcuVars, ghostVars>>
    /\ UNCHANGED dirVars

\* list_mark on a tombstoned node met by an inserter, then find again.
HelpMark(t) ==
    /\ L[t].pc = "help_mark"
    /\ mrk' = [mrk EXCEPT ![L[t].curr] = TRUE]
    /\ L' = [L EXCEPT ![t].pc = "f_head"]
    /\ UNCHANGED <<nxt, val, nst, vst, dirVars, rcuVars, ghostVars>>

-----------------------------------------------------------------------------
(* lfmap_delete: entry_tombstone, list_mark, list_find.                   *)

DelAt(t) ==
    /\ L[t].pc = "del_at"
    /\ LET k == L[t].op.key
           c == L[t].curr
           v == val[c]
       IN
       IF c # NULL /\ Ord(c) = OrdK(k) /\ v # TOMB
          /\ (Mutant # "NO_TOMBSTONE" \/ ~mrk[c])
       THEN \* entry_tombstone (or, mutant, list_mark): linearisation point;
            \* the value is retired here
            /\ IF Mutant = "NO_TOMBSTONE"
               THEN /\ mrk' = [mrk EXCEPT ![c] = TRUE]
                    /\ UNCHANGED val
               ELSE /\ val' = [val EXCEPT ![c] = TOMB]
                    /\ UNCHANGED mrk
            /\ SetMap(k, 0)
            /\ IF Mutant = "FREE_AT_RETIRE"
               THEN /\ vst' = [vst EXCEPT ![v] = "freed"]
                    /\ graceBad' = (graceBad \/ Readers # {})
                    /\ UNCHANGED cbQ
               ELSE /\ vst' = [vst EXCEPT ![v] = "retired"]
                    /\ cbQ' = cbQ \cup {[kind |-> "value", obj |-> v,
                                         pre |-> Readers]}
                    /\ UNCHANGED graceBad
            /\ L' = IF Mutant = "NO_TOMBSTONE"
                    THEN CallFind(t, L[t].start, L[t].tgt, "unlock")
                    ELSE [L EXCEPT ![t].pc = "del_mark"]
            /\ UNCHANGED <<nxt, nst, cbG, cbR, gp, gpw, linBad>>
       ELSE \* ENOENT
            /\ L' = [L EXCEPT ![t].pc = "unlock"]
            /\ UNCHANGED <<listVars, rcuVars, ghostVars>>
    /\ UNCHANGED dirVars

\* list_mark: set the mark bit of the tombstoned node's next word; then
\* list_find again, whose CAS unlinks (and retires) it.
DelMark(t) ==
    /\ L[t].pc = "del_mark"
    /\ mrk' = [mrk EXCEPT ![L[t].curr] = TRUE]
    /\ L' = CallFind(t, L[t].start, L[t].tgt, "unlock")
    /\ UNCHANGED <<nxt, val, nst, vst, dirVars, rcuVars, ghostVars>>

\* reclaim_read_unlock: leave the read-side section; drop every pointer.
Unlock(t) ==
    /\ L[t].pc = "unlock"
    /\ L' = [L EXCEPT ![t] = [ClearPtrs(@) EXCEPT !.rs = FALSE, !.pc = "idle"]]
    /\ ExitSection(t)
    /\ seen' = [seen EXCEPT ![t] = {}]
    /\ UNCHANGED <<listVars, dirVars, gp, amap, graceBad, linBad>>

-----------------------------------------------------------------------------
(* bucket_grow.                                                            *)

\* Try-lock CAS resizing 0 -> 1 (losers skip), load size, allocate the next
\* segment (private, all bucket pointers NULL).
GrowBegin(t) ==
    /\ L[t].pc = "idle"
    /\ L[t].opi <= Len(Prog[t])
    /\ Grow \in Prog[t][L[t].opi]
    /\ IF ~resizing /\ size < MaxSize
       THEN LET o == Log2(size) + 1
                s == NewSeg(o)
            IN  /\ resizing' = TRUE
                /\ sst' = [sst EXCEPT ![s] = "priv"]
                /\ bptr' = [b \in Buckets |->
                              IF b \in SegBuckets(o) THEN NULL ELSE bptr[b]]
                /\ L' = [L EXCEPT ![t].op = Grow, ![t].opi = @ + 1,
                                  ![t].sz = size, ![t].segH = s,
                                  ![t].pc = IF Mutant = "COUNT_BEFORE_SEG"
                                            THEN "grow_size" ELSE "grow_seg"]
                /\ UNCHANGED <<size, segPtr>>
       ELSE /\ L' = [L EXCEPT ![t].opi = @ + 1]
            /\ UNCHANGED dirVars
    /\ UNCHANGED <<listVars, rcuVars, ghostVars>>

\* Publish the segment pointer (release).
GrowPubSeg(t) ==
    /\ L[t].pc = "grow_seg"
    /\ segPtr' = [segPtr EXCEPT ![SOrder(L[t].segH)] = L[t].segH]
    /\ sst' = [sst EXCEPT ![L[t].segH] = "pub"]
    /\ L' = [L EXCEPT ![t].pc = IF Mutant = "COUNT_BEFORE_SEG"
                                THEN "grow_rel" ELSE "grow_size"]
    /\ UNCHANGED <<listVars, size, bptr, resizing, rcuVars, ghostVars>>

\* Publish the doubled bucket count (release).
GrowPubSize(t) ==
    /\ L[t].pc = "grow_size"
    /\ size' = 2 * L[t].sz
    /\ L' = [L EXCEPT ![t].pc = IF Mutant = "COUNT_BEFORE_SEG"
                                THEN "grow_seg" ELSE "grow_rel"]
    /\ UNCHANGED <<listVars, segPtr, sst, bptr, resizing, rcuVars, ghostVars>>

\* Release the try-lock.
GrowEnd(t) ==
    /\ L[t].pc = "grow_rel"
    /\ resizing' = FALSE
    /\ L' = [L EXCEPT ![t].segH = NULL, ![t].pc = "idle"]
    /\ UNCHANGED <<listVars, size, segPtr, sst, bptr, rcuVars, ghostVars>>

-----------------------------------------------------------------------------
(* bucket_shrink_begin: one halving per shrink.                            *)

ShrinkBegin(t) ==
    /\ L[t].pc = "idle"
    /\ L[t].opi <= Len(Prog[t])
    /\ Shrink \in Prog[t][L[t].opi]
    /\ IF ~resizing /\ size > MinSize
       THEN /\ resizing' = TRUE
            /\ L' = [L EXCEPT ![t].op = Shrink, ![t].opi = @ + 1,
                              ![t].sz = size, ![t].pc = "shrink_pub"]
       ELSE /\ L' = [L EXCEPT ![t].opi = @ + 1]
            /\ UNCHANGED resizing
    /\ UNCHANGED <<listVars, size, segPtr, sst, bptr, rcuVars, ghostVars>>

\* Publish the halved count and call_rcu(bucket_shrink_unlink).
ShrinkPub(t) ==
    /\ L[t].pc = "shrink_pub"
    /\ size' = L[t].sz \div 2
    /\ LET c == [kind |-> "unlink", obj |-> L[t].sz, pre |-> Readers] IN
       IF Mutant = "NO_GP1"
       THEN /\ cbR' = cbR \cup {c}
            /\ UNCHANGED cbQ
       ELSE /\ cbQ' = cbQ \cup {c}
            /\ UNCHANGED cbR
    /\ L' = [L EXCEPT ![t].pc = "idle"]
    /\ UNCHANGED <<listVars, segPtr, sst, bptr, resizing, cbG, gp, gpw,
                   ghostVars>>

-----------------------------------------------------------------------------
(* RCU: grace periods, and the call_rcu worker running callbacks one at a *)
(* time.                                                                   *)

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

\* Free the removed buckets' dummies and the segment (bucket_shrink_free).
ShrinkFreeVars(s, pre) ==
    LET D == {bptr[b] : b \in SegBuckets(SOrder(s))} \ {NULL} IN
    /\ nst' = [n \in NodeIds |-> IF n \in D THEN "freed" ELSE nst[n]]
    /\ sst' = [sst EXCEPT ![s] = "freed"]
    /\ bptr' = [b \in Buckets |->
                  IF b \in SegBuckets(SOrder(s)) THEN NULL ELSE bptr[b]]
    /\ resizing' = FALSE
    /\ graceBad' = (graceBad \/ pre # {} \/ \E n \in D : nst[n] = "freed")

\* reclaim_entry_free / reclaim_value_free / bucket_shrink_free, and the
\* start of bucket_shrink_unlink (enter a read-side section, read the
\* removed buckets' pointers).
RunCallback ==
    /\ L[W].pc = "w_idle"
    /\ \E c \in cbR :
         /\ cbR' = cbR \ {c}
         /\ CASE c.kind = "node" ->
                 /\ nst' = [nst EXCEPT ![c.obj] = "freed"]
                 /\ graceBad' = (graceBad \/ c.pre # {} \/ nst[c.obj] = "freed")
                 /\ UNCHANGED <<nxt, mrk, val, vst, dirVars, L>>
              [] c.kind = "value" ->
                 /\ vst' = [vst EXCEPT ![c.obj] = "freed"]
                 /\ graceBad' = (graceBad \/ c.pre # {} \/ vst[c.obj] = "freed")
                 /\ UNCHANGED <<nxt, mrk, val, nst, dirVars, L>>
              [] c.kind = "sfree" ->
                 /\ ShrinkFreeVars(c.obj, c.pre)
                 /\ UNCHANGED <<nxt, mrk, val, vst, size, segPtr, L>>
              [] c.kind = "unlink" ->
                 LET s  == c.obj
                     ds == SelectSeq([i \in 1..s \div 2 |-> bptr[s \div 2 + i - 1]],
                                     LAMBDA x : x # NULL)
                 IN  /\ L' = [L EXCEPT ![W].rs = TRUE, ![W].wd = ds,
                                       ![W].wi = 1, ![W].sz = s,
                                       ![W].pc = IF ds = <<>> THEN "w_find"
                                                 ELSE "w_mark"]
                     /\ UNCHANGED <<listVars, dirVars, graceBad>>
    /\ UNCHANGED <<cbQ, cbG, gp, gpw, amap, seen, linBad>>

\* bucket_shrink_unlink: set the mark bit of each removed dummy.
ShrinkMark ==
    /\ L[W].pc = "w_mark"
    /\ mrk' = [mrk EXCEPT ![L[W].wd[L[W].wi]] = TRUE]
    /\ L' = IF L[W].wi = Len(L[W].wd)
            THEN [L EXCEPT ![W].wi = 1, ![W].pc = "w_find"]
            ELSE [L EXCEPT ![W].wi = @ + 1]
    /\ UNCHANGED <<nxt, val, nst, vst, dirVars, rcuVars, ghostVars>>

\* bucket_shrink_unlink: list_find from the surviving parent bucket unlinks
\* each removed dummy; then clear the segment pointer, call_rcu
\* (bucket_shrink_free) and leave the read-side section.
ShrinkFind ==
    /\ L[W].pc = "w_find"
    /\ IF L[W].wi <= Len(L[W].wd)
       THEN LET d == L[W].wd[L[W].wi]
                p == bptr[Parent(NBucket(d))]
            IN  /\ Assert(p # NULL, "surviving parent not initialised")
                /\ L' = [CallFind(W, p, Ord(d), "w_find") EXCEPT ![W].wi = @ + 1]
                /\ UNCHANGED <<listVars, dirVars, rcuVars, ghostVars>>
       ELSE LET o  == Log2(L[W].sz)
                s  == segPtr[o]
                rd == Readers \ {W}
            IN  /\ segPtr' = [segPtr EXCEPT ![o] = NULL]
                /\ L' = [L EXCEPT ![W] = [ClearPtrs(@) EXCEPT !.rs = FALSE,
                                                        !.pc = "w_idle"]]
                /\ gpw' = gpw \ {W}
                /\ cbG' = Unpre(cbG, W) /\ cbR' = Unpre(cbR, W)
                /\ IF Mutant = "NO_GP2"
                   THEN /\ ShrinkFreeVars(s, rd)
                        /\ cbQ' = Unpre(cbQ, W)
                   ELSE /\ sst' = [sst EXCEPT ![s] = "unpub"]
                        /\ cbQ' = Unpre(cbQ, W) \cup
                                  {[kind |-> "sfree", obj |-> s, pre |-> rd]}
                        /\ UNCHANGED <<nst, bptr, resizing, graceBad>>
                /\ UNCHANGED <<nxt, mrk, val, vst, size, gp, amap, seen, linBad>>

-----------------------------------------------------------------------------
AllDone ==
    /\ \A t \in Threads : L[t].pc = "idle" /\ L[t].opi > Len(Prog[t])
    /\ L[W].pc = "w_idle"
    /\ cbQ = {} /\ cbG = {} /\ cbR = {} /\ ~gp

\* Stutter at the end so that TLC's deadlock check only flags stuck states.
Terminated == AllDone /\ UNCHANGED vars

ThreadStep(t) ==
    \/ StartMapOp(t) \/ GrowBegin(t) \/ ShrinkBegin(t)
    \/ ReadSize(t) \/ ReadSeg(t) \/ ReadBkt(t)
    \/ InitParent(t) \/ InitLink(t) \/ InitBucket(t)
    \/ GetWalk(t) \/ GetVal(t) \/ InsAt(t) \/ HelpMark(t)
    \/ DelAt(t) \/ DelMark(t) \/ Unlock(t)
    \/ GrowPubSeg(t) \/ GrowPubSize(t) \/ GrowEnd(t) \/ ShrinkPub(t)

FindStep(p) == FindHead(p) \/ FindNext(p) \/ FindUnlink(p)

Next ==
    \/ \E t \in Threads : ThreadStep(t)
    \/ \E p \in Procs : FindStep(p)
    \/ GPStart \/ GPEnd \/ RunCallback \/ ShrinkMark \/ ShrinkFind
    \/ Terminated

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(* Invariants.                                                             *)

RECURSIVE Walk(_, _)
Walk(n, d) == IF n = NULL \/ d = 0 THEN <<>> ELSE <<n>> \o Walk(nxt[n], d - 1)
\* The list as seen from the head (marked nodes included); cut after more
\* steps than there are nodes, so a cycle shows up as disorder.
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

\* Every initialised bucket of the current size points to its own dummy,
\* which is in the list and not marked.
BucketsOk ==
    \A b \in 0..size - 1 :
        bptr[b] # NULL =>
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
         /\ \A n \in {L[p].start, L[p].pred, L[p].curr, L[p].succ} \ {NULL} :
              nst[n] # "freed"
         /\ L[p].hv # NULL => vst[L[p].hv] # "freed"
         /\ L[p].segH # NULL => sst[L[p].segH] # "freed"
    /\ \A n \in ReachSet : nst[n] # "freed"

\* Each retired object is freed once, and only after every read-side
\* section in progress at its retirement has ended.
GraceRespected == ~graceBad

\* Every lookup returns a value (or absence) that the abstract map held at
\* some moment during the lookup.
GetLinearizable == ~linBad

TypeOK ==
    /\ size \in {2^i : i \in Orders}
    /\ \A p \in Procs : L[p].rs \in BOOLEAN
    /\ \A n \in NodeIds : nst[n] \in {"none", "priv", "live", "retired", "freed"}

=============================================================================
