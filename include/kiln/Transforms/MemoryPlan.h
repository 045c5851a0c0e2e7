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
// values are used by the terminator and so live to the end. A view (a result
// that is its operand's bytes in the same order, kiln::viewSource) placed at
// its operand's offset is an alias: it shares those bytes, owns none, and no
// kernel computes it; the relation is read from the IR (op kind, operand and
// equal offsets), never from a side table. Likewise a result that an
// elementwise kernel writes over an operand dead after it (kiln::
// mayWriteInPlace, InPlace.h) may sit at that operand's offset: it joins the
// operand's storage but, unlike an alias, still has its kernel.
//
// The placement itself works on plain live intervals (kiln::LiveInterval), not
// on IR: placeIntervals / placeIntervalsBest place them, checkPlacement checks
// a placement (the core of kiln-verify-plan) and arenaLowerBound bounds every
// placement from below. docs/memory-plan.md describes the heuristics.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TRANSFORMS_MEMORYPLAN_H
#define KILN_TRANSFORMS_MEMORYPLAN_H

#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Dialect/Kiln/IR/WeightFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace kiln {

/// Attribute names of the scheduled level.
inline constexpr llvm::StringLiteral kArenaAttrName =
    KilnDialect::getArenaAttrName();
inline constexpr llvm::StringLiteral kArenaBytesAttrName =
    KilnDialect::getArenaBytesAttrName();

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
  /// For an alias: the index in MemoryPlan::buffers() of the buffer that owns
  /// the bytes (the root of the alias chain, never itself an alias);
  /// std::nullopt for a value that owns its bytes.
  std::optional<unsigned> aliasOf;
  /// For a result written in place (its kernel writes it over the bytes of
  /// an operand whose storage is dead after the op, kiln::mayWriteInPlace):
  /// the index in MemoryPlan::buffers() of the buffer that owns those bytes
  /// (the root of the operand's storage class), and the operand's index in
  /// the defining op. Unlike an alias it is computed by a kernel; the two are
  /// never both set.
  std::optional<unsigned> inPlaceOf;
  std::optional<unsigned> inPlaceOperand;

  /// The buffer owning this one's bytes (aliasOf or inPlaceOf), if another.
  std::optional<unsigned> storageOwner() const {
    return aliasOf ? aliasOf : inPlaceOf;
  }

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

/// One value to place, without IR: its byte size and the inclusive range of
/// program points at which it is live.
struct LiveInterval {
  int64_t size = 0;
  int64_t first = 0;
  int64_t last = 0;

  /// True if the two intervals share a program point.
  bool overlaps(const LiveInterval &other) const {
    return first <= other.last && other.first <= last;
  }
};

/// The order in which a placement visits the intervals.
enum class PlacementOrder {
  /// Index order (for a function: arguments, then results in program order).
  Program,
  /// Decreasing size; ties by decreasing lifetime, then index.
  Size,
  /// Decreasing size x lifetime (lifetime = last - first + 1); ties by size.
  Area,
  /// Decreasing lifetime; ties by decreasing size, then index.
  Lifetime,
};

/// Which free gap a placement picks among those a value fits in.
enum class PlacementFit {
  /// The gap at the lowest offset.
  First,
  /// The smallest gap (lowest offset on ties); the end if none fits.
  Best,
};

/// One placement heuristic: a visiting order and a gap choice.
struct PlacementStrategy {
  PlacementOrder order = PlacementOrder::Size;
  PlacementFit fit = PlacementFit::Best;

  /// A stable name such as "size/best-fit".
  std::string name() const;
};

/// The strategies placeIntervalsBest tries, in order of preference on ties:
/// greedy by size, by size x lifetime and by lifetime (each best-fit, then
/// first-fit), and last the program-order first fit that kiln used before.
llvm::ArrayRef<PlacementStrategy> placementStrategies();

/// The program-order first fit (kiln's planner before greedy-by-size).
inline constexpr PlacementStrategy kProgramOrderFirstFit = {
    PlacementOrder::Program, PlacementFit::First};

