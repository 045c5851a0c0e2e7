//===- KvCacheTest.cpp - the KV cache ops on the reference backend --------===//
//
// kiln.kv_append / kiln.kv_attention through ref::runFunction, with one
// ref::State carried across calls as a generation loop does
// (docs/kv-cache.md, docs/reference.md). A naive model written here from the
// contract (its own cache array in the documented byte layout, attention as
// plain loops) is the oracle: every step's outputs and the State's bytes
// must match it. Checked: a second call sees the first call's append;
// slots >= max_seq are skipped (the cache is unchanged); grouped-query
// heads, boolean masks and causality by position; a run without a State
// starts from zeros each time; the scheduled level (kiln.kv_region, a
// kv_append launch writing views of it) keeps the same bytes in the same
// State as the graph level, step after step; a State holding a cache of
// the wrong size is a located error.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/Reference/Evaluator.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>

using namespace mlir;
using namespace kiln;

namespace {

// The cache of both modules: 2 layers, 2 kv heads of dim 4, 2 rows, 4 slots.
constexpr int64_t kLayers = 2, kHkv = 2, kD = 4, kMaxB = 2, kT = 4;
// The step: B = 2 rows, one new token, 4 query heads (GQA group of 2),
// appending to layer 1.
constexpr int64_t kB = 2, kHq = 4, kLayer = 1;
constexpr float kScale = 0.5f;

const char *kGraph = R"mlir(
kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 4 max_batch 2 max_seq 4 : f32
func.func @step(%k: tensor<2x2x1x4xf32>, %v: tensor<2x2x1x4xf32>,
                %q: tensor<2x4x1x4xf32>, %pos: tensor<2xi64>,
                %m: tensor<2x1x1x4xi1>)
    -> (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>, tensor<2x4x1x4xf32>,
        tensor<2x4x1x4xf32>) {
  %kc, %vc = kiln.kv_append @kv[1] %k, %v at %pos : (tensor<2x2x1x4xf32>, tensor<2x2x1x4xf32>, tensor<2xi64>) -> (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>)
  %o = kiln.kv_attention %q, %kc, %vc at %pos mask %m {scale = 0.5 : f32} : (tensor<2x4x1x4xf32>, tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>, tensor<2xi64>, tensor<2x1x1x4xi1>) -> tensor<2x4x1x4xf32>
  %o2 = kiln.kv_attention %q, %kc, %vc at %pos {scale = 0.5 : f32} : (tensor<2x4x1x4xf32>, tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>, tensor<2xi64>) -> tensor<2x4x1x4xf32>
  return %kc, %vc, %o, %o2 : tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>, tensor<2x4x1x4xf32>, tensor<2x4x1x4xf32>
}
)mlir";

// The same step scheduled by hand: blocks of 2 x 2 x 4 x 4 f32 = 256 bytes;
// layer 1's key block at byte 512 and value block at 768 of a 1024-byte
// kv_region (the B = 2 rows are the whole block here). Outputs: the
// attention with the mask, and a copy of the key block.
const char *kScheduled = R"mlir(
kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 4 max_batch 2 max_seq 4 : f32
kiln.kernel @append(%k: tensor<2x2x1x4xf32>, %v: tensor<2x2x1x4xf32>, %p: tensor<2xi64>) -> (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) {
  %kc, %vc = kiln.kv_append @kv[1] %k, %v at %p : (tensor<2x2x1x4xf32>, tensor<2x2x1x4xf32>, tensor<2xi64>) -> (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>)
  kiln.yield %kc, %vc : tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>
}
kiln.kernel @attend(%q: tensor<2x4x1x4xf32>, %kc: tensor<2x2x4x4xf32>, %vc: tensor<2x2x4x4xf32>, %p: tensor<2xi64>, %m: tensor<2x1x1x4xi1>) -> tensor<2x4x1x4xf32> {
  %o = kiln.kv_attention %q, %kc, %vc at %p mask %m {scale = 0.5 : f32} : (tensor<2x4x1x4xf32>, tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>, tensor<2xi64>, tensor<2x1x1x4xi1>) -> tensor<2x4x1x4xf32>
  kiln.yield %o : tensor<2x4x1x4xf32>
}
kiln.kernel @copy(%a: tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32> {
  kiln.yield %a : tensor<2x2x4x4xf32>
}
func.func @step() {
  %arena = kiln.arena : memref<2048xi8>
  %kv = kiln.kv_region : memref<1024xi8>
  %k = kiln.view %arena[0] input "k" : memref<2048xi8> to memref<2x2x1x4xf32>
  %v = kiln.view %arena[256] input "v" : memref<2048xi8> to memref<2x2x1x4xf32>
  %q = kiln.view %arena[512] input "q" : memref<2048xi8> to memref<2x4x1x4xf32>
  %p = kiln.view %arena[768] input "pos" : memref<2048xi8> to memref<2xi64>
  %m = kiln.view %arena[1024] input "m" : memref<2048xi8> to memref<2x1x1x4xi1>
  %o = kiln.view %arena[1280] output "o" : memref<2048xi8> to memref<2x4x1x4xf32>
  %ko = kiln.view %arena[1536] output "kc" : memref<2048xi8> to memref<2x2x4x4xf32>
  %kc = kiln.view %kv[512] : memref<1024xi8> to memref<2x2x4x4xf32>
  %vc = kiln.view %kv[768] : memref<1024xi8> to memref<2x2x4x4xf32>
  kiln.graph {
    kiln.launch @append grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%k, %v, %p : memref<2x2x1x4xf32>, memref<2x2x1x4xf32>, memref<2xi64>) outs(%kc, %vc : memref<2x2x4x4xf32>, memref<2x2x4x4xf32>)
    kiln.launch @attend grid [8, 1, 1] block [32, 1, 1] smem 0 ins(%q, %kc, %vc, %p, %m : memref<2x4x1x4xf32>, memref<2x2x4x4xf32>, memref<2x2x4x4xf32>, memref<2xi64>, memref<2x1x1x4xi1>) outs(%o : memref<2x4x1x4xf32>)
    kiln.launch @copy grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%kc : memref<2x2x4x4xf32>) outs(%ko : memref<2x2x4x4xf32>)
  }
  return
}
)mlir";

