//===- kiln-node-tests.cpp - ONNX backend node tests on the ref backend ---===//
//
// Walks a directory of ONNX backend node tests (test_*/model.onnx +
// test_data_set_*/{input,output}_*.pb), imports every model, runs each data
// set on the reference backend and sorts every test into
//   pass         every output of every data set matches,
//   unsupported  the importer refused the model with a clear error,
//   wrong        a wrong answer, a run-time error, a crash or a hang,
//   exempt       wrong, but listed with its reason in the --exempt file.
// Each test runs in a forked child, so a crash or hang is counted, not fatal.
// With --baseline, a test listed there that no longer passes fails the run;
// with --required-ops, a single-node test of a listed op that does not pass
// fails the run unless --exempt names it.
//
//===----------------------------------------------------------------------===//

#include "kiln/Driver/Driver.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>
#include <sys/wait.h>
#include <unistd.h>

using namespace llvm;
using namespace kiln;

static cl::opt<std::string> dataDir(cl::Positional, cl::Required,
                                    cl::desc("<node test directory>"));
static cl::opt<std::string>
    baseline("baseline", cl::desc("File of tests that must pass (one a line)"));
static cl::opt<std::string>
    writeBaseline("write-baseline",
                  cl::desc("Write the names of passing tests to this file"));
static cl::opt<std::string>
    requiredOps("required-ops",
                cl::desc("File of op types whose single-node tests must pass"));
static cl::opt<std::string>
    exempt("exempt", cl::desc("File of 'test_name reason' lines: tests whose "
                              "failure is known and explained (reported as "
                              "EXEMPT, not counted as wrong or required)"));
static cl::opt<std::string> filter("filter",
                                   cl::desc("Run only tests containing this"));
static cl::opt<double> rtolOpt("rtol", cl::init(1e-3),
                            cl::desc("Relative tolerance (default 1e-3)"));
static cl::opt<double> atolOpt("atol", cl::init(1e-6),
                            cl::desc("Absolute tolerance (default 1e-6)"));
static cl::opt<unsigned> timeoutSec("timeout", cl::init(60),
                                    cl::desc("Seconds per test (default 60)"));
static cl::opt<bool> verbose("v", cl::desc("Print every test's result"));

namespace {
enum class Outcome { Pass, Unsupported, Wrong };

/// Reads a file of names (first token of each non-comment line).
StringSet<> readNameFile(StringRef path, std::map<std::string, std::string>
                                             *reasons = nullptr) {
  StringSet<> names;
  auto buf = MemoryBuffer::getFile(path);
  if (!buf) {
    errs() << "kiln-node-tests: cannot read '" << path
           << "': " << buf.getError().message() << "\n";
    exit(2);
  }
  SmallVector<StringRef> lines;
  (*buf)->getBuffer().split(lines, '\n');
  for (StringRef line : lines) {
    line = line.trim();
    if (line.empty() || line.starts_with("#"))
      continue;
    auto [name, rest] = line.split(' ');
    names.insert(name);
    if (reasons)
      (*reasons)[name.str()] = rest.trim().str();
  }
  return names;
}

std::string firstLine(StringRef text) {
  return text.trim().split('\n').first.str();
}

/// Runs one test in this process; returns the outcome and a one-line detail.
std::pair<Outcome, std::string> runOne(StringRef dir) {
  SmallString<256> model(dir);
  sys::path::append(model, "model.onnx");
  SmallString<256> skip(dir);
  sys::path::append(skip, "SKIP");
  if (sys::fs::exists(skip))
    return {Outcome::Unsupported, "non-tensor inputs or outputs"};

  mlir::DialectRegistry registry;
  registerKilnDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  DiagnosticCollector diags(context);
  auto loaded = loadModel(context, model, ImportOptions());
  if (failed(loaded))
    return {Outcome::Unsupported, firstLine(diags.text())};

  std::error_code ec;
  std::vector<std::string> sets;
  for (sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    if (sys::path::filename(it->path()).starts_with("test_data_set_"))
      sets.push_back(it->path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty())
    return {Outcome::Wrong, "no test_data_set_* directories"};
  for (const std::string &set : sets) {
    std::vector<runtime::HostTensor> inputs, expected, outputs;
    for (auto [prefix, into] : {std::pair{"input_", &inputs},
                                std::pair{"output_", &expected}}) {
      for (int i = 0;; ++i) {
        SmallString<256> f(set);
        sys::path::append(f, prefix + std::to_string(i) + ".pb");
        if (!sys::fs::exists(f))
          break;
        runtime::HostTensor t;
        std::string error;
        if (!runtime::readTensorFile(std::string(f), t, error))
          return {Outcome::Unsupported, "cannot read test data: " + error};
        into->push_back(std::move(t));
      }
    }
    std::string error;
    if (failed(runReference(loaded->entry, loaded->weightDir, inputs, outputs,
                            error)))
      return {Outcome::Wrong,
              "run failed: " + firstLine(error + "\n" + diags.text())};
    if (outputs.size() != expected.size())
      return {Outcome::Wrong, "produced " + std::to_string(outputs.size()) +
                                  " outputs, expected " +
                                  std::to_string(expected.size())};
    for (size_t i = 0; i < outputs.size(); ++i) {
      // Half-precision outputs are compared at their own precision: the
      // reference computes in float32 and rounds once, the ONNX data may
      // round at every step (one bf16 ulp is 2^-8).
      bool half = expected[i].dtype == runtime::DType::F16 ||
                  expected[i].dtype == runtime::DType::BF16;
      runtime::CompareResult cmp = runtime::compareTensors(
          outputs[i], expected[i], half ? std::max<double>(rtolOpt, 1e-2) : rtolOpt,
          half ? std::max<double>(atolOpt, 1e-3) : atolOpt);
      if (!cmp.pass) {
        std::string what;
        raw_string_ostream os(what);
        os << sys::path::filename(set) << " output " << i << ": "
           << (cmp.error.empty() ? "" : cmp.error + " ")
           << "max_abs_err=" << cmp.maxAbsErr
           << " max_rel_err=" << cmp.maxRelErr;
        return {Outcome::Wrong, what};
      }
    }
  }
  return {Outcome::Pass, ""};
}

/// Runs one test in a forked child with a time limit.
std::pair<Outcome, std::string> runIsolated(StringRef dir) {
  int fds[2];
  if (pipe(fds) != 0)
    return {Outcome::Wrong, "pipe failed"};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    alarm(timeoutSec);
    auto [outcome, detail] = runOne(dir);
    std::string msg = std::to_string((int)outcome) + detail;
    (void)!write(fds[1], msg.data(), msg.size());
    _exit(0);
  }
  close(fds[1]);
  std::string msg;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0)
    msg.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status))
    return {Outcome::Wrong, WTERMSIG(status) == SIGALRM
                                ? "timed out"
                                : "crashed with signal " +
                                      std::to_string(WTERMSIG(status))};
  if (msg.empty())
    return {Outcome::Wrong, "child reported nothing"};
  return {(Outcome)(msg[0] - '0'), msg.substr(1)};
}
} // namespace

