#!/usr/bin/env python3
"""Reads and re-seals kiln artifact manifests (docs/artifact.md, format 4),
for tests.

    kiln_artifact.py hash FILE...     print each file's XXH64 (manifest spelling)
    kiln_artifact.py seal DIR.kiln    rewrite DIR/manifest.txt so that every
                                      `<kind>_file NAME BYTES HASH` record holds
                                      the file's actual size and hash, and the
                                      final `checksum` record matches
    kiln_artifact.py show DIR.kiln    summarise a format-4 manifest: the KV
                                      cache, and per function its step, inputs
                                      and outputs (with roles) and launch count

`seal` is for hand-made test artifacts and for the corruption test's mutator,
which edits a manifest and re-seals it to reach the checks behind the checksum.
XXH64 is written here from its specification, independently of the C++ in
runtime/lib/Hash.cpp, so each checks the other (the unit tests check both
against the reference implementation's vectors).
"""
import os
import sys

_M = (1 << 64) - 1
_P1 = 0x9E3779B185EBCA87
_P2 = 0xC2B2AE3D27D4EB4F
_P3 = 0x165667B19E3779F9
_P4 = 0x85EBCA77C2B2AE63
_P5 = 0x27D4EB2F165667C5


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & _M


def _round(acc, lane):
    acc = (acc + lane * _P2) & _M
    return (_rotl(acc, 31) * _P1) & _M


def xxh64(data, seed=0):
    """XXH64 of `data` (bytes)."""
    n = len(data)
    p = 0
    if n >= 32:
        v = [(seed + _P1 + _P2) & _M, (seed + _P2) & _M, seed, (seed - _P1) & _M]
        lanes = memoryview(data)[: n - n % 32].cast("Q")
        for i in range(0, len(lanes), 4):
            v[0] = _round(v[0], lanes[i])
            v[1] = _round(v[1], lanes[i + 1])
            v[2] = _round(v[2], lanes[i + 2])
            v[3] = _round(v[3], lanes[i + 3])
        p = n - n % 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _M
        for lane in v:
            h ^= _round(0, lane)
            h = (h * _P1 + _P4) & _M
    else:
        h = (seed + _P5) & _M
    h = (h + n) & _M
    while p + 8 <= n:
        h ^= _round(0, int.from_bytes(data[p:p + 8], "little"))
        h = (_rotl(h, 27) * _P1 + _P4) & _M
        p += 8
    if p + 4 <= n:
        h ^= (int.from_bytes(data[p:p + 4], "little") * _P1) & _M
        h = (_rotl(h, 23) * _P2 + _P3) & _M
        p += 4
    while p < n:
        h ^= (data[p] * _P5) & _M
        h = (_rotl(h, 11) * _P1) & _M
        p += 1
    h ^= h >> 33
    h = (h * _P2) & _M
    h ^= h >> 29
    h = (h * _P3) & _M
    h ^= h >> 32
    return h


def spelling(h):
    return "xxh64:%016x" % h


def seal(artifact_dir):
    """Rewrites artifact_dir/manifest.txt with true file records and checksum."""
    path = os.path.join(artifact_dir, "manifest.txt")
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8", "surrogateescape").splitlines()
    out = []
    for line in lines:
        words = line.split("#", 1)[0].split()
        if words and words[0] == "checksum":
            continue
        if words and words[0].endswith("_file") and len(words) >= 2:
            name = words[1]
            target = os.path.join(artifact_dir, name)
            if "/" not in name and os.path.isfile(target):
                with open(target, "rb") as f:
                    data = f.read()
                line = "%s %s %d %s" % (words[0], name, len(data), spelling(xxh64(data)))
        out.append(line)
    body = "".join(l + "\n" for l in out).encode("utf-8", "surrogateescape")
    with open(path, "wb") as f:
        f.write(body + ("checksum %s\n" % spelling(xxh64(body))).encode())


FORMAT_VERSION = 4


