//===- DimBinding.h - values of symbolic graph-input dims -------*- C++ -*-===//
//
// Internal to lib/Import. A graph input's `dim_param` is either a name
// (`batch_size`) or an expression of names (`past_sequence_length +
// sequence_length`, `a * b`, `n - 1`). `resolveInputDims` gives every
// dim_param a value from the `--bind` values: names directly, expressions by
// evaluation, and a name left unbound by solving an expression that is bound
// as a whole (`--bind "past + seq=8" --bind seq=1` gives past = 7).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_IMPORT_DIMBINDING_H
#define KILN_LIB_IMPORT_DIMBINDING_H

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <map>
#include <string>

namespace onnx {
class GraphProto;
} // namespace onnx

namespace kiln::import {

/// The values of a graph's symbolic input dims.
struct InputDims {
  /// dim_param string -> value, for every dim_param that has one.
  llvm::StringMap<int64_t> values;
  /// dim_params already reported as errors (an unparseable or unevaluable
  /// expression, a contradiction); the caller says nothing more about them.
  llvm::StringSet<> reported;
  /// False when an error was emitted.
  bool ok = true;
};

/// Resolves the dim_params of `graph`'s inputs (those `skip` names, the
/// initializers of an IR < 4 model, are left out) against `binds`. Errors
/// (located at `fileLoc`, naming the graph input and what was expected) are
/// emitted for an expression that does not parse, one that uses a name with
/// no value, a value that contradicts a bind (an expression's value, or two
/// inferences of one name), and a negative or overflowing value. Plain names
/// with no value are left to the caller (it reports them once per name).
InputDims resolveInputDims(const onnx::GraphProto &graph,
                           llvm::function_ref<bool(llvm::StringRef)> skip,
                           const std::map<std::string, int64_t> &binds,
                           mlir::Location fileLoc);

} // namespace kiln::import

#endif // KILN_LIB_IMPORT_DIMBINDING_H
