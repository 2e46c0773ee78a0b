#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/profile.py LFBENCH OUT.md [N ...] [--k K] [--map MAP]

Where lfmap's instructions and memory lines go, by source file: the
same callgrind phases as bench/callgrind.sh (`lfbench callgrind MAP N K`:
null, hit, miss, delete + reclaim barrier, insert; simulated I1/D1 32 KiB,
LL 1 MiB), each phase's exclusive cost per file (inlined code counts in
the file it was written in), minus the null phase, divided by K.  All
threads are counted (the reclamation worker's frees too).  Deterministic:
fixed seeds, so machine load does not move the figures.
"""
import collections
import datetime
import os
import re
import subprocess
import sys
import tempfile

PHASES = ["hit", "miss", "insert", "delete"]
NUM = re.compile(r"^\s*((?:(?:[\d,]+(?: \(\s*[\d.]+%\))?|\.)\s+)+)(\S.*)$")


def per_file(path, root):
    """{file: [Ir, LL misses]} of one dump, exclusive cost."""
    out = subprocess.run(
        ["callgrind_annotate", "--threshold=100", "--inclusive=no",
         "--auto=no", path], capture_output=True, text=True,
        check=True).stdout
    events, cost = [], collections.defaultdict(lambda: [0, 0])
    for line in out.splitlines():
        if line.startswith("Events shown:"):
            events = line.split()[2:]
            continue
        m = NUM.match(line)
        if not m or not events or "PROGRAM TOTALS" in line:
            continue
        vals = [0 if v == "." else int(v.replace(",", ""))
                for v in re.findall(r"([\d,]+|\.)(?: \(\s*[\d.]+%\))?",
                                    m.group(1))]
        if len(vals) != len(events):
            continue
        ev = dict(zip(events, vals))
        name = m.group(2).split(" [")[0]
        src = name.rsplit(":", 1)[0] if ":" in name else name
        if src.startswith(root):
            src = src[len(root):]
        elif "/urcu/" in src:
            src = "liburcu " + src.rsplit("/", 1)[-1]
        elif src.startswith("/"):
            src = "libc/other " + src.rsplit("/", 1)[-1]
        cost[src][0] += ev.get("Ir", 0)
        cost[src][1] += ev.get("DLmr", 0) + ev.get("DLmw", 0)
    return cost


def profile(lfbench, mp, n, k, root):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--cache-sim=yes",
             "--I1=32768,8,64", "--D1=32768,8,64", "--LL=1048576,16,64",
             "--instr-atstart=no", "--callgrind-out-file=" + out,
             lfbench, "callgrind", mp, str(n), str(k)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        dumps = {}
        for f in os.listdir(tmp):
            p = os.path.join(tmp, f)
            with open(p, errors="replace") as fh:
                for line in fh:
                    if line.startswith("desc: Trigger: Client Request: "):
                        dumps[line.split()[-1]] = p
                        break
                    if line.startswith("events:"):
                        break
        if "null" not in dumps or any(p not in dumps for p in PHASES):
            sys.exit("profile.py: phases missing in " + str(sorted(dumps)))
        null = per_file(dumps["null"], root)
        res = {}
        for ph in PHASES:
            c = per_file(dumps[ph], root)
            res[ph] = {f: ((c[f][0] - null[f][0]) / k,
                           (c[f][1] - null[f][1]) / k)
                       for f in set(c) | set(null)}
        return res


def table(res, n, mp):
    files = set()
    for ph in PHASES:
        files |= {f for f, (ir, ll) in res[ph].items()
                  if abs(ir) >= 0.5 or abs(ll) >= 0.005}
    # By instructions as printed (rounded), then by name: the same table
    # for the same figures, whatever the sub-instruction noise.
    order = sorted(files, key=lambda f: (-round(sum(
        res[ph].get(f, (0, 0))[0] for ph in PHASES)), f))
    rows = ["### %s, N = %d\n" % (mp, n),
            "| source file | " + " | ".join(
                "%s Ir / LL" % p for p in PHASES) + " |",
            "|---|" + "---|" * len(PHASES)]
    for f in order:
        cells = []
        for ph in PHASES:
            ir, ll = res[ph].get(f, (0, 0))
            cells.append("%.0f / %.2f" % (ir, ll)
                         if abs(ir) >= 0.5 or abs(ll) >= 0.005 else "")
        rows.append("| `%s` | %s |" % (f, " | ".join(cells)))
    tot = ["%.0f / %.2f" % (sum(v[0] for v in res[ph].values()),
                             sum(v[1] for v in res[ph].values()))
           for ph in PHASES]
    rows.append("| **total** | " + " | ".join(tot) + " |")
    return "\n".join(rows) + "\n"


def main():
    args, k, mp = [], 20000, "lfmap"
    it = iter(sys.argv[1:])
    for a in it:
        if a == "--k":
            k = int(next(it))
        elif a == "--map":
            mp = next(it)
        else:
            args.append(a)
    if len(args) < 2:
        sys.exit(__doc__)
    lfbench, out = args[0], args[1]
    ns = [int(x) for x in args[2:]] or [1000000]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/"
    text = [
        "# Where lfmap's instructions and memory lines go\n",
        "Generated by `bench/profile.py` (`make bench-profile`; also run "
        "by `make bench`) on %s UTC.  Per operation, by source file "
        "(exclusive cost: inlined code counts in the file it was written "
        "in): instructions (Ir) / last-level misses (LL, lines fetched "
        "from memory with a 1 MiB simulated last-level cache).  The "
        "phases are those of [callgrind.md](callgrind.md): K = %d "
        "operations after N keys (1, 3, ..., 2N-1) were prefilled and "
        "every bucket warmed; hit/miss: present/absent keys; delete: K "
        "present keys then the reclaim barrier (the deferred frees of "
        "the reclamation worker count); insert: K absent keys after those "
        "deletes; the null loop subtracted (so the driver's own files "
        "can show small negative figures).  Deterministic: fixed seeds.\n"
        % (datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M"), k)]
    for n in ns:
        text.append(table(profile(lfbench, mp, n, k, root), n, mp))
    with open(out, "w") as fh:
        fh.write("\n".join(text))


if __name__ == "__main__":
    main()
