//===- kiln-compile.cpp - ONNX or kiln IR to a kiln artifact --------------===//
//
// The compiler driver: reads an ONNX model (through the importer) or kiln IR
// text, runs the default pipeline (kiln-simplify, kiln-plan-memory,
// kiln-verify-plan; one kernel per op, no fusion), and stops at the stage
// --emit names: the scheduled IR, the CUDA source, or (default) the artifact
// directory of docs/artifact.md, compiled with nvcc.
//
//===----------------------------------------------------------------------===//

#include "kiln/Codegen/Artifact.h"
#include "kiln/Codegen/CudaEmitter.h"
#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/Driver/Driver.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ToolOutputFile.h"
#include "mlir/Support/FileUtilities.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {
enum class Emit { Mlir, Cuda, Artifact };

cl::OptionCategory category("kiln-compile options");
cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                               cl::desc("<model.onnx | model.mlir>"),
                               cl::cat(category));
cl::opt<std::string> outputPath(
    "o", cl::value_desc("path"), cl::init("-"), cl::cat(category),
    cl::desc("Output: the artifact directory for --emit=artifact (required), "
             "else a file ('-' = stdout)"));
cl::list<std::string> binds(
    "bind", cl::value_desc("NAME=N"), cl::cat(category),
    cl::desc("Fix a symbolic ONNX dim (repeatable), e.g. --bind past_len=7"));
cl::opt<std::string> arch("arch", cl::init("sm_90a"), cl::cat(category),
                          cl::desc("GPU target: sm_80, sm_90a, ... (SASS for "
                                   "it plus PTX go into kernels.fatbin)"));
cl::opt<Emit> emit(
    "emit", cl::init(Emit::Artifact), cl::cat(category),
    cl::desc("Stage to stop at"),
    cl::values(clEnumValN(Emit::Mlir, "mlir", "print the scheduled IR"),
               clEnumValN(Emit::Cuda, "cuda", "print the generated CUDA C++"),
               clEnumValN(Emit::Artifact, "artifact",
                          "write the artifact directory (default)")));
cl::opt<std::string> nvccPath("nvcc", cl::init(""), cl::cat(category),
                              cl::desc("nvcc to run (default: nvcc in PATH, "
                                       "then /usr/local/cuda/bin/nvcc)"));
cl::opt<std::string> kernelsDir(
    "kernels-dir", cl::init(KILN_KERNELS_DIR), cl::cat(category),
    cl::desc("Directory holding kiln_kernels.cuh"));
cl::opt<bool> noGemm("no-gemm", cl::init(false), cl::cat(category),
                     cl::desc("Lower matmul/linear to generated kernels "
                              "instead of cuBLASLt gemm launches"));
cl::opt<std::string> functionName("function", cl::init(""), cl::cat(category),
                                  cl::desc("Function to compile (default: the "
                                           "only one, or @main)"));
} // namespace

/// Writes `text` to outputPath ('-' = stdout).
static int writeOutput(StringRef text) {
  std::string error;
  auto out = openOutputFile(outputPath, &error);
  if (!out) {
    llvm::errs() << "error: " << error << "\n";
    return 1;
  }
  out->os() << text;
  out->keep();
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "kiln-compile: ONNX or kiln IR -> kiln artifact\n\n"
      "Runs kiln-simplify, kiln-plan-memory and kiln-verify-plan, emits one\n"
      "CUDA kernel per op (matmul/linear as cuBLASLt gemm launches), compiles\n"
      "them with nvcc and writes the artifact directory (docs/artifact.md):\n"
      "manifest.txt, kernels.fatbin, kernels.cu, weights.bin, scheduled.mlir.\n"
      "\n  kiln-compile model.onnx -o model.kiln --bind past_len=7 --arch "
      "sm_90a\n  kiln-compile model.mlir --emit=cuda\n");

  DialectRegistry registry;
  kiln::registerKilnDialects(registry);
  MLIRContext context(registry);
  kiln::DiagnosticPrinter diagnostics(context);

  kiln::ImportOptions importOptions;
  for (StringRef bind : binds)
    if (!kiln::addBind(importOptions, bind)) {
      llvm::errs() << "kiln-compile: error: --bind expects NAME=N with "
                      "N >= 0, got '"
                   << bind << "'\n";
      return 1;
    }
  if (!binds.empty() && !StringRef(inputFile).ends_with(".onnx"))
    llvm::errs() << "kiln-compile: warning: --bind only applies to .onnx "
                    "input\n";
  FailureOr<kiln::LoadedModel> model =
      kiln::loadModel(context, inputFile, importOptions, functionName);
  if (failed(model))
    return 1;
  ModuleOp module = *model->module;
  func::FuncOp func = model->entry;

  PassManager pm(&context);
  pm.addPass(kiln::createKilnSimplify());
  pm.addNestedPass<func::FuncOp>(kiln::createKilnPlanMemory());
  pm.addNestedPass<func::FuncOp>(kiln::createKilnVerifyPlan());
  if (failed(pm.run(module)))
    return 1;

  if (emit == Emit::Mlir) {
    std::string text;
    llvm::raw_string_ostream os(text);
    module.print(os);
    return writeOutput(text);
  }

  FailureOr<kiln::codegen::EmittedFunction> emitted =
      kiln::codegen::emitFunction(func, {/*useGemm=*/!noGemm});
  if (failed(emitted))
    return 1;
  if (emit == Emit::Cuda)
    return writeOutput(emitted->source);

  if (outputPath == "-") {
    llvm::errs() << "error: --emit=artifact needs -o DIR\n";
    return 1;
  }
  kiln::codegen::ArtifactOptions options;
  options.arch = arch;
  options.kernelsDir = kernelsDir;
  options.nvcc = nvccPath;
  if (options.nvcc.empty())
    options.nvcc = llvm::sys::findProgramByName("nvcc")
                       ? "nvcc"
                       : "/usr/local/cuda/bin/nvcc";
  // Weight paths from the importer are as it resolved them; those in .mlir
  // input are relative to the file's directory.
  options.weightBaseDir = model->weightDir.empty() ? "." : model->weightDir;
  if (failed(kiln::codegen::writeArtifact(module, func, *emitted, outputPath,
                                          options)))
    return 1;
  return 0;
}
