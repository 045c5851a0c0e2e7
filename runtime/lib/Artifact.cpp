//===- Artifact.cpp - parse and validate a kiln artifact ------------------===//
//
// The manifest parser (docs/artifact.md, format version 4) and the loader of
// an artifact directory. Everything the CUDA executor later trusts (record
// order, counts, byte sizes, offsets into the arena, the weights and the KV
// cache region, weight ids, gemm operand extents, input/output roles) is
// checked here, so a corrupt or truncated artifact is refused with a message
// naming the file and line before any device memory is touched.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Artifact.h"
#include "kiln/runtime/Hash.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <sys/stat.h>

namespace kiln::runtime {

std::string PointerRef::str() const {
  switch (kind) {
  case Kind::None:
    return "-";
  case Kind::Arena:
    return "a:" + std::to_string(value);
  case Kind::Weight:
    return "w:" + std::to_string(value);
  case Kind::Kv:
    return "k:" + std::to_string(value);
  }
  return "?";
}

uint64_t KvCacheSpec::expectedBytes() const {
  unsigned __int128 n = dtypeByteWidth(dtype) * 2;
  for (int64_t d : {layers, maxBatch, kvHeads, maxSeq, headDim}) {
    if (d <= 0)
      return 0;
    n *= uint64_t(d);
    if (n > (uint64_t(1) << 62))
      return 0;
  }
  return uint64_t(n);
}

bool isInputRole(const std::string &role) {
  return role == "tokens" || role == "positions" || role == "mask" ||
         role == "kv_pos";
}

bool isOutputRole(const std::string &role) { return role == "logits"; }

/// `v` in the fewest digits that read back as the same float (%.9g is
/// always enough for a float).
static std::string floatText(float v) {
  char buf[32];
  for (int digits = 6; digits <= 9; ++digits) {
    std::snprintf(buf, sizeof(buf), "%.*g", digits, double(v));
    if (std::strtof(buf, nullptr) == v)
      break;
  }
  return buf;
}

/// The first record of `list` whose role is `role`, or nullptr.
static const TensorSpec *withRole(const std::vector<TensorSpec> &list,
                                  const std::string &role) {
  if (role.empty())
    return nullptr;
  for (const TensorSpec &t : list)
    if (t.role == role)
      return &t;
  return nullptr;
}

const TensorSpec *Function::inputWithRole(const std::string &role) const {
  return withRole(inputs, role);
}

const TensorSpec *Function::outputWithRole(const std::string &role) const {
  return withRole(outputs, role);
}

std::string Launch::label() const {
  if (kind == Kind::Kernel)
    return kernel.name;
  return "gemm " + std::to_string(gemm.m) + "x" + std::to_string(gemm.n) + "x" +
         std::to_string(gemm.k);
}

const Function *Manifest::findFunction(const std::string &name) const {
  for (const Function &f : functions)
    if (f.name == name)
      return &f;
  return nullptr;
}

std::string Artifact::where(int line) const {
  return manifestPath + ":" + std::to_string(line);
}

namespace {

/// Parses a non-negative decimal integer <= `max`.
bool parseUInt(const std::string &s, uint64_t &v,
               uint64_t max = (uint64_t(1) << 62)) {
  if (s.empty() || s.size() > 19)
    return false;
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + uint64_t(c - '0');
  }
  return v <= max;
}

/// Parses `1x8x512` or `scalar`.
bool parseShape(const std::string &s, std::vector<int64_t> &shape) {
  shape.clear();
  if (s == "scalar")
    return true;
  size_t start = 0;
  while (true) {
    size_t x = s.find('x', start);
    uint64_t d;
    if (!parseUInt(s.substr(start, x - start), d, uint64_t(1) << 40))
      return false;
    shape.push_back(int64_t(d));
    if (x == std::string::npos)
      return true;
    start = x + 1;
  }
}

bool isIdentifier(const std::string &s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
          c == '.'))
      return false;
  return true;
}

/// The parser state: which records may come next.
enum class Stage {
  Magic,
  Arch,
  DependentLaunch,
  Arena,
  KvCache,
  WeightsFile,
  KernelsFile,
  IrFile,
  Tensors,
  InFunction,
  AfterFunction,
  Done
};

class ManifestParser {
public:
  ManifestParser(const std::string &fileName, Manifest &m, std::string &error)
      : fileName(fileName), m(m), error(error) {}

  bool parse(const std::string &text);

private:
  bool fail(const std::string &msg) {
    error = fileName + ":" + std::to_string(line) + ": " + msg;
    return false;
  }
  bool expectCount(size_t n, const char *usage) {
    if (tok.size() == n)
      return true;
    return fail("'" + tok[0] + "' record needs " + std::to_string(n - 1) +
                " fields (" + usage + "), got " +
                std::to_string(tok.size() - 1));
  }
  bool number(size_t i, const char *what, uint64_t &v,
              uint64_t max = (uint64_t(1) << 62)) {
    if (parseUInt(tok[i], v, max))
      return true;
    return fail("invalid " + std::string(what) + " '" + tok[i] + "'");
  }
  bool record();
  bool kvCacheRecord();
  bool functionRecord();
  bool functionEnd();
  bool stepRecord();
  bool tensorRecord(std::vector<TensorSpec> &list, bool isWeight);
  bool checkRole(const TensorSpec &t, bool isInput);
  bool pointer(size_t i, PointerRef &ref, bool allowNone);
  bool checkExtent(const PointerRef &ref, uint64_t elements, uint64_t stride,
                   uint64_t batch, const char *what, int64_t records = 1);
  bool kernelLaunch(Launch &launch);
  bool gemmLaunch(Launch &launch);

  const std::string &fileName;
  Manifest &m;
  std::string &error;
  std::vector<std::string> tok;
  int line = 0;
  Stage stage = Stage::Magic;
  /// Launches the current function still expects.
  uint64_t pending = 0;
  /// Where the current function is: 0 = just opened (`step` allowed),
  /// 1 = inputs, 2 = outputs, 3 = launches.
  int phase = 0;
  /// Byte offset of the current line in the text.
  size_t lineStart = 0;
  /// The `checksum` record: its value and the byte offset of its line.
  uint64_t checksum = 0;
  size_t checksumStart = 0;
  int checksumLine = 0;
  /// Element type of the gemm record being checked (checkExtent).
  DType gemmDtype = DType::F32;
};

