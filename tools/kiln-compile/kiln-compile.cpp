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
#include "kiln/Transforms/Passes.h"
#ifdef KILN_HAVE_IMPORT
#include "kiln/Import/OnnxImporter.h"
#endif

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
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

/// Parses or imports the input into a module.
static OwningOpRef<ModuleOp> loadInput(MLIRContext &context,
                                       llvm::SourceMgr &sourceMgr) {
  StringRef ext = llvm::sys::path::extension(inputFile);
  if (ext == ".onnx") {
#ifdef KILN_HAVE_IMPORT
    kiln::ImportOptions options;
    for (StringRef bind : binds)
      if (!kiln::addBind(options, bind)) {
        llvm::errs() << "error: --bind expects NAME=N with N >= 0, got '"
                     << bind << "'\n";
        return nullptr;
      }
    FailureOr<OwningOpRef<ModuleOp>> module =
        kiln::importOnnxFile(context, inputFile, options);
    if (failed(module))
      return nullptr;
    return std::move(*module);
#else
    llvm::errs() << "error: this kiln-compile was built without the ONNX "
                    "importer; pass kiln IR (.mlir)\n";
    return nullptr;
#endif
  }
  if (!binds.empty())
    llvm::errs() << "warning: --bind only applies to .onnx input\n";
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> file = openInputFile(inputFile, &error);
  if (!file) {
    llvm::errs() << "error: " << error << "\n";
    return nullptr;
  }
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  return parseSourceFile<ModuleOp>(sourceMgr, &context);
}

/// The function to compile.
static func::FuncOp pickFunction(ModuleOp module) {
  SmallVector<func::FuncOp> funcs;
  for (auto f : module.getOps<func::FuncOp>())
    if (!f.isExternal())
      funcs.push_back(f);
  if (!functionName.empty()) {
    for (func::FuncOp f : funcs)
      if (f.getSymName() == functionName)
        return f;
    module.emitError("no function @") << functionName;
    return nullptr;
  }
  if (funcs.size() == 1)
    return funcs.front();
  for (func::FuncOp f : funcs)
    if (f.getSymName() == "main")
      return f;
  module.emitError("has ")
      << funcs.size() << " functions and none is @main; pass --function";
  return nullptr;
}

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

  MLIRContext context;
  context.getOrLoadDialect<kiln::KilnDialect>();
  context.getOrLoadDialect<func::FuncDialect>();
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);

  OwningOpRef<ModuleOp> module = loadInput(context, sourceMgr);
  if (!module)
    return 1;
  func::FuncOp func = pickFunction(*module);
  if (!func)
    return 1;

  PassManager pm(&context);
  pm.addPass(kiln::createKilnSimplify());
  pm.addNestedPass<func::FuncOp>(kiln::createKilnPlanMemory());
  pm.addNestedPass<func::FuncOp>(kiln::createKilnVerifyPlan());
  if (failed(pm.run(*module)))
    return 1;

  if (emit == Emit::Mlir) {
    std::string text;
    llvm::raw_string_ostream os(text);
    module->print(os);
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
  SmallString<256> base(inputFile);
  llvm::sys::path::remove_filename(base);
  options.weightBaseDir = base.empty() ? "." : std::string(base);
  if (failed(kiln::codegen::writeArtifact(*module, func, *emitted, outputPath,
                                          options)))
    return 1;
  return 0;
}
