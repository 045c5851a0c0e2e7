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
#include <map>
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

/// One input or output of a function as the tools bind it.
struct Binding {
  /// The name it binds by (`kiln.name`, or the view's `input`/`output`
  /// name); empty when a graph-level argument or result has none.
  std::string name;
  /// Its tensor type (a buffer's shape and element type).
  mlir::RankedTensorType type;
  /// The argument or returned value, or the bound kiln.view.
  mlir::Value value;
};

/// The step's inputs and outputs, in order.
struct Signature {
  llvm::SmallVector<Binding> inputs, outputs;
};

/// True for a function in the explicit scheduled form: regions, views and a
/// kiln.graph, no arguments and no results (docs/scheduled-ir.md).
bool isExplicitlyScheduled(mlir::func::FuncOp func);

/// The inputs and outputs of `func`: its arguments and returned values, or,
/// in the explicit scheduled form, its `input` views and `output` views in
/// program order.
Signature getSignature(mlir::func::FuncOp func);

/// What persists from one step to the next: the bytes of each KV cache
/// (`kiln.kv_cache`, keyed by its symbol name, laid out as docs/kv-cache.md
/// says). A cache missing from the map is created zeroed on first use. A run
/// without a State gets a fresh zeroed one that is dropped afterwards.
struct State {
  std::map<std::string, std::vector<uint8_t>> kvCaches;
};

/// Runs a function on `inputs` (one per getSignature() input) and returns its
/// outputs. At the graph and fused levels values live in a table. A function
/// that carries planned arena offsets (`kiln.arena_bytes`) stores every
/// planned value to, and loads it from, one byte arena at its offset; a
/// function in the explicit scheduled form runs as runScheduledFunction
/// does. In both, a planning bug corrupts the result.
mlir::FailureOr<std::vector<Tensor>>
runFunction(mlir::func::FuncOp func, llvm::ArrayRef<Tensor> inputs,
            llvm::StringRef weightBaseDir, State *state = nullptr);

/// Runs a function in the explicit scheduled form: the arena and the weights
/// region are byte arrays of their declared sizes (poisoned), each weights
/// view is filled from its `init`, each input is written to its view's
/// bytes, and the launches and gemms of kiln.graph run in order, each
/// reading its buffers from their bytes at their region offsets and writing
/// its results there; the outputs are read from their views at the end. A
/// `kiln.kv_region` is not poisoned: it is the State's bytes of the module's
/// kiln.kv_cache, which persist from one call to the next.
mlir::FailureOr<std::vector<Tensor>>
runScheduledFunction(mlir::func::FuncOp func, llvm::ArrayRef<Tensor> inputs,
                     llvm::StringRef weightBaseDir, State *state = nullptr);

} // namespace kiln::ref

#endif // KILN_REFERENCE_EVALUATOR_H