bool ManifestParser::parse(const std::string &text) {
  std::istringstream in(text);
  std::string raw;
  for (size_t next = 0; std::getline(in, raw); next = size_t(in.tellg())) {
    lineStart = next;
    ++line;
    size_t hash = raw.find('#');
    if (hash != std::string::npos)
      raw.resize(hash);
    std::istringstream words(raw);
    tok.clear();
    for (std::string w; words >> w;)
      tok.push_back(w);
    if (tok.empty())
      continue;
    if (!record())
      return false;
  }
  // Errors at the end of the text name the last line (the function record
  // for a missing 'end').
  if (line == 0)
    line = 1;
  if (stage == Stage::Magic) {
    line = 1;
    return fail("empty manifest: expected 'kiln-artifact " +
                std::to_string(kArtifactFormatVersion) + "'");
  }
  if (stage == Stage::InFunction) {
    line = m.functions.back().line;
    return fail("truncated manifest: function '" + m.functions.back().name +
                "' has no 'end' (" + std::to_string(pending) +
                " launches missing)");
  }
  if (stage == Stage::AfterFunction)
    return fail("truncated manifest: no 'checksum' record");
  if (stage != Stage::Done)
    return fail("truncated manifest: no 'function' record");
  uint64_t actual = xxh64(text.data(), checksumStart);
  if (actual != checksum) {
    line = checksumLine;
    return fail("manifest checksum " + formatHash(actual) +
                " does not match the recorded " + formatHash(checksum) +
                " (the manifest was edited or corrupted)");
  }
  return true;
}

bool ManifestParser::record() {
  const std::string &kw = tok[0];
  switch (stage) {
  case Stage::Magic: {
    if (kw != "kiln-artifact")
      return fail("not a kiln artifact manifest: expected 'kiln-artifact " +
                  std::to_string(kArtifactFormatVersion) + "', got '" + kw +
                  "'");
    if (!expectCount(2, "kiln-artifact <version>"))
      return false;
    uint64_t v;
    if (!parseUInt(tok[1], v, 1000000) || v != kArtifactFormatVersion)
      return fail("unsupported artifact format version '" + tok[1] +
                  "' (this runtime reads version " +
                  std::to_string(kArtifactFormatVersion) + ")" +
                  (parseUInt(tok[1], v, 1000000) && v < kArtifactFormatVersion
                       ? "; the artifact was written by an older kiln-compile: "
                         "recompile the model"
                       : ""));
    m.version = int(v);
    stage = Stage::Arch;
    return true;
  }
  case Stage::Arch:
    if (kw != "arch")
      return fail("expected 'arch' record, got '" + kw + "'");
    if (!expectCount(2, "arch <sm_XX>"))
      return false;
    if (tok[1].compare(0, 3, "sm_") != 0 || tok[1].size() < 5)
      return fail("invalid arch '" + tok[1] + "' (expected sm_XX)");
    m.arch = tok[1];
    stage = Stage::DependentLaunch;
    return true;
  case Stage::DependentLaunch:
    stage = Stage::Arena;
    if (kw == "dependent_launch") {
      if (!expectCount(1, "dependent_launch"))
        return false;
      m.dependentLaunch = true;
      return true;
    }
    [[fallthrough]];
  case Stage::Arena:
    if (kw != "arena_bytes")
      return fail("expected 'arena_bytes' record, got '" + kw + "'");
    if (!expectCount(2, "arena_bytes <N>") ||
        !number(1, "arena size", m.arenaBytes))
      return false;
    stage = Stage::KvCache;
    return true;
  case Stage::KvCache:
    stage = Stage::WeightsFile;
    if (kw == "kv_cache")
      return kvCacheRecord();
    [[fallthrough]];
  case Stage::WeightsFile:
  case Stage::KernelsFile:
  case Stage::IrFile: {
    const char *want = stage == Stage::WeightsFile   ? "weights_file"
                       : stage == Stage::KernelsFile ? "kernels_file"
                                                     : "ir_file";
    DataFile &file = stage == Stage::WeightsFile   ? m.weightsFile
                     : stage == Stage::KernelsFile ? m.kernelsFile
                                                   : m.irFile;
    if (kw != want)
      return fail("expected '" + std::string(want) + "' record, got '" + kw +
                  "'");
    if (!expectCount(4, "<kind>_file <file> <bytes> xxh64:<16 hex digits>"))
      return false;
    if (tok[1].find('/') != std::string::npos ||
        tok[1].find('\\') != std::string::npos || tok[1] == "." ||
        tok[1] == ".." || tok[1] == "manifest.txt")
      return fail("file name '" + tok[1] +
                  "' must name a data file inside the artifact directory");
    for (const DataFile *other : {&m.weightsFile, &m.kernelsFile})
      if (other != &file && other->name == tok[1])
        return fail("file '" + tok[1] + "' is recorded twice");
    if (!number(2, "file size", file.bytes))
      return false;
    if (!parseHash(tok[3], file.hash))
      return fail("invalid content hash '" + tok[3] +
                  "' (expected xxh64: and 16 lower-case hex digits)");
    file.name = tok[1];
    file.line = line;
    stage = stage == Stage::WeightsFile   ? Stage::KernelsFile
            : stage == Stage::KernelsFile ? Stage::IrFile
                                          : Stage::Tensors;
    return true;
  }
  case Stage::Tensors:
    if (kw == "weight")
      return tensorRecord(m.weights, /*isWeight=*/true);
    [[fallthrough]];
  case Stage::AfterFunction: {
    if (kw == "checksum" && stage == Stage::AfterFunction) {
      if (!expectCount(2, "checksum xxh64:<16 hex digits>"))
        return false;
      if (!parseHash(tok[1], checksum))
        return fail("invalid checksum '" + tok[1] +
                    "' (expected xxh64: and 16 lower-case hex digits)");
      checksumStart = lineStart;
      checksumLine = line;
      stage = Stage::Done;
      return true;
    }
    if (kw == "function")
      return functionRecord();
    if (kw == "input" || kw == "output" || kw == "step")
      return fail("'" + kw +
                  "' record outside a function (in format 3 inputs, outputs "
                  "and steps belong to a 'function' record)");
    if (kw == "weight")
      return fail("'weight' record after a 'function' record");
    return fail("unknown or misplaced record '" + kw + "'");
  }
  case Stage::InFunction: {
    Function &f = m.functions.back();
    if (kw == "end")
      return functionEnd();
    if (kw == "step") {
      if (phase != 0)
        return fail("'step' record must be the first record of function '" +
                    f.name + "'");
      phase = 1;
      return stepRecord();
    }
    if (kw == "input") {
      if (phase > 1)
        return fail("'input' record after 'output' or 'launch' records of "
                    "function '" +
                    f.name + "'");
      phase = 1;
      return tensorRecord(f.inputs, false);
    }
    if (kw == "output") {
      if (phase > 2)
        return fail("'output' record after 'launch' records of function '" +
                    f.name + "'");
      phase = 2;
      return tensorRecord(f.outputs, false);
    }
    if (kw != "launch")
      return fail("unknown or misplaced record '" + kw +
                  "' (expected 'step', 'input', 'output', 'launch' or "
                  "'end')");
    phase = 3;
    if (!pending)
      return fail("more launches than function '" + m.functions.back().name +
                  "' declares");
    if (tok.size() < 2)
      return fail("'launch' record needs a kind (kernel or gemm)");
    Launch launch;
    launch.line = line;
    if (tok[1] == "kernel") {
      if (!kernelLaunch(launch))
        return false;
    } else if (tok[1] == "gemm") {
      if (!gemmLaunch(launch))
        return false;
    } else {
      return fail("unknown launch kind '" + tok[1] +
                  "' (expected kernel or gemm)");
    }
    m.functions.back().launches.push_back(std::move(launch));
    --pending;
    return true;
  }
  case Stage::Done:
    return fail("record '" + kw +
                "' after the 'checksum' record (which "
                "must be the last)");
  }
  return fail("internal error: bad parser state");
}

