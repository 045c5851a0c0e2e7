#!/usr/bin/env python3
"""Seeded corruption of a compiled kiln artifact: every mutated copy must be
refused with an error or still give the right answer, never crash, hang or
answer wrong.

    mutate_artifact.py ARTIFACT_DIR --seed S --count N --work DIR
        --kiln-run PATH --input F.pb... --expect F.pb...
        [--timeout SEC] [--backends ref,cuda] [--jobs J] [--keep-bad DIR]
        [--memory-limit MB] [--show-errors] [--list]

Each mutation is applied to a fresh copy of ARTIFACT_DIR under --work and run
through `kiln-run --backend=B --input ... --expect ...` for every backend B,
each run under --timeout seconds (default 20). A run is classified as

  OK-error    non-zero exit and a stderr line containing `error:`
  OK-match    exit 0 and every --expect PASS (never on cuda without a GPU)
  BAD-signal  killed by a signal, or exit status >= 128
  BAD-hang    still running after --timeout
  BAD-silent  a wrong answer reached the output (an --expect line with FAIL),
              a non-zero exit without an `error:` line, or exit 0 on
              --backend=cuda on a machine without a GPU

One line per run: `S-I kind detail backend -> CLASS`; BAD runs are followed
by the tail of their stderr (`    | ...`). The last line is
`mutations: N, runs: M, ok: A, bad: B`; the exit status is 1 when B > 0
(2 when the unmutated artifact itself does not run as expected).

The mutations work from the manifest's generic token structure, not from a
fixed record layout: records (non-comment lines), numbers, `a:`/`w:`/`k:`
pointers, dtype tokens and the shape token after them, file names (the
argument of a record whose keyword ends in `_file`, or any token naming a
file of the artifact), and long hex tokens (hashes). So they keep working
when records or tokens are added. Format 3's `k:` pointers (into the KV
cache region, moved past the `kv_cache` record's size) and `role <r>` fields
(replaced by another role, a wrong one, or dropped) have their own
mutations. The data files are those the manifest names plus weights.bin,
kernels.fatbin and scheduled.mlir.

The list of mutations is a pure function of the artifact's bytes, --seed and
--count: a fixed catalogue of must-have cases (each data file truncated to 0
bytes and by 1 byte, extended by 1 byte, deleted; file names outside the
directory; each special number; ...) followed by seeded random ones up to
--count. `--list` prints the list without running anything.

Kinds ending in `+reseal` recompute the manifest's `ALGO:HEX` hashes after
the mutation (a file record's hash and size from its file, a record that
holds only a hash, such as `checksum`, from the manifest bytes before its
line; xxh64, or any hashlib algorithm), as a buggy or hostile writer would:
then the loader's consistency checks, not the hashes, have to catch them.
Resealing is on only when it reproduces the unmutated manifest byte for
byte (the first output line says `resealing on|off`). Changed bytes that
leave every size, offset and shape consistent (a flipped weight, a changed
constant in the IR) are not resealed: with matching hashes they are a
different valid artifact.

--keep-bad DIR copies each artifact with a BAD run to DIR/S-I.kiln with a
replay.sh next to it. --show-errors appends the error line to OK-error
runs. --memory-limit (MB, default 2048, 0 = none) caps each
kiln-run's data segment (`ulimit -d`) so that a huge allocation fails inside
kiln-run instead of exhausting the machine (not applied to --backend=cuda
on a machine with a GPU: the driver maps large regions).
"""

import argparse
import concurrent.futures
import hashlib
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

MANIFEST = "manifest.txt"
DEFAULT_DATA_FILES = ["weights.bin", "kernels.fatbin", "scheduled.mlir"]
DTYPES = ["f32", "f16", "bf16", "f64", "i64", "i32", "i8", "u8", "bool"]

RE_NUM = re.compile(r"^[0-9]+$")
RE_APTR = re.compile(r"^a:([0-9]+)$")
RE_WPTR = re.compile(r"^w:([0-9]+)$")
RE_KPTR = re.compile(r"^k:([0-9]+)$")
# Input/output roles of format 3 (docs/kv-cache.md), and wrong ones.
ROLES = ["tokens", "positions", "mask", "kv_pos", "logits"]
RE_SHAPE = re.compile(r"^([0-9]+(x[0-9]+)*|scalar)$")
RE_HEX = re.compile(r"^([A-Za-z0-9_+-]+[:=])?([0-9a-fA-F]{8,})$")

# Values a number token is replaced with (the "special" list).
SPECIAL_NUMBERS = [
    "-1", "0", "1", str(2**31), str(2**32), str(2**32 + 256), str(2**40),
    str(2**53 + 1), str(2**63 - 1), str(2**63), str(2**64 - 1), str(2**64),
    "99999999999999999999999999", "+1", "0x10", "1e3", "12abc", "-0", "",
]


def die(msg, code=2):
    print("mutate_artifact: error: " + msg, file=sys.stderr)
    sys.exit(code)


class Mutation:
    """One corruption: `kind` names the generator, `detail` says exactly
    what (no temporary paths), `ops` are (op, relpath, payload) with op one
    of write (payload: bytes, or a function of the artifact's path that
    returns them), delete, mkdir, symlink (payload: target). relpath is
    relative to the mutated artifact and may start with ../"""

    def __init__(self, kind, detail, ops, reseal=None):
        self.kind = kind
        self.detail = detail
        self.ops = ops
        # None, or what to recompute after the ops: {"files", "checksum"}.
        self.reseal = reseal

    def key(self):
        return (self.kind, self.detail)

    def sealed(self):
        """The same corruption with the manifest's hashes (and for data
        files their sizes) recomputed, as a buggy or hostile writer would
        leave it: only the loader's semantic checks can catch it then."""
        what = sealable(self.kind)
        if not what:
            return None
        return Mutation(self.kind + "+reseal", self.detail, self.ops, what)

    def apply(self, art_dir):
        for op, rel, payload in self.ops:
            path = os.path.join(art_dir, rel)
            if op in ("write", "delete", "mkdir", "symlink") and (
                    os.path.lexists(path)):
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
            if op == "write":
                if callable(payload):
                    payload = payload(art_dir)
                with open(path, "wb") as f:
                    f.write(payload)
            elif op == "mkdir":
                os.mkdir(path)
            elif op == "symlink":
                os.symlink(payload, path)
        if self.reseal:
            data = resealed_manifest(art_dir, self.reseal)
            if data is not None:
                with open(os.path.join(art_dir, MANIFEST), "wb") as f:
                    f.write(data)