/// The inputs of one step.
struct Step {
  std::vector<float> k, v, q; // [B, Hkv, 1, D], [B, Hkv, 1, D], [B, Hq, 1, D]
  std::vector<int64_t> pos;   // [B]
  std::vector<int64_t> mask;  // [B, 1, 1, T], 0/1
};

/// The contract as plain loops over a float cache
/// [layer][k/v][max_batch][Hkv][T][D].
struct NaiveModel {
  std::vector<float> cache =
      std::vector<float>(kLayers * 2 * kMaxB * kHkv * kT * kD, 0.0f);

  float &at(int64_t layer, int64_t kind, int64_t b, int64_t h, int64_t t,
            int64_t d) {
    return cache[((((layer * 2 + kind) * kMaxB + b) * kHkv + h) * kT + t) * kD +
                 d];
  }

  void append(const Step &st) {
    for (int64_t b = 0; b < kB; ++b) {
      int64_t slot = st.pos[b];
      if (slot >= kT)
        continue;
      for (int64_t h = 0; h < kHkv; ++h)
        for (int64_t d = 0; d < kD; ++d) {
          at(kLayer, 0, b, h, slot, d) = st.k[(b * kHkv + h) * kD + d];
          at(kLayer, 1, b, h, slot, d) = st.v[(b * kHkv + h) * kD + d];
        }
    }
  }

  /// [B, Hq, 1, D]: query head h reads kv head h / 2, keys t <= pos[b] that
  /// the mask allows (when `masked`), zeros when none is left.
  std::vector<float> attention(const Step &st, bool masked) {
    std::vector<float> out(kB * kHq * kD, 0.0f);
    for (int64_t b = 0; b < kB; ++b)
      for (int64_t h = 0; h < kHq; ++h) {
        int64_t hk = h / (kHq / kHkv);
        std::vector<double> w(kT, 0.0);
        double best = -std::numeric_limits<double>::infinity();
        std::vector<bool> live(kT, false);
        for (int64_t t = 0; t < kT; ++t) {
          if (t > st.pos[b] || (masked && !st.mask[b * kT + t]))
            continue;
          double dot = 0;
          for (int64_t d = 0; d < kD; ++d)
            dot += (double)st.q[(b * kHq + h) * kD + d] *
                   at(kLayer, 0, b, hk, t, d);
          w[t] = dot * kScale;
          live[t] = true;
          best = std::max(best, w[t]);
        }
        double sum = 0;
        for (int64_t t = 0; t < kT; ++t) {
          w[t] = live[t] ? std::exp(w[t] - best) : 0.0;
          sum += w[t];
        }
        if (sum == 0)
          continue;
        for (int64_t d = 0; d < kD; ++d) {
          double acc = 0;
          for (int64_t t = 0; t < kT; ++t)
            acc += w[t] * at(kLayer, 1, b, hk, t, d);
          out[(b * kHq + h) * kD + d] = (float)(acc / sum);
        }
      }
    return out;
  }

  /// Layer kLayer's block of `kind` (rows 0..B-1), [B, Hkv, T, D].
  std::vector<float> block(int64_t kind) {
    auto begin = cache.begin() + (kLayer * 2 + kind) * kMaxB * kHkv * kT * kD;
    return std::vector<float>(begin, begin + kB * kHkv * kT * kD);
  }

