//===- kiln-bench.cpp - time decode steps against the bandwidth floor -----===//
//
// kiln-bench times the decode step functions of a `.kiln` artifact compiled
// with `kiln-compile --max-seq-len N --batch-buckets ...` on the GPU, eagerly
// and as replayed CUDA graphs, every row at slot --ctx, and sets each time
// beside its floor: the weight bytes one step reads over the device copy
// bandwidth measured in the same run (docs/bench.md). It prints a table and,
// with --json, writes the same as one JSON object. With --dry-run it needs no
// GPU: it checks the options against the artifact and prints the weight
// bytes. It includes no LLVM header, so it builds in the runtime-only build
// (CUDA toolkit alone); the command line is parsed by hand for that reason.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Artifact.h"
#include "kiln/runtime/Bench.h"
#include "kiln/runtime/CudaExecutor.h"
#include "kiln/runtime/Generate.h"
#include "kiln/runtime/TensorIO.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace kiln::runtime;

namespace {

const char *kUsage =
    R"(USAGE: kiln-bench M.kiln [--batch 1,8,32] [--ctx 512] [--steps 128]
                  [--warmup 16] [--mode eager,graph] [--json FILE]
                  [--device N] [--dry-run] [--per-kernel] [--trace FILE]

Times the decode step functions of M.kiln (compiled with kiln-compile
--max-seq-len N --batch-buckets ...) on the GPU and compares each with its
floor: the weight bytes one step reads over the device-to-device copy
bandwidth measured in the same run (docs/bench.md).

Every row of a step feeds token 1 at slot --ctx (positions = kv_pos = ctx,
mask = 1 for slots <= ctx), so attention reads ctx + 1 keys; inputs without
a role are zeros. Each timed run is --steps steps after --warmup, with CUDA
events around the whole run.

OPTIONS:
  --batch LIST   batch buckets to time, comma-separated (default: every step
                 function of the artifact); each must be a bucket of M.kiln
  --ctx N        slot every step writes and attends up to (default 512; must
                 be below the artifact's max_seq)
  --steps N      timed steps per run (default 128)
  --warmup N     untimed steps before them (default 16)
  --mode LIST    eager, graph or both, comma-separated (default eager,graph)
  --json FILE    also write the results as one JSON object to FILE ('-' =
                 stdout, after the table)
  --device N     CUDA device ordinal (default 0)
  --per-kernel   after the timed runs, time every launch of each function
                 alone (20 back-to-back repetitions between CUDA events, on
                 the data the step left) and print, per kernel class (the
                 kernel's name without its k<N>_ prefix; a gemm by its
                 shape), the launches, their summed time and share of the
                 sum, the weight bytes they read (a gather kernel: the rows
                 of the step), the GB/s that makes and its ratio to the copy
                 floor; the sum beside the graph step time is what the gaps
                 between launches cost
  --trace FILE   after the timed runs, find where each launch of each
                 function ends inside its graph: the graph of the first k
                 launches, for every k, replayed 11 times (each after a 256
                 MiB memset that flushes L2, so weights come from memory as
                 in a step), the median taken; the difference between two
                 prefixes is what a launch adds to the step, its time and
                 its gap together. Prints that per kernel class, as
                 --per-kernel does, and writes one step of each function as
                 a Chrome / Perfetto trace to FILE (chrome://tracing,
                 ui.perfetto.dev): a thread per function, an event per
                 launch
  --dry-run      check the options against the artifact and print the weight
                 bytes per step; no GPU needed, nothing is timed
  -h, --help     print this help

COLUMNS: function, batch, mode, ms/step, tokens/s (batch / seconds per
step), weight MB/step (10^6 bytes), copy GB/s (10^9 bytes/s, read + write),
floor ms (weight bytes / copy bandwidth), x floor (ms/step / floor ms),
capture ms (graph mode: capture + instantiate of the first graph run), input
ms (per-step input copies included in ms/step; '-' when the inputs were
uploaded once before timing).

EXIT STATUS: 0 on success, 1 on an error, 2 on a usage error.
)";

struct Options {
  std::string artifact;
  std::vector<int64_t> batches; ///< empty: every step function
  int64_t ctx = 512;
  int64_t steps = 128;
  int64_t warmup = 16;
  bool eager = true, graph = true;
  std::string json;
  int64_t device = 0;
  bool dryRun = false;
  bool perKernel = false;
  std::string trace;
};

int usageError(const std::string &msg) {
  std::fprintf(stderr,
               "kiln-bench: error: %s\n(run 'kiln-bench --help' for usage)\n",
               msg.c_str());
  return 2;
}

int fail(const std::string &msg) {
  std::fprintf(stderr, "kiln-bench: error: %s\n", msg.c_str());
  return 1;
}

bool parseInt(const std::string &s, int64_t &v) {
  if (s.empty() || s[0] == '-' || s[0] == '+')
    return false;
  char *end = nullptr;
  errno = 0;
  long long x = std::strtoll(s.c_str(), &end, 10);
  if (errno || *end)
    return false;
  v = x;
  return true;
}

/// Splits `s` at commas; empty items are kept (and refused by the callers).
std::vector<std::string> splitList(const std::string &s) {
  std::vector<std::string> items;
  size_t at = 0;
  while (true) {
    size_t comma = s.find(',', at);
    items.push_back(s.substr(at, comma - at));
    if (comma == std::string::npos)
      return items;
    at = comma + 1;
  }
}

/// Parses the command line; returns -1 to go on, else the exit status.
int parseArgs(int argc, char **argv, Options &o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--dry-run") {
      o.dryRun = true;
      continue;
    }
    if (a == "--per-kernel") {
      o.perKernel = true;
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      // Every other option takes a value: --opt V or --opt=V.
      std::string name = a, value;
      size_t eq = a.find('=');
      if (eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
      }
      static const char *kValued[] = {"--batch",  "--ctx",  "--steps",
                                      "--warmup", "--mode", "--json",
                                      "--device", "--trace"};
      if (std::find_if(std::begin(kValued), std::end(kValued),
                       [&](const char *k) { return name == k; }) ==
          std::end(kValued))
        return usageError("unknown option '" + a + "'");
      if (eq == std::string::npos) {
        if (i + 1 >= argc)
          return usageError(name + " needs a value");
        value = argv[++i];
      }
      auto number = [&](int64_t &v, int64_t min) -> bool {
        return parseInt(value, v) && v >= min;
      };
      if (name == "--batch") {
        o.batches.clear();
        for (const std::string &item : splitList(value)) {
          int64_t b = 0;
          if (!parseInt(item, b) || b < 1)
            return usageError("--batch: '" + value +
                              "' is not a comma-separated list of positive "
                              "integers");
          if (std::find(o.batches.begin(), o.batches.end(), b) ==
              o.batches.end())
            o.batches.push_back(b);
        }
      } else if (name == "--ctx") {
        if (!number(o.ctx, 0))
          return usageError("--ctx: '" + value +
                            "' is not a non-negative integer");
      } else if (name == "--steps") {
        if (!number(o.steps, 1) || o.steps > 1000000)
          return usageError("--steps: '" + value +
                            "' is not an integer in 1..1000000");
      } else if (name == "--warmup") {
        if (!number(o.warmup, 0) || o.warmup > 1000000)
          return usageError("--warmup: '" + value +
                            "' is not an integer in 0..1000000");
      } else if (name == "--mode") {
        o.eager = o.graph = false;
        for (const std::string &item : splitList(value)) {
          if (item == "eager")
            o.eager = true;
          else if (item == "graph")
            o.graph = true;
          else
            return usageError("--mode: '" + item + "' is not eager or graph");
        }
      } else if (name == "--json") {
        if (value.empty())
          return usageError("--json needs a file name");
        o.json = value;
      } else if (name == "--trace") {
        if (value.empty())
          return usageError("--trace needs a file name");
        o.trace = value;
      } else if (name == "--device") {
        if (!number(o.device, 0) || o.device > 1024)
          return usageError("--device: '" + value +
                            "' is not a device ordinal");
      }
      continue;
    }
    if (!o.artifact.empty())
      return usageError("more than one artifact given ('" + o.artifact +
                        "' and '" + a + "')");
    o.artifact = a;
  }
  if (o.artifact.empty())
    return usageError("no artifact given");
  return -1;
}

