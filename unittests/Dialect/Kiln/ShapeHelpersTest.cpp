//===- ShapeHelpersTest.cpp - tests of the kiln broadcast helpers ---------===//
//
// Unit tests of `kiln::broadcastShapes` and `kiln::isBroadcastableTo`, the
// numpy-style broadcast rules shared by the verifiers and the importer: the
// usual cases, rank extension, size-1 and size-0 dims, and a sweep checking
// that the two helpers agree with each other.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "gtest/gtest.h"

#include <vector>

using kiln::broadcastShapes;
using kiln::isBroadcastableTo;
using Shape = std::vector<int64_t>;

namespace {

/// The broadcast of `a` and `b` as a std::vector, or std::nullopt.
std::optional<Shape> broadcast(const Shape &a, const Shape &b) {
  auto r = broadcastShapes(a, b);
  if (mlir::failed(r))
    return std::nullopt;
  return Shape(r->begin(), r->end());
}

TEST(BroadcastShapes, EqualShapes) {
  EXPECT_EQ(broadcast({2, 3}, {2, 3}), Shape({2, 3}));
}

TEST(BroadcastShapes, ScalarBroadcastsToAnything) {
  EXPECT_EQ(broadcast({}, {4, 5}), Shape({4, 5}));
  EXPECT_EQ(broadcast({4, 5}, {}), Shape({4, 5}));
  EXPECT_EQ(broadcast({}, {}), Shape({}));
}

TEST(BroadcastShapes, LowerRankAlignsOnTheRight) {
  EXPECT_EQ(broadcast({1, 8, 64}, {64}), Shape({1, 8, 64}));
  EXPECT_EQ(broadcast({64}, {1, 8, 64}), Shape({1, 8, 64}));
}

TEST(BroadcastShapes, OnesStretchBothWays) {
  EXPECT_EQ(broadcast({2, 1}, {1, 3}), Shape({2, 3}));
  EXPECT_EQ(broadcast({1, 1, 8, 8}, {1, 4, 1, 8}), Shape({1, 4, 8, 8}));
}

TEST(BroadcastShapes, Incompatible) {
  EXPECT_EQ(broadcast({2, 3}, {2}), std::nullopt);
  EXPECT_EQ(broadcast({3}, {4}), std::nullopt);
  EXPECT_EQ(broadcast({2, 3, 4}, {5, 3, 4}), std::nullopt);
}

TEST(BroadcastShapes, ZeroSizedDims) {
  // 0 behaves like any size other than 1: it wins over 1, clashes with 3.
  EXPECT_EQ(broadcast({0, 4}, {1, 4}), Shape({0, 4}));
  EXPECT_EQ(broadcast({1}, {0}), Shape({0}));
  EXPECT_EQ(broadcast({0}, {3}), std::nullopt);
}

TEST(BroadcastShapes, IsCommutative) {
  const std::vector<Shape> shapes = {{}, {1}, {3}, {1, 3}, {2, 1}, {2, 3},
                                     {4, 1, 3}, {0, 3}, {2, 0}};
  for (const Shape &a : shapes)
    for (const Shape &b : shapes)
      EXPECT_EQ(broadcast(a, b), broadcast(b, a));
}

TEST(IsBroadcastableTo, Basics) {
  EXPECT_TRUE(isBroadcastableTo({2, 3}, {2, 3}));
  EXPECT_TRUE(isBroadcastableTo({}, {2, 3}));
  EXPECT_TRUE(isBroadcastableTo({3}, {2, 3}));
  EXPECT_TRUE(isBroadcastableTo({1, 3}, {2, 3}));
  EXPECT_TRUE(isBroadcastableTo({1, 1, 8, 8}, {1, 4, 8, 8}));
  EXPECT_TRUE(isBroadcastableTo({}, {}));
}

TEST(IsBroadcastableTo, IsDirectional) {
  // Unlike broadcastShapes, `to` is fixed: its dims never stretch.
  EXPECT_FALSE(isBroadcastableTo({2, 3}, {1, 3}));
  EXPECT_FALSE(isBroadcastableTo({2, 3}, {3}));
  EXPECT_FALSE(isBroadcastableTo({4}, {}));
}

TEST(IsBroadcastableTo, Mismatch) {
  EXPECT_FALSE(isBroadcastableTo({2}, {3}));
  EXPECT_FALSE(isBroadcastableTo({1, 1, 8, 7}, {1, 4, 8, 8}));
  EXPECT_FALSE(isBroadcastableTo({0}, {3}));
  EXPECT_TRUE(isBroadcastableTo({1}, {0}));
}

/// `from` broadcasts to `to` exactly when broadcasting the two yields `to`.
TEST(IsBroadcastableTo, AgreesWithBroadcastShapes) {
  const std::vector<Shape> shapes = {{},        {1},       {2},    {3},
                                     {1, 1},    {1, 3},    {2, 1}, {2, 3},
                                     {3, 2},    {1, 2, 3}, {4, 2, 3},
                                     {4, 1, 1}, {0},       {0, 3}};
  for (const Shape &from : shapes) {
    for (const Shape &to : shapes) {
      auto both = broadcast(from, to);
      bool viaBroadcast = both && *both == to;
      EXPECT_EQ(isBroadcastableTo(from, to), viaBroadcast)
          << "from rank " << from.size() << " to rank " << to.size();
    }
  }
}

} // namespace
