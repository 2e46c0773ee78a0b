\* SPDX-License-Identifier: LGPL-2.1-or-later
------------------------------- MODULE Tags -----------------------------------
(***************************************************************************)
(* Successor tags (src/list.c, "Successor tags"; src/hash.h, so_tag etc.): the *)
(* Harris-Michael list of LfMap.tla reduced to what tags change, one      *)
(* action per C atomic operation on a next word.                           *)
(*                                                                         *)
(* A next word is <<nxt, mark, tag>>, read and CASed as a whole.  The tag  *)
(* is an abstract function Tag(owner key, successor key) with a decision  *)
(* Past(tag, owner, t) => successor past t, and 0 = no information.  The   *)
(* concrete instance here is lossy on purpose (a distance up to W, else    *)
(* 0), like the C tag (cp + 10 bits, 0 when nothing fits):                 *)
(*                                                                         *)
(*   lookup     from a word whose tag proves the successor past the        *)
(*              target: absent, without reading the successor              *)
(*              (list_lookup, TLA+: LookupStep);                           *)
(*   find       writers stop there too and link before the unread, maybe   *)
(*              marked, successor, n's tag derived from pred's, or 0 when  *)
(*              the stop cannot give it (list_find / list_link: FindStep,  *)
(*              Link, StopTag);                                            *)
(*   unlink     pred's new tag derived from pred's key, curr's key and     *)
(*              curr's tag: succ is never read (list_unlink: FindStep's    *)
(*              unlink, DirectUnlink = list_unlink_at);                    *)
(*   mark       sets the mark, keeps nxt and tag (list_mark_word).         *)
(*   retire     once a node is unlinked, its retirer stores the slab's     *)
(*              pending/free-list link in the tag bits of the node's       *)
(*              (marked, frozen) word with c = 0: a tag that says nothing; *)
(*              nxt and mark are kept (reclaim_retire_entry -> slab_retire: *)
(*              Scribble, any time after the unlink, on the nodes in       *)
(*              retired).                                                  *)
(*                                                                         *)
(* Deletion is folded into Mark (the C tombstone CAS comes just before it *)
(* and decides the same race); reclamation is LfMap.tla's (RCU: no node is *)
(* reused, so the model needs no incarnations: each key is inserted at     *)
(* most once, by its own node).                                            *)
(*                                                                         *)
(* Invariants: Sorted (the list from Hd is strictly increasing), TagsOk    *)
(* (every stored tag, unlinked nodes' included, is Tag(owner, successor)   *)
(* or says nothing, 0: C invariant (e)), RetiredUnlinked (retired is the   *)
(* linked, marked nodes not reachable from Hd), PresentReachable,          *)
(* LookupNoMiss (a lookup never answers absent for a key present for its  *)
(* whole duration), LookupNoGhost (a lookup never finds a key absent for  *)
(* its whole duration).                                                    *)
(***************************************************************************)
EXTENDS Integers, Sequences, FiniteSets

CONSTANTS
    Keys,      \* entry keys, a set of naturals > 0; Hd has key 0
    W,         \* the tag's reach: Tag(o, s) = s - o when s - o <= W, else 0
    Initial,   \* keys linked at the start (sorted list)
    Ops,       \* Ops[w]: writer w's operations, <<"ins"|"del", key>>
    Looks,     \* Looks[r]: reader r's lookup keys
    Mutant     \* "none" or a seeded bug (MutantNames)

MutantNames == {"none",
                "UNLINK_TAG_OF_CURR",   \* unlink keeps curr's tag as pred's
                "LINK_KEEPS_OLD",       \* link keeps pred's old tag (C:
                                        \* LFMAP_MUTANT_TAG_LINK_KEEPS_OLD)
                "WINDOW_STOP_PRED_TAG", \* after a window-case stop, n's tag
                                        \* is pred's (C: LFMAP_MUTANT_
                                        \* TAG_WINDOW_STOP_PRED)
                "RETIRE_LINK_SAYS_PAST"} \* the retirer's link is stored
                                        \* with c # 0 (C: link << 48): an
                                        \* unlinked node's tag says
                                        \* something, and wrongly
ASSUME Mutant \in MutantNames

Writers == DOMAIN Ops
Readers == DOMAIN Looks
Hd == 0
Nil == -1
Nodes == {Hd} \cup Keys        \* a node is named by its key

(* The abstract tag and its decision. *)
Tag(o, s) == IF s - o <= W THEN s - o ELSE 0
Past(tg, o, t) == tg # 0 /\ o + tg > t
(* n linked between p and the successor the tag tpc of p describes. *)
TagFromPred(p, n, tpc) ==
    IF tpc = 0 THEN 0
    ELSE LET d == p + tpc - n IN IF d >= 1 /\ d <= W THEN d ELSE 0
(* pred's tag once curr, whose tag is tcs, is unlinked. *)
TagUnlinked(p, c, tcs) ==
    IF Mutant = "UNLINK_TAG_OF_CURR" THEN tcs
    ELSE IF tcs = 0 THEN 0
    ELSE IF (c - p) + tcs <= W THEN (c - p) + tcs ELSE 0

Word(n, m, t) == [nxt |-> n, mark |-> m, tag |-> t]
NoWord == Word(Nil, FALSE, 0)

InitList ==
    LET s == CHOOSE q \in [1..Cardinality(Initial) -> Initial] :
                 \A i, j \in DOMAIN q : i < j => q[i] < q[j]
        n == Len(s)
        seq == <<Hd>> \o s
    IN [x \in Nodes |->
          IF \E i \in 1..n+1 : seq[i] = x
          THEN LET i == CHOOSE i \in 1..n+1 : seq[i] = x
               IN IF i <= n THEN Word(seq[i+1], FALSE, Tag(x, seq[i+1]))
                  ELSE NoWord
          ELSE NoWord]

VARIABLES
    word,      \* word[x]: node x's next word
    linked,    \* nodes ever published (a node is linked at most once)
    present,   \* keys present: linked and not marked
    retired,   \* nodes unlinked so far (by FindStep or DirectUnlink)
    wpc, wop,  \* writer: pc, index of its current op
    wpred, wpw, wcurr, wcw, wstop,   \* writer search state
    rpc, rlk,  \* reader: pc, index of its current lookup
    ro, rw,    \* reader: node it stands on, that node's word as read
    rall, rnone, \* key present / absent at every moment since the start
    rres       \* reader's answers: sequence of "found" / "absent"

vars == <<word, linked, present, retired, wpc, wop, wpred, wpw, wcurr, wcw,
          wstop, rpc, rlk, ro, rw, rall, rnone, rres>>

WKey(w) == Ops[w][wop[w]][2]
WKind(w) == Ops[w][wop[w]][1]
RKey(r) == Looks[r][rlk[r]]

Init ==
    /\ word = InitList
    /\ linked = {Hd} \cup Initial
    /\ present = Initial
    /\ retired = {}
    /\ wpc = [w \in Writers |-> IF Len(Ops[w]) > 0 THEN "find" ELSE "done"]
    /\ wop = [w \in Writers |-> 1]
    /\ wpred = [w \in Writers |-> Hd]
    /\ wpw = [w \in Writers |-> InitList[Hd]]
    /\ wcurr = [w \in Writers |-> Nil]
    /\ wcw = [w \in Writers |-> NoWord]
    /\ wstop = [w \in Writers |-> FALSE]
    /\ rpc = [r \in Readers |-> IF Len(Looks[r]) > 0 THEN "start" ELSE "done"]
    /\ rlk = [r \in Readers |-> 1]
    /\ ro = [r \in Readers |-> Hd]
    /\ rw = [r \in Readers |-> NoWord]
    /\ rall = [r \in Readers |-> FALSE]
    /\ rnone = [r \in Readers |-> FALSE]
    /\ rres = [r \in Readers |-> <<>>]

(* present changes: every running lookup on that key loses its flag. *)
Touch(k, pres) ==
    /\ rall' = [r \in Readers |->
                 IF rpc[r] \in {"walk", "read"} /\ RKey(r) = k /\ ~(k \in pres)
                 THEN FALSE ELSE rall[r]]
    /\ rnone' = [r \in Readers |->
                  IF rpc[r] \in {"walk", "read"} /\ RKey(r) = k /\ k \in pres
                  THEN FALSE ELSE rnone[r]]

