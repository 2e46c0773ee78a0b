\* SPDX-License-Identifier: LGPL-2.1-or-later
--------------------------------- MODULE MCLive ---------------------------------
(* A small workload for the liveness check (cfg/live.cfg): under weak      *)
(* fairness every thread finishes its program and every callback runs.    *)
EXTENDS LfMap
CONSTANTS t1, t2

MCThreads == {t1, t2}
MCHash    == [k \in 1..2 |-> IF k = 1 THEN 1 ELSE 3]
MCProg    == [t \in MCThreads |->
                IF t = t1 THEN << {Grow}, {Put(1)}, {Del(1)}, {Shrink} >>
                          ELSE << {Put(2)}, {Get(2), Del(2)} >>]
================================================================================
