#!/usr/bin/env python3
"""summarize.py - count valgrind memcheck errors in per-process logs, ours apart.

    python3 test/valgrind/summarize.py --root REPO [--report FILE] LOG...

Reads the logs of `valgrind --log-file=DIR/%p.log` (test/valgrind/run.sh) and prints, for
"definitely lost" leak records, invalid reads/writes and all other errors: how many reports
the logs hold (valgrind prints an error once per process and stack, and counts repeats only
in its ERROR SUMMARY), how many distinct stacks these are across processes, and the same two
figures for those whose stacks (the error's and the allocation's) run through tempo_fdw.  A frame is tempo_fdw's when it names a source file under
REPO (valgrind --fullpath-after=), tempo_fdw.so, or a function tempo*/Tempo*.  A process
killed by a signal is listed too.  Every distinct stack of ours is printed in full (and all
distinct stacks go to --report).  Exit status 1 when anything of ours was found.
"""

import argparse
import collections
import os
import re
import sys

PREFIX = re.compile(r"^==(\d+)== ?(.*)$")
FRAME = re.compile(r"^\s*(?:at|by) 0x[0-9A-Fa-f]+: (.*)$")
# "N bytes in B blocks are definitely lost ..." or, when it held pointers to
# other blocks, "N (D direct, I indirect) bytes in B blocks are definitely lost ..."
LEAK = re.compile(r"^([\d,]+) (?:\([\d,]+ direct, [\d,]+ indirect\) )?bytes in ([\d,]+) blocks are definitely lost")
HEADERS = (
    ("invalid", re.compile(r"^Invalid (read|write) of size")),
    ("leak", LEAK),
    ("other", re.compile(r"^(Conditional jump|Use of uninitialised value|Syscall param|Invalid free"
                         r"|Mismatched free|Source and destination overlap|Argument '.*' of function"
                         r"|Invalid (?:alignment|size)|Jump to the invalid address|Process terminating)")),
)


def frame_key(line):
    """A frame without its address, for deduplication across processes."""
    m = FRAME.match(line)
    return m.group(1) if m else line.strip()


def parse(path):
    """Yield (kind, header, lines) for each error record of one log."""
    blocks, cur = [], []
    with open(path, errors="replace") as f:
        for raw in f:
            m = PREFIX.match(raw.rstrip("\n"))
            if not m:
                continue
            text = m.group(2)
            if text.strip() == "":
                if cur:
                    blocks.append(cur)
                cur = []
            else:
                cur.append(text)
    if cur:
        blocks.append(cur)
    for b in blocks:
        for kind, rx in HEADERS:
            if rx.match(b[0]):
                yield kind, b[0], b
                break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True, help="the repository (our source files live under it)")
    ap.add_argument("--report", help="write every distinct stack here")
    ap.add_argument("logs", nargs="*")
    args = ap.parse_args()
    root = os.path.realpath(args.root) + "/"
    ours_rx = re.compile(r"(%s|tempo_fdw\.so|: [Tt]empo\w*\s)" % re.escape(root))

    def is_ours(lines):
        return any(ours_rx.search(line + " ") for line in lines if FRAME.match(line))

    count = collections.Counter()          # (kind, ours) -> records
    leaked = collections.Counter()         # ours -> bytes definitely lost
    stacks = collections.OrderedDict()     # (kind, header-without-numbers, frames) -> [n, ours, example, logs]
    crashed = []
    logs_with_errors = set()
    summaries = collections.Counter()
    for path in args.logs:
        with open(path, errors="replace") as f:
            for line in f:
                m = re.search(r"ERROR SUMMARY: (\d+) errors from \d+ contexts \(suppressed: (\d+) from", line)
                if m:
                    summaries["errors"] += int(m.group(1))
                    summaries["suppressed"] += int(m.group(2))
                    summaries["processes"] += 1
        for kind, header, lines in parse(path):
            if header.startswith("Process terminating"):
                crashed.append((path, lines))
                kind = "other"
            ours = is_ours(lines)
            count[kind, ours] += 1
            logs_with_errors.add(path)
            if kind == "leak":
                leaked[ours] += int(LEAK.match(header).group(1).replace(",", ""))
            norm = re.sub(r"\d[\d,]*", "N", header)
            key = (kind, norm, tuple(frame_key(l) for l in lines[1:] if FRAME.match(l)))
            ent = stacks.setdefault(key, [0, ours, lines, []])
            ent[0] += 1
            ent[3].append(os.path.basename(path))

    def distinct(kind, ours=None):
        return sum(1 for k, v in stacks.items() if k[0] == kind and (ours is None or v[1] == ours))

    out = []
    out.append("valgrind: %d process logs, %d with errors; valgrind's own count: %d errors, %d suppressed"
               % (len(args.logs), len(logs_with_errors), summaries["errors"], summaries["suppressed"]))
    out.append("%-28s %8s %10s %12s %14s" % ("", "reports", "distinct", "tempo_fdw", "tempo_fdw dist"))
    for kind, label in (("leak", "definitely lost"), ("invalid", "invalid read/write"), ("other", "other errors")):
        total = count[kind, True] + count[kind, False]
        out.append("%-28s %8d %10d %12d %14d" % (label, total, distinct(kind), count[kind, True], distinct(kind, True)))
    out.append("definitely lost bytes (direct + indirect): %d in all, %d through tempo_fdw" % (leaked[True] + leaked[False], leaked[True]))
    if crashed:
        out.append("processes killed by a signal: %d (%s)" % (len(crashed), ", ".join(os.path.basename(p) for p, _ in crashed)))
    print("\n".join(out))

    ours = [(k, v) for k, v in stacks.items() if v[1]]
    for (kind, _norm, _frames), (n, _o, lines, logs) in ours:
        print("\n--- tempo_fdw %s, %d time(s), e.g. in %s" % (kind, n, logs[0]))
        print("\n".join(lines))
    if args.report:
        with open(args.report, "w") as f:
            f.write("\n".join(out) + "\n")
            for (kind, _norm, _frames), (n, o, lines, logs) in stacks.items():
                f.write("\n--- %s%s, %d time(s), in %s\n" % ("tempo_fdw " if o else "", kind, n,
                                                            " ".join(sorted(set(logs))[:10])))
                f.write("\n".join(lines) + "\n")
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main())
