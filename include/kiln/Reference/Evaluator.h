//===- Evaluator.h - kiln reference (CPU) executor --------------*- C++ -*-===//
//
// The reference backend: a plain-loop CPU executor for kiln IR. Values are
// float32 (f16/bf16/f64 are widened/narrowed to f32 on load), accumulation of
// reductions and dot products is float64, integers are int64 and booleans are
// 0/1. It is the oracle for every pass, for the ONNX node tests and for GPU
// results, and the importer uses evalOp() to fold shape subgraphs.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_REFERENCE_EVALUATOR_H
#define KILN_REFERENCE_EVALUATOR_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir {
class ModuleOp;
namespace func {
class FuncOp;
} // namespace func
} // namespace mlir

namespace kiln::ref {

/// Element kinds the reference backend stores. Floats of every width are held
/// as float32; ints of every width as int64; i1 as 0/1 in int64.
enum class Kind { F32, I64, Bool };

/// A dense row-major tensor on the host.
struct Tensor {
  Kind kind = Kind::F32;
  /// The MLIR element type it stands for (f32, f16, i64, i32, i1, ...).
  mlir::Type elementType;
  llvm::SmallVector<int64_t> shape;
  std::vector<float> f;   ///< data when kind == F32
  std::vector<int64_t> i; ///< data when kind == I64 or Bool

  int64_t numElements() const;
  /// A zero tensor of the given ranked tensor type.
  static Tensor zeros(mlir::RankedTensorType type);
  /// Converts a DenseElementsAttr (any supported element type).
  static Tensor fromAttr(mlir::DenseElementsAttr attr);
  /// Converts back to a DenseElementsAttr of `type`.
  mlir::DenseElementsAttr toAttr(mlir::RankedTensorType type) const;
  /// Reads little-endian bytes of `type` (f32/f16/bf16/f64/i8/i32/i64/u8/i1).
  static Tensor fromBytes(mlir::RankedTensorType type, const void *data);
  /// Writes little-endian bytes of this tensor's element type into `data`
  /// (numElements() * byte width bytes; i1 is one byte).
  void toBytes(void *data) const;
};

/// The largest tensor the reference backend materialises (2^30 elements, 4 or
/// 8 GiB of host memory); evalOp refuses larger results with a located error.
constexpr int64_t kMaxTensorElements = int64_t(1) << 30;

/// Byte width of an element type as stored in memory (i1 -> 1).
int64_t byteWidth(mlir::Type elementType);

/// Evaluates one kiln op on concrete operands. Errors are emitted at the op's
/// location (unsupported op, out-of-range index, ...).
mlir::FailureOr<llvm::SmallVector<Tensor>>
evalOp(mlir::Operation *op, llvm::ArrayRef<Tensor> operands);

/// Loads the bytes a kiln.weight refers to (relative paths resolve against
/// `baseDir`). Errors name the weight and the file.
mlir::FailureOr<Tensor> loadWeight(mlir::Operation *weightOp,
                                   llvm::StringRef baseDir);

/// Runs a function on `inputs` (one per argument) and returns its results.
/// If the function carries planned arena offsets (the scheduled level), every
/// intermediate is stored to and loaded from one byte arena at those offsets,
/// so a planning bug corrupts the result.
mlir::FailureOr<std::vector<Tensor>>
runFunction(mlir::func::FuncOp func, llvm::ArrayRef<Tensor> inputs,
            llvm::StringRef weightBaseDir);

} // namespace kiln::ref

#endif // KILN_REFERENCE_EVALUATOR_H
