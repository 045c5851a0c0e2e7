//===- kiln-run.cpp - run a kiln artifact or model ------------------------===//
//
// kiln-run runs a compiled `.kiln` artifact on the GPU (`--backend=cuda`,
// eagerly or as a replayed CUDA graph), or a model on the CPU reference
// backend (`--backend=ref`, full build only), with inputs from `.pb`/`.npy`
// files, and compares the outputs against expected tensors. With
// `--generate` it generates tokens through the step functions of an
// artifact compiled with --max-seq-len, and with `--teacher-force` checks
// their logits (docs/generation.md; the loop is kiln/runtime/Generate.h).
// It includes no LLVM header, so it builds in the runtime-only build (CUDA
// toolkit alone); the command line is parsed by hand for the same reason.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Artifact.h"
#include "kiln/runtime/CudaExecutor.h"
#include "kiln/runtime/Generate.h"
#include "kiln/runtime/RefHook.h"
#include "kiln/runtime/TensorIO.h"

#include <cerrno>
#include <chrono>
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
       kiln-run M.kiln --generate --prompt-ids IDS [--prompt-ids IDS ...]
                --max-new-tokens N [--temperature T --top-k K --top-p P
                --seed S] [--eos ID] [--no-prefill] [--output-dir DIR]
                [--eager]
       kiln-run M.kiln --teacher-force FILE [--expect-logits FILE]
                [--rtol R --atol A]

Runs MODEL and prints or checks its outputs; or generates tokens with the
step functions of an artifact compiled with `kiln-compile --max-seq-len`.

MODEL is a .kiln artifact directory (cuda or ref backend), or a .onnx / .mlir
model (ref backend only; --generate and --teacher-force need a .kiln).

OPTIONS:
  --backend=ref|cuda   where to run (default: ref when this kiln-run has the
                       reference backend, else cuda)
  --graph              cuda: capture the launch list into a CUDA graph once
                       and replay it (default: eager launches on a stream;
                       --generate and --teacher-force replay graphs unless
                       --eager is given)
  --eager              cuda: launch on a stream, no CUDA graph
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
                       parents are created); with --generate
                       DIR/generated_ids.pb (int64 [batch, N]) and
                       DIR/logits.pb (float32 [batch, N, vocab]); with
                       --teacher-force DIR/logits.pb (float32 [L, vocab])
  --bind NAME=N        fix a symbolic dim (ref backend, .onnx models)
  --function NAME      function to run (default: the model's only function,
                       else main)
  --device N           CUDA device ordinal (default 0)
  -h, --help           print this help

GENERATION (docs/generation.md):
  --generate           generate tokens for every --prompt-ids together, in
                       the smallest batch bucket that holds them; prints
                       each prompt's new ids, one line per prompt. The
                       prompts go in through the bucket's prefill function
                       (prefill_b<B>_s<S>, the smallest S that holds the
                       longest prompt, else the largest S in chunks) when
                       the artifact has one, else token by token
  --prompt-ids IDS     one prompt: a .pb/.npy file of int64 ids, shape [1, L]
                       or [L], or the ids as text ("1 2 3"); give it several
                       times for a batch
  --max-new-tokens N   tokens to generate per prompt
  --eos ID             stop a prompt once it has produced ID (its later
                       entries in generated_ids.pb are ID, its logits zeros)
  --temperature T      sample from softmax(logits / T) (default 0: greedy,
                       the lowest id among the largest logits)
  --top-k K            sample among the K most probable tokens only
  --top-p P            sample among the smallest most-probable set whose
                       probability is >= P (0 < P <= 1)
  --seed S             sampler seed (default 0; prompt b draws from S + b)
  --no-prefill         feed the prompts token by token through the decode
                       function even when the artifact has prefill functions
  --teacher-force FILE feed the int64 ids in FILE ([1, L] or [L]) one step
                       at a time through row 0 of the decode function (never
                       prefill) and keep the logits after each token
  --expect-logits FILE expected float32 [L, vocab] logits for
                       --teacher-force: prints max_abs_err, max_rel_err and
                       PASS/FAIL (--rtol/--atol as above), exit 1 on FAIL
  A line with tokens/s goes to stderr while a run takes longer than a second.

ENVIRONMENT:
  KILN_RUNTIME_SYNC=1  cuda eager: synchronise after every launch, so an
                       asynchronous fault names its launch

EXIT STATUS: 0 on success, 1 on an error or a mismatch, 2 on a usage error.
)";

