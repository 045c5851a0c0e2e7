#!/usr/bin/env python3
"""Checks kiln-run's token generation against Hugging Face oracles.

    check_generation.py --kiln-run build/bin/kiln-run --artifact M.kiln \\
        --oracle-dir ../shared/models/hf-tiny-generate/<arch> \\
        [--backend ref|cuda] [--work DIR] [--batch-new-tokens N] [--eager]
        [--skip-batch]

M.kiln is one of the hf-tiny decoders of <arch> (gpt2, llama, qwen2; they
share the oracle's weights, see the README in the oracle directory) compiled
with `kiln-compile --max-seq-len N` where N >= 32 (the forced ids are 32
tokens; the greedy run needs 8 + 24 - 1 slots) and batch buckets that hold 3
prompts (e.g. `--batch-buckets 1,4`). Three checks, one line each:

1. greedy: `kiln-run M.kiln --generate --prompt-ids prompt_ids.pb
   --max-new-tokens 24` (24 = the width of greedy_ids.pb) must print and
   write exactly greedy_ids.pb. The largest difference of its logits from
   greedy_logits.pb is printed for information.
2. teacher-force: `kiln-run M.kiln --teacher-force forced_ids.pb
   --expect-logits forced_logits.pb --atol 1e-4` must exit 0 with PASS.
3. batch: the prefixes of prompt_ids.pb of lengths 8, 5 and 3, generated
   together (one batch, one bucket) and each alone (bucket 1), must give
   identical tokens and logits within 1e-5 (absolute), --batch-new-tokens
   (default 8) tokens each. `--skip-batch` skips it (prints `batch:
   SKIPPED`) for artifacts whose largest bucket is below 3, such as the
   static-batch `*-decode-torchscript` exports compiled with
   `--batch-buckets 1`; without it such an artifact fails this check.

4. prefill: every prefill step function (`kiln-compile --prefill-buckets`,
   `step <B> <S>` with S > 1) is run on its own (`kiln-run --function`) with
   forced_ids.pb's first S tokens in every row at slots 0..S-1; its logits
   at each of the S positions must be forced_logits.pb's row within 1e-4.
   Prints `prefill: SKIPPED` when the artifact has none.

Every kiln-run call gets --backend when given (default: kiln-run's own
default), and --eager when given (cuda). Outputs go to --work (default: a
temporary directory, removed afterwards). Exit status: 0 when every check
passes, 1 when one fails (or kiln-run fails), 2 on a usage error.

Needs only the Python standard library: the .pb files (ONNX TensorProto) are
decoded here (dims, data_type, raw_data / float_data / int64_data).
"""
import argparse
import array
import os
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile

# TensorProto.DataType codes this script reads.
_FLOAT, _INT64 = 1, 7


