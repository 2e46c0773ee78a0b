#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""fuzz/gen_corpus.py - write the seed corpus fuzz/corpus/*.bin.

Each seed is a deliberate sequence of operations in the input format of
fuzz/lfmap_fuzz.c (see fuzz/README.md), so that the fuzzer starts from
inputs that already reach every call.  Run it after changing the format:
    python3 fuzz/gen_corpus.py
"""
import os

OPS = ("get put insert replace cas delete delete_if take defer_free compute "
       "count_stats iter walk foreach clear clone destroy create quiesce "
       "barrier synchronize section alloc_fail invalid bulk memcheck").split()
OP = {name: i for i, name in enumerate(OPS)}

# Key-space bytes: index into {2, 3, 5, 8, 16, 32, 96, 256}.
KS8, KS16, KS256 = 3, 4, 7
# Value selectors (value_read): fresh, current value of the key, pooled.
FRESH, CURRENT, POOLED = 0, 9, 11
# Expected selectors (expected_read): current, any token, NULL.
E_CUR, E_ANY, E_NULL = 0, 5, 7
# Key-variant bits: 0 generic, 1 _str, 2 _u64, 4 NULL pointer for "".
GEN, STR, U64, NULLKEY = 0, 1, 2, 4


def opts(flags=0, hint=0, dtor=True, seed=None, c=0, hint16=None):
    """Option bytes of options_read: b, c, [u16 hint], [seed]."""
    b = flags | (hint << 2) | (0 if dtor else 0x20) | (0x40 if seed else 0)
    out = [b, c]
    if hint == 7:
        out += [hint16 & 0xff, hint16 >> 8]
    if seed:
        out.append(seed)
    return out


def put(key, var=GEN, val=FRESH, slot=0, kind="put", idx=None):
    out = [OP[kind], slot, key, var, val]
    return out + ([idx] if idx is not None else [])


def get(key, var=GEN, slot=0):
    return [OP["get"], slot, key, var]


def delete(key, var=GEN, slot=0):
    return [OP["delete"], slot, key, var]


def take(key, var=GEN, slot=0, defer=False):
    return [OP["take"], slot, key, var | (32 if defer else 0)]


def simple(name, slot=0):
    return [OP[name], slot]


def seq(*parts):
    out = []
    for p in parts:
        out += p
    return bytes(out)


SEEDS = {
    # put/get/insert/replace/delete/take with the three key spellings.
    "basic": seq([KS8], opts(),
                 put(0), get(0), put(1, STR), get(1, STR), put(1, U64),
                 get(1, U64), put(0, NULLKEY), get(0, NULLKEY),
                 put(2, kind="insert"), put(2, kind="insert"),
                 put(3, STR, kind="insert"), put(2, kind="replace"),
                 put(5, kind="replace"), put(2, val=CURRENT),
                 delete(2), delete(2), delete(3, STR), delete(1, U64),
                 take(0), get(0), take(4), simple("count_stats"),
                 simple("iter")),
    # cas and delete_if: success, EAGAIN, ENOENT, EINVAL, cas(A, A).
    "cas": seq([KS8], opts(),
               put(1), put(2),
               [OP["cas"], 0, 1, 0, E_CUR, FRESH],
               [OP["cas"], 0, 1, 0, E_ANY, 0, FRESH],
               [OP["cas"], 0, 6, 0, E_CUR, FRESH],
               [OP["cas"], 0, 2, 0, E_CUR, CURRENT],
               [OP["cas"], 0, 2, 0, E_NULL, FRESH],
               [OP["delete_if"], 0, 1, 0, E_ANY, 0],
               [OP["delete_if"], 0, 1, 0, E_CUR],
               [OP["delete_if"], 0, 1, 0, E_CUR],
               [OP["delete_if"], 0, 2, 0, E_NULL],
               simple("barrier")),
    # compute: keep, remove, insert, replace, NULL fn.
    "compute": seq([KS8], opts(),
                   put(1),
                   [OP["compute"], 0, 1, 0 << 3],
                   [OP["compute"], 0, 1, 1 << 3],
                   [OP["compute"], 0, 3, 2 << 3, FRESH],
                   [OP["compute"], 0, 3, 2 << 3, FRESH],
                   [OP["compute"], 0, 3, 2 << 3, CURRENT],
                   [OP["compute"], 0, 4, 1 << 3],
                   [OP["compute"], 0, 3, 0xc7],
                   simple("quiesce")),
    # take + defer_free, defer_free of a pooled value, insert EEXIST
    # leaves the value with the caller, which stores it elsewhere.
    "defer_free": seq([KS8], opts(),
                      put(1), put(2), take(1, defer=True), take(2),
                      [OP["defer_free"], 0, 0, 0],
                      [OP["defer_free"], 0, 0x80],
                      put(3), put(3, kind="insert"),
                      put(4, val=POOLED, idx=0), simple("barrier")),
    # walk with updates between steps; foreach (all, stop, delete-in-fn).
    "iterate": seq([KS16], opts(),
                   put(1), put(2), put(3), put(4), put(5), put(6),
                   [OP["walk"], 0, 0], [OP["walk"], 0, 1],
                   put(7), delete(2), put(3), take(5), put(5),
                   [OP["walk"], 0, 2], put(8), [OP["walk"], 0, 15],
                   [OP["walk"], 0, 0x80],
                   [OP["foreach"], 0, 0, 0], [OP["foreach"], 0, 1, 2],
                   [OP["foreach"], 0, 2, 0], [OP["foreach"], 0, 0xf0, 0],
                   simple("iter"), simple("clear"), simple("iter")),
    # clone: fixed seed (same order), a failing copy, no destructor with
    # shared values, clone into an occupied slot, NULL out.
    "clone": seq([KS16], opts(seed=7),
                 put(1), put(2), put(3), put(4, STR),
                 [OP["clone"], 0, 1, 0],
                 put(1, slot=1), delete(2, slot=1), simple("iter", 1),
                 [OP["clone"], 0, 2, 4, 1],
                 [OP["clone"], 1, 2, 0],
                 simple("destroy", 0), simple("destroy", 2),
                 [OP["create"], 0, 0] + opts(dtor=False),
                 put(1), put(2),
                 [OP["clone"], 0, 2, 3],
                 take(1, slot=2), delete(2, slot=0),
                 [OP["clone"], 0, 1, 0xf8],
                 simple("memcheck")),
    # allocation failures: Nth allocation and all-of-the-next-call.
    "alloc_fail": seq([KS8], opts(),
                      [OP["alloc_fail"], 1], put(1),
                      [OP["alloc_fail"], 0x80], put(2),
                      put(3), [OP["alloc_fail"], 0x80], put(3),
                      [OP["alloc_fail"], 0x80],
                      [OP["cas"], 0, 3, 0, E_CUR, FRESH],
                      [OP["alloc_fail"], 0x80],
                      [OP["compute"], 0, 3, 2 << 3, FRESH],
                      [OP["alloc_fail"], 0x80], take(3, defer=True),
                      [OP["alloc_fail"], 2], [OP["clone"], 0, 1, 0],
                      [OP["alloc_fail"], 0x80],
                      [OP["create"], 2, 0] + opts(),
                      [OP["alloc_fail"], 3],
                      [OP["bulk"], 0, 0, 0, 8],
                      simple("memcheck")),
    # grows and shrinks: bulk puts and deletes with quiesce and memcheck.
    "resize": seq([KS8], opts(),
                  [OP["bulk"], 0, 0, 0, 127], simple("quiesce"),
                  simple("memcheck"), [OP["bulk"], 0, 1, 0, 120],
                  simple("quiesce"), simple("memcheck"),
                  [OP["bulk"], 0, 0, 0, 63], simple("clear"),
                  simple("quiesce"), simple("count_stats")),
    # map options: flags, no destructor, hints, invalid ones, malloc
    # (allocator NULL), all defaults (opts NULL).
    "options": seq([KS8], opts(flags=1, hint=4),
                   [OP["create"], 1, 0] + opts(flags=2, hint=3, dtor=False),
                   [OP["create"], 2, 0] + opts(flags=3, hint=7, seed=3,
                                               hint16=3000),
                   [OP["bulk"], 1, 0, 0, 20], [OP["bulk"], 2, 0, 0, 20],
                   simple("quiesce", 1), simple("quiesce", 2),
                   simple("destroy", 2),
                   [OP["create"], 2, 0] + opts(c=0xf0),
                   [OP["create"], 2, 0] + opts(c=0x0e),
                   [OP["create"], 2, 0] + opts(hint=6, c=1),
                   [OP["create"], 2, 0] + opts(hint=6),
                   [OP["create"], 2, 0xf0] + opts(),
                   [OP["create"], 2, 0] + opts(c=0x0d),
                   put(1, slot=2), simple("memcheck"), simple("destroy", 2),
                   [OP["create"], 2, 0xe0] + opts(),
                   put(1, slot=2), delete(1, slot=2),
                   [OP["defer_free"], 1, 0, 0]),
    # read-side sections: EDEADLK from quiesce and destroy, calls inside,
    # and every EINVAL case.
    "sections": seq([KS8], opts(),
                    put(1), [OP["section"], 0], [OP["section"], 0],
                    simple("quiesce"), simple("destroy"), get(1),
                    [OP["get"], 0, 1, 16], put(2), delete(1),
                    [OP["section"], 1], [OP["section"], 1],
                    simple("synchronize"), simple("barrier"),
                    *[[OP["invalid"], 0, i] for i in range(24)]),
    # the 64 KiB key (LFMAP_KEY_MAX, accepted).
    "bigkey": seq([KS8], opts(),
                  [OP["put"], 0, 0xff, 7, 0, FRESH],
                  [OP["get"], 0, 0xff, 7, 0], simple("iter"),
                  [OP["delete"], 0, 0xff, 7, 0], simple("iter")),
}


def main():
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(d, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(d, name + ".bin"), "wb") as f:
            f.write(data)
        print(f"{name}.bin: {len(data)} bytes")


if __name__ == "__main__":
    main()