/// The result of placing a list of intervals.
struct Placement {
  /// One `alignment`-aligned offset per interval, in input order.
  llvm::SmallVector<int64_t> offsets;
  /// The arena size: the end of the highest value, rounded up to
  /// `alignment`.
  int64_t arenaBytes = 0;
  /// The strategy that produced it.
  PlacementStrategy strategy;
};

/// Places `intervals` with `strategy`: visits them in the strategy's order
/// and puts each at an `alignment`-aligned offset (alignment a power of two)
/// whose bytes are free of every already placed interval that overlaps it in
/// time. Zero-size intervals go to offset 0. Deterministic.
Placement placeIntervals(llvm::ArrayRef<LiveInterval> intervals,
                         int64_t alignment, PlacementStrategy strategy);

/// Places `intervals` with every strategy of placementStrategies() and keeps
/// the smallest arena (the earliest strategy on ties). Deterministic.
Placement placeIntervalsBest(llvm::ArrayRef<LiveInterval> intervals,
                             int64_t alignment);

/// The largest sum of `alignment`-rounded sizes of the intervals live at one
/// program point. Values live at the same point must occupy disjoint aligned
/// ranges, so no valid placement has a smaller (aligned) arena.
int64_t arenaLowerBound(llvm::ArrayRef<LiveInterval> intervals,
                        int64_t alignment);

/// The sum of every interval's `alignment`-rounded size: the arena without
/// any reuse.
int64_t arenaNaiveBytes(llvm::ArrayRef<LiveInterval> intervals,
                        int64_t alignment);

/// One rule a placement breaks (see checkPlacement).
struct PlacementViolation {
  enum class Kind {
    /// Interval `index` has no offset.
    Unplanned,
    /// Interval `index` has a negative or unaligned offset.
    Misaligned,
    /// Interval `index` ends past the arena.
    OutOfBounds,
    /// Intervals `other` < `index` overlap in time and share bytes.
    Overlap,
  };
  Kind kind;
  unsigned index = 0;
  unsigned other = 0;
};

/// Checks a placement of `intervals` (one optional offset each): every
/// interval placed, offsets non-negative multiples of `alignment` (when
/// positive), every interval inside `arenaBytes`, and no two intervals that
/// overlap in time sharing bytes. Returns the violations: first the
/// per-interval ones in index order (an interval may be both misaligned and
/// out of bounds), then the overlapping pairs ordered by (other, index).
/// Empty means the placement is valid. This is the core of kiln-verify-plan.
///
/// `storage`, when not empty, gives each interval a storage class (one entry
/// per interval): two intervals of one class with the same offset and the
/// same size are aliases of one set of bytes and never an Overlap; any other
/// pair, in one class or not, is checked as usual.
llvm::SmallVector<PlacementViolation>
checkPlacement(llvm::ArrayRef<LiveInterval> intervals,
               llvm::ArrayRef<std::optional<int64_t>> offsets,
               int64_t arenaBytes, int64_t alignment,
               llvm::ArrayRef<unsigned> storage = {});

/// Byte width of an element type in memory (i1 -> 1); std::nullopt for types
/// that have no memory layout in kiln (index, complex, ...).
std::optional<int64_t> elementByteWidth(mlir::Type elementType);

/// Bytes a statically shaped tensor value occupies; std::nullopt when the type
/// is not a static ranked tensor of a supported element type or would take
/// more than kMaxElements (2^48) bytes.
std::optional<int64_t> tensorByteSize(mlir::Type type);

/// True if `op` produces values that are stored outside the arena (weights
/// and constants go to weights.bin; a weight concatenation is its parts).
bool isWeightLike(mlir::Operation *op);

/// isWeightConcat and kWeightConcatAttrName: kiln/Dialect/Kiln/IR/WeightFile.h.

/// The kiln.kv_append that `op` is (or that a kiln.fusion `op` holds), else
/// null. Its results live in the KV cache region (docs/kv-cache.md): the
/// planner gives them no arena bytes, kiln-schedule views of kiln.kv_region.
KvAppendOp getKvAppend(mlir::Operation *op);