std::string fmt(const char *format, double v);

/// The --per-kernel table of `fn` from its per-launch microseconds.
std::string perKernelTable(const Manifest &m, const Function &fn,
                           const std::vector<double> &us, double copyGBps,
                           const char *how = "each launch alone, warm") {
  struct Class {
    std::string name;
    int count = 0;
    double us = 0;
    int64_t weightBytes = 0; // weightBytesPerLaunch, summed
  };
  std::vector<Class> classes;
  double total = 0;
  std::vector<uint64_t> launchBytes = weightBytesPerLaunch(m, fn);
  for (size_t i = 0; i < fn.launches.size() && i < us.size(); ++i) {
    const Launch &l = fn.launches[i];
    std::string name = l.label();
    if (l.kind == Launch::Kind::Kernel && name.size() > 1 && name[0] == 'k') {
      size_t u = name.find('_');
      if (u != std::string::npos &&
          std::all_of(name.begin() + 1, name.begin() + u, ::isdigit))
        name = name.substr(u + 1);
      // Kernels of another function that differ in shape: k<N>_name_<M>.
      size_t v = name.rfind('_');
      if (v != std::string::npos && v + 1 < name.size() &&
          std::all_of(name.begin() + v + 1, name.end(), ::isdigit))
        name = name.substr(0, v);
    }
    if (l.kind == Launch::Kind::Gemm)
      name += std::string(" ") + dtypeName(l.gemm.dtype);
    auto it = std::find_if(classes.begin(), classes.end(),
                           [&](const Class &c) { return c.name == name; });
    if (it == classes.end()) {
      classes.push_back({name});
      it = classes.end() - 1;
    }
    ++it->count;
    it->us += us[i];
    total += us[i];
    it->weightBytes += launchBytes[i];
  }
  std::sort(classes.begin(), classes.end(),
            [](const Class &a, const Class &b) { return a.us > b.us; });
  std::string out = fn.name + " per kernel: " + std::to_string(us.size()) +
                    " launches, " + fmt("%.1f", total) +
                    " us summed (" + how + ")\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-44s %5s %10s %6s %10s %8s %7s\n",
                "class", "count", "total_us", "share", "weight_MB", "GB/s",
                "x_floor");
  out += line;
  for (const Class &c : classes) {
    std::string mb = "-", gbs = "-", xf = "-";
    if (c.weightBytes > 0 && c.us > 0) {
      mb = fmt("%.2f", c.weightBytes / 1e6);
      gbs = fmt("%.0f", c.weightBytes / (c.us * 1e-6) / 1e9);
      if (copyGBps > 0)
        xf = fmt("%.2f", c.us * 1e-6 / (c.weightBytes / (copyGBps * 1e9)));
    }
    std::snprintf(line, sizeof line, "  %-44s %5d %10.1f %5.1f%% %10s %8s %7s\n",
                  c.name.substr(0, 44).c_str(), c.count, c.us,
                  total > 0 ? 100.0 * c.us / total : 0.0, mb.c_str(),
                  gbs.c_str(), xf.c_str());
    out += line;
  }
  return out;
}