WUnchangedSearch == UNCHANGED <<wpred, wpw, wcurr, wcw, wstop>>
RUnchanged == UNCHANGED <<rpc, rlk, ro, rw, rall, rnone, rres>>

NextOp(w) ==
    /\ wop' = [wop EXCEPT ![w] = @ + 1]
    /\ wpc' = [wpc EXCEPT ![w] = IF wop[w] < Len(Ops[w]) THEN "find" ELSE "done"]
    /\ wpred' = [wpred EXCEPT ![w] = Hd]
    /\ wpw' = [wpw EXCEPT ![w] = word[Hd]]  \* the next op's first load
    /\ UNCHANGED <<wcurr, wcw, wstop>>

(* A delete's second search (after a failed DirectUnlink) ends the op. *)
AfterFind(w) == IF wpc[w] = "find2" THEN "refound" ELSE "found?"

Restart(w) ==    \* search again from Hd (same pc): load Hd's word
    /\ wpc' = [wpc EXCEPT ![w] = IF @ = "find2" THEN "find2" ELSE "find"]
    /\ wpred' = [wpred EXCEPT ![w] = Hd]
    /\ wpw' = [wpw EXCEPT ![w] = word[Hd]]
    /\ UNCHANGED <<wop, wcurr, wcw, wstop>>

(* list_find, one step: at pred with its word wpw (as read).  Stop at the
   end or at a tag proving the successor past the key; else read the
   successor's word; unlink it if marked, else compare. *)
FindStep(w) ==
    /\ wpc[w] \in {"find", "find2"}
    /\ LET p == wpred[w]  pw == wpw[w]  c == pw.nxt  t == WKey(w) IN
       IF c = Nil \/ Past(pw.tag, p, t) THEN
           /\ wcurr' = [wcurr EXCEPT ![w] = c]
           /\ wstop' = [wstop EXCEPT ![w] = (c # Nil)]
           /\ wpc' = [wpc EXCEPT ![w] = AfterFind(w)]
           /\ UNCHANGED <<wop, wpred, wpw, wcw, word, linked, present,
                          retired>>
           /\ RUnchanged
       ELSE
           LET cw == word[c] IN     \* the load of curr's next word
           IF cw.mark THEN          \* unlink: CAS pred, expect pw
               IF word[p] = pw THEN
                   LET nw == Word(cw.nxt, FALSE, TagUnlinked(p, c, cw.tag)) IN
                   /\ word' = [word EXCEPT ![p] = nw]
                   /\ wpw' = [wpw EXCEPT ![w] = nw]
                   /\ retired' = retired \cup {c}
                   /\ UNCHANGED <<wpc, wop, wpred, wcurr, wcw, wstop,
                                  linked, present>>
                   /\ RUnchanged
               ELSE
                   /\ Restart(w)
                   /\ UNCHANGED <<word, linked, present, retired>>
                   /\ RUnchanged
           ELSE IF c < t THEN
               /\ wpred' = [wpred EXCEPT ![w] = c]
               /\ wpw' = [wpw EXCEPT ![w] = cw]
               /\ UNCHANGED <<wpc, wop, wcurr, wcw, wstop, word, linked,
                              present, retired>>
               /\ RUnchanged
           ELSE
               /\ wcurr' = [wcurr EXCEPT ![w] = c]
               /\ wcw' = [wcw EXCEPT ![w] = cw]
               /\ wstop' = [wstop EXCEPT ![w] = FALSE]
               /\ wpc' = [wpc EXCEPT ![w] = AfterFind(w)]
               /\ UNCHANGED <<wop, wpred, wpw, word, linked, present, retired>>
               /\ RUnchanged

(* After the search: an insert links unless the key was found; a delete
   marks the node it found. *)
Decide(w) ==
    /\ wpc[w] = "found?"
    /\ LET t == WKey(w)  found == wcurr[w] = t IN
       IF WKind(w) = "ins" THEN
           IF found \/ t \in linked THEN   \* present, or its node was used
               /\ NextOp(w)
               /\ UNCHANGED <<word, linked, present, retired>> /\ RUnchanged
           ELSE
               /\ wpc' = [wpc EXCEPT ![w] = "link"]
               /\ UNCHANGED <<wop, wpred, wpw, wcurr, wcw, wstop, word,
                              linked, present, retired>>
               /\ RUnchanged
       ELSE
           IF found THEN
               /\ wpc' = [wpc EXCEPT ![w] = "mark"]
               /\ UNCHANGED <<wop, wpred, wpw, wcurr, wcw, wstop, word,
                              linked, present, retired>>
               /\ RUnchanged
           ELSE
               /\ NextOp(w)
               /\ UNCHANGED <<word, linked, present, retired>> /\ RUnchanged

(* list_link: n's word, then the CAS of pred expecting the word as read.
   After a stop at pred's tag (c unread) n's tag comes from pred's: in
   the C either derived (the cp case: so_tag_past_at_cp, the same tag) or,
   when only the two windows proved c past (the window case), not
   derivable without c's key: 0.  Which case a stop is depends on bits
   this instance does not have, so both are allowed (derive). *)
StopTag(p, n, tpc, derive) ==
    IF derive THEN TagFromPred(p, n, tpc)
    ELSE IF Mutant = "WINDOW_STOP_PRED_TAG" THEN tpc
    ELSE 0
Link(w) ==
    /\ wpc[w] = "link"
    /\ LET p == wpred[w]  pw == wpw[w]  c == pw.nxt  n == WKey(w) IN
       IF word[p] = pw THEN
           \E derive \in BOOLEAN :
           LET ntag == IF c = Nil THEN 0
                       ELSE IF wstop[w] THEN StopTag(p, n, pw.tag, derive)
                       ELSE Tag(n, c)
               ptag == IF Mutant = "LINK_KEEPS_OLD" THEN pw.tag ELSE Tag(p, n)
           IN /\ word' = [word EXCEPT ![n] = Word(c, FALSE, ntag),
                                      ![p] = Word(n, FALSE, ptag)]
              /\ linked' = linked \cup {n}
              /\ present' = present \cup {n}
              /\ Touch(n, present \cup {n})
              /\ NextOp(w)
              /\ UNCHANGED <<retired, rpc, rlk, ro, rw, rres>>
       ELSE
           /\ Restart(w)
           /\ UNCHANGED <<word, linked, present, retired>> /\ RUnchanged

(* list_mark_word: fetch_or of the mark on the current word.  The C delete
   wins at its tombstone CAS; here at setting the mark. *)
Mark(w) ==
    /\ wpc[w] = "mark"
    /\ LET c == wcurr[w]  cw == word[c] IN
       IF cw.mark THEN     \* a racing delete won
           /\ NextOp(w)
           /\ UNCHANGED <<word, linked, present, retired>> /\ RUnchanged
       ELSE
           /\ word' = [word EXCEPT ![c] = [cw EXCEPT !.mark = TRUE]]
           /\ wcw' = [wcw EXCEPT ![w] = [cw EXCEPT !.mark = TRUE]]
           /\ present' = present \ {c}
           /\ Touch(c, present \ {c})
           /\ wpc' = [wpc EXCEPT ![w] = "unlink"]
           /\ UNCHANGED <<wop, wpred, wpw, wcurr, wstop, linked, retired>>
           /\ UNCHANGED <<rpc, rlk, ro, rw, rres>>

(* list_unlink_at: one CAS through the search's pred; else search again
   (which unlinks it). *)
DirectUnlink(w) ==
    /\ wpc[w] = "unlink"
    /\ LET p == wpred[w]  pw == wpw[w]  c == wcurr[w]  cw == wcw[w] IN
       IF word[p] = pw THEN
           /\ word' = [word EXCEPT ![p] =
                         Word(cw.nxt, FALSE, TagUnlinked(p, c, cw.tag))]
           /\ retired' = retired \cup {c}
           /\ NextOp(w)
           /\ UNCHANGED <<linked, present>> /\ RUnchanged
       ELSE   \* search again: it unlinks c (or finds it gone)
           /\ wpc' = [wpc EXCEPT ![w] = "find2"]
           /\ wpred' = [wpred EXCEPT ![w] = Hd]
           /\ wpw' = [wpw EXCEPT ![w] = word[Hd]]
           /\ UNCHANGED <<wop, wcurr, wcw, wstop, word, linked, present,
                          retired>>
           /\ RUnchanged

