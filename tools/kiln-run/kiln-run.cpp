//===- kiln-run.cpp - run a kiln artifact or model ------------------------===//
//
// kiln-run runs a compiled `.kiln` artifact on the GPU (`--backend=cuda`,
// eagerly or as a replayed CUDA graph), or a model on the CPU reference
// backend (`--backend=ref`, full build only), with inputs from `.pb`/`.npy`
// files, and compares the outputs against expected tensors. It includes no
// LLVM header, so it builds in the runtime-only build (CUDA toolkit alone);
// the command line is parsed by hand for the same reason.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Artifact.h"
#include "kiln/runtime/CudaExecutor.h"
#include "kiln/runtime/RefHook.h"
#include "kiln/runtime/TensorIO.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <utility>
#include <vector>

using namespace kiln::runtime;

namespace {

const char *kUsage =
    R"(USAGE: kiln-run MODEL [options] --input FILE... [--expect FILE...]

Runs MODEL and prints or checks its outputs.

MODEL is a .kiln artifact directory (cuda or ref backend), or a .onnx / .mlir
model (ref backend only).

OPTIONS:
  --backend=ref|cuda   where to run (default: ref when this kiln-run has the
                       reference backend, else cuda)
  --graph              cuda: capture the launch list into a CUDA graph once
                       and replay it (default: eager launches on a stream)
  --repeat N           run N steps (each copies the inputs, then launches or
                       replays); the outputs of the last are checked. Prints
                       the average device time per step
  --input FILE...      input tensors (.pb TensorProto or .npy); bound by the
                       tensor's name when it has one, else in order
  --expect FILE...     expected outputs (.pb or .npy), matched by name when
                       named, else in order; prints max_abs_err, max_rel_err
                       and PASS/FAIL per output and exits 1 on any FAIL
  --rtol R             relative tolerance (default 1e-4)
  --atol A             absolute tolerance (default 1e-5); an element passes
                       iff |actual - expected| <= atol + rtol * |expected|
  --check-identical    cuda: run the --repeat N steps one at a time and require
                       every step's outputs to be bit-identical to the first
                       (replays of one captured graph in --graph mode)
  --output-dir DIR     write the outputs to DIR/output_<i>.pb (DIR and its
                       parents are created)
  --bind NAME=N        fix a symbolic dim (ref backend, .onnx models)
  --function NAME      function to run (default: the model's only function,
                       else main)
  --device N           CUDA device ordinal (default 0)
  -h, --help           print this help

ENVIRONMENT:
  KILN_RUNTIME_SYNC=1  cuda eager: synchronise after every launch, so an
                       asynchronous fault names its launch

EXIT STATUS: 0 on success, 1 on an error or a mismatch, 2 on a usage error.
)";

struct Options {
  std::string model;
  std::string backend;
  bool graph = false;
  bool checkIdentical = false;
  int repeat = 1;
  std::vector<std::string> inputs, expects;
  double rtol = 1e-4, atol = 1e-5;
  std::string outputDir;
  std::vector<std::pair<std::string, int64_t>> binds;
  std::string function; ///< empty: main (cuda), the only one or main (ref)
  int device = 0;
};

int usageError(const std::string &msg) {
  std::fprintf(stderr,
               "kiln-run: error: %s\n(run 'kiln-run --help' for usage)\n",
               msg.c_str());
  return 2;
}

int fail(const std::string &msg) {
  std::fprintf(stderr, "kiln-run: error: %s\n", msg.c_str());
  return 1;
}