int main(int argc, char **argv) {
  cl::ParseCommandLineOptions(
      argc, argv,
      "kiln-node-tests: run the ONNX backend node tests on kiln's reference "
      "backend\n\nGenerate the data with test/NodeTests/"
      "generate_node_data.py -o DIR, then: kiln-node-tests DIR\n");
  std::error_code ec;
  std::vector<std::string> tests;
  for (sys::fs::directory_iterator it(dataDir, ec), end; it != end && !ec;
       it.increment(ec)) {
    StringRef name = sys::path::filename(it->path());
    if (name.starts_with("test_") &&
        (filter.empty() || name.contains(filter)))
      tests.push_back(it->path());
  }
  if (ec || tests.empty()) {
    errs() << "kiln-node-tests: no test_* directories in '" << dataDir << "'"
           << (ec ? ": " + ec.message() : "") << "\n";
    return 2;
  }
  std::sort(tests.begin(), tests.end());

  StringSet<> mustPass, ops, exempted;
  std::map<std::string, std::string> exemptReasons;
  if (!baseline.empty())
    mustPass = readNameFile(baseline);
  if (!requiredOps.empty())
    ops = readNameFile(requiredOps);
  if (!exempt.empty())
    exempted = readNameFile(exempt, &exemptReasons);

  unsigned counts[3] = {0, 0, 0}, regressions = 0, requiredFailures = 0,
           exemptWrong = 0;
  std::vector<std::string> passing;
  for (const std::string &path : tests) {
    std::string name = sys::path::filename(path).str();
    auto [outcome, detail] = runIsolated(path);
    if (outcome == Outcome::Wrong && exempted.contains(name)) {
      ++exemptWrong;
      outs() << "EXEMPT " << name << ": " << detail << " (known: "
             << exemptReasons[name] << ")\n";
      continue;
    }
    ++counts[(int)outcome];
    const char *label[] = {"PASS", "UNSUPPORTED", "WRONG"};
    bool regression = outcome != Outcome::Pass && mustPass.contains(name);
    std::string opType;
    SmallString<256> opFile(path);
    sys::path::append(opFile, "OPTYPE");
    if (auto buf = MemoryBuffer::getFile(opFile))
      opType = (*buf)->getBuffer().trim().str();
    bool required = outcome != Outcome::Pass && !opType.empty() &&
                    ops.contains(opType) && !exempted.contains(name);
    regressions += regression;
    requiredFailures += required;
    if (outcome == Outcome::Pass)
      passing.push_back(name);
    if (verbose || outcome == Outcome::Wrong || regression || required)
      outs() << label[(int)outcome] << " " << name
             << (detail.empty() ? "" : ": " + detail)
             << (regression ? "  [REGRESSION: in baseline]" : "")
             << (required ? "  [REQUIRED: op " + opType + "]" : "") << "\n";
  }
  if (!writeBaseline.empty()) {
    std::error_code wec;
    raw_fd_ostream os(writeBaseline, wec);
    if (wec) {
      errs() << "kiln-node-tests: cannot write '" << writeBaseline
             << "': " << wec.message() << "\n";
      return 2;
    }
    os << "# ONNX node tests that pass on kiln's reference backend.\n"
          "# Regenerate with kiln-node-tests DIR --write-baseline FILE.\n";
    for (const std::string &n : passing)
      os << n << "\n";
  }
  outs() << "node tests: " << tests.size() << " total, " << counts[0]
         << " pass, " << counts[1] << " unsupported, " << counts[2]
         << " wrong, " << exemptWrong << " exempt, " << regressions << " baseline regressions, "
         << requiredFailures << " required-op failures\n";
  return counts[2] || regressions || requiredFailures ? 1 : 0;
}
