//===- Generate.cpp - token generation over step functions ----------------===//
//
// Bucket and prefill choice, per-step role inputs, host-side sampling, the
// generation loop (prefill chunks, then decode steps) and teacher forcing,
// independent of the backend that runs a step (docs/generation.md). Nothing
// here touches a device: a StepRunner does.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Generate.h"
#include "kiln/runtime/Sampling.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

using namespace kiln::runtime;

StepRunner::~StepRunner() = default;

bool StepRunner::runAndSample(const Function &fn,
                              const std::vector<HostTensor> &, size_t,
                              const std::vector<DeviceDraw> &,
                              const SamplingOptions &, std::vector<int64_t> &,
                              std::string &error) {
  error = "function '" + fn.name + "': this backend does not sample";
  return false;
}

namespace {

/// The roles a step function's inputs may have (docs/kv-cache.md).
constexpr const char *kTokens = "tokens";
constexpr const char *kPositions = "positions";
constexpr const char *kMask = "mask";
constexpr const char *kKvPos = "kv_pos";
constexpr const char *kLogits = "logits";

bool isIntDType(DType d) { return d == DType::I64 || d == DType::I32; }

/// `dtype shape` as the manifest spells them, for messages.
std::string typeText(DType dtype, const std::vector<int64_t> &shape) {
  return std::string(dtypeName(dtype)) + " " + formatShape(shape);
}

/// A zeroed tensor named like `spec`.
HostTensor zerosLike(const TensorSpec &spec) {
  HostTensor t;
  t.name = spec.name;
  t.dtype = spec.dtype;
  t.shape = spec.shape;
  t.bytes.assign(static_cast<size_t>(t.numElements() * dtypeByteWidth(t.dtype)),
                 0);
  return t;
}

/// Stores integer `v` at element `i` of an I64 or I32 tensor.
void storeInt(HostTensor &t, int64_t i, int64_t v) {
  if (t.dtype == DType::I64) {
    std::memcpy(t.bytes.data() + i * 8, &v, 8);
    return;
  }
  int32_t w = int32_t(v);
  std::memcpy(t.bytes.data() + i * 4, &w, 4);
}

/// Stores 1 (`one`) or 0 at element `i` of a tensor of any dtype.
void storeFlag(HostTensor &t, int64_t i, bool one) {
  uint8_t *p = t.bytes.data() + i * dtypeByteWidth(t.dtype);
  switch (t.dtype) {
  case DType::F32: {
    float v = one ? 1.0f : 0.0f;
    std::memcpy(p, &v, 4);
    return;
  }
  case DType::F64: {
    double v = one ? 1.0 : 0.0;
    std::memcpy(p, &v, 8);
    return;
  }
  case DType::F16: { // 1.0 = 0x3c00, little-endian
    uint16_t v = one ? 0x3c00 : 0;
    std::memcpy(p, &v, 2);
    return;
  }
  case DType::BF16: { // 1.0 = 0x3f80
    uint16_t v = one ? 0x3f80 : 0;
    std::memcpy(p, &v, 2);
    return;
  }
  case DType::I64: {
    int64_t v = one;
    std::memcpy(p, &v, 8);
    return;
  }
  case DType::I32: {
    int32_t v = one;
    std::memcpy(p, &v, 4);
    return;
  }
  case DType::I8:
  case DType::U8:
  case DType::Bool:
    *p = one;
    return;
  }
}

/// The step functions with seq 1, sorted by batch (then name).
std::vector<const Function *> decodeFunctions(const Manifest &manifest) {
  std::vector<const Function *> fns;
  for (const Function &f : manifest.functions)
    if (f.isStep() && f.stepSeq == 1)
      fns.push_back(&f);
  std::stable_sort(fns.begin(), fns.end(),
                   [](const Function *a, const Function *b) {
                     return a->stepBatch < b->stepBatch;
                   });
  return fns;
}

/// Where a step function's logits are: output index and vocabulary size.
struct LogitsInfo {
  size_t index = 0;
  int64_t vocab = 0;
};

/// Checks what generation needs of `fn` beyond its inputs (which
/// buildChunkInputs checks every step): a kv_cache record, a tokens and a
/// kv_pos input, and one f32 [B, S, V] output with role `logits` (S =
/// fn.stepSeq).
bool checkStepFunction(const Manifest &manifest, const Function &fn,
                       const std::string &artifact, LogitsInfo &info,
                       std::string &error) {
  std::string where = artifact + ": function '" + fn.name + "'";
  if (!manifest.kvCache.present() || manifest.kvCache.maxSeq <= 0) {
    error = where + " is a step function but the artifact has no kv_cache "
                    "record";
    return false;
  }
  bool tokens = false, kvPos = false;
  for (const TensorSpec &in : fn.inputs) {
    tokens |= in.role == kTokens;
    kvPos |= in.role == kKvPos;
  }
  if (!tokens || !kvPos) {
    error = where + " has no input with role '" +
            std::string(tokens ? kKvPos : kTokens) + "'";
    return false;
  }
  const TensorSpec *logits = nullptr;
  for (size_t i = 0; i < fn.outputs.size(); ++i)
    if (fn.outputs[i].role == kLogits) {
      if (logits) {
        error = where + " has two outputs with role 'logits' ('" +
                logits->name + "' and '" + fn.outputs[i].name + "')";
        return false;
      }
      logits = &fn.outputs[i];
      info.index = i;
    }
  if (!logits) {
    error = where + " has no output with role 'logits'";
    return false;
  }
  if (logits->dtype != DType::F32 || logits->shape.size() != 3 ||
      logits->shape[0] != fn.stepBatch || logits->shape[1] != fn.stepSeq ||
      logits->shape[2] < 1) {
    error = where + ": output '" + logits->name + "' (role logits) is " +
            typeText(logits->dtype, logits->shape) + "; expected f32 " +
            std::to_string(fn.stepBatch) + "x" + std::to_string(fn.stepSeq) +
            "xV";
    return false;
  }
  info.vocab = logits->shape[2];
  return true;
}

/// The logits tensor of one step's outputs, checked against the record.
const float *logitsOf(const Function &fn, const LogitsInfo &info,
                      const std::vector<HostTensor> &outputs, int64_t step,
                      std::string &error) {
  std::string where =
      "step " + std::to_string(step) + " (function '" + fn.name + "')";
  if (outputs.size() != fn.outputs.size()) {
    error = where + " returned " + std::to_string(outputs.size()) +
            " outputs; the function has " + std::to_string(fn.outputs.size());
    return nullptr;
  }
  const HostTensor &t = outputs[info.index];
  const TensorSpec &spec = fn.outputs[info.index];
  if (t.dtype != DType::F32 || t.shape != spec.shape ||
      t.bytes.size() != static_cast<size_t>(t.numElements()) * 4) {
    error = where + " returned logits of type " + typeText(t.dtype, t.shape) +
            "; expected " + typeText(spec.dtype, spec.shape);
    return nullptr;
  }
  return reinterpret_cast<const float *>(t.bytes.data());
}

/// Checks that every id is inside the vocabulary.
bool checkIds(const std::vector<int64_t> &ids, int64_t vocab,
              const std::string &what, std::string &error) {
  if (ids.empty()) {
    error = what + " is empty";
    return false;
  }
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= vocab) {
      error = what + ": token " + std::to_string(i) + " is " +
              std::to_string(ids[i]) + "; the model's vocabulary is 0.." +
              std::to_string(vocab - 1);
      return false;
    }
  return true;
}