bool endsWith(const std::string &s, const char *suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

bool isTensorFile(const std::string &s) {
  return endsWith(s, ".pb") || endsWith(s, ".npy");
}

bool parseDouble(const std::string &s, double &v) {
  char *end = nullptr;
  errno = 0;
  v = std::strtod(s.c_str(), &end);
  return !s.empty() && *end == '\0' && errno == 0 && v >= 0;
}

bool parseInt(const std::string &s, int64_t &v) {
  char *end = nullptr;
  errno = 0;
  long long x = std::strtoll(s.c_str(), &end, 10);
  v = x;
  return !s.empty() && *end == '\0' && errno == 0;
}

/// Parses argv into `o`. Returns -1 to go on, else the exit code.
int parseArgs(int argc, char **argv, Options &o) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "-h" || arg == "--help" || arg == "-help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      if (!o.model.empty())
        return usageError("more than one MODEL given ('" + o.model + "' and '" +
                          arg + "')");
      o.model = arg;
      continue;
    }
    std::string name = arg, value;
    bool hasValue = false;
    size_t eq = arg.find('=');
    if (arg.compare(0, 2, "--") == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      hasValue = true;
    }
    auto takeValue = [&]() {
      if (hasValue)
        return true;
      if (i + 1 >= args.size())
        return false;
      value = args[++i];
      return true;
    };
    if (name == "--check-identical") {
      o.checkIdentical = true;
      continue;
    }
    if (name == "--graph") {
      o.graph = true;
    } else if (name == "--input" || name == "--expect") {
      std::vector<std::string> &list = name == "--input" ? o.inputs : o.expects;
      if (!takeValue())
        return usageError(name + " needs a file");
      list.push_back(value);
      // Further tensor files right after belong to the same option.
      while (i + 1 < args.size() && isTensorFile(args[i + 1]) &&
             args[i + 1][0] != '-')
        list.push_back(args[++i]);
    } else if (name == "--backend") {
      if (!takeValue() || (value != "ref" && value != "cuda"))
        return usageError("--backend must be 'ref' or 'cuda'");
      o.backend = value;
    } else if (name == "--repeat") {
      int64_t n;
      if (!takeValue() || !parseInt(value, n) || n < 1 || n > 1000000000)
        return usageError("--repeat needs a positive integer");
      o.repeat = int(n);
    } else if (name == "--rtol" || name == "--atol") {
      double v;
      if (!takeValue() || !parseDouble(value, v))
        return usageError(name + " needs a non-negative number");
      (name == "--rtol" ? o.rtol : o.atol) = v;
    } else if (name == "--output-dir") {
      if (!takeValue() || value.empty())
        return usageError("--output-dir needs a directory");
      o.outputDir = value;
    } else if (name == "--bind") {
      int64_t n;
      size_t at;
      if (!takeValue() || (at = value.find('=')) == std::string::npos ||
          at == 0 || !parseInt(value.substr(at + 1), n))
        return usageError("--bind needs NAME=N");
      o.binds.emplace_back(value.substr(0, at), n);
    } else if (name == "--function") {
      if (!takeValue() || value.empty())
        return usageError("--function needs a name");
      o.function = value;
    } else if (name == "--device") {
      int64_t n;
      if (!takeValue() || !parseInt(value, n) || n < 0 || n > 1024)
        return usageError("--device needs a device ordinal");
      o.device = int(n);
    } else {
      return usageError("unknown option '" + arg + "'");
    }
  }
  if (o.model.empty())
    return usageError("no MODEL given");
  return -1;
}

