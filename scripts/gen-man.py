#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""scripts/gen-man.py HEADER OUTDIR VERSION - man pages from include/lfmap.h.

The header is the API reference; the section 3 pages are generated from it
so they cannot drift (scripts/check-man.sh checks the result):

  lfmap(3)         the overview: the header's opening comment (vocabulary,
                   errors) and the list of calls
  lfmap_NAME(3)    one page per documented group of LFMAP_API declarations
                   (a doc comment followed by one or more declarations);
                   every other function of the group, and every static
                   inline _str/_u64 wrapper, is a .so link to its page.

Each page has NAME, SYNOPSIS, DESCRIPTION, RETURN VALUE, ERRORS, THREADS
and SEE ALSO.  ERRORS lists each errno the comment names, with the reason
the comment gives in parentheses after it.  THREADS gathers the comment's
fixed fields (Threads / Read side / Blocking / Ordering), falling back to
the section's common comment ("Common to all calls below").
"""
import os
import re
import sys

ERRNO_MEANING = {
    "EINVAL": "an argument is invalid",
    "ENOMEM": "memory could not be allocated; the map is unchanged",
    "ENOENT": "the key is not in the map",
    "EEXIST": "the key is already in the map",
    "EAGAIN": "the key's current value is not the expected one "
              "(not a transient condition: retrying with the same "
              "expected value fails again)",
    "EDEADLK": "called inside a read-side section, where waiting for a "
               "grace period would never end; nothing was done",
    "EBUSY": "the resource is in use",
    "ENOSYS": "the operation is not supported",
    "EPERM": "the operation is not permitted",
}
FIELDS = ("Threads", "Read side", "Blocking", "Ordering")
STOPS = ("Ownership", "Returns")


def parse(text):
    """Yield (kind, payload) items in header order."""
    tok = re.compile(
        r"/\*(?P<c>.*?)\*/"
        r"|^(?P<d>LFMAP_API\b[^;{]*;)"
        r"|^(?P<i>static inline [^{;]*\{.*?\n\})"
        r"|(?P<o>\S)",
        re.S | re.M)
    for m in tok.finditer(text):
        if m.group("c") is not None:
            yield "comment", m.group("c"), m.start()
        elif m.group("d"):
            yield "decl", m.group("d"), m.start()
        elif m.group("i"):
            yield "inline", m.group("i"), m.start()
        else:
            yield "other", None, m.start()


def clean_comment(c):
    lines = []
    for ln in c.split("\n"):
        ln = re.sub(r"^\s*\* ?", "", ln)
        lines.append(ln.rstrip())
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def norm_decl(d):
    d = re.sub(r"\bLFMAP_API\s+", "", d)
    d = re.sub(r"\s*\bLFMAP_ENGINE\(\w+\)", "", d)  # the page says which library
    return re.sub(r"\s+", " ", d).replace("( ", "(").replace(" )", ")").strip()


def func_name(decl):
    m = re.search(r"(\w+)\s*\(", decl)
    return m.group(1)


def ret_type(decl):
    return norm_decl(decl).split(func_name(decl))[0].strip()


def esc(s):
    s = s.replace("\\", "\\e").replace("-", "\\-")
    if s.startswith(".") or s.startswith("'"):
        s = "\\&" + s
    return s


def paragraphs(lines):
    out, cur = [], []
    for ln in lines:
        if not ln.strip():
            if cur:
                out.append(cur)
                cur = []
        else:
            cur.append(ln)
    if cur:
        out.append(cur)
    return out


def text_of(lines):
    return re.sub(r"\s+", " ", " ".join(lines)).strip()


def errors_of(text):
    """[(errno, reason)] in order of first mention."""
    seen, out = set(), []
    for m in re.finditer(r"\b(E[A-Z]{3,})\b(\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\))?", text):
        e = m.group(1)
        if e in seen or e not in ERRNO_MEANING:
            continue
        seen.add(e)
        out.append((e, m.group(3)))
    return out


def fields_of(text):
    out = []
    for f in FIELDS:
        m = re.search(re.escape(f) + r":\s*(.*?)(?=\s(?:%s):|$)" %
                      "|".join(re.escape(x) for x in FIELDS + STOPS), text)
        if m:
            out.append((f, m.group(1).strip()))
    return out


def main():
    header, outdir, version = sys.argv[1:4]
    text = open(header).read()
    os.makedirs(outdir, exist_ok=True)
    items = list(parse(text))

    groups = []          # dicts: section, doc, decls, preamble
    inlines = []
    section = None
    preamble = []        # comments of the current section not tied to decls
    overview = None
    pending = None
    banner = 0
    for kind, payload, _ in items:
        if kind == "comment":
            lines = clean_comment(payload)
            if overview is None:
                overview = lines
                continue
            if lines and all(re.match(r"^-{10,}$", l.strip()) for l in lines):
                # banner line: opens (then the title follows) or closes
                banner = 1 if banner == 0 else 0
                pending = None
                continue
            if banner == 1:
                section = text_of(lines)
                banner = 2
                preamble = []
                continue
            if pending is not None:
                preamble.append(pending)
            pending = lines
        elif kind == "other":
            # a comment followed by code (types, macros) documents no call
            pending = None
        elif kind == "decl":
            if pending is not None:
                groups.append({"section": section, "doc": pending,
                               "decls": [payload], "preamble": list(preamble)})
                pending = None
            elif groups:
                groups[-1]["decls"].append(payload)
        elif kind == "inline":
            inlines.append(payload)
    # A comment that documents no declaration (e.g. a section's "Common to
    # all calls below") is kept as the preamble of the groups after it.

    page_of = {}
    for g in groups:
        g["names"] = [func_name(d) for d in g["decls"]]
        g["page"] = g["names"][0]
        for n in g["names"]:
            page_of[n] = g["page"]
    wrappers = {}
    for w in inlines:
        sig = w.split("{", 1)[0]
        name = func_name(sig)
        body = w.split("{", 1)[1]
        called = [c for c in re.findall(r"\b(lfmap_\w+)\s*\(", body) if c in page_of]
        if not called:
            continue
        wrappers.setdefault(page_of[called[0]], []).append(
            (name, norm_decl(sig.replace("static inline", "static inline").strip()) + ";"))
        page_of[name] = page_of[called[0]]

    by_section = {}
    for g in groups:
        by_section.setdefault(g["section"], []).append(g["page"])

    date = "lfmap " + version

    def th(name, desc):
        return ('.\\" SPDX-License-Identifier: LGPL-2.1-or-later\n'
                '.\\" Generated by scripts/gen-man.py from include/lfmap.h: edit the header.\n'
                '.TH %s 3 "" "%s" "lfmap manual"\n.ad l\n.nh\n.SH NAME\n%s \\- %s\n'
                % (name.upper(), date, esc(name), esc(desc)))

    for g in groups:
        doc = list(g["doc"])
        m = re.match(r"^([\w /,]+?)\s+-\s+(.*)$", doc[0]) if doc else None
        if m and g["names"][0] in m.group(1):
            desc = m.group(2)
            doc[0] = desc[0].upper() + desc[1:]
            summary = desc.rstrip(".")
        else:
            summary = text_of(doc).split(". ")[0].rstrip(".")
            if len(summary) > 70 and g["section"]:
                summary = g["section"].lower()
        names = g["names"] + [n for n, _ in wrappers.get(g["page"], [])]
        out = [th(g["page"], summary).replace(
            "\n%s \\-" % esc(g["page"]),
            "\n%s \\-" % ", ".join(esc(n) for n in names), 1)]
        out.append(".SH SYNOPSIS\n.nf\n.B #include <lfmap.h>\n.PP\n")
        for d in g["decls"]:
            out.append(esc(norm_decl(d)) + "\n")
        if wrappers.get(g["page"]):
            out.append(".PP\n/* static inline wrappers */\n")
            for _, sig in wrappers[g["page"]]:
                out.append(esc(sig) + "\n")
        out.append(".fi\n.PP\nLink with \\fI\\-llfmap\\fP "
                   "(\\fBpkg\\-config \\-\\-libs lfmap\\fP).\n")
        out.append(".SH DESCRIPTION\n")
        for p in paragraphs(doc):
            out.append(esc(text_of(p)) + "\n.PP\n")
        for pre in g["preamble"]:
            for p in paragraphs(pre):
                out.append(esc(text_of(p)) + "\n.PP\n")
        if wrappers.get(g["page"]):
            out.append("The \\fB_str\\fP wrappers take a NUL\\-terminated key "
                       "(its length is \\fBstrlen\\fP(key); a NULL key is "
                       "EINVAL); the \\fB_u64\\fP wrappers take a uint64_t key, "
                       "hashed in host byte order.\n.PP\n")
        full = text_of(doc + sum(g["preamble"], []))
        out.append(".SH RETURN VALUE\n")
        rtypes = {ret_type(d) for d in g["decls"]}
        if rtypes == {"int"}:
            out.append("0 on success, otherwise a positive errno value "
                       "(see ERRORS).  These calls do not set \\fIerrno\\fP.\n")
        elif rtypes == {"void"}:
            out.append("None.\n")
        else:
            sent = [s for s in re.split(r"(?<=\.)\s+", text_of(doc))
                    if re.search(r"\b[Rr]eturns?\b", s)]
            out.append(esc(" ".join(sent) if sent else
                           "See DESCRIPTION.") + "\n")
        errs = errors_of(full)
        out.append(".SH ERRORS\n")
        if not errs:
            out.append("None: this call cannot fail.\n" if rtypes != {"int"}
                       else "See DESCRIPTION.\n")
        for e, why in errs:
            # the comment's reason when it gives one (an errno means
            # different things for different calls); ENOMEM keeps its
            # generic meaning in front of a reason such as "*out unchanged"
            if not why:
                reason = ERRNO_MEANING[e]
            elif e == "ENOMEM":
                reason = ERRNO_MEANING[e] + ": " + why
            else:
                reason = why
            out.append(".TP\n.B %s\n%s.\n" % (e, esc(reason[0].upper() + reason[1:])))
        out.append(".SH THREADS\n")
        fl = fields_of(text_of(doc)) or []
        have = {f for f, _ in fl}
        for f, v in fields_of(text_of(sum(g["preamble"], []))):
            if f not in have:
                fl.append((f, v))
        if not fl:
            out.append("Any thread; see \\fBlfmap\\fP(3) for the vocabulary.\n")
        for f, v in fl:
            out.append(".TP\n.B %s\n%s\n" % (f, esc(v)))
        out.append(".SH SEE ALSO\n")
        see = ["lfmap"] + [p for p in by_section.get(g["section"], [])
                           if p != g["page"]]
        out.append(",\n".join(".BR %s (3)" % esc(s) for s in see) + "\n")
        with open(os.path.join(outdir, g["page"] + ".3"), "w") as f:
            f.write("".join(out))
        for n in names[1:]:
            with open(os.path.join(outdir, n + ".3"), "w") as f:
                f.write(".so man3/%s.3\n" % g["page"])

    # lfmap(3): the overview.
    out = [th("lfmap", "lock-free, resizable concurrent hash map with RCU reclamation")]
    out.append(".SH SYNOPSIS\n.nf\n.B #include <lfmap.h>\n.fi\n.PP\n"
               "Link with \\fI\\-llfmap\\fP "
               "(\\fBpkg\\-config \\-\\-cflags \\-\\-libs lfmap\\fP, or CMake "
               "\\fBfind_package(lfmap)\\fP and the target \\fBlfmap::lfmap\\fP).\n")
    out.append(".SH DESCRIPTION\n")
    ov = [l for l in (overview or []) if not l.startswith("lfmap.h - ")]
    for p in paragraphs(ov):
        if re.match(r"^[A-Z][\w ]+:\s", p[0]) or any(re.match(r"^-{5,}$", l) for l in p):
            out.append(".nf\n" + "\n".join(esc(l) for l in p) + "\n.fi\n.PP\n")
        else:
            out.append(esc(text_of(p)) + "\n.PP\n")
    out.append(".SS Calls\n")
    for sec, pages in by_section.items():
        out.append(".TP\n%s\n%s\n" % (esc(sec or "Other"), ", ".join(
            "\\fB%s\\fP(3)" % esc(p) for p in pages)))
    out.append(".SH RETURN VALUE\nCalls that return int return 0 or a positive "
               "errno value; see each page's ERRORS.\n")
    out.append(".SH ERRORS\n")
    for e, why in ERRNO_MEANING.items():
        if re.search(r"\b%s\b" % e, text):
            out.append(".TP\n.B %s\n%s.\n" % (e, esc(why[0].upper() + why[1:])))
    out.append(".SH THREADS\nSee \\fBVocabulary\\fP above; each page's THREADS "
               "section gives the fields for its calls.\n")
    out.append(".SH SEE ALSO\n" + ",\n".join(
        ".BR %s (3)" % esc(g["page"]) for g in groups) + "\n")
    with open(os.path.join(outdir, "lfmap.3"), "w") as f:
        f.write("".join(out))


if __name__ == "__main__":
    main()