bool ManifestParser::kvCacheRecord() {
  const char *usage = "kv_cache <layers> <kv_heads> <head_dim> <max_batch> "
                      "<max_seq> <dtype> <bytes>";
  if (!expectCount(8, usage))
    return false;
  KvCacheSpec &kv = m.kvCache;
  const char *what[5] = {"kv_cache layers", "kv_cache kv_heads",
                         "kv_cache head_dim", "kv_cache max_batch",
                         "kv_cache max_seq"};
  int64_t *dims[5] = {&kv.layers, &kv.kvHeads, &kv.headDim, &kv.maxBatch,
                      &kv.maxSeq};
  for (int i = 0; i < 5; ++i) {
    uint64_t v;
    if (!number(size_t(1 + i), what[i], v, uint64_t(1) << 40))
      return false;
    if (!v)
      return fail(std::string(what[i]) + " must be at least 1");
    *dims[i] = int64_t(v);
  }
  if (!parseDType(tok[6], kv.dtype))
    return fail("unknown dtype '" + tok[6] +
                "' (expected f32 f16 bf16 f64 i64 i32 i8 u8 bool)");
  if (kv.dtype != DType::F32 && kv.dtype != DType::F16 &&
      kv.dtype != DType::BF16 && kv.dtype != DType::F64)
    return fail("kv_cache dtype '" + tok[6] +
                "' is not a float type (f32 f16 bf16 f64)");
  uint64_t bytes;
  if (!number(7, "kv_cache byte size", bytes))
    return false;
  uint64_t want = kv.expectedBytes();
  if (!want)
    return fail("kv_cache is too large");
  if (bytes != want)
    return fail("kv_cache: " + tok[7] + " bytes does not match layers " +
                tok[1] + " x 2 x max_batch " + tok[4] + " x kv_heads " +
                tok[2] + " x max_seq " + tok[5] + " x head_dim " + tok[3] +
                " x " + tok[6] + " (" + std::to_string(want) + " bytes)");
  kv.bytes = bytes;
  kv.line = line;
  return true;
}

bool ManifestParser::functionRecord() {
  if (!expectCount(3, "function <name> <num_launches>"))
    return false;
  if (!isIdentifier(tok[1]))
    return fail("invalid function name '" + tok[1] + "'");
  if (m.findFunction(tok[1]))
    return fail("duplicate function '" + tok[1] + "'");
  if (!number(2, "launch count", pending, 1u << 24))
    return false;
  Function f;
  f.name = tok[1];
  f.line = line;
  m.functions.push_back(f);
  stage = Stage::InFunction;
  phase = 0;
  return true;
}

bool ManifestParser::functionEnd() {
  Function &f = m.functions.back();
  if (!expectCount(1, "end"))
    return false;
  if (pending)
    return fail("function '" + f.name + "' declares " +
                std::to_string(f.launches.size() + pending) +
                " launches but has " + std::to_string(f.launches.size()));
  // A generation step feeds tokens and reads logits; without them the
  // runtime could not drive it.
  if (f.isStep() && (!f.inputWithRole("tokens") || !f.outputWithRole("logits")))
    return fail("step function '" + f.name +
                "' needs an input with role tokens and an output with role "
                "logits");
  stage = Stage::AfterFunction;
  return true;
}

bool ManifestParser::stepRecord() {
  Function &f = m.functions.back();
  if (!expectCount(3, "step <batch> <seq>"))
    return false;
  uint64_t b, s;
  if (!number(1, "step batch", b, uint64_t(1) << 40) ||
      !number(2, "step sequence length", s, uint64_t(1) << 40))
    return false;
  if (!b || !s)
    return fail("step batch and sequence length must be at least 1");
  if (m.kvCache.present() &&
      (int64_t(b) > m.kvCache.maxBatch || int64_t(s) > m.kvCache.maxSeq))
    return fail("step " + tok[1] + " " + tok[2] +
                " does not fit the kv_cache of line " +
                std::to_string(m.kvCache.line) + " (max_batch " +
                std::to_string(m.kvCache.maxBatch) + ", max_seq " +
                std::to_string(m.kvCache.maxSeq) + ")");
  f.stepBatch = int64_t(b);
  f.stepSeq = int64_t(s);
  f.stepLine = line;
  return true;
}