  /// The cache as the State's bytes (f32, little-endian).
  std::vector<uint8_t> bytes() {
    std::vector<uint8_t> b(cache.size() * 4);
    std::memcpy(b.data(), cache.data(), b.size());
    return b;
  }
};

class KvCacheTest : public ::testing::Test {
protected:
  KvCacheTest() {
    context.loadDialect<KilnDialect, func::FuncDialect>();
    graph = parseSourceString<ModuleOp>(kGraph, &context);
    scheduled = parseSourceString<ModuleOp>(kScheduled, &context);
  }

  func::FuncOp fn(ModuleOp module) {
    return module.lookupSymbol<func::FuncOp>("step");
  }

  ref::Tensor floats(RankedTensorType type, std::vector<float> data) {
    ref::Tensor t = ref::Tensor::zeros(type);
    t.f = std::move(data);
    return t;
  }
  ref::Tensor ints(RankedTensorType type, std::vector<int64_t> data) {
    ref::Tensor t = ref::Tensor::zeros(type);
    t.i = std::move(data);
    return t;
  }

  /// The step's inputs as the graph function's arguments (k, v, q, pos, m;
  /// the scheduled function's inputs have the same order).
  std::vector<ref::Tensor> inputs(const Step &st) {
    Builder b(&context);
    auto f32 = b.getF32Type();
    auto kv = RankedTensorType::get({kB, kHkv, 1, kD}, f32);
    return {
        floats(kv, st.k), floats(kv, st.v),
        floats(RankedTensorType::get({kB, kHq, 1, kD}, f32), st.q),
        ints(RankedTensorType::get({kB}, b.getI64Type()), st.pos),
        ints(RankedTensorType::get({kB, 1, 1, kT}, b.getI1Type()), st.mask)};
  }

  Step randomStep(std::vector<int64_t> pos, bool randomMask = true) {
    Step st;
    std::normal_distribution<float> normal;
    for (auto *vec : {&st.k, &st.v})
      for (int64_t i = 0; i < kB * kHkv * kD; ++i)
        vec->push_back(normal(rng));
    for (int64_t i = 0; i < kB * kHq * kD; ++i)
      st.q.push_back(normal(rng));
    st.pos = std::move(pos);
    for (int64_t i = 0; i < kB * kT; ++i)
      st.mask.push_back(randomMask ? (rng() % 4 != 0) : 1);
    return st;
  }

  static void expectNear(const std::vector<float> &got,
                         const std::vector<float> &want, const char *what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-5) << what << " element " << i;
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> graph, scheduled;
  std::mt19937 rng{42};
};

TEST_F(KvCacheTest, SecondCallSeesTheFirstCallsAppend) {
  ASSERT_TRUE(graph);
  ref::State state;
  NaiveModel model;
  Step first = randomStep({0, 2});
  auto r1 = ref::runFunction(fn(*graph), inputs(first), "", &state);
  ASSERT_TRUE(succeeded(r1));
  model.append(first);
  Step second = randomStep({1, 3});
  auto r2 = ref::runFunction(fn(*graph), inputs(second), "", &state);
  ASSERT_TRUE(succeeded(r2));
  model.append(second);
  // The results hold both calls' rows: slots 0, 1 of row 0 and 2, 3 of row 1.
  expectNear((*r2)[0].f, model.block(0), "key cache");
  expectNear((*r2)[1].f, model.block(1), "value cache");
  for (int64_t h = 0; h < kHkv; ++h)
    for (int64_t d = 0; d < kD; ++d) {
      EXPECT_EQ((*r2)[0].f[((0 * kHkv + h) * kT + 0) * kD + d],
                first.k[(0 * kHkv + h) * kD + d]);
      EXPECT_EQ((*r2)[0].f[((1 * kHkv + h) * kT + 3) * kD + d],
                second.k[(1 * kHkv + h) * kD + d]);
    }
  // The state's bytes are the documented layout; layer 0 is untouched.
  ASSERT_EQ(state.kvCaches.count("kv"), 1u);
  EXPECT_EQ(state.kvCaches["kv"], model.bytes());
  expectNear((*r2)[2].f, model.attention(second, /*masked=*/true), "masked");
  expectNear((*r2)[3].f, model.attention(second, /*masked=*/false), "causal");
}

