\* SPDX-License-Identifier: LGPL-2.1-or-later
------------------------------ MODULE MCTags ----------------------------------
(* Constants for Tags.tla (cfg/tags.cfg and its mutants): keys 1..3 with a
   tag reach of 2, so some tags are exact and some 0; two writers whose
   inserts and deletes interleave around key 2, one reader looking up the
   keys they touch. *)
EXTENDS Tags

MCKeys == {1, 2, 3}
MCInitial == {2}
MCOps == [w \in {"w1", "w2"} |->
            IF w = "w1" THEN <<<<"ins", 1>>, <<"del", 2>>>>
            ELSE <<<<"ins", 3>>, <<"del", 1>>>>]
MCLooks == [r \in {"r1"} |-> <<3, 1>>]
===============================================================================
