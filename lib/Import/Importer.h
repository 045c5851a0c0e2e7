//===- Importer.h - internal state of the ONNX importer ---------*- C++ -*-===//
//
// Internal to lib/Import. `GraphImporter` walks one ONNX graph, keeps the
// value table (ONNX name -> mlir::Value) and builds kiln ops. Converters see
// one node through `NodeContext`: its inputs, attributes, the op-building
// helpers (which infer result types, verify and fold) and the diagnostics
// that name the file, node, op type and opset. Converter groups register
// themselves in a table of op type -> supported opset range.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_IMPORT_IMPORTER_H
#define KILN_LIB_IMPORT_IMPORTER_H

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace onnx {
class NodeProto;
class AttributeProto;
class TensorProto;
} // namespace onnx

namespace kiln::import {

class GraphImporter;

/// Largest result (in elements) that import-time constant folding evaluates.
constexpr int64_t kMaxFoldElements = int64_t(1) << 16;

/// One ONNX node being converted: inputs, attributes, builders, diagnostics.
class NodeContext {
public:
  NodeContext(GraphImporter &importer, mlir::OpBuilder &b,
              const onnx::NodeProto &node, int64_t opset, mlir::Location loc,
              llvm::SmallVector<mlir::Value> inputs);

  GraphImporter &importer;
  mlir::OpBuilder &b;
  const onnx::NodeProto &node;
  int64_t opset;
  mlir::Location loc;
  /// Directory that external-data paths are relative to.
  llvm::StringRef baseDir;
  /// Set when the graph is imported as a KV-cache step (`--max-seq-len`,
  /// docs/kv-cache.md): a converter that keeps its own cache (ONNX Runtime's
  /// GroupQueryAttention) writes the past/present form kiln-kv-cache maps.
  bool kvStep = false;

  llvm::StringRef opType() const;
  mlir::MLIRContext *getContext() const { return b.getContext(); }

  //===--- Inputs and outputs ---------------------------------------------===//

  unsigned numInputs() const { return inputs.size(); }
  /// Input `i`, or a null Value if absent (optional input left empty).
  mlir::Value input(unsigned i) const {
    return i < inputs.size() ? inputs[i] : mlir::Value();
  }
  /// Input `i`, emitting an error if it is absent.
  mlir::Value required(unsigned i, llvm::StringRef what);
  unsigned numOutputs() const;
  /// True if output `i` exists and has a (non-empty) name.
  bool outputUsed(unsigned i) const;
  /// The node's results, set by the converter (null for unused outputs).
  llvm::SmallVector<mlir::Value> results;

  /// Appends `v` as the next node output; fails (the error already emitted)
  /// when `v` is null.
  mlir::LogicalResult push(mlir::Value v) {
    if (!v)
      return mlir::failure();
    results.push_back(v);
    return mlir::success();
  }

  //===--- Attributes -----------------------------------------------------===//

  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  int64_t getInt(llvm::StringRef name, int64_t dflt) const;
  float getFloat(llvm::StringRef name, float dflt) const;
  std::string getString(llvm::StringRef name, llvm::StringRef dflt) const;
  std::optional<llvm::SmallVector<int64_t>>
  getInts(llvm::StringRef name) const;

  //===--- Diagnostics ----------------------------------------------------===//

  /// An error at the node's location, prefixed with the op type and opset.
  mlir::InFlightDiagnostic emitError();

  //===--- Constants ------------------------------------------------------===//

  /// The value of `v` if it is (folded to) a kiln.constant.
  mlir::DenseElementsAttr constantOf(mlir::Value v) const;
  /// Input `i` as integers; it must be a constant (error names the input).
  mlir::FailureOr<llvm::SmallVector<int64_t>> constInts(unsigned i,
                                                       llvm::StringRef what);
  /// Input `i` as one float (a constant scalar or 1-element tensor).
  mlir::FailureOr<double> constScalar(unsigned i, llvm::StringRef what);