def _varint(buf, pos):
    """Decodes a protobuf varint at buf[pos:]; returns (value, next pos)."""
    value, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def read_tensor(path):
    """Reads a TensorProto file; returns (dtype code, dims, flat list)."""
    with open(path, "rb") as f:
        buf = f.read()
    dims, dtype, raw, floats, ints = [], 0, None, [], []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            if field == 1:
                dims.append(value)
            elif field == 2:
                dtype = value
            elif field == 7:
                ints.append(value - (1 << 64) if value >> 63 else value)
        elif wire == 2:
            n, pos = _varint(buf, pos)
            data = buf[pos:pos + n]
            pos += n
            if field == 9:
                raw = data
            elif field == 1:  # packed dims
                p = 0
                while p < len(data):
                    v, p = _varint(data, p)
                    dims.append(v)
            elif field == 4:  # packed float_data
                floats.extend(struct.unpack("<%df" % (len(data) // 4), data))
            elif field == 7:  # packed int64_data
                p = 0
                while p < len(data):
                    v, p = _varint(data, p)
                    ints.append(v - (1 << 64) if v >> 63 else v)
        elif wire == 5:
            if field == 4:
                floats.append(struct.unpack("<f", buf[pos:pos + 4])[0])
            pos += 4
        elif wire == 1:
            pos += 8
        else:
            raise ValueError("%s: unsupported protobuf wire type %d" % (path, wire))
    if dtype not in (_FLOAT, _INT64):
        raise ValueError("%s: data_type %d (expected float or int64)" % (path, dtype))
    if raw is not None:
        values = array.array("f" if dtype == _FLOAT else "q")
        values.frombytes(raw)
        if sys.byteorder != "little":
            values.byteswap()
        values = values.tolist()
    else:
        values = floats if dtype == _FLOAT else ints
    count = 1
    for d in dims:
        count *= d
    if count != len(values):
        raise ValueError("%s: %d values for dims %s" % (path, len(values), dims))
    return dtype, dims, values


def _encode_varint(value):
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        out.append(b | (0x80 if value else 0))
        if not value:
            return bytes(out)


def write_tensor(path, name, dtype, dims, values):
    """Writes a TensorProto file (dims, data_type, name, raw_data)."""
    buf = bytearray()
    for d in dims:
        buf += b"\x08" + _encode_varint(d)
    buf += b"\x10" + _encode_varint(dtype)
    n = name.encode()
    buf += b"\x42" + _encode_varint(len(n)) + n
    raw = array.array("f" if dtype == _FLOAT else "q", values)
    if sys.byteorder != "little":
        raw.byteswap()
    raw = raw.tobytes()
    buf += b"\x4a" + _encode_varint(len(raw)) + raw
    with open(path, "wb") as f:
        f.write(bytes(buf))


def max_abs_diff(a, b):
    return max((abs(x - y) for x, y in zip(a, b)), default=0.0)


class Checker:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.failed = False

    def kiln_run(self, extra):
        cmd = [self.args.kiln_run, self.args.artifact] + extra
        if self.args.backend:
            cmd.append("--backend=" + self.args.backend)
        if self.args.eager:
            cmd.append("--eager")
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True)
        return cmd, proc

    def report(self, name, ok, detail):
        print("%s: %s %s" % (name, "PASS" if ok else "FAIL", detail))
        self.failed |= not ok

    def generate(self, name, prompts, new_tokens):
        """Runs --generate; returns (ids rows, logits rows, vocab) or None."""
        out = os.path.join(self.work, name)
        extra = ["--generate", "--max-new-tokens", str(new_tokens),
                 "--output-dir", out]
        for p in prompts:
            extra += ["--prompt-ids", p]
        cmd, proc = self.kiln_run(extra)
        if proc.returncode != 0:
            self.report(name, False, "kiln-run exited %d: %s\n  %s" %
                        (proc.returncode, shlex.join(cmd), proc.stderr.strip()))
            return None
        _, idims, ids = read_tensor(os.path.join(out, "generated_ids.pb"))
        _, ldims, logits = read_tensor(os.path.join(out, "logits.pb"))
        batch, width = idims
        vocab = ldims[2]
        rows = [ids[b * width:(b + 1) * width] for b in range(batch)]
        lrows = [logits[b * width * vocab:(b + 1) * width * vocab]
                 for b in range(batch)]
        printed = [l.split() for l in proc.stdout.strip().splitlines()]
        if printed != [[str(t) for t in r] for r in rows]:
            self.report(name, False, "printed ids %s differ from generated_ids.pb %s"
                        % (printed, rows))
            return None
        return rows, lrows, vocab

    def check_greedy(self, oracle):
        _, gdims, greedy = read_tensor(os.path.join(oracle, "greedy_ids.pb"))
        _, _, glogits = read_tensor(os.path.join(oracle, "greedy_logits.pb"))
        n = gdims[-1]
        got = self.generate("greedy", [os.path.join(oracle, "prompt_ids.pb")], n)
        if got is None:
            return
        rows, lrows, _ = got
        ok = rows[0] == greedy
        detail = "%d tokens" % n
        if not ok:
            first = next(i for i, (a, b) in enumerate(zip(rows[0], greedy)) if a != b) \
                if len(rows[0]) == len(greedy) else 0
            detail += ", first difference at token %d: got %s, expected %s" % (
                first, rows[0][first:first + 4], greedy[first:first + 4])
        detail += " (logits max_abs_err vs greedy_logits.pb: %.3g)" % max_abs_diff(
            lrows[0], glogits)
        self.report("greedy", ok, detail)

    def check_teacher_force(self, oracle):
        cmd, proc = self.kiln_run([
            "--teacher-force", os.path.join(oracle, "forced_ids.pb"),
            "--expect-logits", os.path.join(oracle, "forced_logits.pb"),
            "--atol", "1e-4"])
        line = next((l for l in proc.stdout.splitlines() if l.startswith("logits:")),
                    proc.stderr.strip())
        self.report("teacher-force", proc.returncode == 0 and "PASS" in line,
                    line if proc.returncode in (0, 1) else
                    "kiln-run exited %d: %s\n  %s" % (proc.returncode, shlex.join(cmd), line))

    def check_batch(self, oracle):
        _, _, prompt = read_tensor(os.path.join(oracle, "prompt_ids.pb"))
        lengths = [8, 5, 3]
        if len(prompt) < max(lengths):
            self.report("batch", False, "prompt_ids.pb has %d ids, need %d"
                        % (len(prompt), max(lengths)))
            return
        prompts = [" ".join(str(t) for t in prompt[:n]) for n in lengths]
        new = self.args.batch_new_tokens
        together = self.generate("batch", prompts, new)
        if together is None:
            return
        rows, lrows, _ = together
        worst, ok = 0.0, True
        for b, p in enumerate(prompts):
            alone = self.generate("alone_%d" % lengths[b], [p], new)
            if alone is None:
                return
            arows, alrows, _ = alone
            if arows[0] != rows[b]:
                ok = False
                print("  prompt of length %d: batch %s, alone %s"
                      % (lengths[b], rows[b], arows[0]))
                continue
            diff = max_abs_diff(alrows[0], lrows[b])
            worst = max(worst, diff)
            ok &= diff <= 1e-5
        self.report("batch", ok, "prompts of lengths %s, %d new tokens each; logits "
                    "max_abs_err batch vs alone: %.3g (limit 1e-5)"
                    % (lengths, new, worst))


    def check_prefill(self, oracle):
        """Every prefill step function (step <B> <S>, S > 1) fed forced_ids'
        first S tokens in every row at slots 0..S-1 must give, at every one
        of the S positions, forced_logits' row within 1e-4."""
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import kiln_artifact
        with open(os.path.join(self.args.artifact, "manifest.txt")) as f:
            manifest = kiln_artifact.parse(f.read())
        _, _, forced = read_tensor(os.path.join(oracle, "forced_ids.pb"))
        _, fdims, flogits = read_tensor(os.path.join(oracle, "forced_logits.pb"))
        vocab = fdims[-1]
        max_seq = (manifest["kv_cache"] or {}).get("max_seq", 0)
        fns = [f for f in manifest["functions"]
               if f["step"] and f["step"][1] > 1 and f["step"][1] <= len(forced)]
        if not fns:
            print("prefill: SKIPPED (no prefill step function of at most %d "
                  "tokens)" % len(forced))
            return
        worst, ok, names = 0.0, True, []
        for fn in fns:
            batch, seq = fn["step"]
            names.append(fn["name"])
            out = os.path.join(self.work, fn["name"])
            os.makedirs(out, exist_ok=True)
            extra = ["--function", fn["name"], "--output-dir", out]
            for rec in fn["inputs"]:
                shape = [int(d) for d in rec["shape"].split("x")]
                role = rec["role"]
                if role == "tokens":
                    vals = forced[:seq] * batch
                elif role == "positions":
                    vals = list(range(seq)) * batch
                elif role == "kv_pos":
                    vals = [0] * batch
                elif role == "mask":
                    vals = ([1] * seq + [0] * (max_seq - seq)) * batch
                else:
                    self.report("prefill", False, "%s: input %s has no role"
                                % (fn["name"], rec["name"]))
                    return
                if rec["dtype"] != "i64":
                    self.report("prefill", False, "%s: input %s is %s, this "
                                "check writes i64" % (fn["name"], rec["name"],
                                                      rec["dtype"]))
                    return
                path = os.path.join(out, "in_%d.pb" % rec["index"])
                write_tensor(path, rec["name"], _INT64, shape, vals)
                extra += ["--input", path]
            cmd, proc = self.kiln_run(extra)
            if proc.returncode != 0:
                self.report("prefill", False, "kiln-run exited %d: %s\n  %s" %
                            (proc.returncode, shlex.join(cmd), proc.stderr.strip()))
                return
            logits_rec = next(o for o in fn["outputs"] if o["role"] == "logits")
            _, _, got = read_tensor(os.path.join(
                out, "output_%d.pb" % logits_rec["index"]))
            want = flogits[:seq * vocab]
            for b in range(batch):
                row = got[b * seq * vocab:(b + 1) * seq * vocab]
                diff = max_abs_diff(row, want)
                worst = max(worst, diff)
                ok &= diff <= 1e-4
        self.report("prefill", ok, "%s: forced_ids' first S tokens in one step, "
                    "logits max_abs_err vs forced_logits.pb: %.3g (limit 1e-4)"
                    % (", ".join(names), worst))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln-run", required=True, help="the kiln-run binary")
    parser.add_argument("--artifact", required=True,
                        help="a .kiln compiled with --max-seq-len (>= 32)")
    parser.add_argument("--oracle-dir", required=True,
                        help="hf-tiny-generate/<arch> with prompt_ids.pb, ...")
    parser.add_argument("--backend", choices=["ref", "cuda"],
                        help="kiln-run --backend (default: kiln-run's)")
    parser.add_argument("--eager", action="store_true",
                        help="cuda: pass --eager (no CUDA graphs)")
    parser.add_argument("--work", help="keep kiln-run's outputs here")
    parser.add_argument("--skip-batch", action="store_true",
                        help="skip the batch check (artifacts with a largest "
                        "bucket below 3)")
    parser.add_argument("--batch-new-tokens", type=int, default=8,
                        help="tokens per prompt in the batch check (default 8)")
    args = parser.parse_args()
    for path in ("prompt_ids.pb", "greedy_ids.pb", "greedy_logits.pb",
                 "forced_ids.pb", "forced_logits.pb"):
        if not os.path.isfile(os.path.join(args.oracle_dir, path)):
            parser.error("%s: no %s (expected an hf-tiny-generate/<arch> "
                         "directory)" % (args.oracle_dir, path))
    if args.batch_new_tokens < 1:
        parser.error("--batch-new-tokens needs a positive integer")
    work = args.work or tempfile.mkdtemp(prefix="check_generation.")
    try:
        checker = Checker(args, work)
        checker.check_greedy(args.oracle_dir)
        checker.check_teacher_force(args.oracle_dir)
        if args.skip_batch:
            print("batch: SKIPPED (--skip-batch)")
        else:
            checker.check_batch(args.oracle_dir)
        checker.check_prefill(args.oracle_dir)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if checker.failed else 0


if __name__ == "__main__":
    sys.exit(main())