def parse(text):
    """The records of a format-4 manifest (docs/artifact.md) as a dict:
    version, arch, arena_bytes, kv_cache (a dict, or None), weights, and
    functions (name, step (batch, seq) or None, inputs, outputs, launches).
    Inputs and outputs are dicts (index, name, dtype, shape, offset, bytes,
    role or None). This reads; it does not validate (the runtime's
    parseManifest does): a structural surprise raises ValueError naming the
    line."""
    out = {"version": None, "arch": None, "arena_bytes": None,
           "kv_cache": None, "weights": [], "functions": []}
    fn = None
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        kw = words[0]
        try:
            if kw == "kiln-artifact":
                out["version"] = int(words[1])
                if out["version"] != FORMAT_VERSION:
                    raise ValueError("format version %s (this script reads %d)"
                                     % (words[1], FORMAT_VERSION))
            elif kw == "arch":
                out["arch"] = words[1]
            elif kw == "arena_bytes":
                out["arena_bytes"] = int(words[1])
            elif kw == "kv_cache":
                keys = ["layers", "kv_heads", "head_dim", "max_batch", "max_seq"]
                kv = {k: int(v) for k, v in zip(keys, words[1:6])}
                kv["dtype"] = words[6]
                kv["bytes"] = int(words[7])
                out["kv_cache"] = kv
            elif kw == "weight":
                out["weights"].append({"id": int(words[1]), "name": words[2],
                                       "dtype": words[3], "shape": words[4],
                                       "offset": int(words[5]),
                                       "bytes": int(words[6])})
            elif kw == "function":
                fn = {"name": words[1], "step": None, "inputs": [],
                      "outputs": [], "launches": 0, "declared": int(words[2])}
                out["functions"].append(fn)
            elif kw == "step":
                fn["step"] = (int(words[1]), int(words[2]))
            elif kw in ("input", "output"):
                rec = {"index": int(words[1]), "name": words[2],
                       "dtype": words[3], "shape": words[4],
                       "offset": int(words[5]), "bytes": int(words[6]),
                       "role": words[8] if len(words) == 9 and words[7] == "role"
                       else None}
                fn[kw + "s"].append(rec)
            elif kw == "launch":
                fn["launches"] += 1
            elif kw == "end":
                fn = None
        except (IndexError, TypeError, ValueError) as e:
            raise ValueError("manifest line %d: %s: %s" % (n, line.strip(), e))
    return out


def show(artifact_dir):
    """Prints a summary of artifact_dir/manifest.txt."""
    with open(os.path.join(artifact_dir, "manifest.txt"), "rb") as f:
        m = parse(f.read().decode("utf-8", "surrogateescape"))
    print("kiln-artifact %d %s, arena %d bytes, %d weights"
          % (m["version"], m["arch"], m["arena_bytes"], len(m["weights"])))
    kv = m["kv_cache"]
    if kv:
        print("kv_cache: %(layers)d layers, %(kv_heads)d kv heads, head_dim "
              "%(head_dim)d, max_batch %(max_batch)d, max_seq %(max_seq)d, "
              "%(dtype)s, %(bytes)d bytes" % kv)
    for fn in m["functions"]:
        step = " step %d %d" % fn["step"] if fn["step"] else ""
        print("function %s:%s %d launches" % (fn["name"], step, fn["launches"]))
        for kind in ("inputs", "outputs"):
            for t in fn[kind]:
                role = " role " + t["role"] if t["role"] else ""
                print("  %s %d %s %s %s @%d%s" % (kind[:-1], t["index"], t["name"],
                                                  t["dtype"], t["shape"], t["offset"],
                                                  role))


def main(argv):
    if len(argv) >= 2 and argv[0] == "hash":
        for name in argv[1:]:
            with open(name, "rb") as f:
                print(spelling(xxh64(f.read())), name)
        return 0
    if len(argv) == 2 and argv[0] == "seal":
        seal(argv[1])
        return 0
    if len(argv) == 2 and argv[0] == "show":
        try:
            show(argv[1])
        except ValueError as e:
            sys.stderr.write("kiln_artifact.py: %s: %s\n" % (argv[1], e))
            return 1
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
