#!/usr/bin/env python3
"""Draws docs/bench-wall.svg from bench/results.tsv: wall time against fleet size, per tool, on
log-log axes, one panel for a first run and one for a no-op run (workload A, no added round trip).
For each tool and fleet size the newest row counts; the commits the points came from are printed
under the panels. bench/run.sh calls it after every run; by hand:
    bench/plot.py bench/results.tsv docs/bench-wall.svg
Only the standard library: the benchmark's controller needs nothing more than python3."""
import csv
import math
import sys

TOOLS = [  # (tool in the TSV, label, colour)
    ("ssh-true", "ssh true (floor)", "#777777"),
    ("floor", "bash, 1 ssh + 1 script", "#bbbbbb"),
    ("lvsprov", "lvsprov up", "#1f6fd1"),
    ("lvsprov-check", "lvsprov check", "#62a8ff"),
    ("pyinfra", "pyinfra", "#e08a00"),
    ("ansible", "Ansible", "#c0392b"),
]
W, H, PAD_L, PAD_B, PAD_T, GAP = 330, 260, 52, 40, 28, 40


def newest(path):
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader((l for l in f if not l.startswith("#")), delimiter="\t"):
            if r["rtt_ms"] == "0" and r["workload"] == "a":
                rows[(r["tool"], int(r["n"]))] = r
    return rows


def decades(lo, hi):
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    b = max(b, a + 1)  # one fleet size (or one value) still spans a decade
    return [10.0**e for e in range(a, b + 1)]


def panel(out, x0, title, rows, column, xs, ys):
    lx = lambda n: x0 + PAD_L + (math.log10(n) - math.log10(xs[0])) / (math.log10(xs[-1]) - math.log10(xs[0])) * (W - PAD_L - 24)
    ly = lambda s: PAD_T + (1 - (math.log10(s) - math.log10(ys[0])) / (math.log10(ys[-1]) - math.log10(ys[0]))) * (H - PAD_T - PAD_B)
    out.append(f'<text x="{x0 + W / 2}" y="16" text-anchor="middle" font-weight="bold">{title}</text>')
    for n in xs:
        out.append(f'<line x1="{lx(n):.1f}" y1="{PAD_T}" x2="{lx(n):.1f}" y2="{H - PAD_B}" stroke="#eee"/>')
        out.append(f'<text x="{lx(n):.1f}" y="{H - PAD_B + 14}" text-anchor="middle">{n:g}</text>')
    for s in ys:
        out.append(f'<line x1="{x0 + PAD_L}" y1="{ly(s):.1f}" x2="{x0 + W - 24}" y2="{ly(s):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{x0 + PAD_L - 4}" y="{ly(s) + 4:.1f}" text-anchor="end">{s:g} s</text>')
    out.append(f'<text x="{x0 + PAD_L + (W - PAD_L) / 2}" y="{H - 8}" text-anchor="middle">hosts</text>')
    for tool, _, colour in TOOLS:
        pts = sorted((n, float(r[column])) for (t, n), r in rows.items() if t == tool and r[column] not in ("", "-"))
        if not pts:
            continue
        path = " ".join(f"{lx(n):.1f},{ly(s):.1f}" for n, s in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for n, s in pts:
            out.append(f'<circle cx="{lx(n):.1f}" cy="{ly(s):.1f}" r="3" fill="{colour}"><title>{tool}, {n} hosts: {s} s</title></circle>')


def main(src, dst):
    rows = newest(src)
    if not rows:
        sys.exit(f"plot: no rows of workload A at 0 ms in {src}")
    values = [float(r[c]) for r in rows.values() for c in ("first_wall", "noop_wall") if r[c] not in ("", "-")]
    xs = decades(min(n for _, n in rows), max(n for _, n in rows))
    ys = decades(min(values), max(values))
    height = H + 30 + 16 * len(TOOLS)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W + GAP + 20}" height="{height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{2 * W + GAP + 20}" height="{height}" fill="white"/>']
    panel(out, 0, "first run (changes every host)", rows, "first_wall", xs, ys)
    panel(out, W + GAP, "no-op run (nothing to change)", rows, "noop_wall", xs, ys)
    y = H + 10
    for tool, label, colour in TOOLS:
        commits = sorted({r["commit"] for (t, _), r in rows.items() if t == tool})
        if commits:
            out.append(f'<rect x="{PAD_L}" y="{y}" width="14" height="4" fill="{colour}"/>')
            out.append(f'<text x="{PAD_L + 20}" y="{y + 6}">{label} (commit {", ".join(commits)})</text>')
            y += 16
    out.append(f'<text x="{PAD_L}" y="{y + 10}" fill="#555">wall seconds, log scale; workload A; bench/run.sh N, medians of its runs</text>')
    out.append("</svg>")
    with open(dst, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(*(sys.argv[1:3] if len(sys.argv) >= 3 else sys.exit(__doc__)))