  //===--- Building -------------------------------------------------------===//

  /// Creates op `OpTy` with explicit result types, verifies it and folds it
  /// to a kiln.constant when every operand is constant and it is small.
  /// Returns null (error already emitted) on failure.
  template <typename OpTy, typename... Args>
  mlir::Value create(mlir::Type resultType, Args &&...args) {
    auto op = OpTy::create(b, loc, resultType, std::forward<Args>(args)...);
    return finish(op.getOperation());
  }
  /// Verifies and possibly folds a freshly built single-result op.
  mlir::Value finish(mlir::Operation *op);
  /// Like finish() for a multi-result op; fills `out`.
  mlir::LogicalResult finishMulti(mlir::Operation *op,
                                  llvm::SmallVectorImpl<mlir::Value> &out);

  mlir::Value constant(mlir::DenseElementsAttr value);
  mlir::Value constI64(llvm::ArrayRef<int64_t> values,
                       llvm::ArrayRef<int64_t> shape);
  /// A scalar-shaped (rank 0) constant of element type `elt`.
  mlir::Value scalar(mlir::Type elt, double value);

  mlir::Value reshape(mlir::Value v, llvm::ArrayRef<int64_t> shape);
  mlir::Value transpose(mlir::Value v, llvm::ArrayRef<int64_t> perm);
  mlir::Value cast(mlir::Value v, mlir::Type elt);
  mlir::Value expand(mlir::Value v, llvm::ArrayRef<int64_t> shape);
  mlir::Value slice(mlir::Value v, llvm::ArrayRef<int64_t> starts,
                    llvm::ArrayRef<int64_t> steps,
                    llvm::ArrayRef<int64_t> shape);
  mlir::Value concat(mlir::ValueRange vs, int64_t axis);
  /// A broadcasting binary op; result type inferred (i1 for comparisons).
  template <typename OpTy>
  mlir::Value binary(mlir::Value lhs, mlir::Value rhs, bool isCompare = false) {
    mlir::Type type = broadcastType(lhs, rhs, isCompare);
    if (!type)
      return {};
    return create<OpTy>(type, lhs, rhs);
  }
  mlir::Type broadcastType(mlir::Value lhs, mlir::Value rhs, bool isCompare);

