\* SPDX-License-Identifier: LGPL-2.1-or-later
------------------------------- MODULE MCResize -------------------------------
(* Count-driven resizes (Triggers = "count"; cfg/resize*.cfg and the       *)
(* NO_RECHECK_* mutants): issue 9 finding 6.  Sizes 2..8, LOAD_FACTOR 1/2 *)
(* so that two keys move the table.  Key 1 hashes to bucket 5 (bucket 1  *)
(* at 2 and 4 buckets; its initialisation at 8 recurses through bucket 1), *)
(* key 2 to bucket 6 (2 at 4 buckets, 0 at 2).  t1 inserts and deletes    *)
(* key 1 (count 0: one shrink 8 -> 2 drops two orders at once), then     *)
(* inserts both keys while that shrink may still hold the try-lock        *)
(* (count 2 at 2 buckets: the grow trigger fires and may lose the lock).  *)
(* t2 looks key 2 up meanwhile (MCProg) or deletes both keys (MCProg2).  *)
EXTENDS LfMap
CONSTANTS t1, t2

MCHash    == [k \in 1..2 |-> IF k = 1 THEN 5 ELSE 6]
\* sizes 2..4 (cfg/mutant_NO_RECHECK_AFTER_NOOP.cfg): buckets 1 and 3
MCHash4   == [k \in 1..2 |-> IF k = 1 THEN 1 ELSE 3]
P1        == << {Put(1)}, {Del(1)}, {Put(1)}, {Put(2)} >>
\* two threads (safety)
MCThreads == {t1, t2}
MCProg    == [t \in MCThreads |-> IF t = t1 THEN P1 ELSE << {Get(2)} >>]
\* one thread (liveness and the mutants)
MCThreads1 == {t1}
MCProg1    == [t \in MCThreads1 |-> P1]
\* two threads (liveness): t2 deletes both keys, which may find the
\* try-lock held by a thread whose grow has nothing left to do
MCProg2    == [t \in MCThreads |-> IF t = t1 THEN P1 ELSE << {Del(1)}, {Del(2)} >>]
===============================================================================