/// True for the integer dtypes a token id or position may have.
static bool isIntDType(DType d) {
  return d == DType::I64 || d == DType::I32 || d == DType::I8 || d == DType::U8;
}

bool ManifestParser::checkRole(const TensorSpec &t, bool isInput) {
  const Function &f = m.functions.back();
  const std::string &r = t.role;
  std::string what = tok[0] + " '" + t.name + "' (role " + r + ")";
  if (isInput ? !isInputRole(r) : !isOutputRole(r))
    return fail("unknown " + tok[0] + " role '" + r + "' (expected " +
                (isInput ? "tokens, positions, mask or kv_pos" : "logits") +
                ")");
  if (const TensorSpec *other =
          isInput ? f.inputWithRole(r) : f.outputWithRole(r))
    return fail("function '" + f.name + "' has two " + tok[0] + "s with role " +
                r + " ('" + other->name + "' of line " +
                std::to_string(other->line) + " and '" + t.name + "')");
  // The dtype and rank each role has; dims against the step when there is
  // one.
  int64_t b = f.stepBatch, s = f.stepSeq;
  std::vector<int64_t> want;
  const char *dtypes;
  bool dtypeOk;
  if (r == "tokens" || r == "positions") {
    dtypes = "an integer";
    dtypeOk = isIntDType(t.dtype);
    want = {b, s};
  } else if (r == "mask") {
    dtypes = "an integer or bool";
    dtypeOk = isIntDType(t.dtype) || t.dtype == DType::Bool;
    if (f.isStep() && !m.kvCache.present())
      return fail(what + " needs the kv_cache record (its last dim is "
                         "max_seq)");
    want = {b, m.kvCache.maxSeq};
  } else if (r == "kv_pos") {
    dtypes = "i64";
    dtypeOk = t.dtype == DType::I64;
    want = {b};
  } else {
    dtypes = "f32";
    dtypeOk = t.dtype == DType::F32;
    want = {b, s, t.shape.size() == 3 ? t.shape[2] : 0};
  }
  if (!dtypeOk)
    return fail(what + " must be " + dtypes + " tensor, got " +
                dtypeName(t.dtype));
  if (t.shape.size() != want.size())
    return fail(what + " must have rank " + std::to_string(want.size()) +
                ", got " + formatShape(t.shape));
  if (!f.isStep())
    return true;
  if (r == "logits" && t.shape[2] < 1)
    return fail(what + " has an empty vocabulary");
  if (t.shape != want) {
    std::string dims = r == "logits"   ? "[batch, seq, vocab]"
                       : r == "kv_pos" ? "[batch]"
                       : r == "mask"   ? "[batch, max_seq]"
                                       : "[batch, seq]";
    return fail(what + " is " + formatShape(t.shape) + " but step " +
                std::to_string(b) + " " + std::to_string(s) +
                (r == "mask"
                     ? " and max_seq " + std::to_string(m.kvCache.maxSeq)
                     : std::string()) +
                " make it " + formatShape(want) + " " + dims +
                " (step of line " + std::to_string(f.stepLine) + ")");
  }
  return true;
}

bool ManifestParser::tensorRecord(std::vector<TensorSpec> &list,
                                  bool isWeight) {
  // Inputs and outputs may end in `role <r>`.
  bool hasRole = !isWeight && tok.size() == 9;
  if (hasRole && tok[7] != "role")
    return fail("unknown " + tok[0] + " field '" + tok[7] +
                "' (expected 'role <r>')");
  if (!hasRole &&
      !expectCount(
          7, isWeight ? "weight <id> <name> <dtype> <shape> <offset> <bytes>"
                      : "<idx> <name> <dtype> <shape> <arena_offset> <bytes> "
                        "[role <r>]"))
    return false;
  TensorSpec t;
  t.line = line;
  uint64_t idx;
  if (!number(1, isWeight ? "weight id" : "index", idx))
    return false;
  if (idx != list.size())
    return fail(tok[0] + " index " + tok[1] + " out of order (expected " +
                std::to_string(list.size()) + ")");
  t.index = int64_t(idx);
  t.name = tok[2];
  if (!parseDType(tok[3], t.dtype))
    return fail("unknown dtype '" + tok[3] +
                "' (expected f32 f16 bf16 f64 i64 i32 i8 u8 bool)");
  if (!parseShape(tok[4], t.shape))
    return fail("invalid shape '" + tok[4] +
                "' (expected e.g. 1x8x512 or scalar)");
  if (!number(5, "offset", t.offset) || !number(6, "byte size", t.bytes))
    return false;
  unsigned __int128 want = dtypeByteWidth(t.dtype);
  // Dims are at most 2^40 and the running product stays at most 2^62, so
  // the 128-bit product never wraps.
  for (int64_t d : t.shape) {
    want *= uint64_t(d);
    if (want > (uint64_t(1) << 62))
      return fail(tok[0] + " '" + t.name + "': shape " + tok[4] +
                  " is too large");
  }
  if (want != t.bytes)
    return fail(tok[0] + " '" + t.name + "': " + tok[6] +
                " bytes does not match " + tok[3] + " " + tok[4]);
  if (isWeight) {
    if (t.offset % kWeightAlignment)
      return fail("weight '" + t.name + "': offset " + tok[5] +
                  " is not 256-byte aligned");
    if (t.offset + t.bytes > m.weightsFile.bytes)
      return fail("weight '" + t.name + "': offset " + tok[5] + " + " + tok[6] +
                  " bytes is past the end of " + m.weightsFile.name + " (" +
                  std::to_string(m.weightsFile.bytes) + " bytes)");
  } else if (t.offset + t.bytes > m.arenaBytes) {
    return fail(tok[0] + " '" + t.name + "': arena offset " + tok[5] + " + " +
                tok[6] + " bytes is past arena_bytes " +
                std::to_string(m.arenaBytes));
  } else if (t.offset % kArenaAlignment) {
    return fail(tok[0] + " '" + t.name + "': arena offset " + tok[5] +
                " is not 256-byte aligned");
  } else {
    // A function's inputs and outputs are all live at once (inputs are
    // copied in before the step, outputs read after it): none may share a
    // byte. Other functions' records may: functions never run at once.
    const Function &f = m.functions.back();
    for (const std::vector<TensorSpec> *other : {&f.inputs, &f.outputs})
      for (const TensorSpec &o : *other)
        if (t.bytes && o.bytes && t.offset < o.offset + o.bytes &&
            o.offset < t.offset + t.bytes)
          return fail(tok[0] + " '" + t.name + "' (arena [" + tok[5] + ", " +
                      std::to_string(t.offset + t.bytes) + ")) overlaps '" +
                      o.name + "' of line " + std::to_string(o.line));
    if (hasRole) {
      t.role = tok[8];
      if (!checkRole(t, tok[0] == "input"))
        return false;
    }
  }
  list.push_back(std::move(t));
  return true;
}