Refound(w) ==
    /\ wpc[w] = "refound"
    /\ NextOp(w) /\ UNCHANGED <<word, linked, present, retired>> /\ RUnchanged

(* list_lookup. *)
LookupStart(r) ==
    /\ rpc[r] = "start"
    /\ rpc' = [rpc EXCEPT ![r] = "walk"]
    /\ ro' = [ro EXCEPT ![r] = Hd]
    /\ rw' = [rw EXCEPT ![r] = word[Hd]]     \* the acquire load
    /\ rall' = [rall EXCEPT ![r] = RKey(r) \in present]
    /\ rnone' = [rnone EXCEPT ![r] = ~(RKey(r) \in present)]
    /\ UNCHANGED <<rlk, rres>>

Answer(r, a) ==
    /\ rres' = [rres EXCEPT ![r] = Append(@, <<RKey(r), a, rall[r], rnone[r]>>)]
    /\ rlk' = [rlk EXCEPT ![r] = @ + 1]
    /\ rpc' = [rpc EXCEPT ![r] = IF rlk[r] < Len(Looks[r]) THEN "start" ELSE "done"]
    /\ UNCHANGED <<ro, rw, rall, rnone>>

LookupStep(r) ==
    /\ rpc[r] = "walk"
    /\ LET o == ro[r]  ow == rw[r]  c == ow.nxt  t == RKey(r) IN
       IF c = Nil \/ Past(ow.tag, o, t) THEN Answer(r, "absent")
       ELSE IF c < t THEN     \* read c (key), then load its word
           /\ ro' = [ro EXCEPT ![r] = c]
           /\ rw' = [rw EXCEPT ![r] = word[c]]
           /\ UNCHANGED <<rpc, rlk, rall, rnone, rres>>
       ELSE IF c > t THEN Answer(r, "absent")
       ELSE \* equal key: the C value-word load; the mark stands for it
            Answer(r, IF word[c].mark THEN "absent" ELSE "found")

