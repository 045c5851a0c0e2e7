#!/usr/bin/env python3
"""Checks a reduced-precision artifact against the fp32 Hugging Face oracles.

    check_precision.py --kiln-run build/bin/kiln-run --artifact M.kiln \\
        --oracle-dir ../shared/models/hf-tiny-generate/<arch> \\
        [--backend ref|cuda] [--eager] [--bound 2e-2] [--work DIR]

M.kiln is one of the hf-tiny decoders of <arch> compiled with
`kiln-compile --precision bf16 --max-seq-len N` (N >= 32). The oracles are
fp32, so the checks are the ones docs/precision.md states for 16-bit
storage, with bound(row) = BOUND * max |oracle logit| of the row:

1. logits: `kiln-run --teacher-force forced_ids.pb` (logits after each of
   the 32 tokens) differ from forced_logits.pb by at most bound(row), every
   row.
2. argmax: prompt_ids.pb followed by greedy_ids.pb, fed teacher-forced: at
   every step that predicts a greedy token, kiln's argmax is that token
   wherever the oracle's top-2 gap (greedy_logits.pb) exceeds bound(row);
   steps with a smaller gap are counted as skipped, not checked.

Exit status: 0 when both pass, 1 when one fails (or kiln-run fails), 2 on a
usage error. Standard library only.
"""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_generation import read_tensor, write_tensor  # noqa: E402

_INT64 = 7


def rows_of(flat, width):
    return [flat[i:i + width] for i in range(0, len(flat), width)]


def argmax(row):
    best = 0
    for i, v in enumerate(row):
        if v > row[best]:
            best = i
    return best


def top2_gap(row):
    s = sorted(row, reverse=True)
    return s[0] - s[1] if len(s) > 1 else float("inf")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kiln-run", required=True)
    p.add_argument("--artifact", required=True)
    p.add_argument("--oracle-dir", required=True)
    p.add_argument("--backend")
    p.add_argument("--eager", action="store_true")
    p.add_argument("--bound", type=float, default=2e-2,
                   help="tolerance as a fraction of the row's largest |logit|")
    p.add_argument("--work")
    args = p.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="kiln-precision-")
    failed = False

    def teacher_force(ids_file, name):
        out = os.path.join(work, name)
        cmd = [args.kiln_run, args.artifact, "--teacher-force", ids_file,
               "--output-dir", out]
        if args.backend:
            cmd.append("--backend=" + args.backend)
        if args.eager:
            cmd.append("--eager")
        proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True)
        if proc.returncode != 0:
            print("%s: FAIL kiln-run exited %d: %s\n  %s" % (
                name, proc.returncode, shlex.join(cmd), proc.stderr.strip()))
            return None
        _, dims, flat = read_tensor(os.path.join(out, "logits.pb"))
        return rows_of(flat, dims[-1])

    # 1. forced logits within the bound.
    o = args.oracle_dir
    got = teacher_force(os.path.join(o, "forced_ids.pb"), "logits")
    if got is None:
        failed = True
    else:
        _, odims, oflat = read_tensor(os.path.join(o, "forced_logits.pb"))
        want = rows_of(oflat, odims[-1])
        worst, worst_row, bad = 0.0, 0, 0
        for r, (g, w) in enumerate(zip(got, want)):
            bound = args.bound * max(abs(v) for v in w)
            err = max(abs(a - b) for a, b in zip(g, w))
            ratio = err / bound if bound > 0 else (0.0 if err == 0 else float("inf"))
            if ratio > worst:
                worst, worst_row = ratio, r
            bad += ratio > 1
        ok = len(got) == len(want) and bad == 0
        failed |= not ok
        print("logits: %s %d rows, worst error %.3f of the bound (row %d), "
              "%d rows over" % ("PASS" if ok else "FAIL", len(got), worst,
                                worst_row, bad))

    # 2. argmax along the greedy continuation.
    _, _, prompt = read_tensor(os.path.join(o, "prompt_ids.pb"))
    _, gdims, greedy = read_tensor(os.path.join(o, "greedy_ids.pb"))
    _, ldims, lflat = read_tensor(os.path.join(o, "greedy_logits.pb"))
    glogits = rows_of(lflat, ldims[-1])
    ids = list(prompt) + list(greedy)
    ids_file = os.path.join(work, "prompt_and_greedy.pb")
    write_tensor(ids_file, "ids", _INT64, [1, len(ids)], ids)
    got = teacher_force(ids_file, "argmax")
    if got is None:
        failed = True
    else:
        checked = skipped = 0
        wrong = []
        for j, token in enumerate(greedy):
            row = got[len(prompt) - 1 + j]
            oracle = glogits[j]
            bound = args.bound * max(abs(v) for v in oracle)
            if top2_gap(oracle) <= bound:
                skipped += 1
                continue
            checked += 1
            if argmax(row) != token:
                wrong.append((j, argmax(row), token))
        ok = not wrong and checked > 0
        failed |= not ok
        print("argmax: %s %d of %d greedy steps checked (%d with an oracle "
              "top-2 gap within the bound skipped)%s" % (
                  "PASS" if ok else "FAIL", checked, len(greedy), skipped,
                  "" if not wrong else ", wrong (step, got, expected): %s" % wrong))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