bool ManifestParser::pointer(size_t i, PointerRef &ref, bool allowNone) {
  const std::string &s = tok[i];
  if (s == "-" && allowNone) {
    ref.kind = PointerRef::Kind::None;
    return true;
  }
  if (s.size() > 2 && s[1] == ':' &&
      (s[0] == 'a' || s[0] == 'w' || s[0] == 'k')) {
    uint64_t v;
    if (parseUInt(s.substr(2), v)) {
      if (s[0] == 'a') {
        if (v >= m.arenaBytes)
          return fail("arena pointer '" + s + "' is past arena_bytes " +
                      std::to_string(m.arenaBytes));
        ref.kind = PointerRef::Kind::Arena;
      } else if (s[0] == 'k') {
        if (!m.kvCache.present())
          return fail("KV cache pointer '" + s +
                      "' but the manifest has no 'kv_cache' record");
        if (v >= m.kvCache.bytes)
          return fail("KV cache pointer '" + s + "' is past the kv_cache's " +
                      std::to_string(m.kvCache.bytes) + " bytes");
        ref.kind = PointerRef::Kind::Kv;
      } else {
        if (v >= m.weights.size())
          return fail("unknown weight id in '" + s + "' (" +
                      std::to_string(m.weights.size()) + " weights)");
        ref.kind = PointerRef::Kind::Weight;
      }
      ref.value = v;
      return true;
    }
  }
  return fail("invalid pointer argument '" + s +
              "' (expected a:<offset>, w:<id>" +
              (allowNone ? ", k:<offset> or -)" : " or k:<offset>)"));
}

bool ManifestParser::checkExtent(const PointerRef &ref, uint64_t elements,
                                 uint64_t stride, uint64_t batch,
                                 const char *what, int64_t records) {
  if (ref.kind == PointerRef::Kind::None)
    return true;
  unsigned __int128 need = ((unsigned __int128)(batch - 1) * stride + elements) *
                           uint64_t(dtypeByteWidth(gemmDtype));
  // A weight operand reads its record, or with `b_records <n>` (B only)
  // the n records from it, which abut (a weight concatenation).
  unsigned __int128 have =
      ref.kind == PointerRef::Kind::Arena ? m.arenaBytes - ref.value
      : ref.kind == PointerRef::Kind::Kv  ? m.kvCache.bytes - ref.value
                                          : m.weights[ref.value].bytes;
  if (ref.kind == PointerRef::Kind::Weight && records > 1) {
    const TensorSpec &first = m.weights[ref.value];
    const TensorSpec &last = m.weights[ref.value + records - 1];
    have = last.offset + last.bytes - first.offset;
  }
  if (need <= have)
    return true;
  return fail(std::string("gemm operand ") + what + " (" + ref.str() +
              ") needs " + std::to_string(uint64_t(need)) + " bytes but only " +
              std::to_string(uint64_t(have)) +
              (ref.kind == PointerRef::Kind::Arena ? " remain in the arena"
               : ref.kind == PointerRef::Kind::Kv
                   ? " remain in the KV cache region"
                   : " are in weight '" + m.weights[ref.value].name + "'" +
                         (records > 1 ? " and the " + std::to_string(records - 1) +
                                            " after it"
                                      : std::string())));
}