def sealable(kind):
    """What a resealed twin of `kind` recomputes; None when it has no
    useful twin. Not resealed: changed bytes that leave every size, offset
    and shape consistent (a flipped weight or kernel byte, a changed
    attribute or constant in the IR): with matching hashes those are a
    different, valid artifact, which no loader can tell from the original."""
    if kind in ("file.truncate", "file.extend") or (
            kind.startswith("mlir.") and kind != "mlir.number"):
        return frozenset(["files", "checksum"])
    if kind.startswith("manifest.") and kind not in (
            "manifest.hash", "manifest.truncate", "manifest.garbage"):
        return frozenset(["checksum"])
    return None


# --------------------------------------------------------------------------
# Hashes: `ALGO:HEX` tokens. A file record's hash is of its file's bytes; a
# record holding only a hash (`checksum xxh64:...`) is of the manifest's bytes
# before its line. Resealing recomputes them; it is used only when it
# reproduces the unmutated artifact's manifest byte for byte.

# XXH64 is utils/kiln_artifact.py's (written independently of the C++ one).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from kiln_artifact import xxh64 as _xxh64  # noqa: E402

RE_HASH = re.compile(r"^([A-Za-z0-9_-]+):([0-9a-fA-F]{8,})$")


def hash_hex(algo, data, digits):
    if algo == "xxh64":
        return "%016x" % _xxh64(data)
    if algo in hashlib.algorithms_available:
        h = hashlib.new(algo, data).hexdigest()
        return h if len(h) == digits else None
    return None


def is_hash_token(tok):
    m = RE_HASH.match(tok)
    return bool(m) and (m.group(1) == "xxh64" or
                        m.group(1) in hashlib.algorithms_available)


def resealed_manifest(art_dir, what):
    """The manifest of art_dir with its hashes (and with "files", the data
    files' sizes) recomputed; None if there is nothing to recompute."""
    mpath = os.path.join(art_dir, MANIFEST)
    if not os.path.isfile(mpath):
        return None
    with open(mpath, "rb") as f:
        m = Manifest(f.read())
    lines = list(m.lines)
    checks = []
    changed = False
    for li, toks in m.records:
        toks = list(toks)
        hidx = [t for t in range(1, len(toks)) if is_hash_token(toks[t])]
        if not hidx:
            continue
        fidx = [t for t in range(1, len(toks)) if (
            t == 1 and toks[0].endswith("_file")) or (
            toks[t] != MANIFEST and RE_NUM.match(toks[t]) is None and
            os.path.isfile(os.path.join(art_dir, toks[t])))]
        if fidx:
            if "files" not in what:
                continue
            path = os.path.join(art_dir, toks[fidx[0]])
            if not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                data = f.read()
            for t in hidx:
                algo, digits = RE_HASH.match(toks[t]).groups()
                h = hash_hex(algo, data, len(digits))
                if h:
                    toks[t] = algo + ":" + h
            for t in range(fidx[0] + 1, len(toks)):
                if RE_NUM.match(toks[t]):
                    toks[t] = str(len(data))
                    break
            lines[li] = " ".join(toks)
            changed = True
        elif len(toks) == 2 and "checksum" in what:
            checks.append((li, hidx[0]))
    for li, t in checks:
        toks = lines[li].split("#", 1)[0].split()
        algo, digits = RE_HASH.match(toks[t]).groups()
        prefix = m.render(lines[:li]) if li else b""
        h = hash_hex(algo, prefix, len(digits))
        if h:
            toks[t] = algo + ":" + h
            lines[li] = " ".join(toks)
            changed = True
    return m.render(lines) if changed else None


# --------------------------------------------------------------------------
# The artifact, tokenised.


class Manifest:
    def __init__(self, data):
        self.text = data.decode("utf-8", "surrogateescape")
        self.lines = self.text.split("\n")
        self.trailing_newline = self.text.endswith("\n")
        if self.trailing_newline:
            self.lines.pop()
        # records: (line index, [tokens]); tokens exclude a trailing comment.
        self.records = []
        for i, line in enumerate(self.lines):
            body = line.split("#", 1)[0]
            toks = body.split()
            if toks:
                self.records.append((i, toks))

    def render(self, lines):
        out = "\n".join(lines) + ("\n" if self.trailing_newline else "")
        return out.encode("utf-8", "surrogateescape")

    def with_token(self, rec, tok_idx, new):
        """Manifest bytes with token tok_idx of record rec replaced by `new`
        (None deletes the token)."""
        line_idx, toks = self.records[rec]
        toks = list(toks)
        if new is None:
            del toks[tok_idx]
        else:
            toks[tok_idx] = new
        lines = list(self.lines)
        lines[line_idx] = " ".join(toks)
        return self.render(lines)

    def tokens(self, pred):
        """[(record index, token index, token)] for tokens where pred(rec
        tokens, token index) holds; never the record keyword."""
        out = []
        for r, (_, toks) in enumerate(self.records):
            for t in range(1, len(toks)):
                if pred(toks, t):
                    out.append((r, t, toks[t]))
        return out

    def where(self, rec, tok_idx=None):
        line_idx, toks = self.records[rec]
        s = f"line {line_idx + 1} '{toks[0]}'"
        if tok_idx is not None:
            s += f" token {tok_idx}"
        return s


