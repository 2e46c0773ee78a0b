#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""scripts/check-layers.py TABLE OUTDIR - layers with arrows one way only.

For each directory of TABLE (scripts/layers.txt: src, stress, bench):

  includes  `cc -MM` of every .c/.cpp and every .h/.hh of the directory;
            an edge F -> H for each header H of the directory that F
            includes, transitive reduction taken (H not reached through
            another header F includes);
  calls     every .c/.cpp compiled (-O0 -DLFMAP_DEBUG: the debug paths
            and every inline function a file uses are in its object);
            `nm` on the objects: an edge O -> P for each undefined symbol
            of O that P defines.

Fails (exit 1) on a file the table does not place ("add it to the
table"), on an edge from a lower floor to a higher one, and on a circle
(two files that depend on each other, through any path).  Writes every
edge it checked to OUTDIR/layers-graph.txt, one per line.

Environment: CC, CXX (default cc, c++), CPPFLAGS_EXTRA (added to every
compile).
"""
import fnmatch
import os
import re
import shlex
import subprocess
import sys
from collections import defaultdict

CC = os.environ.get("CC", "cc")
CXX = os.environ.get("CXX", "c++")
EXTRA = shlex.split(os.environ.get("CPPFLAGS_EXTRA", ""))

# Flags per directory: what the Makefile fragments compile it with.
FLAGS = {
    "src": ["-Iinclude", "-D_GNU_SOURCE", "-DLFMAP_DEBUG"],
    "stress": ["-Iinclude", "-D_GNU_SOURCE", "-DLFMAP_DEBUG"],
    "bench": ["-Iinclude", "-Isrc", "-Itests", "-D_GNU_SOURCE",
              "-DLFMAP_HAS_GET_MANY"],
}
SOURCE_EXT = (".c", ".cpp")
HEADER_EXT = (".h", ".hh")


def die(msg):
    print("check-layers: " + msg, file=sys.stderr)
    sys.exit(1)


def read_table(path):
    table = defaultdict(list)  # dir -> [(floor, name, pattern)]
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            if len(line) < 4 or not line[1].isdigit():
                die(f"{path}:{lineno}: want 'DIR FLOOR NAME FILE...'")
            d, floor, name = line[0], int(line[1]), line[2]
            for pat in line[3:]:
                table[d].append((floor, name, pat))
    return table


def place(table_dir, fname):
    for floor, name, pat in table_dir:
        if fnmatch.fnmatchcase(fname, pat):
            return floor, name
    return None


def compiler(path):
    return [CXX, "-std=c++17"] if path.endswith((".cpp", ".hh")) else \
        [CC, "-std=c11"]


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        die("failed: " + " ".join(shlex.quote(c) for c in cmd) + "\n" +
            p.stderr.strip())
    return p.stdout


def includes(d, path):
    """Headers of directory d that path includes (transitively)."""
    lang = ["-x", "c++"] if path.endswith(".hh") else \
        (["-x", "c"] if path.endswith(".h") else [])
    out = run(compiler(path) + ["-pthread", "-MM"] + FLAGS[d] + EXTRA +
              lang + [path])
    deps = out.replace("\\\n", " ").split(":", 1)[1].split()
    own = os.path.normpath(path)
    return {os.path.basename(h) for h in deps
            if os.path.dirname(os.path.normpath(h)) == d
            and os.path.normpath(h) != own
            and h.endswith(HEADER_EXT)}


def symbols(d, path, objdir):
    obj = os.path.join(objdir, d, os.path.basename(path) + ".o")
    os.makedirs(os.path.dirname(obj), exist_ok=True)
    run(compiler(path) + ["-pthread", "-O0", "-c"] + FLAGS[d] + EXTRA +
        [path, "-o", obj])
    defined, undefined = set(), set()
    for line in run(["nm", obj]).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRWVGSCiu":
            defined.add(parts[2])
    return defined, undefined


def circles(nodes, edges):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def main():
    if len(sys.argv) != 3:
        die("usage: check-layers.py TABLE OUTDIR")
    table = read_table(sys.argv[1])
    outdir = sys.argv[2]
    objdir = os.path.join(outdir, "layers-obj")
    graph, errors = [], []
    n_files = n_inc = n_call = 0
    for d in table:
        if d not in FLAGS:
            die(f"{sys.argv[1]}: no compile flags for directory {d}/ "
                "(add them to FLAGS in scripts/check-layers.py)")
        files = sorted(f for f in os.listdir(d)
                       if f.endswith(SOURCE_EXT + HEADER_EXT))
        floor = {}
        for f in files:
            p = place(table[d], f)
            if p is None:
                errors.append(f"{d}/{f} is on no floor: add it to the "
                              f"table ({sys.argv[1]})")
                continue
            floor[f] = p
        n_files += len(floor)

        def label(f):
            return f"{d}/{f} [{floor[f][0]} {floor[f][1]}]"

        edges = defaultdict(set)

        def edge(kind, f, g, detail):
            """Record f -> g; an error when g is on a higher floor."""
            up = floor[g][0] > floor[f][0]
            graph.append(f"{kind:7} {label(f)} -> {label(g)}" +
                         (f": {detail}" if detail else "") +
                         ("  UPWARD" if up else ""))
            if up:
                errors.append(f"upward {kind}: {label(f)} -> {label(g)}" +
                              (f" ({detail})" if detail else ""))
            edges[f].add(g)
        closure = {f: includes(d, os.path.join(d, f)) for f in floor}
        for f in sorted(floor):
            reached = set()
            for h in closure[f]:
                reached |= closure.get(h, set())
            for h in sorted(closure[f] - reached):
                if h not in floor:
                    continue  # reported above
                n_inc += 1
                edge("include", f, h, "")
        defs, undef, owner = {}, {}, defaultdict(set)
        for f in sorted(floor):
            if f.endswith(SOURCE_EXT):
                defs[f], undef[f] = symbols(d, os.path.join(d, f), objdir)
                for s in defs[f]:
                    owner[s].add(f)
        for f in sorted(undef):
            callee = defaultdict(list)
            for s in sorted(undef[f]):
                for g in owner.get(s, ()):
                    if g != f:
                        callee[g].append(s)
            for g in sorted(callee):
                n_call += 1
                names = callee[g]
                edge("call", f, g, " ".join(names[:4]) +
                     (f" +{len(names) - 4}" if len(names) > 4 else ""))
        for comp in circles(floor, edges):
            errors.append(f"circle in {d}/: " + " <-> ".join(comp))
    os.makedirs(outdir, exist_ok=True)
    gpath = os.path.join(outdir, "layers-graph.txt")
    with open(gpath, "w") as g:
        g.write("# make check-layers: include and call edges checked "
                "(scripts/layers.txt)\n")
        g.write("\n".join(graph) + "\n")
    for e in errors:
        print("check-layers: " + e, file=sys.stderr)
    if errors:
        print(f"check-layers: {len(errors)} problem(s); graph in {gpath}",
              file=sys.stderr)
        return 1
    print(f"check-layers: {n_files} files of {', '.join(d + '/' for d in table)}"
          f" on their floors; {n_inc} include and {n_call} call edges, none "
          f"upward, no circle (graph: {gpath})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