bool ManifestParser::kernelLaunch(Launch &launch) {
  launch.kind = Launch::Kind::Kernel;
  KernelLaunch &k = launch.kernel;
  if (tok.size() < 11)
    return fail("'launch kernel' needs <name> <gx> <gy> <gz> <bx> <by> <bz> "
                "<smem_bytes> <nargs> <arg>...");
  if (!isIdentifier(tok[2]))
    return fail("invalid kernel name '" + tok[2] + "'");
  k.name = tok[2];
  static const uint64_t gridMax[3] = {0x7fffffff, 65535, 65535};
  static const uint64_t blockMax[3] = {1024, 1024, 64};
  for (int d = 0; d < 3; ++d) {
    uint64_t g, b;
    if (!number(3 + d, "grid dimension", g, gridMax[d]) ||
        !number(6 + d, "block dimension", b, blockMax[d]))
      return false;
    if (!g || !b)
      return fail("kernel '" + k.name +
                  "': grid and block dimensions must be "
                  "at least 1");
    k.grid[d] = uint32_t(g);
    k.block[d] = uint32_t(b);
  }
  if (uint64_t(k.block[0]) * k.block[1] * k.block[2] > 1024)
    return fail("kernel '" + k.name + "': more than 1024 threads per block");
  uint64_t smem, nargs;
  if (!number(9, "shared memory size", smem, 232448) ||
      !number(10, "argument count", nargs, 4096))
    return false;
  k.smemBytes = uint32_t(smem);
  // An optional trailing `prefetch <n>`: the last n args are prefetch-only.
  size_t end = tok.size();
  if (end >= 13 && tok[end - 2] == "prefetch") {
    uint64_t n;
    if (!number(end - 1, "prefetch argument count", n, nargs))
      return false;
    k.prefetchArgs = uint32_t(n);
    end -= 2;
  }
  // An optional `rows <i>,<j>,...` before it: args read only by rows.
  if (end >= 13 && tok[end - 2] == "rows") {
    std::stringstream list(tok[end - 1]);
    std::string item;
    while (std::getline(list, item, ',')) {
      uint64_t i = 0;
      if (!parseUInt(item, i) || i >= nargs ||
          (!k.rowArgs.empty() && i <= k.rowArgs.back()))
        return fail("kernel '" + k.name + "': 'rows' takes increasing "
                    "argument indices below " + std::to_string(nargs) +
                    " separated by commas, got '" + tok[end - 1] + "'");
      k.rowArgs.push_back(uint32_t(i));
    }
    if (k.rowArgs.empty() || tok[end - 1].back() == ',')
      return fail("kernel '" + k.name + "': 'rows' takes increasing "
                  "argument indices below " + std::to_string(nargs) +
                  " separated by commas, got '" + tok[end - 1] + "'");
    end -= 2;
  }
  if (end - 11 != nargs)
    return fail("kernel '" + k.name + "' declares " + tok[10] +
                " arguments but lists " + std::to_string(end - 11));
  for (size_t i = 11; i < end; ++i) {
    PointerRef ref;
    if (!pointer(i, ref, /*allowNone=*/false))
      return false;
    k.args.push_back(ref);
  }
  return true;
}

bool ManifestParser::gemmLaunch(Launch &launch) {
  launch.kind = Launch::Kind::Gemm;
  GemmLaunch &g = launch.gemm;
  // Optional trailing pairs `residual <R>`, `dtype <T>`, `activation <act>`,
  // `alpha <a>` and `b_records <n>`, so records written before they existed
  // still parse.
  if ((tok.size() < 14 || tok.size() > 24 || tok.size() % 2 != 0) &&
      !expectCount(14, "gemm <M> <N> <K> <batch> <A> <B> <C> <bias> <strideA> "
                       "<strideB> <strideC> <transB> [residual <R>] "
                       "[dtype <T>] [activation <act>] [alpha <a>] "
                       "[b_records <n>]"))
    return false;
  bool sawResidual = false, sawDtype = false, sawActivation = false,
       sawAlpha = false, sawRecords = false;
  for (size_t f = 14; f + 1 < tok.size(); f += 2) {
    if (tok[f] == "residual" && !sawResidual) {
      sawResidual = true;
      if (!pointer(f + 1, g.residual, false))
        return false;
    } else if (tok[f] == "dtype" && !sawDtype) {
      sawDtype = true;
      if (!parseDType(tok[f + 1], g.dtype) ||
          (g.dtype != DType::F32 && g.dtype != DType::BF16 &&
           g.dtype != DType::F16))
        return fail("gemm dtype '" + tok[f + 1] +
                    "' is not supported (expected f32, bf16 or f16)");
    } else if (tok[f] == "activation" && !sawActivation) {
      sawActivation = true;
      // The names are gemmActivationName's, the writer's.
      bool known = false;
      for (GemmActivation act : {GemmActivation::None, GemmActivation::Relu,
                                 GemmActivation::GeluTanh})
        if (tok[f + 1] == gemmActivationName(act)) {
          g.activation = act;
          known = true;
        }
      if (!known)
        return fail("gemm activation '" + tok[f + 1] +
                    "' is not supported (expected none, relu or gelu_tanh)");
    } else if (tok[f] == "alpha" && !sawAlpha) {
      sawAlpha = true;
      const std::string &text = tok[f + 1];
      char *end = nullptr;
      errno = 0;
      float a = std::strtof(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || errno != 0 ||
          !std::isfinite(a))
        return fail("gemm alpha '" + text + "' is not a finite float");
      g.alpha = a;
    } else if (tok[f] == "b_records" && !sawRecords) {
      sawRecords = true;
      uint64_t n;
      if (!number(f + 1, "gemm b_records", n, 1u << 20))
        return false;
      if (n < 1)
        return fail("gemm b_records must be at least 1");
      g.bRecords = int64_t(n);
    } else {
      return fail("unknown gemm field '" + tok[f] +
                  "' (expected 'residual <R>', 'dtype <T>', 'activation "
                  "<act>', 'alpha <a>' or 'b_records <n>', each at most "
                  "once)");
    }
  }
  uint64_t mm, nn, kk, bb, sa, sb, sc, tb;
  const uint64_t dimMax = 0x7fffffff;
  if (!number(2, "gemm M", mm, dimMax) || !number(3, "gemm N", nn, dimMax) ||
      !number(4, "gemm K", kk, dimMax) || !number(5, "gemm batch", bb, dimMax))
    return false;
  if (!mm || !nn || !kk || !bb)
    return fail("gemm M, N, K and batch must be at least 1");
  if (!pointer(6, g.a, false) || !pointer(7, g.b, false) ||
      !pointer(8, g.c, false) || !pointer(9, g.bias, true))
    return false;
  if (g.c.kind != PointerRef::Kind::Arena)
    return fail("gemm output C must be in the arena (a:<offset>), got '" +
                tok[8] + "'");
  if (!number(10, "strideA", sa) || !number(11, "strideB", sb) ||
      !number(12, "strideC", sc) || !number(13, "transB", tb, 1))
    return false;
  if (bb > 1 && sc < mm * nn)
    return fail("gemm strideC " + tok[12] +
                " makes batch items of C overlap (need >= M*N = " +
                std::to_string(mm * nn) + ")");
  g.m = int64_t(mm);
  g.n = int64_t(nn);
  g.k = int64_t(kk);
  g.batch = int64_t(bb);
  g.strideA = int64_t(sa);
  g.strideB = int64_t(sb);
  g.strideC = int64_t(sc);
  g.transB = tb == 1;
  gemmDtype = g.dtype;
  if (g.bRecords > 1) {
    // B spans records b .. b + n - 1 of the weights file, back to back.
    if (g.b.kind != PointerRef::Kind::Weight)
      return fail("gemm b_records " + std::to_string(g.bRecords) +
                  " needs B to be a weight (w:<id>)");
    if (g.b.value + uint64_t(g.bRecords) > m.weights.size())
      return fail("gemm b_records " + std::to_string(g.bRecords) +
                  " from weight " + std::to_string(g.b.value) + " runs past the " +
                  std::to_string(m.weights.size()) + " weights");
    for (uint64_t i = g.b.value + 1; i < g.b.value + uint64_t(g.bRecords); ++i)
      if (m.weights[i].offset != m.weights[i - 1].offset + m.weights[i - 1].bytes)
        return fail("gemm b_records: weight " + std::to_string(i) + " '" +
                    m.weights[i].name + "' does not start where weight " +
                    std::to_string(i - 1) + " ends");
  }
  return checkExtent(g.a, mm * kk, sa, bb, "A") &&
         checkExtent(g.b, kk * nn, sb, bb, "B", g.bRecords) &&
         checkExtent(g.c, mm * nn, sc, bb, "C") &&
         checkExtent(g.residual, mm * nn, sc, bb, "residual") &&
         checkExtent(g.bias, nn, 0, 1, "bias");
}

} // namespace