class Artifact:
    def __init__(self, path):
        self.path = path
        mpath = os.path.join(path, MANIFEST)
        if not os.path.isfile(mpath):
            die(f"{mpath}: no manifest")
        with open(mpath, "rb") as f:
            self.manifest_bytes = f.read()
        self.m = Manifest(self.manifest_bytes)
        self.entries = sorted(os.listdir(path))
        # File tokens: the argument of a `*_file` record, or any token that
        # names a file of the artifact.
        self.file_tokens = self.m.tokens(
            lambda toks, t: (t == 1 and toks[0].endswith("_file")) or
            (toks[t] in self.entries and toks[t] != MANIFEST))
        self.data_files = []
        for _, _, name in self.file_tokens:
            if name not in self.data_files and os.path.isfile(
                    os.path.join(path, name)):
                self.data_files.append(name)
        for name in DEFAULT_DATA_FILES:
            if name not in self.data_files and os.path.isfile(
                    os.path.join(path, name)):
                self.data_files.append(name)
        self.sizes = {n: os.path.getsize(os.path.join(path, n))
                      for n in self.data_files}
        self.numbers = self.m.tokens(lambda toks, t: RE_NUM.match(toks[t]))
        self.aptrs = self.m.tokens(lambda toks, t: RE_APTR.match(toks[t]))
        self.wptrs = self.m.tokens(lambda toks, t: RE_WPTR.match(toks[t]))
        self.kptrs = self.m.tokens(lambda toks, t: RE_KPTR.match(toks[t]))
        # The value of every `role <r>` field of an input/output record.
        self.roles = self.m.tokens(
            lambda toks, t: t >= 1 and toks[t - 1] == "role")
        self.dtypes = self.m.tokens(lambda toks, t: toks[t] in DTYPES)
        self.shapes = self.m.tokens(
            lambda toks, t: toks[t - 1] in DTYPES and RE_SHAPE.match(toks[t]))
        self.hexes = self.m.tokens(
            lambda toks, t: RE_HEX.match(toks[t]) and not RE_NUM.match(toks[t]))
        # The arena size and weight count, for "just past the end" values.
        self.arena_bytes = None
        self.kv_bytes = None
        self.num_weights = 0
        for _, toks in self.m.records:
            if "arena" in toks[0] and len(toks) == 2 and RE_NUM.match(toks[1]):
                self.arena_bytes = int(toks[1])
            if toks[0] == "kv_cache" and RE_NUM.match(toks[-1]):
                self.kv_bytes = int(toks[-1])
            if toks[0] == "weight":
                self.num_weights += 1
        if not self.num_weights and self.wptrs:
            self.num_weights = 1 + max(int(t[2][2:]) for t in self.wptrs)
        self.can_reseal = resealed_manifest(
            path, {"files", "checksum"}) == self.manifest_bytes
        self.mlir = None
        if "scheduled.mlir" in self.data_files:
            with open(os.path.join(path, "scheduled.mlir"), "rb") as f:
                self.mlir = f.read()

    def read(self, name):
        with open(os.path.join(self.path, name), "rb") as f:
            return f.read()


# --------------------------------------------------------------------------
# Mutation generators. Each takes (art, rng) and returns a Mutation or None
# (nothing to mutate of that kind in this artifact).


def pick(rng, seq):
    return seq[rng.randrange(len(seq))] if seq else None


def g_line_delete(art, rng):
    r = rng.randrange(len(art.m.records))
    lines = list(art.m.lines)
    del lines[art.m.records[r][0]]
    return Mutation("manifest.delete-line", art.m.where(r),
                    [("write", MANIFEST, art.m.render(lines))])


def g_line_dup(art, rng):
    r = rng.randrange(len(art.m.records))
    li = art.m.records[r][0]
    lines = list(art.m.lines)
    lines.insert(li, lines[li])
    return Mutation("manifest.dup-line", art.m.where(r),
                    [("write", MANIFEST, art.m.render(lines))])


def g_line_swap(art, rng):
    if len(art.m.records) < 2:
        return None
    a, b = rng.sample(range(len(art.m.records)), 2)
    if rng.random() < 0.5:  # neighbours are the likelier bug
        a = rng.randrange(len(art.m.records) - 1)
        b = a + 1
    la, lb = art.m.records[a][0], art.m.records[b][0]
    lines = list(art.m.lines)
    lines[la], lines[lb] = lines[lb], lines[la]
    if lines == art.m.lines:
        return None
    return Mutation("manifest.swap-lines",
                    f"{art.m.where(a)} <-> {art.m.where(b)}",
                    [("write", MANIFEST, art.m.render(lines))])


def g_token_delete(art, rng):
    cands = art.m.tokens(lambda toks, t: True)
    r, t, tok = pick(rng, cands)
    return Mutation("manifest.delete-token", f"{art.m.where(r, t)} '{tok}'",
                    [("write", MANIFEST, art.m.with_token(r, t, None))])


def g_token_dup(art, rng):
    cands = art.m.tokens(lambda toks, t: True)
    r, t, tok = pick(rng, cands)
    return Mutation("manifest.dup-token", f"{art.m.where(r, t)} '{tok}'",
                    [("write", MANIFEST, art.m.with_token(r, t, tok + " " + tok))])


