//===- MemoryPlanPropertyTest.cpp - planner and verifier properties -------===//
//
// A randomized property test of the IR-free planner core and its checker,
// with storage classes: on random interval sets (sizes that are zero, below,
// at and above the 256-byte alignment and not multiples of it; live ranges
// that overlap, nest and touch) grouped into random classes the way the
// memory plan groups them (view aliases: a member live inside its root's
// range, maybe longer; writes in place: a member starting at the point where
// the previous one dies), every placement strategy must give a plan that
// kiln::checkPlacement accepts, that an independent brute-force check
// accepts too, and whose arena is at least kiln::arenaLowerBound of the
// storage intervals. Then each plan is broken by hand (a buffer moved onto a
// live neighbour, an offset misaligned, the arena shrunk below a buffer's
// end, a class member moved off its partners, a buffer unplanned) and every
// broken plan must be refused with the violation of that kind, as the
// brute-force check says. Seeds are fixed (0..199): deterministic and fast.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/MemoryPlan.h"

#include "gtest/gtest.h"

#include <random>
#include <string>

using namespace kiln;

namespace {

constexpr int64_t kAlign = kArenaAlignment;
using Kind = PlacementViolation::Kind;

/// A uniformly random integer in [lo, hi].
int64_t uniform(std::mt19937_64 &rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

/// Member intervals grouped into storage classes, as MemoryPlan hands them
/// to checkPlacement: `storage[i]` is the index of the member owning the
/// bytes of member i (its own index for a root).
struct ClassedIntervals {
  llvm::SmallVector<LiveInterval> members;
  llvm::SmallVector<unsigned> storage;
  /// The roots, in member order, and each member's root position in them.
  llvm::SmallVector<unsigned> roots;
  llvm::SmallVector<unsigned> rootPosition;

  /// One interval per root: its size and the union of its members' ranges.
  llvm::SmallVector<LiveInterval> storageIntervals() const {
    llvm::SmallVector<LiveInterval> result;
    for (unsigned root : roots)
      result.push_back(members[root]);
    for (auto [i, member] : llvm::enumerate(members)) {
      LiveInterval &s = result[rootPosition[i]];
      s.first = std::min(s.first, member.first);
      s.last = std::max(s.last, member.last);
    }
    return result;
  }
};

/// A random size: zero now and then, mostly not a multiple of the alignment.
int64_t randomSize(std::mt19937_64 &rng) {
  int64_t kind = uniform(rng, 0, 99);
  if (kind < 6)
    return 0;
  if (kind < 40)
    return uniform(rng, 1, kAlign - 1);
  if (kind < 50)
    return kAlign * uniform(rng, 1, 4);
  if (kind < 85)
    return uniform(rng, kAlign + 1, 8 * kAlign);
  return uniform(rng, 1, 1 << 16);
}

/// A random set of classes. Each root gets a random live range (some live
/// throughout, some nested in or touching the previous root's); then a few
/// members may follow: an alias starts inside the storage's range so far, a
/// write in place starts exactly where the previous member dies.
ClassedIntervals randomClasses(std::mt19937_64 &rng) {
  ClassedIntervals c;
  int64_t points = uniform(rng, 1, 60);
  int64_t roots = uniform(rng, 1, 30);
  LiveInterval previous{0, 0, 0};
  for (int64_t r = 0; r < roots; ++r) {
    LiveInterval root;
    root.size = randomSize(rng);
    switch (uniform(rng, 0, 4)) {
    case 0: // Live throughout, like an argument.
      root.first = 0;
      root.last = points;
      break;
    case 1: // Nested in the previous root.
      root.first = uniform(rng, previous.first, previous.last);
      root.last = uniform(rng, root.first, previous.last);
      break;
    case 2: // Touching the previous root: born at its last point.
      root.first = previous.last;
      root.last = std::min(points, root.first + uniform(rng, 0, 5));
      break;
    default:
      root.first = uniform(rng, 0, points);
      root.last = std::min(points, root.first + uniform(rng, 0, 8));
      break;
    }
    unsigned rootIndex = c.members.size();
    c.roots.push_back(rootIndex);
    c.members.push_back(root);
    c.storage.push_back(rootIndex);
    c.rootPosition.push_back(c.roots.size() - 1);
    previous = root;

    int64_t storageFirst = root.first, storageLast = root.last;
    LiveInterval last = root;
    for (int64_t m = uniform(rng, 0, 3); m > 0; --m) {
      LiveInterval member;
      member.size = root.size;
      if (uniform(rng, 0, 1) == 0) { // An alias.
        member.first = uniform(rng, storageFirst, storageLast);
        member.last = std::min(points, member.first + uniform(rng, 0, 6));
      } else { // A write in place over the member that dies last.
        member.first = storageLast;
        member.last = std::min(points, member.first + uniform(rng, 0, 6));
      }
      storageLast = std::max(storageLast, member.last);
      c.members.push_back(member);
      c.storage.push_back(rootIndex);
      c.rootPosition.push_back(c.roots.size() - 1);
      last = member;
    }
  }
  return c;
}

/// Every member at its root's placed offset.
llvm::SmallVector<std::optional<int64_t>>
memberOffsets(const ClassedIntervals &c, const Placement &placement) {
  llvm::SmallVector<std::optional<int64_t>> offsets;
  for (unsigned position : c.rootPosition)
    offsets.push_back(placement.offsets[position]);
  return offsets;
}

/// The rules of checkPlacement, written again as plainly as possible: the
/// reference the checker is compared with.
bool bruteForceValid(const ClassedIntervals &c,
                     llvm::ArrayRef<std::optional<int64_t>> offsets,
                     int64_t arenaBytes) {
  for (auto [i, a] : llvm::enumerate(c.members)) {
    if (!offsets[i] || *offsets[i] < 0 || *offsets[i] % kAlign != 0 ||
        *offsets[i] + a.size > arenaBytes)
      return false;
  }
  for (size_t i = 0; i < c.members.size(); ++i)
    for (size_t j = i + 1; j < c.members.size(); ++j) {
      const LiveInterval &a = c.members[i], &b = c.members[j];
      bool sameTime = a.first <= b.last && b.first <= a.last;
      bool sameBytes = *offsets[i] < *offsets[j] + b.size &&
                       *offsets[j] < *offsets[i] + a.size;
      bool partners = c.storage[i] == c.storage[j] &&
                      *offsets[i] == *offsets[j] && a.size == b.size;
      if (a.size > 0 && b.size > 0 && sameTime && sameBytes && !partners)
        return false;
    }
  return true;
}

/// True if `violations` holds one of `kind` for `index` (and `other`, for an
/// overlap).
bool has(llvm::ArrayRef<PlacementViolation> violations, Kind kind,
         unsigned index, unsigned other = 0) {
  return llvm::any_of(violations, [&](const PlacementViolation &v) {
    return v.kind == kind && v.index == index &&
           (kind != Kind::Overlap || v.other == other);
  });
}

/// How many broken plans of each kind were checked, over all seeds.
struct BreakCounts {
  int moved = 0, misaligned = 0, shrunk = 0, split = 0, unplanned = 0;
};

/// Breaks `plan` (offsets of c's members in an arena of `arena` bytes) in
/// every way that applies, checking each is refused as it must be.
void breakPlan(std::mt19937_64 &rng, const ClassedIntervals &c,
               llvm::ArrayRef<std::optional<int64_t>> plan, int64_t arena,
               BreakCounts &counts) {
  const auto &m = c.members;
  auto check = [&](llvm::ArrayRef<std::optional<int64_t>> offsets,
                   int64_t arenaBytes) {
    llvm::SmallVector<PlacementViolation> violations =
        checkPlacement(m, offsets, arenaBytes, kAlign, c.storage);
    EXPECT_FALSE(violations.empty());
    EXPECT_FALSE(bruteForceValid(c, offsets, arenaBytes));
    return violations;
  };

  // A buffer moved onto a live neighbour of another storage.
  llvm::SmallVector<std::pair<unsigned, unsigned>> neighbours;
  for (unsigned i = 0; i < m.size(); ++i)
    for (unsigned j = i + 1; j < m.size(); ++j)
      if (c.storage[i] != c.storage[j] && m[i].size > 0 && m[j].size > 0 &&
          m[i].overlaps(m[j]))
        neighbours.push_back({i, j});
  if (!neighbours.empty()) {
    auto [i, j] = neighbours[uniform(rng, 0, neighbours.size() - 1)];
    bool moveLater = uniform(rng, 0, 1) == 1;
    llvm::SmallVector<std::optional<int64_t>> offsets(plan);
    offsets[moveLater ? j : i] = offsets[moveLater ? i : j];
    EXPECT_TRUE(has(check(offsets, arena), Kind::Overlap, j, i));
    ++counts.moved;
  }

  unsigned victim = uniform(rng, 0, m.size() - 1);
  // Off the alignment (the arena grown so that only the alignment is wrong).
  {
    llvm::SmallVector<std::optional<int64_t>> offsets(plan);
    offsets[victim] = *offsets[victim] + uniform(rng, 1, kAlign - 1);
    EXPECT_TRUE(
        has(check(offsets, arena + kAlign), Kind::Misaligned, victim));
    ++counts.misaligned;
  }
  // The arena shrunk below the end of a buffer: exactly the buffers that
  // end past it are out of bounds.
  if (m[victim].size > 0) {
    int64_t end = *plan[victim] + m[victim].size;
    int64_t shrunk = uniform(rng, *plan[victim], end - 1);
    llvm::SmallVector<PlacementViolation> violations = check(plan, shrunk);
    for (unsigned i = 0; i < m.size(); ++i)
      EXPECT_EQ(has(violations, Kind::OutOfBounds, i),
                *plan[i] + m[i].size > shrunk)
          << "buffer " << i;
    EXPECT_TRUE(has(violations, Kind::OutOfBounds, victim));
    ++counts.shrunk;
  }
  // A member of a class (an alias or a write in place) moved off a partner
  // it is live with, by less than its size so the bytes still intersect (a
  // 1-byte member moved by one byte no longer shares any: then only its
  // alignment is wrong).
  llvm::SmallVector<std::pair<unsigned, unsigned>> partners;
  for (unsigned i = 0; i < m.size(); ++i)
    for (unsigned j = i + 1; j < m.size(); ++j)
      if (c.storage[i] == c.storage[j] && m[i].size > 0 &&
          m[i].overlaps(m[j]))
        partners.push_back({i, j});
  if (!partners.empty()) {
    auto [i, j] = partners[uniform(rng, 0, partners.size() - 1)];
    unsigned moved = uniform(rng, 0, 1) ? j : i;
    int64_t shift = m[moved].size > kAlign ? kAlign
                                           : std::max<int64_t>(
                                                 1, m[moved].size / 2);
    llvm::SmallVector<std::optional<int64_t>> offsets(plan);
    offsets[moved] = *offsets[moved] + shift;
    llvm::SmallVector<PlacementViolation> violations =
        check(offsets, arena + kAlign);
    EXPECT_EQ(has(violations, Kind::Overlap, j, i), shift < m[moved].size);
    EXPECT_EQ(has(violations, Kind::Misaligned, moved), shift % kAlign != 0);
    ++counts.split;
  }
  // Unplanned.
  {
    llvm::SmallVector<std::optional<int64_t>> offsets(plan);
    offsets[victim] = std::nullopt;
    EXPECT_TRUE(has(checkPlacement(m, offsets, arena, kAlign, c.storage),
                    Kind::Unplanned, victim));
    ++counts.unplanned;
  }
}

TEST(MemoryPlanProperty, EveryStrategyVerifiesAndEveryBreakIsRefused) {
  BreakCounts counts;
  int classesWithPartners = 0, exemptionsNeeded = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    ClassedIntervals c = randomClasses(rng);
    llvm::SmallVector<LiveInterval> storage = c.storageIntervals();
    int64_t bound = arenaLowerBound(storage, kAlign);
    // Merging only removes bytes: the storage bound is at most the bound of
    // the members counted apart, and at most the naive size.
    EXPECT_LE(bound, arenaLowerBound(c.members, kAlign));
    EXPECT_LE(bound, arenaNaiveBytes(storage, kAlign));
    if (c.roots.size() < c.members.size())
      ++classesWithPartners;

    llvm::SmallVector<Placement> placements;
    for (PlacementStrategy strategy : placementStrategies())
      placements.push_back(placeIntervals(storage, kAlign, strategy));
    placements.push_back(placeIntervalsBest(storage, kAlign));
    for (const Placement &placement : placements) {
      SCOPED_TRACE(placement.strategy.name());
      ASSERT_EQ(placement.offsets.size(), storage.size());
      llvm::SmallVector<std::optional<int64_t>> offsets =
          memberOffsets(c, placement);
      EXPECT_TRUE(checkPlacement(c.members, offsets, placement.arenaBytes,
                                 kAlign, c.storage)
                      .empty());
      EXPECT_TRUE(bruteForceValid(c, offsets, placement.arenaBytes));
      EXPECT_GE(placement.arenaBytes, bound);
      EXPECT_EQ(placement.arenaBytes % kAlign, 0);
      // The classes are what makes partners legal: without them, members
      // live together on the same bytes are overlaps.
      bool partnersTogether = false;
      for (unsigned i = 0; i < c.members.size(); ++i)
        for (unsigned j = i + 1; j < c.members.size(); ++j)
          partnersTogether |= c.storage[i] == c.storage[j] &&
                              c.members[i].size > 0 &&
                              c.members[i].overlaps(c.members[j]);
      EXPECT_EQ(checkPlacement(c.members, offsets, placement.arenaBytes,
                               kAlign)
                    .empty(),
                !partnersTogether);
      exemptionsNeeded += partnersTogether;
      breakPlan(rng, c, offsets, placement.arenaBytes, counts);
    }
    // placeIntervalsBest keeps the smallest of the strategies.
    int64_t smallest = placements.front().arenaBytes;
    for (const Placement &p : llvm::ArrayRef(placements).drop_back())
      smallest = std::min(smallest, p.arenaBytes);
    EXPECT_EQ(placements.back().arenaBytes, smallest);
  }
  RecordProperty("classes_with_partners", classesWithPartners);
  RecordProperty("exemptions_needed", exemptionsNeeded);
  RecordProperty("broken_moved", counts.moved);
  RecordProperty("broken_shrunk", counts.shrunk);
  RecordProperty("broken_split", counts.split);
  // The generator must exercise every case (8 plans per seed).
  EXPECT_GT(classesWithPartners, 150);
  EXPECT_GT(exemptionsNeeded, 1200);
  EXPECT_GT(counts.moved, 1200);
  EXPECT_EQ(counts.misaligned, 1600);
  EXPECT_GT(counts.shrunk, 1400);
  EXPECT_GT(counts.split, 1200);
  EXPECT_EQ(counts.unplanned, 1600);
}

} // namespace