const char *gemmActivationName(GemmActivation act) {
  switch (act) {
  case GemmActivation::Relu:
    return "relu";
  case GemmActivation::GeluTanh:
    return "gelu_tanh";
  case GemmActivation::None:
    break;
  }
  return "none";
}

std::string manifestName(const std::string &name) {
  if (name.empty())
    return "_";
  std::string t = name;
  for (char &c : t)
    if (std::isspace(static_cast<unsigned char>(c)))
      c = '_';
  return t;
}

std::string formatManifest(const Manifest &m) {
  std::string s;
  auto line = [&](const std::string &text) { s += text + "\n"; };
  line("kiln-artifact " + std::to_string(m.version));
  line("arch " + m.arch);
  if (m.dependentLaunch)
    line("dependent_launch");
  line("arena_bytes " + std::to_string(m.arenaBytes));
  if (m.kvCache.present()) {
    const KvCacheSpec &kv = m.kvCache;
    line("kv_cache " + std::to_string(kv.layers) + " " +
         std::to_string(kv.kvHeads) + " " + std::to_string(kv.headDim) + " " +
         std::to_string(kv.maxBatch) + " " + std::to_string(kv.maxSeq) + " " +
         dtypeName(kv.dtype) + " " + std::to_string(kv.bytes));
  }
  auto file = [&](const char *kind, const DataFile &f) {
    line(std::string(kind) + " " + f.name + " " + std::to_string(f.bytes) +
         " " + formatHash(f.hash));
  };
  file("weights_file", m.weightsFile);
  file("kernels_file", m.kernelsFile);
  file("ir_file", m.irFile);
  auto tensors = [&](const char *kind, const std::vector<TensorSpec> &list) {
    for (size_t i = 0; i < list.size(); ++i) {
      const TensorSpec &t = list[i];
      line(std::string(kind) + " " + std::to_string(i) + " " +
           manifestName(t.name) + " " + dtypeName(t.dtype) + " " +
           formatShape(t.shape) + " " + std::to_string(t.offset) + " " +
           std::to_string(t.bytes) +
           (t.role.empty() ? std::string() : " role " + t.role));
    }
  };
  tensors("weight", m.weights);
  for (const Function &f : m.functions) {
    line("function " + manifestName(f.name) + " " +
         std::to_string(f.launches.size()));
    if (f.isStep())
      line("step " + std::to_string(f.stepBatch) + " " +
           std::to_string(f.stepSeq));
    tensors("input", f.inputs);
    tensors("output", f.outputs);
    for (const Launch &l : f.launches) {
      if (l.kind == Launch::Kind::Gemm) {
        const GemmLaunch &g = l.gemm;
        line("launch gemm " + std::to_string(g.m) + " " + std::to_string(g.n) +
             " " + std::to_string(g.k) + " " + std::to_string(g.batch) + " " +
             g.a.str() + " " + g.b.str() + " " + g.c.str() + " " +
             g.bias.str() + " " + std::to_string(g.strideA) + " " +
             std::to_string(g.strideB) + " " + std::to_string(g.strideC) +
             " " + (g.transB ? "1" : "0") +
             (g.residual.kind == PointerRef::Kind::None
                  ? std::string()
                  : " residual " + g.residual.str()) +
             (g.dtype == DType::F32 ? std::string()
                                    : std::string(" dtype ") +
                                          dtypeName(g.dtype)) +
             (g.activation == GemmActivation::None
                  ? std::string()
                  : std::string(" activation ") +
                        gemmActivationName(g.activation)) +
             (g.alpha == 1.0f ? std::string()
                              : " alpha " + floatText(g.alpha)) +
             (g.bRecords == 1 ? std::string()
                              : " b_records " + std::to_string(g.bRecords)));
        continue;
      }
      const KernelLaunch &k = l.kernel;
      std::string text = "launch kernel " + k.name;
      for (uint32_t v : {k.grid[0], k.grid[1], k.grid[2], k.block[0],
                         k.block[1], k.block[2], k.smemBytes})
        text += " " + std::to_string(v);
      text += " " + std::to_string(k.args.size());
      for (const PointerRef &a : k.args)
        text += " " + a.str();
      if (!k.rowArgs.empty()) {
        text += " rows ";
        for (size_t i = 0; i < k.rowArgs.size(); ++i)
          text += (i ? "," : "") + std::to_string(k.rowArgs[i]);
      }
      if (k.prefetchArgs)
        text += " prefetch " + std::to_string(k.prefetchArgs);
      line(text);
    }
    line("end");
  }
  // Covers every byte above it: any edit of the manifest is refused.
  line("checksum " + formatHash(xxh64(s.data(), s.size())));
  return s;
}