bool isDirectory(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

/// Prints the first few values of `t`.
std::string preview(const HostTensor &t) {
  std::string s = "[";
  int64_t n = t.numElements();
  for (int64_t i = 0; i < n && i < 8; ++i) {
    char buf[32];
    if (t.dtype == DType::I64) { // exact: a double has 53 bits
      int64_t v;
      std::memcpy(&v, t.bytes.data() + i * 8, 8);
      std::snprintf(buf, sizeof(buf), "%s%lld", i ? ", " : "", (long long)v);
    } else if (t.dtype == DType::I32 || t.dtype == DType::I8 ||
               t.dtype == DType::U8 || t.dtype == DType::Bool) {
      std::snprintf(buf, sizeof(buf), "%s%lld", i ? ", " : "",
                    (long long)t.elementAsDouble(i)); // exact below 2^53
    } else {
      std::snprintf(buf, sizeof(buf), "%s%g", i ? ", " : "",
                    t.elementAsDouble(i));
    }
    s += buf;
  }
  return s + (n > 8 ? ", ...]" : "]");
}

int runCuda(const Options &o, const std::vector<HostTensor> &inputs,
            std::vector<HostTensor> &outputs) {
  if (!isDirectory(o.model) && !endsWith(o.model, ".kiln"))
    return fail(o.model + ": the cuda backend runs .kiln artifact directories "
                          "only (compile the model with kiln-compile first)");
  Artifact artifact;
  std::string error;
  if (!loadArtifact(o.model, artifact, error))
    return fail(error);
  // Default: the artifact's only function, else main.
  std::string function = o.function;
  if (function.empty())
    function = artifact.manifest.functions.size() == 1
                   ? artifact.manifest.functions.front().name
                   : "main";
  if (!artifact.manifest.findFunction(function))
    return fail(artifact.manifestPath + ": no function '" + function + "'");
  std::vector<HostTensor> ordered;
  if (!bindInputs(artifact.manifest, inputs, ordered, error))
    return fail(error);
  if (!o.binds.empty())
    std::fprintf(stderr, "kiln-run: warning: --bind is ignored by the cuda "
                         "backend (artifact shapes are static)\n");
  std::unique_ptr<CudaExecutor> exec =
      CudaExecutor::create(artifact, function, o.device, error);
  if (!exec)
    return fail(error);
  RunStats stats;
  CudaExecutor::Mode mode =
      o.graph ? CudaExecutor::Mode::Graph : CudaExecutor::Mode::Eager;
  if (!o.checkIdentical) {
    if (!exec->run(mode, ordered, o.repeat, outputs, stats, error))
      return fail(error);
  } else {
    // One step at a time: the graph is captured on the first and replayed
    // by every later one; each step's bytes must equal the first's.
    std::vector<HostTensor> step;
    for (int i = 0; i < o.repeat; ++i) {
      RunStats one;
      if (!exec->run(mode, ordered, 1, i ? step : outputs, one, error))
        return fail(error);
      stats.steps += one.steps;
      stats.totalMs += one.totalMs;
      for (size_t k = 0; i && k < outputs.size(); ++k)
        if (step[k].bytes != outputs[k].bytes)
          return fail("step " + std::to_string(i + 1) + " output " +
                      std::to_string(k) + " differs from step 1's");
    }
    std::printf("cuda: %d steps, outputs bit-identical to step 1\n",
                o.repeat);
  }
  std::printf("cuda %s on %s: %d step(s), %.2f us/step\n",
              o.graph ? "graph" : "eager", exec->deviceDescription().c_str(),
              stats.steps, stats.usPerStep());
  return 0;
}

int runRef(const Options &o, const std::vector<HostTensor> &inputs,
           std::vector<HostTensor> &outputs) {
  RefRunner runner = getRefRunner();
  if (!runner)
    return fail("this kiln-run was built without the reference backend "
                "(KILN_RUNTIME_ONLY); use --backend=cuda");
  // An artifact passes the runtime's validation (manifest, file sizes and
  // content hashes) before the reference backend reads any of its files, as
  // on the cuda backend: kiln::loadModel runs it once, first.
  std::string error;
  if (!runner(o.model, o.function, o.binds, inputs, outputs, error))
    return fail(error);
  return 0;
}

/// Compares outputs against expected tensors; returns the exit code.
int checkOutputs(const Options &o, const std::vector<HostTensor> &outputs,
                 const std::vector<HostTensor> &expects) {
  if (expects.size() != outputs.size())
    return fail("the model has " + std::to_string(outputs.size()) +
                " output(s) but " + std::to_string(expects.size()) +
                " --expect file(s) were given");
  bool allPass = true;
  std::vector<bool> used(outputs.size(), false);
  for (size_t e = 0; e < expects.size(); ++e) {
    // By name when the expected tensor names an output, else in order.
    size_t idx = e;
    for (size_t i = 0; i < outputs.size(); ++i)
      if (!expects[e].name.empty() && outputs[i].name == expects[e].name &&
          !used[i]) {
        idx = i;
        break;
      }
    used[idx] = true;
    const HostTensor &out = outputs[idx];
    std::string label = out.name.empty() ? std::to_string(idx) : out.name;
    CompareResult r = compareTensors(out, expects[e], o.rtol, o.atol);
    if (!r.error.empty()) {
      std::printf("output %s: FAIL (%s)\n", label.c_str(), r.error.c_str());
      allPass = false;
      continue;
    }
    std::printf("output %s: max_abs_err=%.3g max_rel_err=%.3g %s\n",
                label.c_str(), r.maxAbsErr, r.maxRelErr,
                r.pass ? "PASS" : "FAIL");
    if (!r.pass) {
      std::printf("  %lld of %lld elements differ; first at index %lld: got "
                  "%g, expected %g\n",
                  (long long)r.numMismatches, (long long)out.numElements(),
                  (long long)r.firstMismatch,
                  out.elementAsDouble(r.firstMismatch),
                  expects[e].elementAsDouble(r.firstMismatch));
      allPass = false;
    }
  }
  return allPass ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  int code = parseArgs(argc, argv, o);
  if (code >= 0)
    return code;

  bool isArtifact = isDirectory(o.model) || endsWith(o.model, ".kiln");
  if (!isArtifact && !endsWith(o.model, ".onnx") && !endsWith(o.model, ".mlir"))
    return usageError("MODEL must be a .kiln artifact directory, a .onnx or "
                      "a .mlir file: '" +
                      o.model + "'");
  if (o.backend.empty())
    o.backend = getRefRunner() ? "ref" : "cuda";
  if (o.backend == "cuda" && !isArtifact)
    return fail(o.model + ": the cuda backend runs .kiln artifact directories "
                          "only (compile the model with kiln-compile first)");
  if (o.graph && o.backend != "cuda")
    return usageError("--graph needs --backend=cuda");

  std::string error;
  std::vector<HostTensor> inputs, expects, outputs;
  for (const std::string &path : o.inputs) {
    HostTensor t;
    if (!readTensorFile(path, t, error))
      return fail(error);
    inputs.push_back(std::move(t));
  }
  for (const std::string &path : o.expects) {
    HostTensor t;
    if (!readTensorFile(path, t, error))
      return fail(error);
    expects.push_back(std::move(t));
  }

  code = o.backend == "cuda" ? runCuda(o, inputs, outputs)
                             : runRef(o, inputs, outputs);
  if (code)
    return code;

  if (!o.outputDir.empty()) {
    // Like `mkdir -p`: missing parents are created too.
    std::error_code ec;
    std::filesystem::create_directories(o.outputDir, ec);
    if (ec)
      return fail(o.outputDir + ": cannot create directory: " + ec.message());
    for (size_t i = 0; i < outputs.size(); ++i) {
      std::string path = o.outputDir + "/output_" + std::to_string(i) + ".pb";
      if (!writeTensorFile(path, outputs[i], error))
        return fail(error);
    }
  }
  if (!o.expects.empty())
    return checkOutputs(o, outputs, expects);
  for (size_t i = 0; i < outputs.size(); ++i)
    std::printf("output %s: %s %s %s\n",
                outputs[i].name.empty() ? std::to_string(i).c_str()
                                        : outputs[i].name.c_str(),
                dtypeName(outputs[i].dtype),
                formatShape(outputs[i].shape).c_str(),
                preview(outputs[i]).c_str());
  return 0;
}