def number_values(rng, orig):
    """Special replacements for number `orig`, plus a few relative ones."""
    vals = list(SPECIAL_NUMBERS)
    vals += [str(orig + 1), str(orig + 256), str(orig * 2 + 1),
             str(rng.randrange(0, 2 * orig + 2)), str(rng.randrange(2**64))]
    if orig > 0:
        vals += [str(orig - 1), str(orig // 2)]
    return vals


def g_number(art, rng, value=None):
    if not art.numbers:
        return None
    r, t, tok = pick(rng, art.numbers)
    if value is None:
        value = pick(rng, number_values(rng, int(tok)))
    if value == tok:
        return None
    return Mutation("manifest.number",
                    f"{art.m.where(r, t)} {tok} -> '{value}'",
                    [("write", MANIFEST,
                      art.m.with_token(r, t, value if value else None))])


def g_weight_id(art, rng, value=None):
    if not art.wptrs:
        return None
    r, t, tok = pick(rng, art.wptrs)
    W = art.num_weights
    if value is None:
        value = pick(rng, [str(W), str(W + 1), str(W + 1000), str(2**32),
                           str(2**63), str(2**64 - 1), str(2**64), "-1", "",
                           "x", str(rng.randrange(W, 2**31))])
    return Mutation("manifest.weight-id", f"{art.m.where(r, t)} {tok} -> w:{value}",
                    [("write", MANIFEST, art.m.with_token(r, t, "w:" + value))])


def g_arena_ptr(art, rng, value=None):
    if not art.aptrs:
        return None
    r, t, tok = pick(rng, art.aptrs)
    A = art.arena_bytes if art.arena_bytes is not None else 2**20
    if value is None:
        value = pick(rng, [str(A), str(max(A - 1, 0)), str(A + 256),
                           str(max(A - 4, 0)), str(2**32), str(2**40),
                           str(2**63), str(2**64 - 1), str(2**64), "-1", "",
                           str(rng.randrange(A, 2**48))])
    return Mutation("manifest.arena-ptr", f"{art.m.where(r, t)} {tok} -> a:{value}",
                    [("write", MANIFEST, art.m.with_token(r, t, "a:" + value))])


def g_kv_ptr(art, rng, value=None):
    """A `k:` pointer (format 3, into the KV cache region) moved, mostly
    past the region's end."""
    if not art.kptrs:
        return None
    r, t, tok = pick(rng, art.kptrs)
    K = art.kv_bytes if art.kv_bytes is not None else 2**20
    if value is None:
        value = pick(rng, [str(K), str(max(K - 1, 0)), str(K + 256),
                           str(max(K - 4, 0)), str(2**32), str(2**64 - 1),
                           str(2**64), "-1", "", str(rng.randrange(K, 2**48))])
    return Mutation("manifest.kv-ptr", f"{art.m.where(r, t)} {tok} -> k:{value}",
                    [("write", MANIFEST, art.m.with_token(r, t, "k:" + value))])


def g_role(art, rng, value=None):
    """An input/output role replaced: another role (wrong kind, duplicate,
    shape that contradicts the step) or no role at all."""
    if not art.roles:
        return None
    r, t, tok = pick(rng, art.roles)
    if value is None:
        value = pick(rng, [x for x in ROLES if x != tok] + ["", "keys", "Logits"])
    return Mutation("manifest.role", f"{art.m.where(r, t)} {tok} -> '{value}'",
                    [("write", MANIFEST,
                      art.m.with_token(r, t, value if value else None))])


def g_pointer_kind(art, rng):
    """a:N <-> w:N <-> k:N, or a pointer where a number was expected and
    back."""
    cands = art.aptrs + art.wptrs + art.kptrs
    if not cands:
        return None
    r, t, tok = pick(rng, cands)
    other = {"a": ["w", "k"], "w": ["a", "k"], "k": ["a", "w"]}[tok[0]]
    value = pick(rng, [pick(rng, other) + ":" + tok[2:],
                       tok[2:], "-", "b:" + tok[2:], tok + ":0"])
    return Mutation("manifest.pointer-kind", f"{art.m.where(r, t)} {tok} -> '{value}'",
                    [("write", MANIFEST, art.m.with_token(r, t, value))])


def g_dtype(art, rng, value=None):
    if not art.dtypes:
        return None
    r, t, tok = pick(rng, art.dtypes)
    if value is None:
        value = pick(rng, [d for d in DTYPES if d != tok] + ["f8", "F32", "float"])
    return Mutation("manifest.dtype", f"{art.m.where(r, t)} {tok} -> {value}",
                    [("write", MANIFEST, art.m.with_token(r, t, value))])


def shape_values(rng, tok):
    dims = [] if tok == "scalar" else [int(d) for d in tok.split("x")]
    vals = ["scalar", "0", "4x", "x4", "4xx8", "-1", "1x" + tok if dims else "1",
            str(2**32) + "x" + str(2**32), str(2**63), "2x" + tok if dims else "2"]
    if dims:
        i = rng.randrange(len(dims))
        for new in (0, dims[i] * 2, dims[i] + 1, max(dims[i] - 1, 0), 2**31,
                    2**62):
            d = list(dims)
            d[i] = new
            vals.append("x".join(map(str, d)))
        if len(dims) > 1:
            vals.append("x".join(map(str, dims[:i] + dims[i + 1:])))
            vals.append("x".join(map(str, reversed(dims))))
    return [v for v in vals if v != tok]


def g_shape(art, rng, value=None):
    if not art.shapes:
        return None
    r, t, tok = pick(rng, art.shapes)
    if value is None:
        value = pick(rng, shape_values(rng, tok))
    return Mutation("manifest.shape", f"{art.m.where(r, t)} {tok} -> {value}",
                    [("write", MANIFEST, art.m.with_token(r, t, value))])


OUTSIDE_NAMES = ["../x", "/etc/passwd", "../weights.bin", "/dev/zero",
                 "/dev/null", ".", "..", "/", "sub/../weights.bin",
                 "manifest.txt", "missing.bin"]


def g_file_name(art, rng, value=None):
    if not art.file_tokens:
        return None
    r, t, tok = pick(rng, art.file_tokens)
    if value is None:
        others = [n for n in art.data_files if n != tok]
        value = pick(rng, OUTSIDE_NAMES + others)
    return Mutation("manifest.file-name", f"{art.m.where(r, t)} {tok} -> {value}",
                    [("write", MANIFEST, art.m.with_token(r, t, value))])


def hex_variant(tok, how, rng):
    m = RE_HEX.match(tok)
    start = m.start(2)
    if how == 0:  # change one hex digit
        i = rng.randrange(start, len(tok))
        new = tok[:i] + ("0" if tok[i] != "0" else "1") + tok[i + 1:]
    elif how == 1:  # one digit short
        new = tok[:-1]
    elif how == 2:  # one digit more
        new = tok + "0"
    elif how == 3:  # all zero
        new = tok[:start] + "0" * (len(tok) - start)
    else:  # not hex
        new = tok[:-1] + "g"
    return new


def g_hex(art, rng, which=None, how=None):
    """A hash-like token (long hex, optionally `algo:`-prefixed)."""
    if not art.hexes:
        return None
    r, t, tok = art.hexes[which] if which is not None else pick(rng, art.hexes)
    how = how if how is not None else rng.randrange(5)
    new = hex_variant(tok, how, rng)
    if new == tok:
        return None
    return Mutation("manifest.hash", f"{art.m.where(r, t)} {tok} -> {new}",
                    [("write", MANIFEST, art.m.with_token(r, t, new))])


def g_file_outside(art, rng, which=None, how=None, flip=None):
    """A file record pointed at a copy of its file outside the artifact:
    `../NAME` or the copy's absolute path; the copy exact, or with a byte
    changed. Same size (and same hash when exact): only the location is
    wrong."""
    if not art.file_tokens:
        return None
    r, t, tok = art.file_tokens[which] if which is not None else pick(
        rng, art.file_tokens)
    if tok not in art.sizes:
        return None
    how = how or pick(rng, ["relative", "absolute"])
    flip = flip if flip is not None else rng.random() < 0.5
    data = bytearray(art.read(tok))
    if flip and data:
        i = rng.randrange(len(data))
        data[i] ^= 0xFF
    copy = "outside-" + tok
    if how == "relative":
        manifest = art.m.with_token(r, t, "../" + copy)
    else:
        def manifest(art_dir, r=r, t=t):
            path = os.path.join(os.path.dirname(art_dir), copy)
            return art.m.with_token(r, t, path)
    return Mutation("manifest.file-outside",
                    f"{art.m.where(r, t)} {tok} -> {how} path of "
                    f"{'a changed' if flip else 'an exact'} copy",
                    [("write", "../" + copy, bytes(data)),
                     ("write", MANIFEST, manifest)])


def g_manifest_bytes(art, rng):
    """Truncate the manifest at a byte, or put garbage bytes in it."""
    data = art.manifest_bytes
    how = rng.randrange(3)
    if how == 0:
        at = rng.randrange(len(data))
        return Mutation("manifest.truncate", f"to {at} of {len(data)} bytes",
                        [("write", MANIFEST, data[:at])])
    at = rng.randrange(len(data) + 1)
    junk = bytes(rng.randrange(256) for _ in range(rng.choice([1, 4, 32])))
    if how == 1:
        return Mutation("manifest.garbage", f"{len(junk)} bytes inserted at {at}",
                        [("write", MANIFEST, data[:at] + junk + data[at:])])
    return Mutation("manifest.garbage", f"{len(junk)} bytes overwritten at {at}",
                    [("write", MANIFEST,
                      data[:at] + junk + data[at + len(junk):])])


def g_truncate(art, rng, name=None, size=None):
    name = name or pick(rng, art.data_files)
    n = art.sizes[name]
    if size is None:
        size = pick(rng, [0, max(n - 1, 0), n // 2, 1, max(n - 256, 0),
                          rng.randrange(n) if n else 0])
    data = art.read(name)[:size]
    return Mutation("file.truncate", f"{name} {n} -> {size} bytes",
                    [("write", name, data)])


def g_extend(art, rng, name=None, extra=None):
    name = name or pick(rng, art.data_files)
    if extra is None:
        extra = pick(rng, [1, 256, 4096, rng.randrange(1, 65536)])
    fill = rng.choice(["zero", "random"])
    tail = bytes(extra) if fill == "zero" else bytes(
        rng.randrange(256) for _ in range(extra))
    return Mutation("file.extend", f"{name} +{extra} {fill} bytes",
                    [("write", name, art.read(name) + tail)])


def g_delete(art, rng, name=None):
    name = name or pick(rng, art.data_files)
    return Mutation("file.delete", name, [("delete", name, None)])


def g_replace_kind(art, rng, name=None, how=None):
    """The data file replaced by a directory or a symlink out of the artifact."""
    name = name or pick(rng, art.data_files)
    how = how or pick(rng, ["directory", "/dev/zero", "/etc/passwd"])
    if how == "directory":
        return Mutation("file.replace", f"{name} -> directory", [("mkdir", name, None)])
    return Mutation("file.replace", f"{name} -> symlink {how}",
                    [("symlink", name, how)])


def g_flip(art, rng, name=None, flips=None):
    if name is None:
        cands = [n for n in art.data_files if n != "scheduled.mlir"]
        name = pick(rng, cands or art.data_files)
    data = bytearray(art.read(name))
    if not data:
        return None
    flips = flips or pick(rng, [1, 1, 2, 8, 64])
    where = sorted(rng.randrange(len(data)) for _ in range(flips))
    if rng.random() < 0.2:  # the header of the file
        where = sorted(rng.randrange(min(len(data), 64)) for _ in range(flips))
    for i in where:
        data[i] ^= rng.randrange(1, 256)
    shown = ",".join(map(str, where[:4])) + (",..." if len(where) > 4 else "")
    return Mutation("file.flip", f"{name} {flips} byte(s) at {shown}",
                    [("write", name, bytes(data))])


# scheduled.mlir: located edits of the planned IR.

RE_MLIR_WEIGHT = re.compile(rb"kiln\.weight")
RE_MLIR_INT = re.compile(rb"(?<![0-9A-Za-z_.%#@+-])-?[0-9]+(?![0-9A-Za-z_.])")


def mlir_lines(art):
    return art.mlir.split(b"\n")


def mlir_write(lines):
    return [("write", "scheduled.mlir", b"\n".join(lines))]


def g_mlir_line(art, rng, how=None):
    if art.mlir is None:
        return None
    lines = mlir_lines(art)
    body = [i for i, l in enumerate(lines) if l.strip()]
    i = pick(rng, body)
    how = how or pick(rng, ["delete", "dup"])
    if how == "delete":
        del lines[i]
    else:
        lines.insert(i, lines[i])
    return Mutation(f"mlir.{how}-line", f"line {i + 1}", mlir_write(lines))


def g_mlir_weight_attr(art, rng, attr=None):
    """offset/length of a kiln.weight, or its path."""
    if art.mlir is None:
        return None
    lines = mlir_lines(art)
    ws = [i for i, l in enumerate(lines) if RE_MLIR_WEIGHT.search(l)]
    if not ws:
        return None
    i = pick(rng, ws)
    attr = attr or pick(rng, ["offset", "offset", "length", "path"])
    line = lines[i]
    if attr == "path":
        m = re.search(rb'path = "([^"]*)"', line)
        if not m:
            return None
        new = pick(rng, OUTSIDE_NAMES + ["kernels.fatbin", "scheduled.mlir"])
        lines[i] = line[:m.start(1)] + new.encode() + line[m.end(1):]
        return Mutation("mlir.weight-path", f"line {i + 1} -> {new}",
                        mlir_write(lines))
    m = re.search(attr.encode() + rb" = (-?[0-9]+)", line)
    if not m:
        return None
    orig = int(m.group(1))
    wsize = art.sizes.get("weights.bin", 0)
    new = pick(rng, [orig + 1, orig + 4, orig + 256, max(orig - 4, 0), 0, -1,
                     wsize, wsize + 4096, max(wsize - 4, 0), 2**32, 2**62,
                     2**63 - 1, orig * 2 + 8])
    if new == orig:
        new = orig + 256
    lines[i] = line[:m.start(1)] + str(new).encode() + line[m.end(1):]
    return Mutation(f"mlir.weight-{attr}", f"line {i + 1} {orig} -> {new}",
                    mlir_write(lines))


def g_mlir_weight_alias(art, rng):
    """A kiln.weight pointed at another weight of the same byte length (its
    offset copied): every size still agrees, the bytes are the wrong ones."""
    if art.mlir is None:
        return None
    lines = mlir_lines(art)
    ws = []
    for i, l in enumerate(lines):
        if RE_MLIR_WEIGHT.search(l):
            o = re.search(rb"offset = ([0-9]+)", l)
            n = re.search(rb"length = ([0-9]+)", l)
            if o and n:
                ws.append((i, o, int(n.group(1))))
    pairs = [(a, b) for a in ws for b in ws
             if a[0] != b[0] and a[2] == b[2] and a[1].group(1) != b[1].group(1)]
    if not pairs:
        return None
    (i, o, _), (j, o2, _) = pick(rng, pairs)
    lines[i] = lines[i][:o.start(1)] + o2.group(1) + lines[i][o.end(1):]
    return Mutation("mlir.weight-alias", f"line {i + 1} -> the bytes of line {j + 1}",
                    mlir_write(lines))


def g_mlir_shape(art, rng):
    if art.mlir is None:
        return None
    lines = mlir_lines(art)
    cands = [(i, m) for i, l in enumerate(lines)
             for m in re.finditer(rb"tensor<((?:[0-9]+x)+)", l)]
    if not cands:
        return None
    i, m = pick(rng, cands)
    dims = m.group(1)[:-1].split(b"x")
    k = rng.randrange(len(dims))
    d = int(dims[k])
    new = pick(rng, [d * 2, d + 1, max(d - 1, 0), 0, 1, 2**31, 2**40, 2**62])
    if new == d:
        new = d + 1
    dims[k] = str(new).encode()
    line = lines[i]
    lines[i] = line[:m.start(1)] + b"x".join(dims) + b"x" + line[m.end(1):]
    return Mutation("mlir.shape", f"line {i + 1} dim {k} {d} -> {new}",
                    mlir_write(lines))


def g_mlir_arena(art, rng):
    """The planner's kiln.arena_bytes / kiln.arena offsets."""
    if art.mlir is None:
        return None
    lines = mlir_lines(art)
    cands = []
    for i, l in enumerate(lines):
        for m in re.finditer(rb"kiln\.arena(?:_bytes)? = (?:array<i64: )?([0-9, ]+)", l):
            for n in re.finditer(rb"[0-9]+", m.group(1)):
                cands.append((i, m.start(1) + n.start(), m.start(1) + n.end()))
    if not cands:
        return None
    i, s, e = pick(rng, cands)
    orig = int(lines[i][s:e])
    A = art.arena_bytes or 2**20
    new = pick(rng, [orig + 4, orig + 256, A, A + 256, max(A - 4, 0), 0,
                     2**32, 2**40, 2**62, orig // 2])
    if new == orig:
        new = orig + 256
    lines[i] = lines[i][:s] + str(new).encode() + lines[i][e:]
    return Mutation("mlir.arena", f"line {i + 1} {orig} -> {new}", mlir_write(lines))


def g_mlir_number(art, rng):
    """Any integer literal of the IR (attributes, constants, types)."""
    if art.mlir is None:
        return None
    lines = mlir_lines(art)
    cands = [(i, m) for i, l in enumerate(lines) for m in RE_MLIR_INT.finditer(l)]
    if not cands:
        return None
    i, m = pick(rng, cands)
    orig = int(m.group(0))
    new = pick(rng, [-1, 0, orig + 1, orig * 2 + 1, 2**31, 2**32, 2**63 - 1,
                     -(2**63), rng.randrange(-1000, 1000)])
    if new == orig:
        new = orig + 1
    line = lines[i]
    lines[i] = line[:m.start()] + str(new).encode() + line[m.end():]
    return Mutation("mlir.number", f"line {i + 1} {orig} -> {new}", mlir_write(lines))


def g_mlir_garbage(art, rng):
    if art.mlir is None:
        return None
    data = art.mlir
    at = rng.randrange(len(data) + 1)
    junk = bytes(rng.randrange(256) for _ in range(rng.choice([1, 3, 16, 64])))
    if rng.random() < 0.5:
        return Mutation("mlir.garbage", f"{len(junk)} bytes inserted at {at}",
                        [("write", "scheduled.mlir", data[:at] + junk + data[at:])])
    return Mutation("mlir.garbage", f"{len(junk)} bytes overwritten at {at}",
                    [("write", "scheduled.mlir",
                      data[:at] + junk + data[at + len(junk):])])


RANDOM_GENERATORS = [
    # (generator, weight)
    (g_line_delete, 4), (g_line_dup, 3), (g_line_swap, 3), (g_token_delete, 2),
    (g_token_dup, 1), (g_number, 8), (g_weight_id, 3), (g_arena_ptr, 3),
    (g_kv_ptr, 2), (g_role, 2), (g_pointer_kind, 1), (g_dtype, 3), (g_shape, 3), (g_file_name, 2),
    (g_file_outside, 1), (g_hex, 3), (g_manifest_bytes, 2), (g_truncate, 4), (g_extend, 3),
    (g_delete, 1), (g_replace_kind, 1), (g_flip, 5), (g_mlir_line, 3),
    (g_mlir_weight_attr, 4), (g_mlir_weight_alias, 1), (g_mlir_shape, 3), (g_mlir_arena, 3),
    (g_mlir_number, 3), (g_mlir_garbage, 3),
]


def catalogue(art, rng):
    """The must-have mutations, whatever --count."""
    out = []

    def add(m, twin=None):
        """twin: None adds m; "both" adds m and its resealed twin; "sealed"
        adds only the twin (m when resealing is off)."""
        if m is None:
            return
        sealed = m.sealed() if art.can_reseal and twin else None
        if twin != "sealed" or sealed is None:
            out.append(m)
        if sealed is not None:
            out.append(sealed)

    for name in art.data_files:
        n = art.sizes[name]
        for size in sorted({0, 1, max(n - 1, 0), n // 2}):
            if size < n:
                add(g_truncate(art, rng, name, size), "both")
        add(g_extend(art, rng, name, 1), "both")
        add(g_extend(art, rng, name, 4096))
        add(g_delete(art, rng, name))
        add(g_replace_kind(art, rng, name, "directory"))
        if name != "scheduled.mlir":
            add(g_flip(art, rng, name, 1), "both")
    for r, t, tok in art.file_tokens:
        for value in ["../x", "/etc/passwd", "/dev/zero"]:
            add(Mutation("manifest.file-name", f"{art.m.where(r, t)} {tok} -> {value}",
                         [("write", MANIFEST, art.m.with_token(r, t, value))]))
    for value in ["-1", "0", str(2**63), str(2**64 - 1), str(2**64), str(2**32),
                  str(2**40), str(2**63 - 1)]:
        add(g_number(art, rng, value), "sealed")
    for value in [str(art.num_weights), str(2**32), str(2**64 - 1)]:
        add(g_weight_id(art, rng, value), "sealed")
    A = art.arena_bytes if art.arena_bytes is not None else 2**20
    for value in [str(A), str(2**40), str(2**64 - 1)]:
        add(g_arena_ptr(art, rng, value), "sealed")
    K = art.kv_bytes if art.kv_bytes is not None else 2**20
    for value in [str(K), str(2**64 - 1)]:
        add(g_kv_ptr(art, rng, value), "sealed")
    add(g_role(art, rng), "sealed")
    add(g_dtype(art, rng), "sealed")
    add(g_shape(art, rng), "sealed")
    add(g_number(art, rng))  # unsealed: the checksum must catch these
    add(g_line_swap(art, rng))
    for i in range(len(art.hexes)):  # every hash wrong once
        add(g_hex(art, rng, i, 0))
    for i in range(len(art.file_tokens)):
        add(g_file_outside(art, rng, i, "relative", False))
        add(g_file_outside(art, rng, i, "absolute", True))
    for r in range(len(art.m.records)):  # each record missing once
        lines = list(art.m.lines)
        del lines[art.m.records[r][0]]
        if r < 8 or rng.random() < 0.1:
            add(Mutation("manifest.delete-line", art.m.where(r),
                         [("write", MANIFEST, art.m.render(lines))]), "sealed")
    if art.mlir is not None:
        add(g_mlir_line(art, rng, "delete"), "both")
        add(g_mlir_line(art, rng, "dup"), "sealed")
        add(g_mlir_weight_attr(art, rng, "offset"), "both")
        add(g_mlir_weight_attr(art, rng, "length"), "sealed")
        add(g_mlir_weight_attr(art, rng, "path"), "sealed")
        add(g_mlir_weight_alias(art, rng), "sealed")
        add(g_mlir_shape(art, rng), "sealed")
        add(g_mlir_arena(art, rng), "sealed")
        add(g_mlir_number(art, rng), "sealed")
        add(g_mlir_garbage(art, rng), "sealed")
    return out


def make_mutations(art, seed, count):
    rng = random.Random(seed)
    muts = catalogue(art, rng)
    seen = {m.key() for m in muts}
    gens = [g for g, w in RANDOM_GENERATORS for _ in range(w)]
    tries = 0
    while len(muts) < count and tries < 100 * count:
        tries += 1
        m = pick(rng, gens)(art, rng)
        if m is not None and art.can_reseal and rng.random() < 0.5:
            m = m.sealed() or m
        if m is None or m.key() in seen:
            continue
        seen.add(m.key())
        muts.append(m)
    return muts


# --------------------------------------------------------------------------
# Running and classifying.


def have_gpu():
    return os.path.exists("/dev/nvidia0") or os.path.exists("/dev/nvidiactl")


def classify(backend, rc, out, err, timed_out, gpu):
    """(class, note)."""
    fail_lines = [l for l in out.splitlines() if "FAIL" in l]
    if timed_out:
        return "BAD-hang", "timed out"
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = f"signal {-rc}"
        return "BAD-signal", name
    if rc >= 128:
        return "BAD-signal", f"exit {rc}"
    if fail_lines:
        return "BAD-silent", "wrong answer: " + fail_lines[0].strip()
    if rc == 0:
        if backend == "cuda" and not gpu:
            return "BAD-silent", "exit 0 on cuda without a GPU"
        return "OK-match", ""
    errors = [l for l in err.splitlines() if "error:" in l]
    if errors:
        if "no CUDA device" in err:
            return "OK-error", "reached the device"
        return "OK-error", errors[0]
    return "BAD-silent", f"exit {rc} without an error: line"


def wait_for(path):
    """kiln-run may be replaced by a rebuild while we run: wait for it."""
    for _ in range(60):
        if os.access(path, os.X_OK):
            return
        time.sleep(5)
    die(f"{path}: missing or not executable")


def run_one(cmd, timeout, mem_mb):
    for attempt in range(10):
        wait_for(cmd[0])
        rc, out, err, timed_out = run_once(cmd, timeout, mem_mb)
        # 126/127 from the shell, or ETXTBSY: the binary was being replaced.
        if rc in (126, 127) and ("not found" in err or "busy" in err or
                                 "ermission denied" in err):
            time.sleep(5)
            continue
        return rc, out, err, timed_out
    return rc, out, err, timed_out


def run_once(cmd, timeout, mem_mb):
    if mem_mb:
        cmd = ["/bin/sh", "-c", f'ulimit -d {mem_mb * 1024} && exec "$@"',
               "sh"] + cmd
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                             start_new_session=True)
    except OSError as e:  # e.g. ETXTBSY while the binary is rewritten
        return 127, "", f"not found: {e}", False
    try:
        out, err = p.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        timed_out = True
    return (p.returncode, out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"), timed_out)


def kiln_cmd(args, art_dir, backend):
    cmd = [args.kiln_run, art_dir, f"--backend={backend}"]
    if args.input:
        cmd += ["--input"] + args.input
    if args.expect:
        cmd += ["--expect"] + args.expect
    return cmd


def run_mutation(args, src, idx, mut, gpu):
    """Copies, mutates, runs every backend; returns [(backend, class, note,
    stderr tail, rc)]."""
    name = f"{args.seed}-{idx}"
    d = os.path.join(args.work, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    art_dir = os.path.join(d, os.path.basename(src.rstrip("/")) or "a.kiln")
    shutil.copytree(src, art_dir, symlinks=True)
    mut.apply(art_dir)
    results = []
    for backend in args.backends:
        mem = args.memory_limit if (backend == "ref" or not gpu) else 0
        rc, out, err, timed_out = run_one(kiln_cmd(args, art_dir, backend),
                                          args.timeout, mem)
        cls, note = classify(backend, rc, out, err, timed_out, gpu)
        tail = [l for l in (err + out).splitlines() if l.strip()][-4:]
        results.append((backend, cls, note, tail, rc))
    if any(r[1].startswith("BAD") for r in results) and args.keep_bad:
        keep = os.path.join(args.keep_bad, name + ".kiln")
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(art_dir, keep, symlinks=True)
        with open(os.path.join(args.keep_bad, name + ".replay.sh"), "w") as f:
            f.write("#!/bin/sh\n# " + mut.kind + " " + mut.detail + "\n")
            for r in results:
                if r[1].startswith("BAD"):
                    f.write(" ".join(shlex.quote(c) for c in kiln_cmd(
                        args, os.path.abspath(keep), r[0])) + "\n")
    shutil.rmtree(d, ignore_errors=True)
    return results


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("artifact")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--work", help="scratch directory (created)")
    ap.add_argument("--kiln-run", dest="kiln_run")
    ap.add_argument("--input", nargs="+", default=[])
    ap.add_argument("--expect", nargs="+", default=[])
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--backends", default="ref,cuda",
                    help="comma-separated (default ref,cuda)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--keep-bad", dest="keep_bad")
    ap.add_argument("--memory-limit", dest="memory_limit", type=int, default=2048)
    ap.add_argument("--show-errors", dest="show_errors", action="store_true",
                    help="append each OK-error run's first error line")
    ap.add_argument("--list", action="store_true",
                    help="print the mutations and exit")
    args = ap.parse_args()
    args.backends = [b for b in args.backends.split(",") if b]
    for b in args.backends:
        if b not in ("ref", "cuda"):
            die(f"unknown backend '{b}'")
    args.artifact = os.path.abspath(args.artifact)
    if not os.path.isdir(args.artifact):
        die(f"{args.artifact}: not an artifact directory")

    art = Artifact(args.artifact)
    muts = make_mutations(art, args.seed, args.count)
    if args.list:
        for i, m in enumerate(muts):
            print(f"{args.seed}-{i} {m.kind} {m.detail}")
        print(f"mutations: {len(muts)}")
        return 0
    if not args.work or not args.kiln_run:
        die("--work and --kiln-run are needed (or --list)")
    args.kiln_run = os.path.abspath(args.kiln_run)
    args.input = [os.path.abspath(p) for p in args.input]
    args.expect = [os.path.abspath(p) for p in args.expect]
    args.work = os.path.abspath(args.work)
    os.makedirs(args.work, exist_ok=True)
    if args.keep_bad:
        args.keep_bad = os.path.abspath(args.keep_bad)
        os.makedirs(args.keep_bad, exist_ok=True)
    gpu = have_gpu()
    start = time.monotonic()

    # The unmutated artifact must match on ref and reach the device on cuda.
    print(f"artifact: {os.path.basename(args.artifact)}: "
          f"{len(art.m.records)} records, data files "
          f"{' '.join(f'{n}({art.sizes[n]})' for n in art.data_files)}; "
          f"{'a GPU' if gpu else 'no GPU'}; seed {args.seed}, "
          f"{len(muts)} mutations, {len(args.backends)} backend(s); "
          f"resealing {'on' if art.can_reseal else 'off'}")
    for (backend, cls, note, tail, rc) in run_mutation(
            args, args.artifact, "baseline", Mutation("none", "", []), gpu):
        want = "OK-match" if backend == "ref" or gpu else "OK-error"
        print(f"baseline {backend} -> {cls}" + (f"  ({note})" if note else ""))
        if cls != want:
            for l in tail:
                print("    | " + l)
            die(f"the unmutated artifact gives {cls} on {backend}, "
                f"expected {want}")

    counts = {}
    bad = ok = 0
    reached = 0
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = [pool.submit(run_mutation, args, args.artifact, i, m, gpu)
                   for i, m in enumerate(muts)]
        for i, (m, fut) in enumerate(zip(muts, futures)):
            for backend, cls, note, tail, rc in fut.result():
                counts[cls] = counts.get(cls, 0) + 1
                line = f"{args.seed}-{i} {m.kind} {m.detail} {backend} -> {cls}"
                if cls.startswith("BAD"):
                    bad += 1
                    print(line + f"  ({note})")
                    for l in tail:
                        print("    | " + l[:300])
                else:
                    ok += 1
                    if note == "reached the device":
                        reached += 1
                        line += f"  ({note})"
                    elif note and args.show_errors:
                        line += "  | " + note[:200]
                    print(line)
            sys.stdout.flush()
    elapsed = time.monotonic() - start
    print("classes: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
          + f"; cuda runs that passed validation: {reached}; {elapsed:.1f} s")
    print(f"mutations: {len(muts)}, runs: {ok + bad}, ok: {ok}, bad: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