bool parseManifest(const std::string &text, const std::string &fileName,
                   Manifest &out, std::string &error) {
  Manifest m;
  ManifestParser parser(fileName, m, error);
  if (!parser.parse(text))
    return false;
  out = std::move(m);
  return true;
}

/// Checks `dir/file.name` against its manifest record (a regular file of
/// the recorded size and hash) and, when `bytes` is given, reads it.
static bool checkDataFile(const std::string &dir, const std::string &manifest,
                          const DataFile &file, std::vector<uint8_t> *bytes,
                          std::string &error) {
  std::string path = dir + "/" + file.name;
  std::string where = manifest + ":" + std::to_string(file.line) + ": ";
  std::string readError;
  uint64_t size = 0, hash = 0;
  if (bytes) {
    if (readFileBytes(path, *bytes, readError)) {
      size = bytes->size();
      hash = xxh64(bytes->data(), bytes->size());
    }
  } else {
    hashFile(path, size, hash, readError);
  }
  if (!readError.empty()) {
    error = where + readError + " (missing or unreadable artifact file)";
    return false;
  }
  if (size != file.bytes) {
    error = where + path + " has " + std::to_string(size) +
            " bytes but the manifest says " + std::to_string(file.bytes) +
            " (truncated or corrupt artifact)";
    return false;
  }
  if (hash != file.hash) {
    error = where + path + " has content hash " + formatHash(hash) +
            " but the manifest says " + formatHash(file.hash) +
            " (corrupt artifact)";
    return false;
  }
  return true;
}

bool loadArtifact(const std::string &dir, Artifact &out, std::string &error,
                  bool readData) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    error = dir + ": no such artifact directory";
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    error = dir + ": not a directory (a .kiln artifact is a directory)";
    return false;
  }
  Artifact a;
  a.dir = dir;
  a.manifestPath = dir + "/manifest.txt";
  std::vector<uint8_t> bytes;
  if (!readFileBytes(a.manifestPath, bytes, error)) {
    error += " (not a kiln artifact directory?)";
    return false;
  }
  std::string text(bytes.begin(), bytes.end());
  if (!parseManifest(text, a.manifestPath, a.manifest, error))
    return false;
  const Manifest &m = a.manifest;
  if (!checkDataFile(dir, a.manifestPath, m.weightsFile,
                     readData ? &a.weights : nullptr, error) ||
      !checkDataFile(dir, a.manifestPath, m.kernelsFile,
                     readData ? &a.fatbin : nullptr, error) ||
      !checkDataFile(dir, a.manifestPath, m.irFile, nullptr, error))
    return false;
  out = std::move(a);
  return true;
}

} // namespace kiln::runtime

namespace kiln::runtime {

const Function *defaultFunction(const Manifest &manifest) {
  if (manifest.functions.size() == 1)
    return &manifest.functions.front();
  return manifest.findFunction("main");
}

bool bindInputs(const Manifest &manifest, const std::vector<HostTensor> &inputs,
                std::vector<HostTensor> &ordered, std::string &error) {
  const Function *f = defaultFunction(manifest);
  if (!f) {
    error = "the artifact has " + std::to_string(manifest.functions.size()) +
            " functions and none is 'main' (functions:";
    for (const Function &g : manifest.functions)
      error += " " + g.name;
    error += "); name the one to run";
    return false;
  }
  return bindInputs(*f, inputs, ordered, error);
}

bool bindInputs(const Function &function, const std::vector<HostTensor> &inputs,
                std::vector<HostTensor> &ordered, std::string &error) {
  const std::vector<TensorSpec> &specs = function.inputs;
  size_t n = specs.size();
  if (inputs.size() != n) {
    error = "the model has " + std::to_string(n) + " input(s) but " +
            std::to_string(inputs.size()) + " were given";
    for (const TensorSpec &in : specs)
      error += "\n  input " + std::to_string(in.index) + ": " + in.name + " " +
               dtypeName(in.dtype) + " " + formatShape(in.shape);
    return false;
  }
  std::vector<int> slotOf(n, -1);
  std::vector<bool> filled(n, false);
  // Named tensors bind by name.
  for (size_t i = 0; i < n; ++i) {
    if (inputs[i].name.empty())
      continue;
    std::string want = manifestName(inputs[i].name);
    for (size_t s = 0; s < n; ++s) {
      if (specs[s].name != want)
        continue;
      if (filled[s]) {
        error = "two inputs are named '" + inputs[i].name + "'";
        return false;
      }
      slotOf[i] = int(s);
      filled[s] = true;
      break;
    }
    if (slotOf[i] < 0) {
      error = "input tensor '" + inputs[i].name +
              "' names no input of the model (inputs:";
      for (const TensorSpec &in : specs)
        error += " " + in.name;
      error += ")";
      return false;
    }
  }
  // Unnamed tensors fill the remaining slots in order.
  size_t next = 0;
  for (size_t i = 0; i < n; ++i) {
    if (slotOf[i] >= 0)
      continue;
    while (filled[next])
      ++next;
    slotOf[i] = int(next);
    filled[next] = true;
  }
  ordered.assign(n, HostTensor());
  for (size_t i = 0; i < n; ++i) {
    const TensorSpec &spec = specs[size_t(slotOf[i])];
    const HostTensor &t = inputs[i];
    std::string label =
        "input " + std::to_string(spec.index) + " '" + spec.name + "'";
    if (t.dtype != spec.dtype || t.shape != spec.shape) {
      error = label + ": expected " + dtypeName(spec.dtype) + " " +
              formatShape(spec.shape) + ", got " + dtypeName(t.dtype) + " " +
              formatShape(t.shape);
      return false;
    }
    if (t.bytes.size() != spec.bytes) {
      error = label + ": tensor has " + std::to_string(t.bytes.size()) +
              " bytes, expected " + std::to_string(spec.bytes);
      return false;
    }
    ordered[size_t(slotOf[i])] = t;
    ordered[size_t(slotOf[i])].name = spec.name;
  }
  return true;
}

} // namespace kiln::runtime
