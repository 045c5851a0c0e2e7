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
#include <memory>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A context is reused for a batch of inputs (loading dialects per input is
  // slow) and then dropped: everything an import uniques -- every constant's
  // attribute, every type -- lives as long as the context, so one context for
  // the whole run grows without bound and ends in libFuzzer's RSS limit.
  static std::unique_ptr<mlir::MLIRContext> context;
  static unsigned uses = 0;
  if (!context || ++uses % 64 == 0) {
    context = std::make_unique<mlir::MLIRContext>(
        mlir::MLIRContext::Threading::DISABLED);
    context->loadDialect<kiln::KilnDialect, mlir::func::FuncDialect>();
    context->getDiagEngine().registerHandler(
        [](mlir::Diagnostic &) { return mlir::success(); });
  }
  kiln::ImportOptions options;
  options.binds["past_len"] = 7;
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  // Weights resolve next to a non-existent path, so a fuzzed model cannot
  // make the importer read files of the machine running the fuzzer.
  (void)kiln::importOnnxBytes(*context, bytes, "/nonexistent/fuzz.onnx",
                              options);
  return 0;
}