(* The retirer of an unlinked node x (reclaim_retire_entry ->
   slab_retire) stores the slab's 10-bit pending/free-list link in the tag
   bits of x's marked, frozen word with c = 0 (link << 54): the tag says
   nothing, 0 here; nxt and mark are kept.  Readers may still stand on x:
   a lookup that loads x's word afterwards sees no tag and walks on; a
   helper that loads it tries the unlink, whose CAS fails (pred no longer
   points at x) and whose derived tag would be 0 anyway.  An environment
   step at any time after the unlink.  The C may write it more than once
   (slab_retire's CAS loop rewrites the link, the free lists later
   relink the slot), so repeats are allowed; only writes that change the
   word are steps, which makes it at most one step per node here (x's word
   is frozen and 0 stays 0).  retired is a function of the other
   variables (the linked, marked nodes not reachable from Hd), so it adds
   no states of its own; only the scribbled words do.
   Mutant RETIRE_LINK_SAYS_PAST: the link stored with c # 0 (link << 48)
   reads as some tag in 1..W. *)
ScribbleTags == IF Mutant = "RETIRE_LINK_SAYS_PAST" THEN 1..W ELSE {0}
Scribble(x) ==
    /\ x \in retired
    /\ \E v \in ScribbleTags :
          /\ v # word[x].tag
          /\ word' = [word EXCEPT ![x] = [@ EXCEPT !.tag = v]]
    /\ UNCHANGED <<linked, present, retired, wpc, wop, wpred, wpw, wcurr, wcw,
                   wstop>>
    /\ RUnchanged

