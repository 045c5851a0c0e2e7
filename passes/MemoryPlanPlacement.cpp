//===- MemoryPlanPlacement.cpp - arena placement of live intervals --------===//
//
// The IR-free core of the memory planner: places a list of live intervals
// (a byte size and an inclusive range of program points each) in one arena,
// bounds every placement from below, and checks a placement. kiln::MemoryPlan
// feeds it a function's values; the unit tests feed it random intervals.
//
// Placement is greedy: visit the intervals in some order and put each at the
// lowest (first fit) or tightest (best fit) aligned gap left free by the
// already placed intervals that are live at the same time. Visiting in
// decreasing size is the "greedy by size" heuristic of TFLite's arena planner
// (Pisarchyk & Lee, "Efficient Memory Management for Deep Neural Net
// Inference", 2020); placeIntervalsBest tries a few orders and keeps the
// smallest arena.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/MemoryPlan.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <numeric>

using namespace kiln;

std::string PlacementStrategy::name() const {
  std::string result;
  switch (order) {
  case PlacementOrder::Program:
    result = "program";
    break;
  case PlacementOrder::Size:
    result = "size";
    break;
  case PlacementOrder::Area:
    result = "size-x-lifetime";
    break;
  case PlacementOrder::Lifetime:
    result = "lifetime";
    break;
  }
  return result + (fit == PlacementFit::Best ? "/best-fit" : "/first-fit");
}

llvm::ArrayRef<PlacementStrategy> kiln::placementStrategies() {
  static const PlacementStrategy strategies[] = {
      {PlacementOrder::Size, PlacementFit::Best},
      {PlacementOrder::Size, PlacementFit::First},
      {PlacementOrder::Area, PlacementFit::Best},
      {PlacementOrder::Area, PlacementFit::First},
      {PlacementOrder::Lifetime, PlacementFit::Best},
      {PlacementOrder::Lifetime, PlacementFit::First},
      kProgramOrderFirstFit,
  };
  return strategies;
}

/// `size` rounded up to `alignment` (a power of two).
static int64_t alignedSize(int64_t size, int64_t alignment) {
  return static_cast<int64_t>(llvm::alignTo(size, alignment));
}

/// The indices of `intervals` in the order `order` visits them. Every
/// comparison ends on the index, so the order is total and deterministic.
static llvm::SmallVector<unsigned>
visitingOrder(llvm::ArrayRef<LiveInterval> intervals, PlacementOrder order) {
  llvm::SmallVector<unsigned> indices(intervals.size());
  std::iota(indices.begin(), indices.end(), 0u);
  auto lifetime = [&](unsigned i) {
    return intervals[i].last - intervals[i].first + 1;
  };
  auto bySize = [&](unsigned a, unsigned b) {
    if (intervals[a].size != intervals[b].size)
      return intervals[a].size > intervals[b].size;
    if (lifetime(a) != lifetime(b))
      return lifetime(a) > lifetime(b);
    return a < b;
  };
  switch (order) {
  case PlacementOrder::Program:
    break;
  case PlacementOrder::Size:
    llvm::sort(indices, bySize);
    break;
  case PlacementOrder::Area:
    llvm::sort(indices, [&](unsigned a, unsigned b) {
      // size < 2^48 and lifetime < 2^63: the product fits in 128 bits.
      __int128 areaA = static_cast<__int128>(intervals[a].size) * lifetime(a);
      __int128 areaB = static_cast<__int128>(intervals[b].size) * lifetime(b);
      if (areaA != areaB)
        return areaA > areaB;
      return bySize(a, b);
    });
    break;
  case PlacementOrder::Lifetime:
    llvm::sort(indices, [&](unsigned a, unsigned b) {
      if (lifetime(a) != lifetime(b))
        return lifetime(a) > lifetime(b);
      return bySize(a, b);
    });
    break;
  }
  return indices;
}