/// Bytes of the one weights layout kiln-schedule gives every function of
/// `module` (weights.bin of its artifact): each distinct weight or constant
/// once, 256-byte aligned, in first-use order.
mlir::FailureOr<int64_t> sharedWeightsBytes(mlir::ModuleOp module);

/// The operand whose bytes, in the same order, are exactly the bytes of `op`'s
/// single result, when `op` is such a view: kiln.reshape; kiln.expand that
/// only adds unit dims (same element count); kiln.transpose that only moves
/// unit dims (the other dims keep their order); kiln.cast to its own type.
/// Null for every other op. A view placed at its operand's offset is an alias
/// (no kernel, no bytes of its own); one placed elsewhere is a copy.
mlir::Value viewSource(mlir::Operation *op);

/// How MemoryPlan::compute plans a function.
struct MemoryPlanOptions {
  /// Alignment of every offset (a power of two).
  int64_t alignment = kArenaAlignment;
  /// Let a result take the storage of an operand that is dead after its op
  /// when the op's kernel allows it (kiln::mayWriteInPlace).
  bool inPlace = true;
};

/// The liveness and placement of every arena value of one function.
class MemoryPlan {
public:
  /// Computes liveness of `func` (single-block body), makes every view
  /// (viewSource) of an arena value an alias of its operand's bytes, with
  /// `options.inPlace` lets results be written in place over dead operands
  /// (below), and places every value that owns bytes at aligned offsets with
  /// placeIntervalsBest (greedy by size and the other strategies of
  /// placementStrategies(); the smallest arena wins) on the storage
  /// intervals. A returned view stays a copy when aliasing it would make it
  /// share bytes with an argument or another returned value (the runtime
  /// needs inputs and outputs disjoint). Emits a located error and fails when
  /// a value has no byte size or when the function returns an argument, a
  /// weight or a constant directly.
  ///
  /// In place: a result that is not an alias joins the storage of operand #k
  /// of its op (the first such k) when mayWriteInPlace(op, result, k), the
  /// operand is an arena value of the same size whose storage holds no
  /// argument and no member live after the op (so neither a returned value
  /// nor a view still in use), no other operand of the op reads that storage
  /// under another role, and no other result of the op took it already.
  static mlir::FailureOr<MemoryPlan> compute(mlir::func::FuncOp func,
                                             const MemoryPlanOptions &options);
  /// compute() with the default options at `alignment`.
  static mlir::FailureOr<MemoryPlan> compute(mlir::func::FuncOp func,
                                             int64_t alignment = kArenaAlignment);

  /// Recomputes liveness of `func` and reads offsets from its `kiln.arena`
  /// attributes (values without one stay unplanned) and the arena size from
  /// `kiln.arena_bytes` (std::nullopt if missing). A view whose offset equals
  /// its (planned) operand's is an alias of that operand's root; any other
  /// result at an operand's offset, with its size, is in place when compute()
  /// could have made it so (the conditions above, op by op in program order).
  /// Fails, with a located error, only on a malformed attribute.
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
  /// The live intervals of buffers(), in the same order.
  llvm::SmallVector<LiveInterval> intervals() const;
  /// One interval per buffer that owns its bytes (neither an alias nor in
  /// place), in buffers() order: its size and the union of its own, its
  /// aliases' and its in-place results' live ranges. Placement, the lower
  /// bound and the naive size are computed on these.
  llvm::SmallVector<LiveInterval> storageIntervals() const;
  /// The storage class of each buffer, in buffers() order: the index of the
  /// buffer owning its bytes (its own index when it owns them).
  llvm::SmallVector<unsigned> storageClasses() const;
  /// True if `value` is planned as an alias (shares another value's bytes,
  /// no kernel).
  bool isAlias(mlir::Value value) const;
  /// True if `value` is written in place over the bytes of an operand of its
  /// op (PlannedBuffer::inPlaceOf); it still has its kernel.
  bool isInPlace(mlir::Value value) const;
  /// The strategy that placed the buffers, when compute() did.
  std::optional<PlacementStrategy> strategy() const { return placedBy; }

private:
  /// Fills bufferList with liveness intervals (no offsets, no aliases).
  static mlir::FailureOr<MemoryPlan> computeLiveness(mlir::func::FuncOp func);
  /// The arena buffer a view's result would alias (the root of its operand's
  /// storage), if `value` is the result of a view of an arena value.
  std::optional<unsigned> viewRoot(mlir::Value value) const;
  /// The storage root of buffer `index` (itself when it owns its bytes).
  unsigned rootOf(unsigned index) const {
    return bufferList[index].storageOwner().value_or(index);
  }
  /// An operand of a buffer's op that the buffer may be written over, and
  /// the root of that operand's storage.
  struct InPlaceChoice {
    unsigned operand;
    unsigned root;
  };
  /// The operand of buffer `index`'s op over which it may be written in
  /// place (the conditions of compute()), given the storage settled for the
  /// buffers before it: `classLast[r]` is the last live point of any member
  /// of root r's storage so far. The first operand that qualifies and whose
  /// storage root `accept` takes; std::nullopt if none.
  std::optional<InPlaceChoice>
  inPlaceOperand(unsigned index, llvm::ArrayRef<int64_t> classLast,
                 llvm::function_ref<bool(unsigned root)> accept) const;
  /// Records that buffer `index` is written in place over `choice`.
  void setInPlace(unsigned index, InPlaceChoice choice) {
    bufferList[index].inPlaceOf = choice.root;
    bufferList[index].inPlaceOperand = choice.operand;
  }

