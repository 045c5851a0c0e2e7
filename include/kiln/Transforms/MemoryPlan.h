//===- MemoryPlan.h - arena liveness and placement analysis -----*- C++ -*-===//
//
// The memory plan of a function at the scheduled level: which values live in
// the one device arena, when each is live (program order), and at which byte
// offset it sits. `kiln-plan-memory` computes and writes it, `kiln-verify-plan`
// reads it back from the attributes and checks it, `kiln-test-print-plan`
// prints it for FileCheck, and the CUDA emitter reads offsets through it.
//
// Conventions (docs/scheduled-ir.md): every function argument and every result
// of an op other than kiln.weight / kiln.constant is planned; a value is live
// from its defining op (arguments: from the start) to its last use; returned
// values are used by the terminator and so live to the end.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TRANSFORMS_MEMORYPLAN_H
#define KILN_TRANSFORMS_MEMORYPLAN_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace kiln {

/// Attribute names of the scheduled level.
inline constexpr llvm::StringLiteral kArenaAttrName = "kiln.arena";
inline constexpr llvm::StringLiteral kArenaBytesAttrName = "kiln.arena_bytes";

/// Alignment of every arena offset, in bytes.
inline constexpr int64_t kArenaAlignment = 256;

/// One value that lives in the arena.
struct PlannedBuffer {
  /// The planned value: a function argument or an op result.
  mlir::Value value;
  /// Bytes it occupies: numElements * byte width (i1 is one byte).
  int64_t size = 0;
  /// Byte offset in the arena; std::nullopt when not (yet) planned.
  std::optional<int64_t> offset;
  /// First and last program point (op index in the entry block, inclusive)
  /// at which the value is live.
  int64_t firstLive = 0;
  int64_t lastLive = 0;

  /// True if the two buffers are live at a common program point.
  bool liveOverlaps(const PlannedBuffer &other) const {
    return firstLive <= other.lastLive && other.firstLive <= lastLive;
  }
  /// True if both are placed and their byte ranges intersect.
  bool bytesOverlap(const PlannedBuffer &other) const {
    if (!offset || !other.offset || size == 0 || other.size == 0)
      return false;
    return *offset < *other.offset + other.size &&
           *other.offset < *offset + size;
  }
};

/// Byte width of an element type in memory (i1 -> 1); std::nullopt for types
/// that have no memory layout in kiln (index, complex, ...).
std::optional<int64_t> elementByteWidth(mlir::Type elementType);

/// Bytes a statically shaped tensor value occupies; std::nullopt when the type
/// is not a static ranked tensor of a supported element type or would take
/// more than kMaxElements (2^48) bytes.
std::optional<int64_t> tensorByteSize(mlir::Type type);

/// True if `op` produces values that are stored outside the arena (weights
/// and constants go to weights.bin).
bool isWeightLike(mlir::Operation *op);

/// The liveness and placement of every arena value of one function.
class MemoryPlan {
public:
  /// Computes liveness of `func` (single-block body) and places every arena
  /// value first-fit at `alignment`-aligned offsets, arguments first, then op
  /// results in program order. Emits a located error and fails when a value
  /// has no byte size or when the function returns an argument, a weight or a
  /// constant directly.
  static mlir::FailureOr<MemoryPlan> compute(mlir::func::FuncOp func,
                                             int64_t alignment = kArenaAlignment);

  /// Recomputes liveness of `func` and reads offsets from its `kiln.arena`
  /// attributes (values without one stay unplanned) and the arena size from
  /// `kiln.arena_bytes` (std::nullopt if missing). Fails, with a located
  /// error, only on a malformed attribute.
  static mlir::FailureOr<MemoryPlan> fromAttributes(mlir::func::FuncOp func);

  /// Writes the plan as `kiln.arena` / `kiln.arena_bytes` attributes.
  void apply(mlir::func::FuncOp func) const;

  /// Every arena value: arguments first, then op results in program order.
  llvm::ArrayRef<PlannedBuffer> buffers() const { return bufferList; }
  /// The arena size (bytes), if known.
  std::optional<int64_t> arenaBytes() const { return arenaSize; }
  /// The planned buffer of `value`, or nullptr if it is not an arena value.
  const PlannedBuffer *lookup(mlir::Value value) const;
  /// The arena offset of `value`, if it is planned.
  std::optional<int64_t> offsetOf(mlir::Value value) const;

private:
  /// Fills bufferList with liveness intervals (no offsets).
  static mlir::FailureOr<MemoryPlan> computeLiveness(mlir::func::FuncOp func);

  llvm::SmallVector<PlannedBuffer> bufferList;
  llvm::DenseMap<mlir::Value, unsigned> indexOf;
  std::optional<int64_t> arenaSize;
};

} // namespace kiln

#endif // KILN_TRANSFORMS_MEMORYPLAN_H
