\* SPDX-License-Identifier: LGPL-2.1-or-later
---------------------------------- MODULE MC ----------------------------------
(* The default configuration (make tla): two application threads, two keys *)
(* that share bucket 1 at 2 buckets and split into buckets 1 and 3 at 4,  *)
(* so that bucket 3's initialisation recurses through its parent.          *)
EXTENDS LfMap
CONSTANTS t1, t2

MCThreads == {t1, t2}
MCHash    == [k \in 1..2 |-> IF k = 1 THEN 1 ELSE 3]
MCProg    == [t \in MCThreads |->
                IF t = t1 THEN << {Grow}, {Put(1)}, {Del(1)}, {Shrink} >>
                          ELSE << {Put(2), Ins(2)}, {Get(2), Del(2)}, {Put(1), Get(1), Del(2)} >>]
===============================================================================