Done ==
    /\ \A w \in Writers : wpc[w] = "done"
    /\ \A r \in Readers : rpc[r] = "done"
    /\ UNCHANGED vars

Next ==
    \/ \E w \in Writers :
          FindStep(w) \/ Decide(w) \/ Link(w) \/ Mark(w) \/ DirectUnlink(w)
          \/ Refound(w)
    \/ \E r \in Readers :
          /\ (LookupStart(r) \/ LookupStep(r))
          /\ UNCHANGED <<word, linked, present, retired, wpc, wop, wpred,
                         wpw, wcurr, wcw, wstop>>
    \/ \E x \in retired : Scribble(x)
    \/ Done

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(* The list reachable from Hd, as a sequence of nodes (bounded walk). *)
RECURSIVE Reach(_, _)
Reach(x, k) == IF k = 0 \/ word[x].nxt = Nil THEN <<>>
               ELSE <<word[x].nxt>> \o Reach(word[x].nxt, k - 1)
List == Reach(Hd, Cardinality(Nodes))

TypeOK ==
    /\ \A x \in Nodes : word[x].nxt \in Nodes \cup {Nil}
                        /\ word[x].tag \in 0..W
    /\ present \subseteq linked
    /\ retired \subseteq linked \ present

Sorted ==
    /\ \A i \in 1..Len(List) - 1 : List[i] < List[i + 1]
    /\ Len(List) > 0 => List[1] > Hd

(* C invariant (e): every stored tag is the tag of owner and successor, or
   says nothing (0; in the C any tag with c = 0, such as the retirer's
   link, whatever its other 10 bits hold).  Unlinked nodes included: a
   reader may still stand on one and load its word. *)
TagsOk ==
    \A x \in Nodes : word[x].nxt # Nil =>
        word[x].tag \in {0, Tag(x, word[x].nxt)}

(* Present keys are reachable, unmarked. *)
(* retired is exactly the unlinked nodes: linked, marked, not reachable
   (so a function of word and linked, and no source of states). *)
RetiredUnlinked ==
    retired = {x \in linked : /\ word[x].mark
                              /\ \A i \in 1..Len(List) : List[i] # x}

PresentReachable ==
    \A k \in present : (\E i \in 1..Len(List) : List[i] = k) /\ ~word[k].mark

LookupNoMiss ==
    \A r \in Readers : \A i \in 1..Len(rres[r]) :
        rres[r][i][3] => rres[r][i][2] = "found"

LookupNoGhost ==
    \A r \in Readers : \A i \in 1..Len(rres[r]) :
        rres[r][i][4] => rres[r][i][2] = "absent"
===============================================================================
