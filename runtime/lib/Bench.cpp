//===- Bench.cpp - benchmark inputs and weight traffic of a step ----------===//
//
// The host half of kiln/runtime/Bench.h: the inputs of a benchmark step
// (every row at slot ctx) and the weight bytes one step reads. C++17 only;
// part of KilnRuntimeHost. The device half is BenchCuda.cpp.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Bench.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

namespace kiln::runtime {

namespace {

/// Writes integer `value` as element `i` of `t` (an integer or bool dtype).
bool setInteger(HostTensor &t, int64_t i, int64_t value) {
  uint8_t *p = t.bytes.data();
  switch (t.dtype) {
  case DType::I64: {
    std::memcpy(p + i * 8, &value, 8);
    return true;
  }
  case DType::I32: {
    int32_t v = static_cast<int32_t>(value);
    std::memcpy(p + i * 4, &v, 4);
    return true;
  }
  case DType::I8:
  case DType::U8:
  case DType::Bool:
    p[i] = static_cast<uint8_t>(value);
    return true;
  default:
    return false;
  }
}

/// A zero tensor for the input record `spec`.
HostTensor zeros(const TensorSpec &spec) {
  HostTensor t;
  t.name = spec.name;
  t.dtype = spec.dtype;
  t.shape = spec.shape;
  t.bytes.assign(spec.bytes, 0);
  return t;
}

} // namespace

bool buildBenchInputs(const Manifest &manifest, const Function &fn, int64_t ctx,
                      std::vector<HostTensor> &ordered, std::string &error) {
  if (!fn.isStep()) {
    error = "function '" + fn.name + "' is not a generation step function";
    return false;
  }
  const KvCacheSpec &kv = manifest.kvCache;
  if (!kv.present()) {
    error = "the artifact has no kv_cache record (compile with --max-seq-len)";
    return false;
  }
  if (ctx < 0 || ctx >= kv.maxSeq) {
    error = "--ctx " + std::to_string(ctx) + " does not fit the KV cache: " +
            "a step at slot ctx needs 0 <= ctx < max_seq = " +
            std::to_string(kv.maxSeq);
    return false;
  }
  ordered.clear();
  for (const TensorSpec &spec : fn.inputs) {
    HostTensor t = zeros(spec);
    const std::string &role = spec.role;
    int64_t n = t.numElements();
    if (role == "tokens" || role == "positions" || role == "kv_pos" ||
        role == "mask") {
      bool isMask = role == "mask";
      // The mask's last dim is the key slot; the others are 1 per element.
      int64_t inner = isMask && !spec.shape.empty() ? spec.shape.back() : 1;
      for (int64_t i = 0; i < n; ++i) {
        int64_t value = role == "tokens" ? 1 : ctx;
        if (isMask)
          value = (i % inner) <= ctx ? 1 : 0;
        if (!setInteger(t, i, value)) {
          error = "function '" + fn.name + "' input '" + spec.name +
                  "' (role " + role + ") has dtype " + dtypeName(spec.dtype) +
                  "; kiln-bench fills integer or bool role inputs only";
          return false;
        }
      }
    }
    ordered.push_back(std::move(t));
  }
  return true;
}

/// Calls f(weight id, gather) for each weight pointer of launch `l` (a
/// kernel's arguments, a gemm's a, b, bias and residual); `gather` says the
/// kernel reads that argument only by rows (the manifest's `rows`: a
/// gather's table), so only the step's rows of it.
template <typename F>
static void forEachWeight(const Manifest &m, const Launch &l, F f) {
  auto visit = [&](const PointerRef &p, bool gather) {
    if (p.kind == PointerRef::Kind::Weight)
      f(p.value, gather);
  };
  if (l.kind == Launch::Kind::Kernel) {
    const std::vector<uint32_t> &rows = l.kernel.rowArgs;
    // Prefetch-only args (the last prefetchArgs) are later launches'
    // weights, counted where those launches read them.
    size_t read = l.kernel.args.size() -
                  std::min<size_t>(l.kernel.prefetchArgs, l.kernel.args.size());
    for (size_t i = 0; i < read; ++i)
      visit(l.kernel.args[i],
            std::binary_search(rows.begin(), rows.end(), uint32_t(i)));
    return;
  }
  const GemmLaunch &g = l.gemm;
  for (const PointerRef *p : {&g.a, &g.bias, &g.residual})
    visit(*p, false);
  // B spans g.bRecords records (a weight concatenation, `b_records`).
  if (g.b.kind != PointerRef::Kind::Weight)
    return visit(g.b, false);
  for (int64_t i = 0; i < g.bRecords; ++i)
    if (g.b.value + uint64_t(i) < m.weights.size())
      f(g.b.value + uint64_t(i), false);
}

/// Rows one step of `fn` gathers from a table: batch x seq.
static int64_t rowsGathered(const Function &fn) {
  return std::max<int64_t>(fn.stepBatch, 1) * std::max<int64_t>(fn.stepSeq, 1);
}

/// The bytes `rows` gathered rows of weight `spec` (its dim 0 the rows) are:
/// all of it when there are that many rows or fewer (or no shape).
static uint64_t gatheredBytes(const TensorSpec &spec, int64_t rows) {
  int64_t all = spec.shape.empty() ? 0 : spec.shape[0];
  return all <= 0 || rows >= all ? spec.bytes : spec.bytes / all * rows;
}

WeightTraffic weightTrafficPerStep(const Manifest &manifest,
                                   const Function &fn) {
  // Per weight id: read by a gather kernel, read by anything else.
  std::map<uint64_t, std::pair<bool, bool>> uses;
  for (const Launch &l : fn.launches)
    forEachWeight(manifest, l, [&](uint64_t id, bool gather) {
      auto &u = uses[id];
      (gather ? u.first : u.second) = true;
    });
  WeightTraffic w;
  int64_t rowsRead = rowsGathered(fn);
  for (const auto &[id, u] : uses) {
    if (id >= manifest.weights.size())
      continue;
    const TensorSpec &spec = manifest.weights[id];
    ++w.weights;
    w.fullBytes += spec.bytes;
    bool gatherOnly = u.first && !u.second;
    if (!gatherOnly || spec.shape.empty() || spec.shape[0] <= 0) {
      w.bytes += spec.bytes;
      continue;
    }
    uint64_t counted = gatheredBytes(spec, rowsRead);
    ++w.gatherOnly;
    w.gatherOnlyFullBytes += spec.bytes;
    w.gatherOnlyBytes += counted;
    w.bytes += counted;
  }
  return w;
}

std::vector<uint64_t> weightBytesPerLaunch(const Manifest &manifest,
                                           const Function &fn) {
  int64_t rowsRead = rowsGathered(fn);
  std::vector<uint64_t> bytes;
  for (const Launch &l : fn.launches) {
    std::vector<uint64_t> seen;
    uint64_t total = 0;
    forEachWeight(manifest, l, [&](uint64_t id, bool gather) {
      if (id >= manifest.weights.size() ||
          std::find(seen.begin(), seen.end(), id) != seen.end())
        return;
      seen.push_back(id);
      const TensorSpec &spec = manifest.weights[id];
      total += gather ? gatheredBytes(spec, rowsRead) : spec.bytes;
    });
    bytes.push_back(total);
  }
  return bytes;
}

std::string jsonString(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string traceEvents(const Function &fn, const std::vector<double> &endUs,
                        int tid) {
  if (endUs.size() != fn.launches.size() + 1)
    return {};
  char buf[256];
  std::string out;
  std::snprintf(buf, sizeof buf,
                "{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 0, "
                "\"tid\": %d, \"args\": {\"name\": ",
                tid);
  out += buf + jsonString(fn.name) + "}}";
  for (size_t i = 0; i < fn.launches.size(); ++i) {
    double added = endUs[i + 1] - endUs[i];
    std::snprintf(buf, sizeof buf,
                  ", \"ph\": \"X\", \"pid\": 0, \"tid\": %d, \"ts\": %.3f, "
                  "\"dur\": %.3f, \"args\": {\"launch\": %zu, \"line\": %d, "
                  "\"added_us\": %.3f}}",
                  tid, endUs[i] - endUs[0], added > 0 ? added : 0.0, i,
                  fn.launches[i].line, added);
    out += ",\n{\"name\": " + jsonString(fn.launches[i].label()) + buf;
  }
  return out;
}

} // namespace kiln::runtime
