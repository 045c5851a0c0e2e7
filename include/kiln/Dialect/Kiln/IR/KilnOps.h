//===- KilnOps.h - kiln dialect ops -----------------------------*- C++ -*-===//
//
// Declares the kiln ops (generated from KilnOps.td) and the shape helpers
// their verifiers and the importer share.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_KILN_IR_KILNOPS_H
#define KILN_DIALECT_KILN_IR_KILNOPS_H

#include "kiln/Dialect/Kiln/IR/KilnAttrs.h"
#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/IR/SymbolTable.h"

#include <optional>

namespace kiln {

/// Numpy-style broadcast of two static shapes; failure if incompatible.
mlir::FailureOr<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b);

/// The most elements kiln accepts in one tensor (2^48: far beyond any device,
/// small enough that byte sizes and arena offsets cannot overflow int64).
constexpr int64_t kMaxElements = int64_t(1) << 48;

/// Element count of a static shape; std::nullopt if a dim is dynamic or
/// negative or the product exceeds kMaxElements (so it never overflows).
std::optional<int64_t> checkedNumElements(llvm::ArrayRef<int64_t> shape);

/// True for the ops whose element i is a scalar function of their operands'
/// elements at i (numpy broadcast): ElementwiseOpInterface, kiln.cast and
/// kiln.where. Fusion, in-place planning, lower precision and codegen all
/// decide "elementwise" by it.
bool isScalarMap(mlir::Operation *op);

/// True if `from` broadcasts to `to` (numpy rules, `to` at least as long).
bool isBroadcastableTo(llvm::ArrayRef<int64_t> from, llvm::ArrayRef<int64_t> to);

/// True if an operand with batch dims `dims` can be one side of a strided
/// batched GEMM whose result has batch dims `batch`: `dims` is `batch` after
/// padding with leading 1s (stride M*K) or all 1 (stride 0).
bool isStridedBatch(llvm::ArrayRef<int64_t> dims,
                    llvm::ArrayRef<int64_t> batch);

/// The scalar function of an elementwise op (ElementwiseOpInterface): the
/// one table the reference backend, codegen and the planner read.
enum class ElementwiseFn {
  // Unary.
  Neg, Abs, Sqrt, Rsqrt, Reciprocal, Exp, Log, Tanh, Erf, Sin, Cos, Sigmoid,
  Silu, Softplus, Not, GeluErf, GeluTanh, Tan, Asin, Acos, Atan, Sinh, Cosh,
  Asinh, Acosh, Atanh, Floor, Ceil, Round, Sign, BitNot,
  // Binary (broadcasting): arithmetic, comparison (i1 result), logic.
  Add, Sub, Mul, Div, Pow, Max, Min,
  Equal, Greater, GreaterEqual, Less, LessEqual,
  And, Or, Xor, Mod, Fmod, BitAnd, BitOr, BitXor, ShiftLeft, ShiftRight,
};

/// True for the binary functions (two operands).
bool isBinary(ElementwiseFn fn);

/// The memory the scheduled level's ops read and write: the arena and the
/// weights. Launches declare their effects on it (docs/scheduled-ir.md).
struct BufferResource
    : public mlir::SideEffects::Resource::Base<BufferResource> {
  llvm::StringRef getName() final { return "kiln.buffer"; }
};

/// The persistent KV cache (kiln.kv_cache): kiln.kv_append reads and writes
/// it (docs/kv-cache.md).
struct KvCacheResource
    : public mlir::SideEffects::Resource::Base<KvCacheResource> {
  llvm::StringRef getName() final { return "kiln.kv_cache"; }
};

/// Bytes of a statically shaped memref or tensor (`i1` = 1 byte per
/// element); std::nullopt if dynamic or too large (kMaxElements).
std::optional<int64_t> shapedByteSize(mlir::Type type);

} // namespace kiln

#include "kiln/Dialect/Kiln/IR/KilnOpInterfaces.h.inc"

#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnOps.h.inc"

namespace kiln {
/// The kiln.yield ending a kiln.fusion's or kiln.kernel's body, or null when
/// the body is empty or ends in something else.
YieldOp yieldOf(mlir::Region &body);
} // namespace kiln

#endif // KILN_DIALECT_KILN_IR_KILNOPS_H
