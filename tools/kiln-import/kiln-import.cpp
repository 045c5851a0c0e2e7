//===- kiln-import.cpp - ONNX model to kiln graph IR ----------------------===//
//
// Imports an ONNX model (inline or external-data weights) and prints the
// graph-level kiln IR: one func.func with static shapes. Symbolic input dims
// are fixed with --bind NAME=N. Any problem is reported with the file, ONNX
// node name and op type, and the tool exits non-zero.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/Import/OnnxImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::OptionCategory category("kiln-import options");

static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<model.onnx>"),
                                      cl::cat(category));
static cl::opt<std::string> outputFile("o", cl::desc("Output file (default: "
                                                     "stdout)"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(category));
static cl::list<std::string>
    binds("bind",
          cl::desc("Fix a symbolic input dim, e.g. --bind past_len=7 "
                   "(repeatable)"),
          cl::value_desc("NAME=N"), cl::cat(category));
static cl::opt<std::string> funcName("func-name",
                                     cl::desc("Name of the created function"),
                                     cl::init("main"), cl::cat(category));
static cl::opt<int64_t> maxSeqLen(
    "max-seq-len", cl::init(0), cl::value_desc("N"), cl::cat(category),
    cl::desc("Import the decode step of a KV-cache build (docs/kv-cache.md): "
             "bind the token ids' batch and sequence dims, past = N - 1 and "
             "the mask's total = N by their roles, tag the role inputs and "
             "check what depends on the past length"));
static cl::opt<int64_t> kvBatch("batch", cl::init(1), cl::value_desc("B"),
                                cl::cat(category),
                                cl::desc("With --max-seq-len: the batch of "
                                         "the step (default 1)"));
static cl::opt<int64_t> kvSeq("seq", cl::init(1), cl::value_desc("S"),
                              cl::cat(category),
                              cl::desc("With --max-seq-len: the new tokens of "
                                       "the step (default 1, a decode step; "
                                       "S > 1 is a prefill step)"));
static cl::opt<bool> printDebugInfo("mlir-print-debuginfo",
                                    cl::desc("Print locations (file, ONNX "
                                             "node name) in the output"),
                                    cl::init(false), cl::cat(category));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "kiln-import: ONNX model -> graph-level kiln IR (static shapes)\n\n"
      "  kiln-import model.onnx [-o out.mlir] [--bind NAME=N ...]\n\n"
      "Weights stay outside the IR as kiln.weight references (file, offset,\n"
      "length); small initializers become kiln.constant and shape\n"
      "subgraphs are folded at import time.\n");

  kiln::ImportOptions options;
  options.functionName = funcName;
  for (const std::string &bind : binds) {
    if (!kiln::addBind(options, bind)) {
      errs() << "kiln-import: error: --bind expects NAME=N with N >= 0, got '"
             << bind << "'\n";
      return 1;
    }
  }

  if ((kvBatch.getNumOccurrences() || kvSeq.getNumOccurrences()) &&
      !maxSeqLen.getNumOccurrences()) {
    errs() << "kiln-import: error: --batch and --seq need --max-seq-len\n";
    return 1;
  }
  if (maxSeqLen.getNumOccurrences()) {
    if (maxSeqLen < 2 || kvBatch < 1 || kvSeq < 1) {
      errs() << "kiln-import: error: --max-seq-len needs N >= 2, --batch "
                "B >= 1 and --seq S >= 1\n";
      return 1;
    }
    options.kvStep = kiln::KvStepShape{kvBatch, kvSeq, maxSeqLen};
  }

  mlir::MLIRContext context;
  context.loadDialect<kiln::KilnDialect, mlir::func::FuncDialect>();
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  auto module = kiln::importOnnxFile(context, inputFile, options);
  if (failed(module))
    return 1;

  std::string error;
  auto output = mlir::openOutputFile(outputFile, &error);
  if (!output) {
    errs() << "kiln-import: error: " << error << "\n";
    return 1;
  }
  mlir::OpPrintingFlags flags;
  if (printDebugInfo)
    flags.enableDebugInfo();
  (*module)->print(output->os(), flags);
  output->os() << "\n";
  output->keep();
  return 0;
}