/// One row of the table.
struct Row {
  const Function *fn = nullptr;
  const char *mode = "";
  WeightTraffic weights;
  StepTiming timing;
  bool timed = false;
  /// Why the row was not timed (empty: it was, or --dry-run).
  std::string error;
};

std::string fmt(const char *format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

/// A JSON string literal.
std::string quote(const std::string &s) { return jsonString(s); }

/// A JSON number (null when not finite).
std::string num(double v) {
  if (!(v == v) || v > 1e300 || v < -1e300)
    return "null";
  return fmt("%.6g", v);
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  int status = parseArgs(argc, argv, o);
  if (status >= 0)
    return status;
  status = 0;

  Artifact artifact;
  std::string error;
  if (!loadArtifact(o.artifact, artifact, error, /*readData=*/!o.dryRun))
    return fail(error);
  const Manifest &m = artifact.manifest;

  // The step functions to time, by batch.
  std::vector<const Function *> fns;
  for (const Function &f : m.functions)
    if (f.isStep() && f.stepSeq == 1)
      fns.push_back(&f);
  std::sort(fns.begin(), fns.end(), [](const Function *a, const Function *b) {
    return a->stepBatch < b->stepBatch;
  });
  if (fns.empty())
    return fail(artifact.manifestPath +
                ": no decode step function (compile the model with "
                "kiln-compile --max-seq-len N --batch-buckets ...)");
  if (!o.batches.empty()) {
    std::vector<const Function *> chosen;
    for (int64_t b : o.batches) {
      auto it = std::find_if(fns.begin(), fns.end(), [&](const Function *f) {
        return f->stepBatch == b;
      });
      if (it == fns.end())
        return fail("--batch " + std::to_string(b) + ": " +
                    artifact.manifestPath + " has no step function of batch " +
                    std::to_string(b) + "; it has " + describeBuckets(m));
      chosen.push_back(*it);
    }
    fns = chosen;
  }

  // Inputs and weight bytes first: every check before the device.
  std::vector<std::vector<HostTensor>> inputs(fns.size());
  for (size_t i = 0; i < fns.size(); ++i)
    if (!buildBenchInputs(m, *fns[i], o.ctx, inputs[i], error))
      return fail(artifact.manifestPath + ": " + error);

  std::vector<Row> rows;
  for (const Function *fn : fns)
    for (int g = 0; g < 2; ++g) {
      if (!(g ? o.graph : o.eager))
        continue;
      Row r;
      r.fn = fn;
      r.mode = g ? "graph" : "eager";
      r.weights = weightTrafficPerStep(m, *fn);
      rows.push_back(r);
    }

  CopyBandwidth bw;
  std::string device = "(dry run)";
  // --per-kernel's tables, printed after the main one.
  std::string perKernelText;
  if (!o.dryRun) {
    std::unique_ptr<CudaExecutor> exec =
        CudaExecutor::create(artifact, int(o.device), error);
    if (!exec)
      return fail(error);
    device = exec->deviceDescription() +
             (exec->dependentLaunch() ? ", programmatic dependent launch"
                                      : ", plain launches");
    if (std::string tuning = exec->gemmTuning(); !tuning.empty())
      device += ", " + tuning;
    if (int carveout = exec->sharedMemoryCarveout(); carveout >= 0)
      device += ", shared memory carveout " + std::to_string(carveout) + "%";
    if (!measureCopyBandwidth(int(o.device), bw, error))
      return fail(error);
    for (Row &r : rows) {
      size_t fi = std::find(fns.begin(), fns.end(), r.fn) - fns.begin();
      CudaExecutor::Mode mode = std::strcmp(r.mode, "graph") == 0
                                    ? CudaExecutor::Mode::Graph
                                    : CudaExecutor::Mode::Eager;
      // A failed row is reported and the others still run (a sticky CUDA
      // error fails them too); the exit status is 1 then.
      if (!timeSteps(*exec, *r.fn, mode, inputs[fi], int(o.warmup),
                     int(o.steps), r.timing, error)) {
        r.error = "function '" + r.fn->name + "' (" + r.mode + "): " + error;
        std::fprintf(stderr, "kiln-bench: error: %s\n", r.error.c_str());
        status = 1;
        continue;
      }
      r.timed = true;
    }
    // Per-kernel times, on the same executor (its weights stay loaded).
    for (size_t fi = 0; o.perKernel && fi < fns.size(); ++fi) {
      const Function &fn = *fns[fi];
      RunStats stats;
      std::vector<HostTensor> outputs;
      std::vector<double> us;
      if (!exec->run(fn.name, CudaExecutor::Mode::Eager, inputs[fi], 1,
                     outputs, stats, error) ||
          !exec->timeLaunches(fn.name, 20, us, error)) {
        std::fprintf(stderr, "kiln-bench: error: --per-kernel %s: %s\n",
                     fn.name.c_str(), error.c_str());
        status = 1;
        continue;
      }
      perKernelText += perKernelTable(m, fn, us, bw.gbPerS);
    }
    // Where each launch ends inside the graph.
    std::string events;
    for (size_t fi = 0; !o.trace.empty() && fi < fns.size(); ++fi) {
      const Function &fn = *fns[fi];
      RunStats stats;
      std::vector<HostTensor> outputs;
      std::vector<double> endUs;
      if (!exec->run(fn.name, CudaExecutor::Mode::Eager, inputs[fi], 1,
                     outputs, stats, error) ||
          !exec->timeGraphPrefixes(fn.name, 11, size_t(256) << 20, endUs,
                                   error)) {
        std::fprintf(stderr, "kiln-bench: error: --trace %s: %s\n",
                     fn.name.c_str(), error.c_str());
        status = 1;
        continue;
      }
      std::vector<double> added(fn.launches.size());
      for (size_t i = 0; i < added.size(); ++i)
        added[i] = endUs[i + 1] - endUs[i];
      perKernelText += perKernelTable(
          m, fn, added, bw.gbPerS,
          "added to the graph by each launch: prefix replays, L2 flushed");
      events += (events.empty() ? "" : ",\n") + traceEvents(fn, endUs, int(fi));
    }
    if (!o.trace.empty()) {
      std::string j = "{\"displayTimeUnit\": \"ns\", \"otherData\": "
                      "{\"artifact\": " + quote(o.artifact) +
                      ", \"device\": " + quote(device) +
                      ", \"method\": \"kiln-bench --trace: launch i spans "
                      "the medians of the graphs of its first i and i + 1 "
                      "launches, L2 flushed before each replay\"},\n"
                      "\"traceEvents\": [\n" + events + "\n]}\n";
      std::vector<uint8_t> bytes(j.begin(), j.end());
      if (!writeFileBytes(o.trace, bytes, error))
        return fail(error);
    }
  }

  // The table.
  const KvCacheSpec &kv = m.kvCache;
  std::printf("kiln-bench %s: %s\n", o.artifact.c_str(), device.c_str());
  std::printf("ctx %" PRId64 " (attention reads %" PRId64
              " keys), max_seq %" PRId64 ", %" PRId64 " steps after %" PRId64
              " warm-up\n",
              o.ctx, o.ctx + 1, kv.maxSeq, o.steps, o.warmup);
  if (!o.dryRun)
    std::printf("copy bandwidth: %.1f GB/s (1 GiB device-to-device cudaMemcpy, "
                "%.3f ms, read + write)\n",
                bw.gbPerS, bw.msPerCopy);
  std::printf("%-12s %5s %5s %9s %10s %9s %9s %8s %7s %10s %8s\n", "function",
              "batch", "mode", "ms/step", "tokens/s", "weight_MB", "copy_GB/s",
              "floor_ms", "x_floor", "capture_ms", "input_ms");
  auto floorMs = [&](const Row &r) {
    return bw.gbPerS > 0 ? double(r.weights.bytes) / (bw.gbPerS * 1e9) * 1e3
                         : 0.0;
  };
  for (const Row &r : rows) {
    double fl = floorMs(r);
    std::string ms = "-", tps = "-", copy = "-", floor = "-", ratio = "-",
                capture = "-", input = "-";
    if (r.timed) {
      ms = fmt("%.4f", r.timing.msPerStep);
      tps = r.timing.msPerStep > 0
                ? fmt("%.1f", r.fn->stepBatch / (r.timing.msPerStep * 1e-3))
                : "-";
      copy = fmt("%.1f", bw.gbPerS);
      floor = fmt("%.4f", fl);
      ratio = fl > 0 ? fmt("%.2f", r.timing.msPerStep / fl) : "-";
      if (r.timing.captureMs >= 0)
        capture = fmt("%.2f", r.timing.captureMs);
      if (!r.timing.uploadedOnce)
        input = fmt("%.4f", r.timing.inputCopyMsPerStep);
    }
    std::printf("%-12s %5" PRId64 " %5s %9s %10s %9.2f %9s %8s %7s %10s %8s\n",
                r.fn->name.c_str(), r.fn->stepBatch, r.mode, ms.c_str(),
                tps.c_str(), r.weights.bytes / 1e6, copy.c_str(), floor.c_str(),
                ratio.c_str(), capture.c_str(), input.c_str());
  }
  for (const Row &r : rows) {
    if (!r.timed)
      continue;
    const StepTiming &t = r.timing;
    std::string line = r.fn->name + " " + r.mode + " check: logits " +
                       std::to_string(t.logits) + " values, " +
                       std::to_string(t.nonFiniteLogits) + " non-finite, " +
                       std::to_string(t.zeroLogits) + " zero";
    if (std::strcmp(r.mode, "graph") == 0)
      line += ", graph vs eager max |diff| " + fmt("%g", t.graphMaxAbsDiff);
    if (!t.uploadedOnce && !t.inputsPinned)
      line += "; inputs not pinned (cudaHostRegister failed): the per-step "
              "input copies may block the host";
    std::printf("%s\n", line.c_str());
  }
  std::fputs(perKernelText.c_str(), stdout);
  if (o.dryRun)
    for (size_t i = 0; i < fns.size(); ++i)
      for (size_t k = 0; k < inputs[i].size(); ++k) {
        const HostTensor &t = inputs[i][k];
        const TensorSpec &spec = fns[i]->inputs[k];
        int64_t nonzero = 0;
        double largest = 0;
        for (int64_t e = 0; e < t.numElements(); ++e) {
          double v = t.elementAsDouble(e);
          nonzero += v != 0;
          largest = std::max(largest, v);
        }
        std::printf("%s input %s %s %s%s: %" PRId64 " of %" PRId64
                    " nonzero, max %g\n",
                    fns[i]->name.c_str(), spec.name.c_str(),
                    dtypeName(spec.dtype), formatShape(spec.shape).c_str(),
                    spec.role.empty() ? "" : (" role " + spec.role).c_str(),
                    nonzero, t.numElements(), largest);
      }
  for (const Function *fn : fns) {
    WeightTraffic w = weightTrafficPerStep(m, *fn);
    if (w.gatherOnly)
      std::printf("%s: %" PRId64 " of %" PRId64
                  " weights read only by rows (gathers' tables) count %.2f "
                  "of their %.2f MB (batch rows)\n",
                  fn->name.c_str(), w.gatherOnly, w.weights,
                  w.gatherOnlyBytes / 1e6, w.gatherOnlyFullBytes / 1e6);
  }

  if (!o.json.empty()) {
    std::string j = "{\n";
    j += "  \"artifact\": " + quote(o.artifact) + ",\n";
    j += "  \"device\": " + quote(device) + ",\n";
    j += "  \"dry_run\": " + std::string(o.dryRun ? "true" : "false") + ",\n";
    j += "  \"ctx\": " + std::to_string(o.ctx) + ",\n";
    j += "  \"max_seq\": " + std::to_string(kv.maxSeq) + ",\n";
    j += "  \"steps\": " + std::to_string(o.steps) + ",\n";
    j += "  \"warmup\": " + std::to_string(o.warmup) + ",\n";
    j += "  \"copy_GBps\": " + (o.dryRun ? "null" : num(bw.gbPerS)) + ",\n";
    j += "  \"copy_ms\": " + (o.dryRun ? "null" : num(bw.msPerCopy)) + ",\n";
    j += "  \"results\": [";
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row &r = rows[i];
      const StepTiming &t = r.timing;
      double fl = floorMs(r);
      auto timed = [&](double v) { return r.timed ? num(v) : "null"; };
      j += i ? ",\n    {" : "\n    {";
      j += "\"function\": " + quote(r.fn->name);
      j += ", \"batch\": " + std::to_string(r.fn->stepBatch);
      j += ", \"mode\": " + quote(r.mode);
      j += ", \"ms_per_step\": " + timed(t.msPerStep);
      j += ", \"tokens_per_s\": " +
           timed(t.msPerStep > 0 ? r.fn->stepBatch / (t.msPerStep * 1e-3) : 0);
      j += ", \"weight_bytes\": " + std::to_string(r.weights.bytes);
      j += ", \"weight_MB\": " + num(r.weights.bytes / 1e6);
      j += ", \"weights_full_bytes\": " + std::to_string(r.weights.fullBytes);
      j += ", \"gather_only_weights\": " + std::to_string(r.weights.gatherOnly);
      j += ", \"copy_GBps\": " + timed(bw.gbPerS);
      j += ", \"floor_ms\": " + timed(fl);
      j += ", \"x_floor\": " + timed(fl > 0 ? t.msPerStep / fl : 0);
      j += ", \"capture_ms\": " +
           (r.timed && t.captureMs >= 0 ? num(t.captureMs) : "null");
      j += ", \"inputs_uploaded_once\": " +
           std::string(r.timed ? (t.uploadedOnce ? "true" : "false") : "null");
      j += ", \"inputs_pinned\": " +
           std::string(r.timed ? (t.inputsPinned ? "true" : "false") : "null");
      j += ", \"input_copy_ms_per_step\": " +
           (r.timed && !t.uploadedOnce ? num(t.inputCopyMsPerStep) : "null");
      j += ", \"steps\": " + std::to_string(r.timed ? t.steps : 0);
      j += ", \"error\": " + (r.error.empty() ? "null" : quote(r.error));
      j += ", \"logits_non_finite\": " +
           (r.timed ? std::to_string(t.nonFiniteLogits) : "null");
      j += ", \"logits_zero\": " +
           (r.timed ? std::to_string(t.zeroLogits) : "null");
      j +=
          ", \"graph_vs_eager_max_abs_diff\": " +
          (r.timed && t.graphMaxAbsDiff >= 0 ? num(t.graphMaxAbsDiff) : "null");
      j += "}";
    }
    j += "\n  ]\n}\n";
    if (o.json == "-") {
      std::fputs(j.c_str(), stdout);
    } else {
      std::vector<uint8_t> bytes(j.begin(), j.end());
      if (!writeFileBytes(o.json, bytes, error))
        return fail(error);
    }
  }
  return status;
}
