//===- kiln-import-fuzz.cpp - libFuzzer target for the ONNX importer ------===//
//
// Feeds arbitrary bytes to kiln::importOnnxBytes. The importer must reject
// every malformed model with a diagnostic: any crash, hang, sanitizer report
// or leak is a bug. Built only with -DKILN_BUILD_FUZZERS=ON and clang; see
// test/Fuzz/run-fuzz.sh.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/Import/OnnxImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // One context for the whole run: creating dialects per input is slow and
  // the importer keeps no state in the context besides uniqued types.
  static mlir::MLIRContext *context = [] {
    auto *ctx = new mlir::MLIRContext(mlir::MLIRContext::Threading::DISABLED);
    ctx->loadDialect<kiln::KilnDialect, mlir::func::FuncDialect>();
    ctx->getDiagEngine().registerHandler(
        [](mlir::Diagnostic &) { return mlir::success(); });
    return ctx;
  }();
  kiln::ImportOptions options;
  options.binds["past_len"] = 7;
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  // Weights resolve next to a non-existent path, so a fuzzed model cannot
  // make the importer read files of the machine running the fuzzer.
  (void)kiln::importOnnxBytes(*context, bytes, "/nonexistent/fuzz.onnx",
                              options);
  return 0;
}