  /// Normalises `axis` against `rank`; emits an error if out of range.
  std::optional<int64_t> normAxis(int64_t axis, int64_t rank,
                                  llvm::StringRef what);

private:
  llvm::SmallVector<mlir::Value> inputs;
};

/// Shape helpers.
inline mlir::RankedTensorType tensorType(mlir::Value v) {
  return llvm::cast<mlir::RankedTensorType>(v.getType());
}
inline llvm::ArrayRef<int64_t> shapeOf(mlir::Value v) {
  return tensorType(v).getShape();
}
inline mlir::Type eltOf(mlir::Value v) {
  return tensorType(v).getElementType();
}
inline mlir::RankedTensorType withShape(mlir::Value v,
                                        llvm::ArrayRef<int64_t> shape) {
  return mlir::RankedTensorType::get(shape, eltOf(v));
}
std::string shapeString(llvm::ArrayRef<int64_t> shape);

/// Converts one node; sets `ctx.results` (one per node output).
using ConvertFn = mlir::LogicalResult (*)(NodeContext &ctx);

/// One row of the converter table: ONNX op (default domain), the oldest model
/// opset whose definition of the op is imported (a model of an older opset is
/// imported too when it selects the same definition: And-7 at opset 7 and at
/// opset 13), and the newest op version (a since-version of the schema,
/// see resolveOpVersion) whose semantics the converter implements. A model of
/// any newer opset is imported as long as the op did not change after
/// `maxOpset`: opset 28 selects Add-14, which an Add row with maxOpset 23
/// covers; it selects Cast-28, which a Cast row with maxOpset 25 does not.
struct OpConverter {
  llvm::StringLiteral opType;
  int64_t minOpset;
  int64_t maxOpset;
  ConvertFn convert;
};

/// The converter groups, one per file.
llvm::ArrayRef<OpConverter> getElementwiseConverters();
llvm::ArrayRef<OpConverter> getShapeConverters();
llvm::ArrayRef<OpConverter> getNNConverters();
llvm::ArrayRef<OpConverter> getMathConverters();
llvm::ArrayRef<OpConverter> getIndexConverters();
llvm::ArrayRef<OpConverter> getLayoutConverters();

/// The axes, keepdims and result shape of an ONNX Reduce* node on `x`.
struct ReduceSpec {
  llvm::SmallVector<int64_t> axes; ///< sorted, distinct, in [0, rank)
  bool keepdims = true;
  /// `noop_with_empty_axes` with no axes: the result is `x` itself.
  bool noop = false;
  llvm::SmallVector<int64_t> shape;
};
/// Reads a Reduce* node's axes (attribute before `axesInputSince`, constant
/// input 1 from it), keepdims and noop_with_empty_axes; errors at the node.
mlir::FailureOr<ReduceSpec> reduceSpec(NodeContext &c, mlir::Value x,
                                       int64_t axesInputSince);

/// One row of the contrib converter table (ConvertContrib.cpp): an op that
/// is no ONNX schema op, written by ONNX Runtime's exporters, in `domain`
/// (`com.microsoft`, or "" for ONNX Runtime's default-domain
/// SimplifiedLayerNormalization). Such ops have one definition per domain
/// opset; `maxVersion` is the newest one the converter implements.
struct ContribConverter {
  llvm::StringLiteral domain;
  llvm::StringLiteral opType;
  int64_t maxVersion;
  ConvertFn convert;
};

/// Finds the contrib converter for (`domain`, `opType`), `domain` "" for
/// the default domain; null if there is none.
const ContribConverter *lookupContribConverter(llvm::StringRef domain,
                                               llvm::StringRef opType);

/// The version of `opType`'s definition that a model importing `opset` of
/// the default domain selects: the latest version at which the op changed
/// that is <= `opset` (from the ONNX schema history, OpsetHistory.inc).
/// Returns -1 for an op the schema does not know or one introduced after
/// `opset`.
int64_t resolveOpVersion(llvm::StringRef opType, int64_t opset);

/// The newest opset of the schema the history was generated from.
int64_t schemaOpset();

/// Finds the converter for `opType` in the default domain (any opset).
const OpConverter *lookupConverter(llvm::StringRef opType);

/// Maps an ONNX TensorProto data type to an MLIR element type (null if kiln
/// does not support it).
mlir::Type onnxElementType(mlir::MLIRContext *ctx, int32_t dataType);
/// Name of an ONNX data type, for diagnostics.
std::string onnxTypeName(int32_t dataType);

/// Where an external-data tensor's bytes live.
struct ExternalData {
  std::string path;
  int64_t offset = 0;
  int64_t length = -1;
};

/// Resolves a tensor's external_data entries against `baseDir` and checks them:
/// a location is given, relative, and its `..` components never leave
/// `baseDir`; offset and length are non-negative integers and the length
/// equals `expected` bytes; the file (symbolic links followed) is a regular
/// file that holds [offset, offset + length). Errors go to `loc` and name the
/// tensor.
mlir::FailureOr<ExternalData>
resolveExternalData(const onnx::TensorProto &tensor, llvm::StringRef baseDir,
                    mlir::Location loc, int64_t expected);

/// Converts a (small) TensorProto held inline (typed fields or raw_data) or
/// with external data to a dense attribute. `baseDir` resolves external
/// data; errors are emitted at `loc`.
mlir::FailureOr<mlir::DenseElementsAttr>
tensorProtoToAttr(const onnx::TensorProto &tensor, mlir::MLIRContext *ctx,
                  llvm::StringRef baseDir, mlir::Location loc);

} // namespace kiln::import

#endif // KILN_LIB_IMPORT_IMPORTER_H