TEST_F(KvCacheTest, SlotsPastMaxSeqAreSkipped) {
  ASSERT_TRUE(graph);
  ref::State state;
  NaiveModel model;
  Step fill = randomStep({3, 1});
  ASSERT_TRUE(
      succeeded(ref::runFunction(fn(*graph), inputs(fill), "", &state)));
  model.append(fill);
  std::vector<uint8_t> before = state.kvCaches["kv"];
  // Slot 5 and slot 9 do not exist (max_seq 4): nothing is written, and the
  // queries attend every slot (all are <= their position).
  Step past = randomStep({5, 9}, /*randomMask=*/false);
  auto r = ref::runFunction(fn(*graph), inputs(past), "", &state);
  ASSERT_TRUE(succeeded(r));
  EXPECT_EQ(state.kvCaches["kv"], before);
  EXPECT_EQ(state.kvCaches["kv"], model.bytes());
  expectNear((*r)[3].f, model.attention(past, false), "all slots");
}

TEST_F(KvCacheTest, MaskGqaAndCausalityAgainstNaiveLoops) {
  ASSERT_TRUE(graph);
  ref::State state;
  NaiveModel model;
  // Ten steps of two rows at their own pace; random masks (some rows with
  // every allowed key masked, which must give zeros).
  std::vector<int64_t> pos = {0, 2};
  for (int step = 0; step < 10; ++step) {
    Step st = randomStep(pos);
    if (step == 3)
      std::fill(st.mask.begin(), st.mask.begin() + kT, 0); // row 0: no key
    auto r = ref::runFunction(fn(*graph), inputs(st), "", &state);
    ASSERT_TRUE(succeeded(r));
    model.append(st);
    expectNear((*r)[0].f, model.block(0), "key cache");
    expectNear((*r)[1].f, model.block(1), "value cache");
    std::vector<float> masked = model.attention(st, true);
    expectNear((*r)[2].f, masked, "masked attention");
    expectNear((*r)[3].f, model.attention(st, false), "causal attention");
    if (step == 3) {
      for (int64_t i = 0; i < kHq * kD; ++i)
        EXPECT_EQ((*r)[2].f[i], 0.0f);
    }
    pos[0] = (pos[0] + 1) % kT;
    pos[1] = pos[1] + 1 < kT ? pos[1] + 1 : 0;
  }
  EXPECT_EQ(state.kvCaches["kv"], model.bytes());
}

TEST_F(KvCacheTest, WithoutStateEachRunStartsFromZeros) {
  ASSERT_TRUE(graph);
  Step first = randomStep({0, 0});
  ASSERT_TRUE(succeeded(ref::runFunction(fn(*graph), inputs(first), "")));
  NaiveModel fresh;
  Step second = randomStep({1, 1});
  auto r = ref::runFunction(fn(*graph), inputs(second), "");
  ASSERT_TRUE(succeeded(r));
  fresh.append(second); // slot 0 stays zero: the first run is gone
  expectNear((*r)[0].f, fresh.block(0), "key cache");
}

TEST_F(KvCacheTest, ScheduledLevelKeepsTheSameBytesAcrossCalls) {
  ASSERT_TRUE(graph);
  ASSERT_TRUE(scheduled) << "the hand-written schedule does not verify";
  ref::State graphState, schedState;
  NaiveModel model;
  std::vector<int64_t> pos = {0, 3};
  for (int step = 0; step < 4; ++step) {
    Step st = randomStep(pos);
    auto g = ref::runFunction(fn(*graph), inputs(st), "", &graphState);
    auto s = ref::runFunction(fn(*scheduled), inputs(st), "", &schedState);
    ASSERT_TRUE(succeeded(g));
    ASSERT_TRUE(succeeded(s));
    model.append(st);
    ASSERT_EQ(s->size(), 2u);
    EXPECT_EQ((*s)[0].f, (*g)[2].f) << "attention, step " << step;
    EXPECT_EQ((*s)[1].f, (*g)[0].f) << "key block, step " << step;
    EXPECT_EQ(schedState.kvCaches["kv"], graphState.kvCaches["kv"]);
    EXPECT_EQ(schedState.kvCaches["kv"], model.bytes());
    pos = {pos[0] + 1, pos[1] + 1}; // row 1 is past max_seq from step 1
  }
}

TEST_F(KvCacheTest, WrongSizedStateIsAnError) {
  ASSERT_TRUE(graph);
  ref::State state;
  state.kvCaches["kv"].assign(16, 0);
  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    message = d.str();
    return success();
  });
  Step st = randomStep({0, 0});
  EXPECT_TRUE(failed(ref::runFunction(fn(*graph), inputs(st), "", &state)));
  EXPECT_EQ(message, "reference backend: the state holds 16 bytes for the KV "
                     "cache 'kv', which has 1024");
  EXPECT_TRUE(failed(ref::runFunction(fn(*scheduled), inputs(st), "", &state)));
  EXPECT_EQ(message, "reference backend: the state holds 16 bytes for the KV "
                     "cache 'kv', which has 1024");
}

} // namespace