std::string kvFullMessage(int64_t row, int64_t slot, int64_t maxSeq) {
  return "KV cache full: row " + std::to_string(row) + " needs slot " +
         std::to_string(slot) + ", max_seq is " + std::to_string(maxSeq) +
         "; compile with a larger --max-seq-len";
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace

int64_t kiln::runtime::argmaxToken(const float *logits, int64_t n) {
  int64_t best = 0;
  // The first non-NaN value starts the search; later ones win only when
  // strictly larger, so ties keep the lowest index.
  while (best < n - 1 && std::isnan(logits[best]))
    ++best;
  for (int64_t i = best + 1; i < n; ++i)
    if (logits[i] > logits[best])
      best = i;
  return best;
}

double kiln::runtime::samplingDraw(const SamplingOptions &options, uint64_t row,
                                   uint64_t index) {
  return samplingUniform(options.seed, row, index);
}

namespace {

/// The largest key K such that the sum of `value` over the entries with key
/// >= K is >= needed: the threshold the device finds by radix select, here
/// by a walk down the keys in descending order.
uint32_t largestKeyReaching(std::vector<std::pair<uint32_t, uint64_t>> &entries,
                            double needed) {
  std::sort(
      entries.begin(), entries.end(),
      [](const std::pair<uint32_t, uint64_t> &a,
         const std::pair<uint32_t, uint64_t> &b) { return a.first > b.first; });
  uint64_t cum = 0;
  for (const auto &e : entries) {
    cum += e.second;
    if (double(cum) >= needed)
      return e.first;
  }
  return entries.empty() ? 0 : entries.back().first;
}

} // namespace

int64_t kiln::runtime::sampleToken(const float *logits, int64_t n,
                                   const SamplingOptions &options, double u) {
  if (options.greedy() || options.topK == 1)
    return argmaxToken(logits, n);
  const float temperature = float(options.temperature);
  std::vector<float> z(static_cast<size_t>(n));
  std::vector<uint32_t> key(static_cast<size_t>(n));
  float m = -std::numeric_limits<float>::infinity();
  bool any = false;
  for (int64_t i = 0; i < n; ++i) {
    z[i] = logits[i] / temperature;
    uint32_t bits;
    std::memcpy(&bits, &z[i], 4);
    key[i] = samplingKey(bits);
    if (std::isnan(z[i]))
      continue;
    if (!any || z[i] > m)
      m = z[i];
    any = true;
  }
  if (!any)
    return argmaxToken(logits, n);
  std::vector<uint64_t> q(static_cast<size_t>(n), 0);
  for (int64_t i = 0; i < n; ++i)
    if (!std::isnan(z[i]))
      q[i] = samplingFixed(z[i] == m ? 1.0f : std::exp(z[i] - m));
  // Keep i iff key[i] >= minKey (NaN never).
  uint32_t minKey = 0;
  auto kept = [&](int64_t i) { return !std::isnan(z[i]) && key[i] >= minKey; };
  std::vector<std::pair<uint32_t, uint64_t>> entries;
  if (options.topK > 0 && options.topK < n) {
    for (int64_t i = 0; i < n; ++i)
      if (kept(i))
        entries.emplace_back(key[i], 1);
    minKey = largestKeyReaching(entries, double(options.topK));
  }
  if (options.topP < 1) {
    entries.clear();
    uint64_t total = 0;
    for (int64_t i = 0; i < n; ++i)
      if (kept(i)) {
        entries.emplace_back(key[i], q[i]);
        total += q[i];
      }
    minKey = largestKeyReaching(entries, options.topP * double(total));
  }
  uint64_t total = 0;
  int64_t last = 0;
  for (int64_t i = 0; i < n; ++i)
    if (kept(i)) {
      total += q[i];
      last = i;
    }
  const uint64_t target = uint64_t(u * double(total));
  uint64_t cum = 0;
  for (int64_t i = 0; i < n; ++i)
    if (kept(i)) {
      cum += q[i];
      if (cum > target)
        return i;
    }
  return last;
}

namespace {

/// The step functions a generation runs, as prepare() chose and checked
/// them.
struct Plan {
  /// The decode function and where its logits are.
  const Function *decode = nullptr;
  LogitsInfo info;
  /// The prefill function (nullptr: the prompts go token by token), where
  /// its logits are, and how many chunks of prefill->stepSeq tokens it runs.
  const Function *prefill = nullptr;
  LogitsInfo prefillInfo;
  int64_t chunks = 0;
};

/// Checks a step function `fn` for generation: checkStepFunction() and its
/// role inputs through a dry buildChunkInputs() of padding rows.
bool checkForGeneration(const Manifest &manifest, const Function &fn,
                        const std::string &artifact, LogitsInfo &info,
                        std::string &error) {
  if (!checkStepFunction(manifest, fn, artifact, info, error))
    return false;
  std::vector<HostTensor> dry;
  RowChunk pad;
  pad.tokens.assign(static_cast<size_t>(std::max<int64_t>(fn.stepSeq, 1)), 0);
  if (!buildChunkInputs(
          manifest, fn,
          std::vector<RowChunk>(static_cast<size_t>(fn.stepBatch), pad), dry,
          error)) {
    error = artifact + ": " + error;
    return false;
  }
  return true;
}

/// What generate() (teacher == false: `idLists` are the prompts) and
/// teacherForce() (one list, the forced ids) check before the first step:
/// the bucket, the decode function (checkForGeneration), every id against
/// the vocabulary, and for teacher forcing the length against max_seq. For
/// generation with `usePrefill`, also the bucket's prefill function (the
/// same checks, the same vocabulary), the number of chunks, and that every
/// prompt fits max_seq.
bool prepare(const Manifest &manifest,
             const std::vector<std::vector<int64_t>> &idLists, bool teacher,
             bool usePrefill, const std::string &artifact, Plan &plan,
             std::string &error) {
  plan = Plan();
  if (idLists.empty()) {
    error = "no prompts to generate from";
    return false;
  }
  const Function *fn =
      selectStepFunction(manifest, int64_t(idLists.size()), artifact, error);
  if (!fn || !checkForGeneration(manifest, *fn, artifact, plan.info, error))
    return false;
  for (size_t b = 0; b < idLists.size(); ++b)
    if (!checkIds(idLists[b], plan.info.vocab,
                  teacher ? std::string("the teacher-forced ids")
                          : "prompt " + std::to_string(b),
                  error))
      return false;
  int64_t maxSeq = manifest.kvCache.maxSeq;
  if (teacher && int64_t(idLists[0].size()) > maxSeq) {
    error = kvFullMessage(0, maxSeq, maxSeq);
    return false;
  }
  plan.decode = fn;
  if (teacher || !usePrefill)
    return true;

  int64_t longest = 0;
  for (const std::vector<int64_t> &p : idLists)
    longest = std::max(longest, int64_t(p.size()));
  const Function *prefill = selectPrefillFunction(manifest, *fn, longest);
  if (!prefill)
    return true;
  if (!checkForGeneration(manifest, *prefill, artifact, plan.prefillInfo,
                          error))
    return false;
  if (plan.prefillInfo.vocab != plan.info.vocab) {
    error = artifact + ": function '" + prefill->name +
            "' has a vocabulary of " + std::to_string(plan.prefillInfo.vocab) +
            " but '" + fn->name + "' has " + std::to_string(plan.info.vocab);
    return false;
  }
  // Nothing runs for a prompt the cache cannot hold.
  for (size_t b = 0; b < idLists.size(); ++b)
    if (int64_t(idLists[b].size()) > maxSeq) {
      error = "prompt " + std::to_string(b) + " has " +
              std::to_string(idLists[b].size()) +
              " tokens: " + kvFullMessage(int64_t(b), maxSeq, maxSeq);
      return false;
    }
  // As many chunks as the longest prompt needs, but none past max_seq: the
  // rest of a prompt longer than (max_seq / S) * S goes token by token.
  const int64_t seq = prefill->stepSeq;
  plan.prefill = prefill;
  plan.chunks = std::min((longest + seq - 1) / seq, maxSeq / seq);
  return true;
}

} // namespace

const Function *kiln::runtime::prepareGeneration(
    const Manifest &manifest, const std::vector<std::vector<int64_t>> &prompts,
    const std::string &artifact, std::string &error, bool usePrefill) {
  Plan plan;
  if (!prepare(manifest, prompts, /*teacher=*/false, usePrefill, artifact, plan,
               error))
    return nullptr;
  return plan.decode;
}

const Function *kiln::runtime::prepareTeacherForcing(
    const Manifest &manifest, const std::vector<int64_t> &ids,
    const std::string &artifact, std::string &error) {
  Plan plan;
  if (!prepare(manifest, {ids}, /*teacher=*/true, /*usePrefill=*/false,
               artifact, plan, error))
    return nullptr;
  return plan.decode;
}

std::string kiln::runtime::describeBuckets(const Manifest &manifest) {
  std::string s;
  for (const Function *f : decodeFunctions(manifest))
    s += (s.empty() ? "" : ", ") + f->name + " (batch " +
         std::to_string(f->stepBatch) + ")";
  return s.empty() ? "none" : s;
}

const Function *kiln::runtime::selectStepFunction(const Manifest &manifest,
                                                  int64_t batch,
                                                  const std::string &artifact,
                                                  std::string &error) {
  std::vector<const Function *> fns = decodeFunctions(manifest);
  if (fns.empty()) {
    bool anyStep = false;
    for (const Function &f : manifest.functions)
      anyStep |= f.isStep();
    error = anyStep ? artifact + ": no step function with seq 1 (generation "
                                 "feeds one token per row per step)"
                    : artifact + ": the artifact has no step functions (it "
                                 "was compiled without --max-seq-len)";
    return nullptr;
  }
  for (const Function *f : fns)
    if (f->stepBatch >= batch)
      return f;
  error = artifact + ": " + std::to_string(batch) +
          " prompts do not fit the largest batch bucket (" +
          std::to_string(fns.back()->stepBatch) +
          "); buckets: " + describeBuckets(manifest) +
          "; run fewer prompts together or compile with larger "
          "--batch-buckets";
  return nullptr;
}

const Function *kiln::runtime::selectPrefillFunction(const Manifest &manifest,
                                                     const Function &decode,
                                                     int64_t longestPrompt) {
  const Function *fits = nullptr, *largest = nullptr;
  for (const Function &f : manifest.functions) {
    if (!f.isStep() || f.stepBatch != decode.stepBatch || f.stepSeq <= 1 ||
        f.stepSeq > manifest.kvCache.maxSeq)
      continue;
    if (f.stepSeq >= longestPrompt && (!fits || f.stepSeq < fits->stepSeq))
      fits = &f;
    if (!largest || f.stepSeq > largest->stepSeq)
      largest = &f;
  }
  return fits ? fits : largest;
}

bool kiln::runtime::buildStepInputs(const Manifest &manifest,
                                    const Function &fn,
                                    const std::vector<RowFeed> &rows,
                                    std::vector<HostTensor> &ordered,
                                    std::string &error) {
  std::vector<RowChunk> chunks(rows.size());
  for (size_t b = 0; b < rows.size(); ++b) {
    chunks[b].tokens = {rows[b].token};
    chunks[b].start = rows[b].slot;
  }
  return buildChunkInputs(manifest, fn, chunks, ordered, error);
}

bool kiln::runtime::buildChunkInputs(const Manifest &manifest,
                                     const Function &fn,
                                     const std::vector<RowChunk> &rows,
                                     std::vector<HostTensor> &ordered,
                                     std::string &error) {
  const int64_t batch = fn.stepBatch, seq = fn.stepSeq;
  const int64_t maxSeq = manifest.kvCache.maxSeq;
  if (int64_t(rows.size()) != batch) {
    error = "function '" + fn.name + "' has batch " + std::to_string(batch) +
            " but " + std::to_string(rows.size()) + " rows were fed";
    return false;
  }
  for (size_t b = 0; b < rows.size(); ++b) {
    if (int64_t(rows[b].tokens.size()) != seq) {
      error = "function '" + fn.name + "' has seq " + std::to_string(seq) +
              " but row " + std::to_string(b) + " feeds " +
              std::to_string(rows[b].tokens.size()) + " tokens";
      return false;
    }
    if (rows[b].start < 0 || rows[b].start + seq > maxSeq) {
      int64_t slot =
          rows[b].start < 0 ? rows[b].start : rows[b].start + seq - 1;
      error = kvFullMessage(int64_t(b), slot, maxSeq);
      return false;
    }
  }
  ordered.clear();
  for (const TensorSpec &in : fn.inputs) {
    std::string what = "function '" + fn.name + "': input '" + in.name + "'";
    auto expected = [&](const std::string &want) {
      error = what + " (role " + in.role + ") is " +
              typeText(in.dtype, in.shape) + "; expected " + want;
      return false;
    };
    const std::string b = std::to_string(batch);
    HostTensor t = zerosLike(in);
    if (in.role == kTokens || in.role == kPositions) {
      if (!isIntDType(in.dtype) || in.shape != std::vector<int64_t>{batch, seq})
        return expected("i64 or i32 " + b + "x" + std::to_string(seq));
      for (int64_t r = 0; r < batch; ++r)
        for (int64_t i = 0; i < seq; ++i)
          storeInt(t, r * seq + i,
                   in.role == kTokens ? rows[r].tokens[static_cast<size_t>(i)]
                                      : rows[r].start + i);
    } else if (in.role == kKvPos) {
      if (in.dtype != DType::I64 || in.shape != std::vector<int64_t>{batch})
        return expected("i64 " + b);
      for (int64_t r = 0; r < batch; ++r)
        storeInt(t, r, rows[r].start);
    } else if (in.role == kMask) {
      if (in.shape != std::vector<int64_t>{batch, maxSeq})
        return expected(b + "x" + std::to_string(maxSeq) +
                        " (batch x the kv_cache's max_seq)");
      for (int64_t r = 0; r < batch; ++r)
        for (int64_t s = 0; s < maxSeq; ++s)
          storeFlag(t, r * maxSeq + s, s < rows[r].start + seq);
    } else if (in.role.empty()) {
      error = what + " has no generation role (a step function's inputs are "
                     "tokens, positions, mask and kv_pos)";
      return false;
    } else {
      error = what + " has the unknown role '" + in.role + "'";
      return false;
    }
    ordered.push_back(std::move(t));
  }
  return true;
}

bool kiln::runtime::generate(const Manifest &manifest, StepRunner &runner,
                             const std::vector<std::vector<int64_t>> &prompts,
                             const GenerateOptions &options,
                             const std::string &artifact,
                             GenerateResult &result, std::string &error) {
  result = GenerateResult();
  if (options.maxNewTokens < 0) {
    error = "the number of new tokens must not be negative";
    return false;
  }
  Plan plan;
  if (!prepare(manifest, prompts, /*teacher=*/false, options.prefill, artifact,
               plan, error))
    return false;
  const Function *fn = plan.decode;
  const int64_t n = int64_t(prompts.size());
  const int64_t vocab = plan.info.vocab, batch = fn->stepBatch;
  const int64_t maxSeq = manifest.kvCache.maxSeq;
  // With no token to generate nothing runs, prefill or not.
  const Function *prefill = options.maxNewTokens > 0 ? plan.prefill : nullptr;
  const int64_t seq = prefill ? prefill->stepSeq : 0;
  const int64_t chunks = prefill ? plan.chunks : 0;
  // Prompt tokens [0, covered) go in through prefill, the rest (if any)
  // token by token through the decode function.
  const int64_t covered = chunks * seq;
  result.function = fn->name;
  if (prefill)
    result.prefillFunction = prefill->name;
  if (!runner.resetCache(error)) {
    error = "resetting the KV cache: " + error;
    return false;
  }

  std::vector<int64_t> fed(static_cast<size_t>(n), 0);
  std::vector<bool> done(static_cast<size_t>(n), options.maxNewTokens == 0);
  std::vector<std::vector<float>> rowLogits(static_cast<size_t>(n));
  result.tokens.assign(static_cast<size_t>(n), {});
  GenerateProgress progress;
  for (int64_t b = 0; b < n; ++b) {
    int64_t len = int64_t(prompts[b].size());
    progress.maxSteps = std::max(progress.maxSteps,
                                 chunks + std::max<int64_t>(len - covered, 0) +
                                     options.maxNewTokens - 1);
  }
  auto start = std::chrono::steady_clock::now();
  std::vector<HostTensor> ordered, outputs;

  // Runs `f` on `ordered` as step `step` and returns its logits.
  auto runStep = [&](const Function &f, const LogitsInfo &info,
                     int64_t step) -> const float * {
    // `outputs` is kept from step to step: a runner may reuse its buffers.
    if (!runner.run(f, ordered, outputs, error)) {
      error = "step " + std::to_string(step) + " (function '" + f.name +
              "'): " + error;
      return nullptr;
    }
    return logitsOf(f, info, outputs, step, error);
  };
  auto nanMessage = [&](int64_t b, int64_t step) {
    return "step " + std::to_string(step) + ": the logits of row " +
           std::to_string(b) + " contain NaN";
  };
  // Records row b's next token (and, when kept, `row`, the logits that
  // chose it).
  auto record = [&](int64_t b, int64_t token, const float *row) {
    result.tokens[b].push_back(token);
    if (options.keepLogits)
      rowLogits[b].insert(rowLogits[b].end(), row, row + vocab);
    ++result.numTokens;
    if (int64_t(result.tokens[b].size()) >= options.maxNewTokens ||
        token == options.eosId)
      done[b] = true;
  };
  // Samples row b's next token on the host from `row`, its logits after
  // step `step`; draw index = the row's new-token index.
  auto takeToken = [&](int64_t b, const float *row, int64_t step) {
    for (int64_t v = 0; v < vocab; ++v)
      if (std::isnan(row[v])) {
        error = nanMessage(b, step) + " (token " + std::to_string(v) + ")";
        return false;
      }
    double u = samplingDraw(options.sampling, uint64_t(b),
                            uint64_t(result.tokens[b].size()));
    record(b, sampleToken(row, vocab, options.sampling, u), row);
    return true;
  };
  // With a runner that samples on the device and no logits to keep, only
  // the token ids come back.
  const bool onDevice = !options.keepLogits && runner.samplesOnDevice();
  // Runs `f` on `ordered` as step `step`, then takes row b's next token
  // from row rowOf[b] of its [B*S, V] logits (none when negative).
  auto stepAndTake = [&](const Function &f, const LogitsInfo &info,
                         int64_t step, const std::vector<int64_t> &rowOf) {
    if (!onDevice) {
      const float *logits = runStep(f, info, step);
      if (!logits)
        return false;
      for (int64_t b = 0; b < n; ++b)
        if (rowOf[b] >= 0 && !takeToken(b, logits + rowOf[b] * vocab, step))
          return false;
      return true;
    }
    std::vector<DeviceDraw> draws;
    std::vector<int64_t> who, tokens;
    for (int64_t b = 0; b < n; ++b)
      if (rowOf[b] >= 0) {
        draws.push_back(
            {rowOf[b], uint64_t(b), uint64_t(result.tokens[b].size())});
        who.push_back(b);
      }
    if (!runner.runAndSample(f, ordered, info.index, draws, options.sampling,
                             tokens, error)) {
      error = "step " + std::to_string(step) + " (function '" + f.name +
              "'): " + error;
      return false;
    }
    if (tokens.size() != draws.size()) {
      error = "step " + std::to_string(step) + " (function '" + f.name +
              "'): the runner returned " + std::to_string(tokens.size()) +
              " tokens for " + std::to_string(draws.size()) + " rows";
      return false;
    }
    for (size_t i = 0; i < who.size(); ++i) {
      if (tokens[i] < 0 || tokens[i] >= vocab) {
        error = nanMessage(who[i], step);
        return false;
      }
      record(who[i], tokens[i], nullptr);
    }
    return true;
  };
  auto stepDone = [&](int64_t step) {
    result.steps = step + 1;
    progress.steps = result.steps;
    progress.tokens = result.numTokens;
    progress.seconds = secondsSince(start);
    if (options.progress)
      options.progress(progress);
  };

  int64_t step = 0;
  // Prefill: chunk c feeds prompt tokens [c*S, c*S + S) of every row at
  // slots c*S.. (token 0 past a row's prompt and in padding rows). The
  // padding writes only slots >= the row's prompt length, which its decode
  // steps overwrite before any query attends them.
  for (int64_t c = 0; c < chunks; ++c, ++step) {
    const int64_t first = c * seq;
    std::vector<RowChunk> rows(static_cast<size_t>(batch));
    for (int64_t b = 0; b < batch; ++b) {
      rows[b].start = first;
      rows[b].tokens.assign(static_cast<size_t>(seq), 0);
      for (int64_t i = 0; b < n && i < seq; ++i)
        if (first + i < int64_t(prompts[b].size()))
          rows[b].tokens[i] = prompts[b][static_cast<size_t>(first + i)];
    }
    if (!buildChunkInputs(manifest, *prefill, rows, ordered, error))
      return false;
    // A row whose last prompt token is in this chunk samples its first
    // token from that token's logits.
    std::vector<int64_t> rowOf(static_cast<size_t>(n), -1);
    for (int64_t b = 0; b < n; ++b) {
      int64_t last = int64_t(prompts[b].size()) - 1 - first;
      if (last >= 0 && last < seq)
        rowOf[b] = b * seq + last;
    }
    if (!stepAndTake(*prefill, plan.prefillInfo, step, rowOf))
      return false;
    ++result.prefillSteps;
    stepDone(step);
  }
  for (int64_t b = 0; b < n; ++b)
    fed[b] = std::min(int64_t(prompts[b].size()), covered);

  // Decode: one token per active row per step.
  for (;; ++step) {
    std::vector<RowFeed> rows(static_cast<size_t>(batch));
    bool any = false;
    for (int64_t b = 0; b < n; ++b) {
      if (done[b])
        continue;
      any = true;
      const std::vector<int64_t> &p = prompts[b];
      rows[b].slot = fed[b];
      rows[b].token = fed[b] < int64_t(p.size())
                          ? p[static_cast<size_t>(fed[b])]
                          : result.tokens[b].back();
      if (fed[b] >= maxSeq) {
        error = "step " + std::to_string(step) + ": " +
                kvFullMessage(b, fed[b], maxSeq);
        return false;
      }
    }
    if (!any)
      break;
    if (!buildStepInputs(manifest, *fn, rows, ordered, error))
      return false;
    std::vector<int64_t> rowOf(static_cast<size_t>(n), -1);
    for (int64_t b = 0; b < n; ++b)
      if (!done[b] && ++fed[b] >= int64_t(prompts[b].size()))
        rowOf[b] = b;
    if (!stepAndTake(*fn, plan.info, step, rowOf))
      return false;
    stepDone(step);
  }
  result.seconds = secondsSince(start);

  int64_t width = 0;
  for (const std::vector<int64_t> &t : result.tokens)
    width = std::max(width, int64_t(t.size()));
  result.ids.name = "generated_ids";
  result.ids.dtype = DType::I64;
  result.ids.shape = {n, width};
  result.ids.bytes.assign(static_cast<size_t>(n * width * 8), 0);
  result.logits.name = "logits";
  result.logits.dtype = DType::F32;
  result.logits.shape = {n, width, vocab};
  if (!options.keepLogits) // nothing to keep: an empty tensor
    result.logits.shape = {0, 0, vocab};
  result.logits.bytes.assign(
      static_cast<size_t>(result.logits.numElements() * 4), 0);
  for (int64_t b = 0; b < n; ++b) {
    const std::vector<int64_t> &t = result.tokens[b];
    for (int64_t i = 0; i < width; ++i)
      storeInt(result.ids, b * width + i,
               i < int64_t(t.size()) ? t[static_cast<size_t>(i)]
                                     : options.eosId);
    if (!rowLogits[b].empty())
      std::memcpy(result.logits.bytes.data() +
                      static_cast<size_t>(b * width * vocab) * 4,
                  rowLogits[b].data(), rowLogits[b].size() * 4);
  }
  return true;
}

bool kiln::runtime::teacherForce(const Manifest &manifest, StepRunner &runner,
                                 const std::vector<int64_t> &ids,
                                 const std::string &artifact,
                                 HostTensor &logits, std::string &function,
                                 std::string &error) {
  Plan plan;
  if (!prepare(manifest, {ids}, /*teacher=*/true, /*usePrefill=*/false,
               artifact, plan, error))
    return false;
  const Function *fn = plan.decode;
  const LogitsInfo &info = plan.info;
  const int64_t vocab = info.vocab, len = int64_t(ids.size());
  function = fn->name;
  if (!runner.resetCache(error)) {
    error = "resetting the KV cache: " + error;
    return false;
  }
  logits = HostTensor();
  logits.name = "logits";
  logits.dtype = DType::F32;
  logits.shape = {len, vocab};
  logits.bytes.assign(static_cast<size_t>(len * vocab * 4), 0);
  std::vector<HostTensor> ordered, outputs;
  for (int64_t t = 0; t < len; ++t) {
    std::vector<RowFeed> rows(static_cast<size_t>(fn->stepBatch));
    rows[0] = {ids[static_cast<size_t>(t)], t};
    if (!buildStepInputs(manifest, *fn, rows, ordered, error))
      return false;
    if (!runner.run(*fn, ordered, outputs, error)) {
      error = "step " + std::to_string(t) + " (function '" + fn->name +
              "'): " + error;
      return false;
    }
    const float *row = logitsOf(*fn, info, outputs, t, error);
    if (!row)
      return false;
    std::memcpy(logits.bytes.data() + static_cast<size_t>(t * vocab) * 4, row,
                static_cast<size_t>(vocab) * 4);
  }
  return true;
}

bool kiln::runtime::tokenIdsFromTensor(const HostTensor &tensor,
                                       const std::string &what,
                                       std::vector<int64_t> &ids,
                                       std::string &error) {
  const std::vector<int64_t> &s = tensor.shape;
  bool shapeOk =
      (s.size() == 1 && s[0] >= 1) || (s.size() == 2 && s[0] == 1 && s[1] >= 1);
  if (!isIntDType(tensor.dtype) || !shapeOk) {
    error = what +
            ": expected int64 token ids of shape [1, L] or [L] (L >= "
            "1), got " +
            typeText(tensor.dtype, tensor.shape);
    return false;
  }
  ids.clear();
  int64_t n = tensor.numElements();
  for (int64_t i = 0; i < n; ++i) {
    int64_t v;
    if (tensor.dtype == DType::I64) {
      std::memcpy(&v, tensor.bytes.data() + i * 8, 8);
    } else {
      int32_t w;
      std::memcpy(&w, tensor.bytes.data() + i * 4, 4);
      v = w;
    }
    if (v < 0) {
      error = what + ": token " + std::to_string(i) + " is negative (" +
              std::to_string(v) + ")";
      return false;
    }
    ids.push_back(v);
  }
  return true;
}

bool kiln::runtime::parseTokenIdList(const std::string &text,
                                     std::vector<int64_t> &ids,
                                     std::string &error) {
  ids.clear();
  size_t i = 0;
  auto isSep = [](char c) {
    return c == ' ' || c == '\t' || c == ',' || c == '\n' || c == '\r';
  };
  while (i < text.size()) {
    if (isSep(text[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && !isSep(text[j]))
      ++j;
    std::string word = text.substr(i, j - i);
    int64_t v = 0;
    bool ok = !word.empty();
    for (char c : word) {
      if (c < '0' || c > '9' ||
          v > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10) {
        ok = false;
        break;
      }
      v = v * 10 + (c - '0');
    }
    if (!ok) {
      error = "'" + text + "' is not a list of token ids ('" + word +
              "' is not a non-negative integer)";
      return false;
    }
    ids.push_back(v);
    i = j;
  }
  if (ids.empty()) {
    error = "'" + text + "' holds no token ids";
    return false;
  }
  return true;
}