Placement kiln::placeIntervals(llvm::ArrayRef<LiveInterval> intervals,
                               int64_t alignment, PlacementStrategy strategy) {
  Placement placement;
  placement.strategy = strategy;
  placement.offsets.assign(intervals.size(), 0);

  // Byte ranges [begin, end) of the placed intervals live at the same time as
  // the one being placed, ends rounded up to the alignment.
  struct Range {
    int64_t begin, end;
  };
  llvm::SmallVector<unsigned> placed;
  llvm::SmallVector<Range> busy;
  int64_t arenaEnd = 0;
  for (unsigned i : visitingOrder(intervals, strategy.order)) {
    const LiveInterval &interval = intervals[i];
    if (interval.size == 0)
      continue; // Offset 0; it conflicts with nothing.
    int64_t need = alignedSize(interval.size, alignment);

    busy.clear();
    for (unsigned j : placed)
      if (intervals[j].overlaps(interval))
        busy.push_back(
            {placement.offsets[j],
             placement.offsets[j] + alignedSize(intervals[j].size, alignment)});
    llvm::sort(busy, [](const Range &a, const Range &b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });

    // Walk the free gaps in increasing offset; `frontier` is the end of the
    // busy bytes seen so far. Everything past the last range is free.
    int64_t frontier = 0;
    std::optional<int64_t> chosen, chosenGap;
    for (const Range &range : busy) {
      int64_t gap = range.begin - frontier;
      if (gap >= need) {
        if (strategy.fit == PlacementFit::First) {
          chosen = frontier;
          break;
        }
        if (!chosenGap || gap < *chosenGap) {
          chosen = frontier;
          chosenGap = gap;
        }
      }
      frontier = std::max(frontier, range.end);
    }
    int64_t offset = chosen.value_or(frontier);
    placement.offsets[i] = offset;
    placed.push_back(i);
    arenaEnd = std::max(arenaEnd, offset + interval.size);
  }
  placement.arenaBytes = alignedSize(arenaEnd, alignment);
  return placement;
}

Placement kiln::placeIntervalsBest(llvm::ArrayRef<LiveInterval> intervals,
                                   int64_t alignment) {
  std::optional<Placement> best;
  for (PlacementStrategy strategy : placementStrategies()) {
    Placement candidate = placeIntervals(intervals, alignment, strategy);
    if (!best || candidate.arenaBytes < best->arenaBytes)
      best = std::move(candidate);
  }
  return std::move(*best);
}

int64_t kiln::arenaLowerBound(llvm::ArrayRef<LiveInterval> intervals,
                              int64_t alignment) {
  // Sweep: +size where an interval starts, -size one point after it ends.
  llvm::SmallVector<std::pair<int64_t, int64_t>> events;
  events.reserve(2 * intervals.size());
  for (const LiveInterval &interval : intervals) {
    int64_t size = alignedSize(interval.size, alignment);
    if (size == 0)
      continue;
    events.push_back({interval.first, size});
    events.push_back({interval.last + 1, -size});
  }
  llvm::sort(events);
  int64_t live = 0, peak = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    live += events[i].second;
    // Take the maximum only once every event at this point is applied.
    if (i + 1 == events.size() || events[i + 1].first != events[i].first)
      peak = std::max(peak, live);
  }
  return peak;
}

int64_t kiln::arenaNaiveBytes(llvm::ArrayRef<LiveInterval> intervals,
                              int64_t alignment) {
  int64_t total = 0;
  for (const LiveInterval &interval : intervals)
    total += alignedSize(interval.size, alignment);
  return total;
}

llvm::SmallVector<PlacementViolation>
kiln::checkPlacement(llvm::ArrayRef<LiveInterval> intervals,
                     llvm::ArrayRef<std::optional<int64_t>> offsets,
                     int64_t arenaBytes, int64_t alignment,
                     llvm::ArrayRef<unsigned> storage) {
  using Kind = PlacementViolation::Kind;
  llvm::SmallVector<PlacementViolation> violations;
  for (auto [i, interval] : llvm::enumerate(intervals)) {
    unsigned index = static_cast<unsigned>(i);
    std::optional<int64_t> offset = offsets[i];
    if (!offset) {
      violations.push_back({Kind::Unplanned, index, index});
      continue;
    }
    if (*offset < 0 || (alignment > 0 && *offset % alignment != 0))
      violations.push_back({Kind::Misaligned, index, index});
    // Offsets come from attributes anyone may write: an end past INT64_MAX
    // is out of bounds, not an overflow.
    int64_t end;
    if (llvm::AddOverflow(*offset, interval.size, end) || end > arenaBytes)
      violations.push_back({Kind::OutOfBounds, index, index});
  }
  for (auto [i, a] : llvm::enumerate(intervals)) {
    if (!offsets[i] || a.size == 0)
      continue;
    __int128 aBegin = *offsets[i], aEnd = aBegin + a.size;
    for (size_t j = i + 1; j < intervals.size(); ++j) {
      const LiveInterval &b = intervals[j];
      if (!offsets[j] || b.size == 0 || !a.overlaps(b))
        continue;
      // Aliases: one storage class, the very same bytes.
      if (!storage.empty() && storage[i] == storage[j] &&
          *offsets[i] == *offsets[j] && a.size == b.size)
        continue;
      __int128 bBegin = *offsets[j], bEnd = bBegin + b.size;
      if (aBegin < bEnd && bBegin < aEnd)
        violations.push_back({Kind::Overlap, static_cast<unsigned>(j),
                              static_cast<unsigned>(i)});
    }
  }
  return violations;
}