/// A --prompt-ids value: ids given as text (parsed already) or a file.
struct PromptArg {
  std::string file; ///< empty when the ids were given as text
  std::vector<int64_t> ids;
};

struct Options {
  std::string model;
  std::string backend;
  bool graph = false;
  bool eager = false;
  /// --generate / --teacher-force FILE mode and their options.
  bool generate = false;
  std::string teacherForce, expectLogits;
  std::vector<PromptArg> prompts;
  int64_t maxNewTokens = -1; ///< -1: not given
  int64_t eos = -1;          ///< -1: not given
  bool noPrefill = false;    ///< --no-prefill: prompts token by token
  SamplingOptions sampling;
  /// Sampling options given on the command line (for the usage checks).
  std::vector<std::string> samplingFlags;
  bool temperatureGiven = false;
  /// Options of the plain run that were given (for the usage checks).
  std::vector<std::string> runFlags;
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

bool parseUnsigned(const std::string &s, uint64_t &v) {
  char *end = nullptr;
  errno = 0;
  unsigned long long x = std::strtoull(s.c_str(), &end, 10);
  v = x;
  return !s.empty() && s[0] >= '0' && s[0] <= '9' && *end == '\0' && errno == 0;
}

/// Reads a --prompt-ids value: a tensor file is kept for later (read after
/// the usage checks), anything else must be a list of ids.
bool addPrompt(const std::string &value, Options &o, std::string &error) {
  PromptArg p;
  if (isTensorFile(value)) {
    p.file = value;
  } else if (!parseTokenIdList(value, p.ids, error)) {
    error = "--prompt-ids needs a .pb/.npy file or token ids such as "
            "\"1 2 3\": " +
            error;
    return false;
  }
  o.prompts.push_back(std::move(p));
  return true;
}

/// The usage checks between the options of the three modes. Returns -1 to
/// go on, else the exit code.
int checkModes(const Options &o) {
  bool teacher = !o.teacherForce.empty();
  if (o.generate && teacher)
    return usageError("--generate and --teacher-force cannot be combined");
  if (o.graph && o.eager)
    return usageError("--graph and --eager cannot be combined");
  const char *mode = o.generate ? "--generate" : "--teacher-force";
  if ((o.generate || teacher) && !o.runFlags.empty())
    return usageError(o.runFlags.front() + " cannot be used with " + mode +
                      " (the step inputs come from the prompt)");
  if (!o.generate) {
    if (!o.prompts.empty())
      return usageError("--prompt-ids needs --generate");
    if (o.maxNewTokens >= 0)
      return usageError("--max-new-tokens needs --generate");
    if (o.eos >= 0)
      return usageError("--eos needs --generate");
    if (o.noPrefill)
      return usageError("--no-prefill needs --generate");
    if (o.temperatureGiven)
      return usageError("--temperature needs --generate");
    if (!o.samplingFlags.empty())
      return usageError(o.samplingFlags.front() + " needs --generate");
  }
  if (!o.expectLogits.empty() && !teacher)
    return usageError("--expect-logits needs --teacher-force");
  if (o.generate && o.prompts.empty())
    return usageError("--generate needs at least one --prompt-ids");
  if (o.generate && o.maxNewTokens < 0)
    return usageError("--generate needs --max-new-tokens N");
  if (o.generate && !o.samplingFlags.empty() && o.sampling.greedy())
    std::fprintf(stderr,
                 "kiln-run: warning: %s has no effect without --temperature "
                 "> 0 (decoding is greedy)\n",
                 o.samplingFlags.front().c_str());
  return -1;
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
      o.runFlags.push_back(name);
      continue;
    }
    if (name == "--input" || name == "--expect" || name == "--repeat" ||
        name == "--bind" || name == "--function")
      o.runFlags.push_back(name);
    if (name == "--graph") {
      o.graph = true;
    } else if (name == "--eager") {
      o.eager = true;
    } else if (name == "--generate") {
      o.generate = true;
    } else if (name == "--no-prefill") {
      o.noPrefill = true;
    } else if (name == "--prompt-ids") {
      std::string error;
      if (!takeValue())
        return usageError("--prompt-ids needs a file or token ids");
      if (!addPrompt(value, o, error))
        return usageError(error);
      // Further tensor files right after are further prompts.
      while (i + 1 < args.size() && isTensorFile(args[i + 1]) &&
             args[i + 1][0] != '-')
        if (!addPrompt(args[++i], o, error))
          return usageError(error);
    } else if (name == "--max-new-tokens") {
      int64_t n;
      if (!takeValue() || !parseInt(value, n) || n < 1 || n > 1000000000)
        return usageError("--max-new-tokens needs a positive integer");
      o.maxNewTokens = n;
    } else if (name == "--eos") {
      int64_t n;
      if (!takeValue() || !parseInt(value, n) || n < 0)
        return usageError("--eos needs a token id (a non-negative integer)");
      o.eos = n;
    } else if (name == "--temperature") {
      double v;
      if (!takeValue() || !parseDouble(value, v) || !(v < 1e30))
        return usageError("--temperature needs a non-negative number");
      o.sampling.temperature = v;
      o.temperatureGiven = true;
    } else if (name == "--top-k") {
      int64_t n;
      if (!takeValue() || !parseInt(value, n) || n < 1)
        return usageError("--top-k needs a positive integer");
      o.sampling.topK = n;
      o.samplingFlags.push_back(name);
    } else if (name == "--top-p") {
      double v;
      if (!takeValue() || !parseDouble(value, v) || !(v > 0 && v <= 1))
        return usageError("--top-p needs a number in (0, 1]");
      o.sampling.topP = v;
      o.samplingFlags.push_back(name);
    } else if (name == "--seed") {
      uint64_t v;
      if (!takeValue() || !parseUnsigned(value, v))
        return usageError("--seed needs a non-negative integer");
      o.sampling.seed = v;
      o.samplingFlags.push_back(name);
    } else if (name == "--teacher-force" || name == "--expect-logits") {
      if (!takeValue() || !isTensorFile(value))
        return usageError(name + " needs a .pb or .npy file");
      (name == "--teacher-force" ? o.teacherForce : o.expectLogits) = value;
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
  return checkModes(o);
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
  const Function *fn = artifact.manifest.findFunction(function);
  if (!fn)
    return fail(artifact.manifestPath + ": no function '" + function + "'");
  std::vector<HostTensor> ordered;
  if (!bindInputs(*fn, inputs, ordered, error))
    return fail(error);
  if (!o.binds.empty())
    std::fprintf(stderr, "kiln-run: warning: --bind is ignored by the cuda "
                         "backend (artifact shapes are static)\n");
  std::unique_ptr<CudaExecutor> exec =
      CudaExecutor::create(artifact, o.device, error);
  if (!exec)
    return fail(error);
  RunStats stats;
  CudaExecutor::Mode mode =
      o.graph ? CudaExecutor::Mode::Graph : CudaExecutor::Mode::Eager;
  if (!o.checkIdentical) {
    if (!exec->run(function, mode, ordered, o.repeat, outputs, stats, error))
      return fail(error);
  } else {
    // One step at a time: the graph is captured on the first and replayed
    // by every later one; each step's bytes must equal the first's.
    std::vector<HostTensor> step;
    for (int i = 0; i < o.repeat; ++i) {
      RunStats one;
      if (!exec->run(function, mode, ordered, 1, i ? step : outputs, one,
                     error))
        return fail(error);
      stats.steps += one.steps;
      stats.totalMs += one.totalMs;
      for (size_t k = 0; i && k < outputs.size(); ++k)
        if (step[k].bytes != outputs[k].bytes)
          return fail("step " + std::to_string(i + 1) + " output " +
                      std::to_string(k) + " differs from step 1's");
    }
    std::printf("cuda: %d steps, outputs bit-identical to step 1\n", o.repeat);
  }
  std::printf("cuda %s on %s%s: %d step(s), %.2f us/step\n",
              o.graph ? "graph" : "eager", exec->deviceDescription().c_str(),
              exec->dependentLaunch() ? " (PDL)" : "", stats.steps,
              stats.usPerStep());
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

/// The cuda backend as a StepRunner: a step is CudaExecutor::step() (a
/// replay of the function's captured graph unless --eager), the cache reset
/// CudaExecutor::resetKvCache(). With a DeviceSampler, the next tokens are
/// chosen by the sampling kernel on the executor's stream right after the
/// step, from the logits in the arena; only the ids come back.
class CudaStepRunner : public StepRunner {
public:
  CudaStepRunner(CudaExecutor &exec, bool graph,
                 std::unique_ptr<DeviceSampler> sampler)
      : exec(exec), graph(graph), sampler(std::move(sampler)) {}
  bool run(const Function &fn, const std::vector<HostTensor> &ordered,
           std::vector<HostTensor> &outputs, std::string &error) override {
    return exec.step(fn.name, ordered, outputs, graph, error);
  }
  bool resetCache(std::string &error) override {
    return exec.resetKvCache(error);
  }
  bool samplesOnDevice() const override { return sampler != nullptr; }
  bool runAndSample(const Function &fn, const std::vector<HostTensor> &ordered,
                    size_t logitsOutput, const std::vector<DeviceDraw> &draws,
                    const SamplingOptions &sampling,
                    std::vector<int64_t> &tokens, std::string &error) override {
    if (!exec.stepOnDevice(fn.name, ordered, graph, error))
      return false;
    const float *logits =
        exec.outputDevicePointer(fn.name, logitsOutput, error);
    if (!logits)
      return false;
    DeviceSamplingParams p;
    p.greedy = sampling.greedy() || sampling.topK == 1;
    p.temperature = float(sampling.temperature);
    p.topK = sampling.topK;
    p.topP = sampling.topP;
    p.seed = sampling.seed;
    return sampler->sample(logits, fn.outputs[logitsOutput].shape.back(), draws,
                           p, exec.stream(), tokens, error);
  }

private:
  CudaExecutor &exec;
  bool graph;
  std::unique_ptr<DeviceSampler> sampler;
};

/// Creates `dir` and its parents, like `mkdir -p`.
bool makeOutputDir(const std::string &dir, std::string &error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    error = dir + ": cannot create directory: " + ec.message();
  return !ec;
}

/// Reads the ids of a token-id file (--prompt-ids, --teacher-force).
bool readIds(const std::string &path, std::vector<int64_t> &ids,
             std::string &error) {
  HostTensor t;
  return readTensorFile(path, t, error) &&
         tokenIdsFromTensor(t, path, ids, error);
}

/// Prints a progress line on stderr once a second after the first second.
struct ProgressPrinter {
  double lastPrinted = 0;
  void operator()(const GenerateProgress &p) {
    if (p.seconds < 1 || p.seconds - lastPrinted < 1)
      return;
    lastPrinted = p.seconds;
    std::fprintf(stderr,
                 "kiln-run: step %lld/%lld, %lld new tokens, %.1f tokens/s\n",
                 (long long)p.steps, (long long)p.maxSteps, (long long)p.tokens,
                 double(p.tokens) / p.seconds);
  }
};

/// --generate and --teacher-force: the step functions of an artifact on
/// either backend, through the generation loop of Generate.h.
int runGeneration(const Options &o) {
  std::string error;
  // Everything about the inputs is checked before the artifact is touched.
  std::vector<std::vector<int64_t>> prompts;
  for (const PromptArg &p : o.prompts) {
    prompts.push_back(p.ids);
    if (!p.file.empty() && !readIds(p.file, prompts.back(), error))
      return fail(error);
  }
  std::vector<int64_t> forced;
  HostTensor expected;
  bool teacher = !o.teacherForce.empty();
  if (teacher && !readIds(o.teacherForce, forced, error))
    return fail(error);
  if (!o.expectLogits.empty() &&
      !readTensorFile(o.expectLogits, expected, error))
    return fail(error);

  // The manifest: the cuda backend loads the data too, the reference
  // backend only validates it (RefSession reads scheduled.mlir).
  bool cuda = o.backend == "cuda";
  Artifact artifact;
  if (!loadArtifact(o.model, artifact, error, /*readData=*/cuda))
    return fail(error);
  const Manifest &m = artifact.manifest;
  // The bucket, the step function and the ids against the vocabulary
  // first: their errors come before any device work.
  const Function *fn = teacher
                           ? prepareTeacherForcing(m, forced, o.model, error)
                           : prepareGeneration(m, prompts, o.model, error,
                                               /*usePrefill=*/!o.noPrefill);
  if (!fn)
    return fail(error);

  std::unique_ptr<CudaExecutor> exec;
  std::unique_ptr<StepRunner> runner;
  std::string where;
  if (cuda) {
    exec = CudaExecutor::create(artifact, o.device, error);
    if (!exec)
      return fail(error);
    std::unique_ptr<DeviceSampler> sampler;
    if (!teacher) {
      sampler = DeviceSampler::create(exec->device(), fn->stepBatch, error);
      if (!sampler)
        return fail(error);
    }
    runner =
        std::make_unique<CudaStepRunner>(*exec, !o.eager, std::move(sampler));
    where = std::string("cuda ") + (o.eager ? "eager" : "graph") + " on " +
            exec->deviceDescription();
  } else {
    RefSessionFactory factory = getRefSessionFactory();
    if (!factory)
      return fail("this kiln-run was built without the reference backend "
                  "(KILN_RUNTIME_ONLY); use --backend=cuda");
    runner = factory(o.model, fn->name, error);
    if (!runner)
      return fail(error);
    where = "ref";
  }

  if (teacher) {
    HostTensor logits;
    std::string function;
    if (!teacherForce(m, *runner, forced, o.model, logits, function, error))
      return fail(error);
    std::printf("teacher-force: %zu tokens through %s (%s)\n", forced.size(),
                function.c_str(), where.c_str());
    if (!o.outputDir.empty() &&
        (!makeOutputDir(o.outputDir, error) ||
         !writeTensorFile(o.outputDir + "/logits.pb", logits, error)))
      return fail(error);
    if (o.expectLogits.empty()) {
      std::printf("logits: %s %s %s\n", dtypeName(logits.dtype),
                  formatShape(logits.shape).c_str(), preview(logits).c_str());
      return 0;
    }
    // [1, L, V] expectations compare as [L, V].
    if (expected.shape.size() == 3 && expected.shape[0] == 1)
      expected.shape.erase(expected.shape.begin());
    CompareResult r = compareTensors(logits, expected, o.rtol, o.atol);
    if (!r.error.empty())
      return fail(o.expectLogits + ": " + r.error);
    std::printf("logits: max_abs_err=%.3g max_rel_err=%.3g %s\n", r.maxAbsErr,
                r.maxRelErr, r.pass ? "PASS" : "FAIL");
    if (r.pass)
      return 0;
    int64_t vocab = logits.shape[1];
    std::printf("  %lld of %lld elements differ; first at token %lld, id "
                "%lld: got %g, expected %g\n",
                (long long)r.numMismatches, (long long)logits.numElements(),
                (long long)(r.firstMismatch / vocab),
                (long long)(r.firstMismatch % vocab),
                logits.elementAsDouble(r.firstMismatch),
                expected.elementAsDouble(r.firstMismatch));
    return 1;
  }

  GenerateOptions options;
  options.maxNewTokens = o.maxNewTokens;
  options.eosId = o.eos;
  options.sampling = o.sampling;
  // The logits come back to the host only for DIR/logits.pb.
  options.keepLogits = !o.outputDir.empty();
  options.prefill = !o.noPrefill;
  options.progress = ProgressPrinter();
  GenerateResult result;
  if (!generate(m, *runner, prompts, options, o.model, result, error))
    return fail(error);
  for (const std::vector<int64_t> &row : result.tokens) {
    std::string line;
    for (int64_t id : row)
      line += (line.empty() ? "" : " ") + std::to_string(id);
    std::printf("%s\n", line.c_str());
  }
  if (result.seconds >= 1) {
    std::string functions = result.function;
    if (!result.prefillFunction.empty())
      functions = result.prefillFunction + " x" +
                  std::to_string(result.prefillSteps) + " + " + functions;
    std::fprintf(stderr,
                 "kiln-run: %s (%s): %zu prompt(s), %lld steps, %lld new "
                 "tokens in %.2f s, %.1f tokens/s\n",
                 functions.c_str(), where.c_str(), prompts.size(),
                 (long long)result.steps, (long long)result.numTokens,
                 result.seconds, result.tokensPerSecond());
  }
  if (!o.outputDir.empty() &&
      (!makeOutputDir(o.outputDir, error) ||
       !writeTensorFile(o.outputDir + "/generated_ids.pb", result.ids, error) ||
       !writeTensorFile(o.outputDir + "/logits.pb", result.logits, error)))
    return fail(error);
  return 0;
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
  if (o.eager && o.backend != "cuda")
    return usageError("--eager needs --backend=cuda");
  if ((o.generate || !o.teacherForce.empty()) && !isArtifact)
    return fail(o.model + ": " +
                (o.generate ? "--generate" : "--teacher-force") +
                " needs a .kiln artifact compiled with --max-seq-len");
  if (o.generate || !o.teacherForce.empty())
    return runGeneration(o);

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
    if (!makeOutputDir(o.outputDir, error))
      return fail(error);
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
