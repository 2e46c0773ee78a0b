\* SPDX-License-Identifier: LGPL-2.1-or-later
-------------------------------- MODULE MCLarge --------------------------------
(* The larger configuration (make tla-large; not in CI): three application  *)
(* threads, a grow after a shrink (segment reuse), more racing updates.    *)
EXTENDS LfMap
CONSTANTS t1, t2, t3

MCThreads == {t1, t2, t3}
MCHash    == [k \in 1..2 |-> IF k = 1 THEN 1 ELSE 3]
MCProg    == [t \in MCThreads |->
                CASE t = t1 -> << {Grow}, {Put(1)}, {Del(1)}, {Shrink}, {Grow} >>
                  [] t = t2 -> << {Put(2)}, {Get(2), Del(2)} >>
                  [] t = t3 -> << {Put(1), Get(1)} >>]
================================================================================