  llvm::SmallVector<PlannedBuffer> bufferList;
  llvm::DenseMap<mlir::Value, unsigned> indexOf;
  std::optional<int64_t> arenaSize;
  std::optional<PlacementStrategy> placedBy;
};

/// What a function needs in memory, computed from its plan before anything
/// runs (kiln-compile --memory-report, docs/memory-plan.md).
struct MemoryReport {
  /// The function's name.
  std::string function;
  /// Ops in the entry block (terminator excluded), kiln.weight and
  /// kiln.constant ops among them, arena values planned, those among them
  /// that are aliases (no bytes, no kernel of their own) and those written
  /// in place over an operand (no bytes of their own, a kernel).
  int64_t ops = 0;
  int64_t weightOps = 0;
  int64_t values = 0;
  int64_t aliases = 0;
  int64_t inPlace = 0;
  /// Size of weights.bin: every weight and constant in program order at a
  /// 256-byte-aligned offset (the layout of docs/artifact.md).
  int64_t weightsBytes = 0;
  /// The planned arena (kiln.arena_bytes).
  int64_t arenaBytes = 0;
  /// arenaLowerBound and arenaNaiveBytes of the function's storage
  /// intervals (after aliasing and in-place merging: an alias or an in-place
  /// result adds no bytes, its storage lives as long as any member).
  int64_t arenaLowerBoundBytes = 0;
  int64_t naiveBytes = 0;
  /// Bytes of the module's kiln.kv_cache (0 without one): every layer's keys
  /// and values for max_batch rows of max_seq positions.
  int64_t kvCacheBytes = 0;
  /// With several step functions (batch buckets sharing one arena): each
  /// function's planned arena, by name; the artifact's arena is the largest.
  llvm::SmallVector<std::pair<std::string, int64_t>> functionArenaBytes;
  /// The arena each strategy of placementStrategies() would give, by name,
  /// in that order; `best` names the smallest.
  llvm::SmallVector<std::pair<std::string, int64_t>> strategyArenaBytes;
  std::string best;

  /// weights + arena + KV cache.
  int64_t totalBytes() const {
    return weightsBytes + arenaBytes + kvCacheBytes;
  }
  /// arena / lower bound (1 when the lower bound is 0).
  double arenaOverLowerBound() const;
  /// Writes the report as one JSON object (pretty-printed, newline-ended).
  void printJson(llvm::raw_ostream &os) const;
};

/// Computes the memory report of a planned `func` (it must carry
/// kiln.arena_bytes and verify). Fails with a located error when it is not
/// planned or a weight has no byte size.
mlir::FailureOr<MemoryReport> computeMemoryReport(mlir::func::FuncOp func);

} // namespace kiln

#endif // KILN_TRANSFORMS_MEMORYPLAN_H
