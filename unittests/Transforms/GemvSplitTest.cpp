//===- GemvSplitTest.cpp - kiln::gemvMmaSplit's rule ----------------------===//
//
// The warps per tile of kiln's tensor-core GEMV (kiln::gemvMmaSplit) are
// computed twice: here, for chooseLaunchDims and the emitter, and in
// kiln_kernels.cuh (gemvMmaSplit<K, L>, for the unfused kiln::gemv). The
// values below are pinned on both sides (codegen/kernels/kiln_kernels_test.cu
// static_asserts the same ones), and the rule's properties are checked over
// every K the GEMV accepts up to 16384.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/LaunchConfig.h"
#include "gtest/gtest.h"

namespace {

TEST(GemvMmaSplit, ModelShapes) {
  // Llama-1B: K = 2048 (q/k/v, o, gate/up, lm head), 8192 (down).
  EXPECT_EQ(kiln::gemvMmaSplit(2048, 1), 8);
  EXPECT_EQ(kiln::gemvMmaSplit(2048, 2), 8);
  EXPECT_EQ(kiln::gemvMmaSplit(8192, 1), 8);
  // Qwen2.5-0.5B: K = 896 (3.5 tiles of 256: 4 warps), 4864 (down).
  EXPECT_EQ(kiln::gemvMmaSplit(896, 1), 4);
  EXPECT_EQ(kiln::gemvMmaSplit(896, 2), 4);
  EXPECT_EQ(kiln::gemvMmaSplit(4864, 1), 8);
  // GPT-2: K = 768; three weights a tile make it 128 elements a round.
  EXPECT_EQ(kiln::gemvMmaSplit(768, 1), 4);
  EXPECT_EQ(kiln::gemvMmaSplit(768, 3), 8);
  // Short rows, and rows that are not a multiple of 32 elements.
  EXPECT_EQ(kiln::gemvMmaSplit(64, 1), 1);
  EXPECT_EQ(kiln::gemvMmaSplit(200, 1), 1);
  // 520 would take 4 warps, but is no multiple of 4 x 32 or 2 x 32.
  EXPECT_EQ(kiln::gemvMmaSplit(520, 1), 1);
}

TEST(GemvMmaSplit, Properties) {
  for (int64_t k = 8; k <= 16384; k += 8)
    for (int64_t l = 1; l <= 3; ++l) {
      int64_t s = kiln::gemvMmaSplit(k, l);
      SCOPED_TRACE("k = " + std::to_string(k) + ", l = " + std::to_string(l));
      // A power of two that divides the block's 8 warps.
      ASSERT_TRUE(s == 1 || s == 2 || s == 4 || s == 8);
      // Each warp's slice is whole steps of 32 elements.
      ASSERT_TRUE(s == 1 || k % (32 * s) == 0);
      // No more warps than needed for one tile of steps a warp.
      int64_t tile = 32 * (l <= 2 ? 8 : 4);
      ASSERT_TRUE(s == 1 || (s / 2) * tile < k);
    }
}

} // namespace
