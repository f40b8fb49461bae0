#!/usr/bin/env python3
"""tools/mark_api.py - the TERN_API marker on every public function.

libtern is compiled with -fvisibility=hidden (docs/architecture.md, "The
library's symbols"): a function is exported from libtern.so only when its
declaration in include/tern/ carries TERN_API (include/tern/api.h).

  tools/mark_api.py           adds TERN_API (and #include "tern/api.h") where
                              missing, in place; re-running changes nothing
  tools/mark_api.py --check   lists unmarked declarations, exit 1 if any
  tools/mark_api.py --list    prints the name of every public function (one
                              a line), which tests/scripts/lib_symbols.sh
                              compares with libtern.so's dynamic symbols

A declaration here is a top-level statement of a public header (outside
comments, structs and function bodies) that declares a function named tern_*
and ends with ';' - static inline functions, typedefs and macros are not
declarations of exported symbols.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
NAME = re.compile(r"\b(tern_\w+)\s*\(")


def headers():
    out = []
    for d, _, files in os.walk(os.path.join(ROOT, "include", "tern")):
        out += [os.path.join(d, f) for f in files if f.endswith(".h")]
    return sorted(out)


def code_of(lines):
    """Each line with comments and string contents blanked out."""
    res, in_comment = [], False
    for line in lines:
        out, i = [], 0
        while i < len(line):
            if in_comment:
                j = line.find("*/", i)
                if j < 0:
                    i = len(line)
                else:
                    in_comment, i = False, j + 2
                continue
            if line.startswith("/*", i):
                in_comment, i = True, i + 2
                continue
            if line.startswith("//", i):
                break
            if line[i] == '"':
                j = i + 1
                while j < len(line) and line[j] != '"':
                    j += 2 if line[j] == "\\" else 1
                out.append('""')
                i = j + 1
                continue
            out.append(line[i])
            i += 1
        res.append("".join(out))
    return res


def declarations(lines):
    """(first line, last line, name) of each exported-function declaration."""
    code = code_of(lines)
    decls, depth, start, stmt, in_pp = [], 0, None, "", False
    for idx, c in enumerate(code):
        s = c.strip()
        if in_pp or (depth == 0 and start is None and s.startswith("#")):
            in_pp = c.rstrip().endswith("\\")
            continue
        if depth == 0 and start is None and (s in ("", "}") or s.startswith('extern ""')):
            continue  # blank, or the extern "C" block's own braces
        for ch in c:
            if depth == 0 and start is None and not ch.isspace():
                start, stmt = idx, ""
            if start is not None and depth == 0:
                stmt += ch
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0 and start is not None:
                    if not stmt.rstrip().endswith(";"):
                        stmt += "}"
            if depth == 0 and ch == ";" and start is not None:
                head = stmt.lstrip()
                m = NAME.search(stmt)
                if m and "{" not in stmt and not re.match(r"(static|typedef)\b", head):
                    decls.append((start, idx, m.group(1)))
                start = None
        if depth == 0 and start is not None and stmt.rstrip().endswith("}"):
            start = None  # a definition (static inline f(...) { ... })
        if start is not None:
            stmt += "\n"
    return decls


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode not in ("", "--check", "--list"):
        sys.exit(__doc__)
    bad = 0
    for path in headers():
        with open(path) as f:
            lines = f.read().split("\n")
        decls = declarations(lines)
        rel = os.path.relpath(path, ROOT)
        if mode == "--list":
            for _, _, name in decls:
                print(name)
            continue
        todo = [d for d in decls if not re.match(r"\s*TERN_API\b", lines[d[0]])]
        if mode == "--check":
            for i, _, n in todo:
                print(f"{rel}:{i + 1}: {n} is not marked TERN_API")
            bad += len(todo)
            continue
        if not todo and (not decls or any('"tern/api.h"' in l for l in lines)):
            continue
        for first, last, _ in todo:
            lines[first] = re.sub(r"^(\s*)", r"\1TERN_API ", lines[first], count=1)
            # Continuation lines aligned under the first keep their alignment.
            for i in range(first + 1, last + 1):
                if lines[i][:1].isspace():
                    lines[i] = " " * len("TERN_API ") + lines[i]
        if not any('"tern/api.h"' in l for l in lines):
            # First among the header's tern/ includes, else after its system
            # includes, else after the include guard's #define.
            tern = [i for i, l in enumerate(lines) if l.startswith('#include "tern/')]
            system = [i for i, l in enumerate(lines) if l.startswith("#include <")]
            guard = [i for i, l in enumerate(lines) if re.match(r"#define TERN_\w*_H\s*$", l)]
            if tern:
                lines[tern[0]:tern[0]] = ['#include "tern/api.h"']
            elif system:
                lines[system[-1] + 1:system[-1] + 1] = ["", '#include "tern/api.h"']
            elif guard:
                lines[guard[0] + 1:guard[0] + 1] = ["", '#include "tern/api.h"']
            else:
                sys.exit(f"{rel}: no include guard to put #include \"tern/api.h\" after")
        with open(path, "w") as f:
            f.write("\n".join(lines))
        print(f"{rel}: {len(todo)} marked")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
