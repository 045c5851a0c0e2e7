//===- GenerateTest.cpp - tests of the generation loop --------------------===//
//
// generate() and teacherForce() against a fake StepRunner: a tiny
// deterministic "model" whose logits depend on the tokens it attends to
// through its own per-row cache (written at kv_pos.., read under the mask and
// the causal rule), on kv_pos and on the position it is given, and which
// records everything it was fed. A prefill step of S tokens computes for
// each token exactly what S decode steps would. Checked: the role inputs of
// every step for three prompts of different lengths in bucket 4, EOS stops,
// the KV-cache-full refusal, the bucket choice and its errors, greedy ties,
// seeded sampling, top-k/top-p, teacher forcing, the prompt parsers, and the
// prefill path (the inputs of every chunk, the same tokens and logits as
// token by token, the choice of S, the refusal of a prompt past max_seq,
// --no-prefill).
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Generate.h"
#include "kiln/runtime/Sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <memory>

using namespace kiln::runtime;

namespace {

constexpr int64_t kVocab = 10;

TensorSpec spec(const std::string &name, DType dtype,
                std::vector<int64_t> shape, const std::string &role) {
  TensorSpec s;
  s.name = name;
  s.dtype = dtype;
  s.shape = std::move(shape);
  s.bytes = uint64_t(dtypeByteWidth(dtype));
  for (int64_t d : s.shape)
    s.bytes *= uint64_t(d);
  s.role = role;
  return s;
}

/// A manifest with one decode step function per bucket.
Manifest makeManifest(const std::vector<int64_t> &buckets, int64_t maxSeq,
                      DType maskType = DType::I64) {
  Manifest m;
  m.version = 3;
  m.kvCache.layers = 1;
  m.kvCache.kvHeads = 1;
  m.kvCache.headDim = 4;
  m.kvCache.maxSeq = maxSeq;
  m.kvCache.maxBatch = buckets.empty() ? 0 : buckets.back();
  m.kvCache.bytes = uint64_t(2 * m.kvCache.maxBatch * maxSeq * 4 * 4);
  for (int64_t b : buckets) {
    Function f;
    f.name = "decode_b" + std::to_string(b);
    f.stepBatch = b;
    f.stepSeq = 1;
    f.inputs.push_back(spec("input_ids", DType::I64, {b, 1}, "tokens"));
    f.inputs.push_back(spec("attention_mask", maskType, {b, maxSeq}, "mask"));
    f.inputs.push_back(spec("position_ids", DType::I64, {b, 1}, "positions"));
    f.inputs.push_back(spec("kv_pos", DType::I64, {b}, "kv_pos"));
    f.outputs.push_back(spec("logits", DType::F32, {b, 1, kVocab}, "logits"));
    m.functions.push_back(f);
  }
  return m;
}

/// Adds a prefill function `prefill_b<B>_s<S>` (step B S) to `m`, in front
/// of the others (the manifest's order must not matter).
void addPrefill(Manifest &m, int64_t b, int64_t seq) {
  const int64_t maxSeq = m.kvCache.maxSeq;
  Function f;
  f.name = "prefill_b" + std::to_string(b) + "_s" + std::to_string(seq);
  f.stepBatch = b;
  f.stepSeq = seq;
  f.inputs.push_back(spec("input_ids", DType::I64, {b, seq}, "tokens"));
  f.inputs.push_back(spec("attention_mask", DType::I64, {b, maxSeq}, "mask"));
  f.inputs.push_back(spec("position_ids", DType::I64, {b, seq}, "positions"));
  f.inputs.push_back(spec("kv_pos", DType::I64, {b}, "kv_pos"));
  f.outputs.push_back(spec("logits", DType::F32, {b, seq, kVocab}, "logits"));
  m.functions.insert(m.functions.begin(), f);
}

int64_t intAt(const HostTensor &t, int64_t i) {
  return int64_t(t.elementAsDouble(i));
}

/// What one row was fed in one step: `token` and `position` are the first
/// of `tokens` and `positions` (S of each; one in a decode step).
struct Fed {
  int64_t token, position, kvPos;
  std::vector<int64_t> tokens, positions, mask;
};

/// One recorded run() call.
struct Call {
  std::string function;
  std::vector<Fed> rows;
};

/// The fake model. Per row it keeps the token written at each slot; a step
/// of S tokens writes token s at slot kv_pos + s, then query s's "state" is
/// the sum of (slot + 1) * token over the slots t <= kv_pos + s that the
/// mask allows (the kiln.kv_attention rule), so a prefill step gives each
/// token what S decode steps would. The logits peak at (3 * state +
/// position) mod V and fall off with circular distance, so they depend on
/// the whole attended history.
class FakeModel : public StepRunner {
public:
  explicit FakeModel(int64_t maxRows, int64_t maxSeq)
      : maxSeq(maxSeq), cache(size_t(maxRows), std::vector<int64_t>(maxSeq)) {}

  bool run(const Function &fn, const std::vector<HostTensor> &ordered,
           std::vector<HostTensor> &outputs, std::string &error) override {
    if (failAt >= 0 && int64_t(calls.size()) == failAt) {
      error = "device fell over";
      return false;
    }
    EXPECT_EQ(ordered.size(), fn.inputs.size());
    std::map<std::string, const HostTensor *> byRole;
    for (size_t i = 0; i < ordered.size(); ++i) {
      EXPECT_EQ(ordered[i].dtype, fn.inputs[i].dtype) << fn.inputs[i].name;
      EXPECT_EQ(ordered[i].shape, fn.inputs[i].shape) << fn.inputs[i].name;
      EXPECT_EQ(ordered[i].name, fn.inputs[i].name);
      byRole[fn.inputs[i].role] = &ordered[i];
    }
    Call call{fn.name, {}};
    const int64_t seq = fn.stepSeq;
    HostTensor logits;
    logits.name = "logits";
    logits.dtype = DType::F32;
    logits.shape = {fn.stepBatch, seq, kVocab};
    logits.bytes.assign(size_t(fn.stepBatch * seq * kVocab * 4), 0);
    for (int64_t b = 0; b < fn.stepBatch; ++b) {
      Fed f;
      for (int64_t i = 0; i < seq; ++i) {
        f.tokens.push_back(intAt(*byRole["tokens"], b * seq + i));
        f.positions.push_back(intAt(*byRole["positions"], b * seq + i));
      }
      f.token = f.tokens[0];
      f.position = f.positions[0];
      f.kvPos = intAt(*byRole["kv_pos"], b);
      for (int64_t s = 0; s < maxSeq; ++s)
        f.mask.push_back(intAt(*byRole["mask"], b * maxSeq + s));
      EXPECT_LE(f.kvPos + seq, maxSeq) << fn.name << " row " << b;
      for (int64_t i = 0; i < seq; ++i)
        cache[b][f.kvPos + i] = f.tokens[i];
      for (int64_t i = 0; i < seq; ++i) {
        int64_t state = 0;
        for (int64_t s = 0; s <= f.kvPos + i; ++s)
          if (f.mask[s])
            state += (s + 1) * cache[b][s];
        int64_t peak = (3 * state + f.positions[i]) % kVocab;
        float *row = reinterpret_cast<float *>(logits.bytes.data()) +
                     (b * seq + i) * kVocab;
        for (int64_t v = 0; v < kVocab; ++v) {
          int64_t d = std::abs(v - peak);
          d = std::min(d, kVocab - d);
          row[v] = -0.4f * float(d) + 0.01f * float(state % 7);
        }
      }
      call.rows.push_back(f);
    }
    calls.push_back(call);
    outputs.clear();
    outputs.push_back(std::move(logits));
    return true;
  }

  bool resetCache(std::string &) override {
    ++resets;
    for (auto &row : cache)
      std::fill(row.begin(), row.end(), 0);
    return true;
  }

  int64_t maxSeq;
  std::vector<std::vector<int64_t>> cache;
  std::vector<Call> calls;
  int resets = 0;
  /// run() fails on this call index (-1: never).
  int64_t failAt = -1;
};

GenerateOptions greedy(int64_t maxNew, int64_t eos = -1) {
  GenerateOptions o;
  o.maxNewTokens = maxNew;
  o.eosId = eos;
  return o;
}

/// Row `b` of a [batch, N, V] logits tensor, entry `i`.
std::vector<float> logitsRow(const HostTensor &t, int64_t b, int64_t i) {
  int64_t n = t.shape[1], v = t.shape[2];
  const float *p = reinterpret_cast<const float *>(t.bytes.data());
  return std::vector<float>(p + (b * n + i) * v, p + (b * n + i + 1) * v);
}

TEST(GenerateInputs, ThreePromptsInBucketFour) {
  Manifest m = makeManifest({1, 2, 4}, 16);
  FakeModel model(4, 16);
  std::vector<std::vector<int64_t>> prompts = {{5, 6, 7, 8}, {1, 2}, {3}};
  GenerateResult r;
  std::string error;
  ASSERT_TRUE(generate(m, model, prompts, greedy(3), "t.kiln", r, error))
      << error;
  EXPECT_EQ(r.function, "decode_b4");
  EXPECT_EQ(model.resets, 1);
  // The longest row: 4 prompt tokens + 3 new - 1 steps.
  ASSERT_EQ(model.calls.size(), 6u);
  EXPECT_EQ(r.steps, 6);
  EXPECT_EQ(r.numTokens, 9);
  ASSERT_EQ(r.tokens.size(), 3u);
  for (const auto &t : r.tokens)
    EXPECT_EQ(t.size(), 3u);
  for (int64_t s = 0; s < 6; ++s) {
    const Call &c = model.calls[s];
    EXPECT_EQ(c.function, "decode_b4");
    ASSERT_EQ(c.rows.size(), 4u);
    for (int64_t b = 0; b < 4; ++b) {
      int64_t len = b < 3 ? int64_t(prompts[b].size()) : 0;
      bool active = b < 3 && s < len + 3 - 1;
      int64_t slot = active ? s : 0;
      int64_t token = !active   ? 0
                      : s < len ? prompts[b][s]
                                : r.tokens[b][s - len];
      const Fed &f = c.rows[b];
      EXPECT_EQ(f.token, token) << "step " << s << " row " << b;
      EXPECT_EQ(f.position, slot) << "step " << s << " row " << b;
      EXPECT_EQ(f.kvPos, slot) << "step " << s << " row " << b;
      for (int64_t t = 0; t < 16; ++t)
        EXPECT_EQ(f.mask[t], t <= slot ? 1 : 0)
            << "step " << s << " row " << b << " slot " << t;
    }
  }
  // Each row alone (bucket 1) gives the same tokens and logits.
  EXPECT_EQ(r.ids.dtype, DType::I64);
  EXPECT_EQ(r.ids.shape, (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(r.logits.shape, (std::vector<int64_t>{3, 3, kVocab}));
  for (int64_t b = 0; b < 3; ++b) {
    FakeModel alone(1, 16);
    GenerateResult a;
    ASSERT_TRUE(generate(m, alone, {prompts[b]}, greedy(3), "t.kiln", a, error))
        << error;
    EXPECT_EQ(a.function, "decode_b1");
    EXPECT_EQ(a.tokens[0], r.tokens[b]) << "row " << b;
    for (int64_t i = 0; i < 3; ++i) {
      EXPECT_EQ(intAt(r.ids, b * 3 + i), r.tokens[b][i]);
      EXPECT_EQ(logitsRow(a.logits, 0, i), logitsRow(r.logits, b, i));
    }
  }
}

TEST(GenerateInputs, FirstTokenComesFromTheLastPromptLogits) {
  Manifest m = makeManifest({1}, 16);
  FakeModel model(1, 16);
  GenerateResult r;
  std::string error;
  ASSERT_TRUE(generate(m, model, {{4, 9, 2}}, greedy(2), "t.kiln", r, error))
      << error;
  ASSERT_EQ(model.calls.size(), 4u);
  // Step 2 fed the last prompt token; its logits chose token 0, which step
  // 3 then fed.
  EXPECT_EQ(model.calls[3].rows[0].token, r.tokens[0][0]);
  std::vector<float> first = logitsRow(r.logits, 0, 0);
  EXPECT_EQ(r.tokens[0][0], argmaxToken(first.data(), kVocab));
}

TEST(GenerateInputs, MaskInItsOwnDType) {
  for (DType d : {DType::Bool, DType::I32, DType::F32, DType::F16}) {
    Manifest m = makeManifest({2}, 4, d);
    std::vector<HostTensor> ordered;
    std::string error;
    ASSERT_TRUE(
        buildStepInputs(m, m.functions[0], {{7, 2}, {0, 0}}, ordered, error))
        << error;
    const HostTensor &mask = ordered[1];
    EXPECT_EQ(mask.dtype, d);
    std::vector<double> got;
    for (int64_t i = 0; i < 8; ++i)
      got.push_back(mask.elementAsDouble(i));
    EXPECT_EQ(got, (std::vector<double>{1, 1, 1, 0, 1, 0, 0, 0}))
        << dtypeName(d);
  }
}

TEST(GenerateInputs, InputWithoutRoleIsAnError) {
  Manifest m = makeManifest({1}, 8);
  m.functions[0].inputs.push_back(spec("past_key", DType::F32, {1}, ""));
  FakeModel model(1, 8);
  GenerateResult r;
  std::string error;
  EXPECT_FALSE(generate(m, model, {{1}}, greedy(1), "t.kiln", r, error));
  EXPECT_NE(error.find("input 'past_key' has no generation role"),
            std::string::npos)
      << error;
  EXPECT_TRUE(model.calls.empty());
}

TEST(GenerateInputs, WrongRoleShapesAreErrors) {
  Manifest m = makeManifest({2}, 8);
  m.functions[0].inputs[1] = spec("attention_mask", DType::I64, {2, 7}, "mask");
  std::vector<HostTensor> ordered;
  std::string error;
  EXPECT_FALSE(
      buildStepInputs(m, m.functions[0], {{1, 0}, {0, 0}}, ordered, error));
  EXPECT_NE(error.find("input 'attention_mask' (role mask) is i64 2x7; "
                       "expected 2x8"),
            std::string::npos)
      << error;
  m = makeManifest({2}, 8);
  m.functions[0].inputs[0] = spec("input_ids", DType::F32, {2, 1}, "tokens");
  EXPECT_FALSE(
      buildStepInputs(m, m.functions[0], {{1, 0}, {0, 0}}, ordered, error));
  EXPECT_NE(error.find("expected i64 or i32 2x1"), std::string::npos) << error;
  m = makeManifest({2}, 8);
  m.functions[0].outputs[0] = spec("logits", DType::F32, {2, 3, 10}, "logits");
  FakeModel model(2, 8);
  GenerateResult r;
  EXPECT_FALSE(generate(m, model, {{1}}, greedy(1), "t.kiln", r, error));
  EXPECT_NE(error.find("expected f32 2x1xV"), std::string::npos) << error;
}

TEST(GenerateInputs, PromptOutsideTheVocabulary) {
  Manifest m = makeManifest({1}, 8);
  FakeModel model(1, 8);
  GenerateResult r;
  std::string error;
  EXPECT_FALSE(generate(m, model, {{1, 10}}, greedy(1), "t.kiln", r, error));
  EXPECT_EQ(error, "prompt 0: token 1 is 10; the model's vocabulary is 0..9");
  EXPECT_FALSE(generate(m, model, {{}}, greedy(1), "t.kiln", r, error));
  EXPECT_EQ(error, "prompt 0 is empty");
}

TEST(GenerateStop, EosStopsOneRow) {
  Manifest m = makeManifest({2}, 32);
  std::vector<std::vector<int64_t>> prompts = {{1, 2, 3}, {4}};
  FakeModel first(2, 32);
  GenerateResult plain;
  std::string error;
  ASSERT_TRUE(generate(m, first, prompts, greedy(6), "t.kiln", plain, error))
      << error;
  // Stop row 0 at its second token (the first occurrence of that id).
  int64_t eos = plain.tokens[0][1];
  size_t stopAt = 0;
  while (plain.tokens[0][stopAt] != eos)
    ++stopAt;
  FakeModel model(2, 32);
  GenerateResult r;
  ASSERT_TRUE(generate(m, model, prompts, greedy(6, eos), "t.kiln", r, error))
      << error;
  ASSERT_EQ(r.tokens[0].size(), stopAt + 1);
  EXPECT_EQ(r.tokens[0].back(), eos);
  // Row 1 stops only if it produces the same id.
  size_t row1 = 0;
  while (row1 < 6 && plain.tokens[1][row1] != eos)
    ++row1;
  row1 = std::min<size_t>(row1 + 1, 6);
  ASSERT_EQ(r.tokens[1].size(), row1);
  int64_t width = r.ids.shape[1];
  EXPECT_EQ(width, int64_t(std::max(row1, stopAt + 1)));
  for (int64_t i = 0; i < width; ++i) {
    if (i <= int64_t(stopAt)) {
      EXPECT_EQ(logitsRow(r.logits, 0, i), logitsRow(plain.logits, 0, i));
      continue;
    }
    EXPECT_EQ(intAt(r.ids, i), eos) << i;
    for (float v : logitsRow(r.logits, 0, i))
      EXPECT_EQ(v, 0.0f);
  }
  // Once stopped, row 0 feeds token 0 at slot 0.
  size_t stopStep = prompts[0].size() - 1 + stopAt;
  for (size_t s = stopStep + 1; s < model.calls.size(); ++s) {
    EXPECT_EQ(model.calls[s].rows[0].token, 0);
    EXPECT_EQ(model.calls[s].rows[0].kvPos, 0);
  }
  // Row 1 is unaffected by row 0's stop.
  for (size_t i = 0; i < row1; ++i)
    EXPECT_EQ(r.tokens[1][i], plain.tokens[1][i]);
}

TEST(GenerateStop, AllRowsStopAtEosShortensTheOutput) {
  Manifest m = makeManifest({1}, 32);
  FakeModel first(1, 32);
  GenerateResult plain, r;
  std::string error;
  ASSERT_TRUE(generate(m, first, {{2}}, greedy(5), "t.kiln", plain, error));
  int64_t eos = plain.tokens[0][0];
  FakeModel model(1, 32);
  ASSERT_TRUE(generate(m, model, {{2}}, greedy(5, eos), "t.kiln", r, error));
  EXPECT_EQ(r.ids.shape, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(model.calls.size(), 1u);
}

TEST(GenerateStop, KvCacheFullIsRefusedBeforeTheStep) {
  Manifest m = makeManifest({1, 2}, 8);
  FakeModel model(2, 8);
  GenerateResult r;
  std::string error;
  // 6 prompt tokens + 3 new use slots 0..7: fits.
  ASSERT_TRUE(generate(m, model, {{1, 2, 3, 4, 5, 6}, {1}}, greedy(3), "t.kiln",
                       r, error))
      << error;
  // One more token needs slot 8.
  model.calls.clear();
  EXPECT_FALSE(generate(m, model, {{1}, {1, 2, 3, 4, 5, 6}}, greedy(4),
                        "t.kiln", r, error));
  EXPECT_EQ(error, "step 8: KV cache full: row 1 needs slot 8, max_seq is 8; "
                   "compile with a larger --max-seq-len");
  EXPECT_EQ(model.calls.size(), 8u);
}

TEST(GenerateStop, RunnerErrorsNameTheStep) {
  Manifest m = makeManifest({1}, 8);
  FakeModel model(1, 8);
  model.failAt = 2;
  GenerateResult r;
  std::string error;
  EXPECT_FALSE(generate(m, model, {{1, 2}}, greedy(4), "t.kiln", r, error));
  EXPECT_EQ(error, "step 2 (function 'decode_b1'): device fell over");
}

TEST(GenerateBuckets, SmallestThatFits) {
  Manifest m = makeManifest({4, 1, 2}, 8); // any order in the manifest
  std::string error;
  for (auto [n, name] :
       std::vector<std::pair<int64_t, std::string>>{{1, "decode_b1"},
                                                    {2, "decode_b2"},
                                                    {3, "decode_b4"},
                                                    {4, "decode_b4"}}) {
    const Function *f = selectStepFunction(m, n, "t.kiln", error);
    ASSERT_TRUE(f) << error;
    EXPECT_EQ(f->name, name) << n;
  }
  // A function that is not a decode step (seq != 1) is never chosen.
  Function prefill = m.functions[0];
  prefill.name = "prefill_b8";
  prefill.stepBatch = 8;
  prefill.stepSeq = 16;
  m.functions.push_back(prefill);
  EXPECT_FALSE(selectStepFunction(m, 5, "t.kiln", error));
  EXPECT_EQ(error, "t.kiln: 5 prompts do not fit the largest batch bucket "
                   "(4); buckets: decode_b1 (batch 1), decode_b2 (batch 2), "
                   "decode_b4 (batch 4); run fewer prompts together or "
                   "compile with larger --batch-buckets");
}

TEST(GenerateBuckets, NoStepFunction) {
  Manifest m;
  Function main;
  main.name = "main";
  m.functions.push_back(main);
  std::string error;
  EXPECT_FALSE(selectStepFunction(m, 1, "a.kiln", error));
  EXPECT_EQ(error, "a.kiln: the artifact has no step functions (it was "
                   "compiled without --max-seq-len)");
  FakeModel model(1, 8);
  GenerateResult r;
  EXPECT_FALSE(generate(m, model, {{1}}, greedy(1), "a.kiln", r, error));
  EXPECT_NE(error.find("compiled without --max-seq-len"), std::string::npos);
  EXPECT_EQ(model.resets, 0);
}

TEST(GenerateBuckets, StepFunctionWithoutKvCache) {
  Manifest m = makeManifest({1}, 8);
  m.kvCache = KvCacheSpec();
  FakeModel model(1, 8);
  GenerateResult r;
  std::string error;
  EXPECT_FALSE(generate(m, model, {{1}}, greedy(1), "a.kiln", r, error));
  EXPECT_EQ(error, "a.kiln: function 'decode_b1' is a step function but the "
                   "artifact has no kv_cache record");
}

TEST(GenerateBuckets, PrepareChecksBeforeAnyStep) {
  Manifest m = makeManifest({1, 2}, 8);
  std::string error;
  const Function *f = prepareGeneration(m, {{1}, {2, 3}}, "t.kiln", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->name, "decode_b2");
  EXPECT_FALSE(prepareGeneration(m, {{1}, {2, 99}}, "t.kiln", error));
  EXPECT_EQ(error, "prompt 1: token 1 is 99; the model's vocabulary is 0..9");
  EXPECT_FALSE(prepareGeneration(m, {}, "t.kiln", error));
  EXPECT_EQ(error, "no prompts to generate from");
  f = prepareTeacherForcing(m, std::vector<int64_t>(8, 1), "t.kiln", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->name, "decode_b1");
  EXPECT_FALSE(
      prepareTeacherForcing(m, std::vector<int64_t>(9, 1), "t.kiln", error));
  EXPECT_EQ(error, "KV cache full: row 0 needs slot 8, max_seq is 8; compile "
                   "with a larger --max-seq-len");
  EXPECT_FALSE(prepareTeacherForcing(m, {3, 10}, "t.kiln", error));
  EXPECT_EQ(error, "the teacher-forced ids: token 1 is 10; the model's "
                   "vocabulary is 0..9");
  m.functions[0].inputs[2].role = "position";
  EXPECT_FALSE(prepareGeneration(m, {{1}}, "t.kiln", error));
  EXPECT_EQ(error, "t.kiln: function 'decode_b1': input 'position_ids' has "
                   "the unknown role 'position'");
  m = makeManifest({1}, 8);
  m.functions[0].inputs.erase(m.functions[0].inputs.begin() + 3); // kv_pos
  EXPECT_FALSE(prepareGeneration(m, {{1}}, "t.kiln", error));
  EXPECT_EQ(error, "t.kiln: function 'decode_b1' has no input with role "
                   "'kv_pos'");
}

TEST(GenerateSampling, GreedyTiesTakeTheLowestIndex) {
  float a[] = {1, 3, 3, 2};
  EXPECT_EQ(argmaxToken(a, 4), 1);
  float b[] = {NAN, 0.5f, 0.5f};
  EXPECT_EQ(argmaxToken(b, 3), 1);
  float c[] = {-INFINITY, -INFINITY};
  EXPECT_EQ(argmaxToken(c, 2), 0);
  // Temperature 0 is greedy whatever top-k, top-p and seed say.
  SamplingOptions o;
  o.topK = 3;
  o.topP = 0.5;
  o.seed = 9;
  EXPECT_EQ(sampleToken(a, 4, o, 0.99), 1);
  // Top-k 1 is greedy at any temperature and any draw.
  o.temperature = 2;
  o.topK = 1;
  for (double u : {0.0, 0.5, 0.999})
    EXPECT_EQ(sampleToken(a, 4, o, u), 1);
}

/// Generates 16 tokens from one prompt with `sampling`.
std::vector<int64_t> sampled(const SamplingOptions &sampling) {
  Manifest m = makeManifest({1}, 32);
  FakeModel model(1, 32);
  GenerateOptions o = greedy(16);
  o.sampling = sampling;
  GenerateResult r;
  std::string error;
  EXPECT_TRUE(generate(m, model, {{3, 1}}, o, "t.kiln", r, error)) << error;
  return r.tokens.empty() ? std::vector<int64_t>() : r.tokens[0];
}

TEST(GenerateSampling, SeededSamplingIsReproducible) {
  SamplingOptions s;
  s.temperature = 1.5;
  s.seed = 42;
  std::vector<int64_t> a = sampled(s), b = sampled(s);
  EXPECT_EQ(a, b);
  s.seed = 43;
  EXPECT_NE(a, sampled(s));
  // Sampling at this temperature is not greedy.
  EXPECT_NE(a, sampled(SamplingOptions()));
}

TEST(GenerateSampling, RowsDrawFromSeedPlusRow) {
  // Row 1 of a batch draws from seed + 1: it matches that prompt alone with
  // --seed S+1 (the fake model's rows are independent).
  Manifest m = makeManifest({1, 2}, 32);
  GenerateOptions o = greedy(8);
  o.sampling.temperature = 1.5;
  o.sampling.seed = 7;
  FakeModel batchModel(2, 32), aloneModel(1, 32);
  GenerateResult batch, alone;
  std::string error;
  ASSERT_TRUE(
      generate(m, batchModel, {{3, 1}, {2}}, o, "t.kiln", batch, error));
  o.sampling.seed = 8;
  ASSERT_TRUE(generate(m, aloneModel, {{2}}, o, "t.kiln", alone, error));
  EXPECT_EQ(batch.tokens[1], alone.tokens[0]);
}

TEST(GenerateSampling, TopKOneIsGreedy) {
  SamplingOptions s;
  s.temperature = 0.7;
  s.topK = 1;
  s.seed = 5;
  EXPECT_EQ(sampled(s), sampled(SamplingOptions()));
  s.seed = 6;
  s.temperature = 3;
  EXPECT_EQ(sampled(s), sampled(SamplingOptions()));
}

TEST(GenerateSampling, DistributionTopKAndTopP) {
  // p = softmax(log(w)) with w = 1, 2, 3, 4 over tokens 0..3 at T = 1.
  float logits[] = {std::log(1.0f), std::log(2.0f), std::log(3.0f),
                    std::log(4.0f)};
  auto frequencies = [&](const SamplingOptions &o) {
    std::vector<double> f(4, 0);
    const int n = 40000;
    for (int i = 0; i < n; ++i)
      f[size_t(sampleToken(logits, 4, o, samplingDraw(o, 0, uint64_t(i))))] +=
          1.0 / n;
    return f;
  };
  SamplingOptions o;
  o.temperature = 1;
  o.seed = 1;
  std::vector<double> f = frequencies(o);
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(f[i], (i + 1) / 10.0, 0.01) << i;
  // Top-2 keeps tokens 3 and 2: 4/7 and 3/7.
  o.topK = 2;
  f = frequencies(o);
  EXPECT_EQ(f[0] + f[1], 0.0);
  EXPECT_NEAR(f[3], 4.0 / 7, 0.01);
  // Top-p 0.65 keeps 3 and 2 (0.4 + 0.3 >= 0.65), not 1.
  o.topK = 0;
  o.topP = 0.65;
  f = frequencies(o);
  EXPECT_EQ(f[0] + f[1], 0.0);
  EXPECT_NEAR(f[2], 3.0 / 7, 0.01);
  // Top-p smaller than the top token's probability keeps just it.
  o.topP = 0.1;
  f = frequencies(o);
  EXPECT_NEAR(f[3], 1.0, 1e-9);
  // A low temperature sharpens: T = 0.25 gives w^4 = 1, 16, 81, 256.
  o.topP = 1;
  o.temperature = 0.25;
  f = frequencies(o);
  EXPECT_NEAR(f[3], 256.0 / 354, 0.01);
}

TEST(GenerateTeacherForce, FeedsRowZeroOfTheSmallestBucket) {
  Manifest m = makeManifest({2, 4}, 16); // no batch-1 bucket
  FakeModel model(2, 16);
  std::vector<int64_t> ids = {4, 1, 7, 7, 2};
  HostTensor logits;
  std::string function, error;
  ASSERT_TRUE(teacherForce(m, model, ids, "t.kiln", logits, function, error))
      << error;
  EXPECT_EQ(function, "decode_b2");
  EXPECT_EQ(model.resets, 1);
  EXPECT_EQ(logits.dtype, DType::F32);
  EXPECT_EQ(logits.shape, (std::vector<int64_t>{5, kVocab}));
  ASSERT_EQ(model.calls.size(), 5u);
  for (int64_t t = 0; t < 5; ++t) {
    const Fed &real = model.calls[t].rows[0], &pad = model.calls[t].rows[1];
    EXPECT_EQ(real.token, ids[t]);
    EXPECT_EQ(real.kvPos, t);
    EXPECT_EQ(real.position, t);
    EXPECT_EQ(pad.token, 0);
    EXPECT_EQ(pad.kvPos, 0);
  }
  // Row i of the logits is what generation sees after ids[0..i]: the last
  // one chose the first generated token from that prompt.
  FakeModel gen(1, 16);
  Manifest m1 = makeManifest({1}, 16);
  GenerateResult r;
  ASSERT_TRUE(generate(m1, gen, {ids}, greedy(1), "t.kiln", r, error));
  const float *p = reinterpret_cast<const float *>(logits.bytes.data());
  EXPECT_EQ(std::vector<float>(p + 4 * kVocab, p + 5 * kVocab),
            logitsRow(r.logits, 0, 0));
  // Too long for the cache, and ids outside the vocabulary.
  EXPECT_FALSE(teacherForce(m, model, std::vector<int64_t>(17, 1), "t.kiln",
                            logits, function, error));
  EXPECT_NE(error.find("KV cache full"), std::string::npos) << error;
  EXPECT_FALSE(
      teacherForce(m, model, {1, 99}, "t.kiln", logits, function, error));
  EXPECT_NE(error.find("token 1 is 99"), std::string::npos) << error;
  // Matching against expected logits is compareTensors.
  HostTensor expected = logits;
  CompareResult same = compareTensors(logits, expected, 0, 0);
  EXPECT_TRUE(same.pass);
  reinterpret_cast<float *>(expected.bytes.data())[3] += 1e-3f;
  EXPECT_FALSE(compareTensors(logits, expected, 0, 1e-4).pass);
}

TEST(GenerateTeacherForce, ResetsTheCache) {
  Manifest m = makeManifest({1}, 16);
  FakeModel model(1, 16);
  HostTensor a, b;
  std::string function, error;
  ASSERT_TRUE(teacherForce(m, model, {1, 2, 3}, "t.kiln", a, function, error));
  ASSERT_TRUE(teacherForce(m, model, {1, 2, 3}, "t.kiln", b, function, error));
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(model.resets, 2);
}

TEST(GeneratePrompts, ParseTokenIdList) {
  std::vector<int64_t> ids;
  std::string error;
  ASSERT_TRUE(parseTokenIdList(" 1 2,3\t40 ", ids, error));
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 2, 3, 40}));
  EXPECT_FALSE(parseTokenIdList("1 x 3", ids, error));
  EXPECT_EQ(error, "'1 x 3' is not a list of token ids ('x' is not a "
                   "non-negative integer)");
  EXPECT_FALSE(parseTokenIdList("1 -2", ids, error));
  EXPECT_FALSE(parseTokenIdList("99999999999999999999", ids, error));
  EXPECT_FALSE(parseTokenIdList(" , ", ids, error));
  EXPECT_EQ(error, "' , ' holds no token ids");
}

TEST(GeneratePrompts, TokenIdsFromTensor) {
  HostTensor t;
  t.dtype = DType::I64;
  t.shape = {1, 3};
  int64_t v[] = {5, 0, 7};
  t.bytes.assign(reinterpret_cast<uint8_t *>(v),
                 reinterpret_cast<uint8_t *>(v) + sizeof(v));
  std::vector<int64_t> ids;
  std::string error;
  ASSERT_TRUE(tokenIdsFromTensor(t, "p.pb", ids, error)) << error;
  EXPECT_EQ(ids, (std::vector<int64_t>{5, 0, 7}));
  t.shape = {3};
  ASSERT_TRUE(tokenIdsFromTensor(t, "p.pb", ids, error)) << error;
  t.shape = {3, 1};
  EXPECT_FALSE(tokenIdsFromTensor(t, "p.pb", ids, error));
  EXPECT_EQ(error, "p.pb: expected int64 token ids of shape [1, L] or [L] "
                   "(L >= 1), got i64 3x1");
  t.shape = {1, 3};
  t.dtype = DType::F64;
  t.bytes.resize(24);
  EXPECT_FALSE(tokenIdsFromTensor(t, "p.pb", ids, error));
  t.dtype = DType::I64;
  v[1] = -1;
  std::memcpy(t.bytes.data(), v, sizeof(v));
  EXPECT_FALSE(tokenIdsFromTensor(t, "p.pb", ids, error));
  EXPECT_EQ(error, "p.pb: token 1 is negative (-1)");
}

/// Expects two generations to have produced the same tokens and logits.
void expectSameGeneration(const GenerateResult &a, const GenerateResult &b,
                          const std::string &what) {
  EXPECT_EQ(a.tokens, b.tokens) << what;
  EXPECT_EQ(a.ids.shape, b.ids.shape) << what;
  EXPECT_EQ(a.ids.bytes, b.ids.bytes) << what;
  EXPECT_EQ(a.logits.shape, b.logits.shape) << what;
  EXPECT_EQ(a.logits.bytes, b.logits.bytes) << what;
  EXPECT_EQ(a.numTokens, b.numTokens) << what;
}

/// Generates from `prompts` with `manifest`, `options` on a fresh model of
/// `rows` rows and max_seq `maxSeq`; the model is kept in `model`.
GenerateResult generateWith(const Manifest &manifest, int64_t rows,
                            const std::vector<std::vector<int64_t>> &prompts,
                            const GenerateOptions &options,
                            std::unique_ptr<FakeModel> &model) {
  model = std::make_unique<FakeModel>(rows, manifest.kvCache.maxSeq);
  GenerateResult r;
  std::string error;
  EXPECT_TRUE(generate(manifest, *model, prompts, options, "t.kiln", r, error))
      << error;
  return r;
}

/// Checks the decode steps after `prefillSteps` chunks: step k of the
/// decode loop feeds row b's token k at slot len_b + k while it is active
/// (each row's prompt is all in after prefill), padding rows token 0 at 0.
void expectDecodeAfterPrefill(const FakeModel &model, int64_t prefillSteps,
                              const std::vector<std::vector<int64_t>> &prompts,
                              const GenerateResult &r, const std::string &fn) {
  for (size_t k = 0; prefillSteps + k < model.calls.size(); ++k) {
    const Call &c = model.calls[prefillSteps + k];
    EXPECT_EQ(c.function, fn);
    for (size_t b = 0; b < c.rows.size(); ++b) {
      bool active = b < prompts.size() && k + 1 < r.tokens[b].size();
      int64_t slot = active ? int64_t(prompts[b].size() + k) : 0;
      const Fed &f = c.rows[b];
      EXPECT_EQ(f.token, active ? r.tokens[b][k] : 0) << "decode " << k;
      EXPECT_EQ(f.kvPos, slot) << "decode " << k << " row " << b;
      EXPECT_EQ(f.position, slot) << "decode " << k << " row " << b;
      for (size_t t = 0; t < f.mask.size(); ++t)
        EXPECT_EQ(f.mask[t], int64_t(t) <= slot ? 1 : 0);
    }
  }
}

/// Checks chunk `c` of prefill function `fn` (seq S): every row feeds its
/// prompt tokens [c*S, c*S + S), token 0 past its end (and padding rows
/// only 0), kv_pos c*S, positions c*S + s, mask 1 below c*S + S.
void expectChunk(const Call &call, const std::string &fn, int64_t seq,
                 int64_t c, const std::vector<std::vector<int64_t>> &prompts,
                 int64_t batch) {
  EXPECT_EQ(call.function, fn);
  ASSERT_EQ(int64_t(call.rows.size()), batch);
  for (int64_t b = 0; b < batch; ++b) {
    const Fed &f = call.rows[b];
    std::vector<int64_t> tokens, positions;
    for (int64_t s = 0; s < seq; ++s) {
      size_t i = size_t(c * seq + s);
      tokens.push_back(b < int64_t(prompts.size()) && i < prompts[b].size()
                           ? prompts[b][i]
                           : 0);
      positions.push_back(c * seq + s);
    }
    EXPECT_EQ(f.tokens, tokens) << "chunk " << c << " row " << b;
    EXPECT_EQ(f.positions, positions) << "chunk " << c << " row " << b;
    EXPECT_EQ(f.kvPos, c * seq) << "chunk " << c << " row " << b;
    for (size_t t = 0; t < f.mask.size(); ++t)
      EXPECT_EQ(f.mask[t], int64_t(t) < c * seq + seq ? 1 : 0)
          << "chunk " << c << " row " << b << " slot " << t;
  }
}

const std::vector<std::vector<int64_t>> kPrompts853 = {
    {5, 6, 7, 8, 1, 2, 9, 4}, {1, 2, 7, 7, 3}, {3, 9, 6}};

TEST(GeneratePrefill, OneChunkGivesTheTokensOfTokenByToken) {
  Manifest plain = makeManifest({1, 4}, 32);
  Manifest m = plain;
  addPrefill(m, 4, 16);
  addPrefill(m, 1, 16);
  GenerateOptions o = greedy(4);
  GenerateProgress last;
  o.progress = [&](const GenerateProgress &p) { last = p; };
  std::unique_ptr<FakeModel> model, ref;
  GenerateResult r = generateWith(m, 4, kPrompts853, o, model);
  GenerateResult want = generateWith(plain, 4, kPrompts853, greedy(4), ref);
  EXPECT_EQ(r.function, "decode_b4");
  EXPECT_EQ(r.prefillFunction, "prefill_b4_s16");
  EXPECT_EQ(want.prefillFunction, "");
  EXPECT_EQ(model->resets, 1);
  // One chunk, then 3 decode steps for the other 3 tokens.
  ASSERT_EQ(model->calls.size(), 4u);
  EXPECT_EQ(r.steps, 4);
  EXPECT_EQ(r.prefillSteps, 1);
  EXPECT_EQ(last.steps, 4);
  EXPECT_EQ(last.maxSteps, 4);
  EXPECT_EQ(want.steps, 8 + 4 - 1);
  expectChunk(model->calls[0], "prefill_b4_s16", 16, 0, kPrompts853, 4);
  expectDecodeAfterPrefill(*model, 1, kPrompts853, r, "decode_b4");
  expectSameGeneration(r, want, "S=16");
  for (const auto &t : r.tokens)
    EXPECT_EQ(t.size(), 4u);
}

TEST(GeneratePrefill, ChunksGiveTheTokensOfTokenByToken) {
  // S = 4: the 8-token prompt is two whole chunks (it ends at index 3 of
  // chunk 1), the 5-token one ends at index 0 of chunk 1, the 3-token one
  // at index 2 of chunk 0 and pads in chunk 1.
  Manifest plain = makeManifest({1, 4}, 32);
  Manifest m = plain;
  addPrefill(m, 4, 4);
  std::unique_ptr<FakeModel> model, ref;
  GenerateResult r = generateWith(m, 4, kPrompts853, greedy(4), model);
  GenerateResult want = generateWith(plain, 4, kPrompts853, greedy(4), ref);
  EXPECT_EQ(r.prefillFunction, "prefill_b4_s4");
  ASSERT_EQ(model->calls.size(), 2u + 3u);
  EXPECT_EQ(r.prefillSteps, 2);
  expectChunk(model->calls[0], "prefill_b4_s4", 4, 0, kPrompts853, 4);
  expectChunk(model->calls[1], "prefill_b4_s4", 4, 1, kPrompts853, 4);
  expectDecodeAfterPrefill(*model, 2, kPrompts853, r, "decode_b4");
  expectSameGeneration(r, want, "S=4");
}

TEST(GeneratePrefill, EverySeqAndPromptSetMatchesTokenByToken) {
  // Prompts whose lengths are and are not multiples of S, rows that end
  // in an early chunk and pad in later ones (their padding is overwritten
  // by their decode steps), greedy and sampled (one rng draw per token).
  std::vector<std::vector<std::vector<int64_t>>> sets = {
      kPrompts853,
      {{1, 2, 3, 4}, {9, 8, 7, 6, 5, 4, 3, 2}, {7}},
      {{4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4},
       {2, 5, 8, 1},
       {6, 1, 1, 2, 9},
       {3, 3}}};
  for (int64_t seq : {2, 3, 4, 5, 8, 12, 16}) {
    Manifest plain = makeManifest({4}, 32);
    Manifest m = plain;
    addPrefill(m, 4, seq);
    for (size_t i = 0; i < sets.size(); ++i)
      for (double temperature : {0.0, 1.5}) {
        GenerateOptions o = greedy(6);
        o.sampling.temperature = temperature;
        o.sampling.seed = 11;
        std::unique_ptr<FakeModel> model, ref;
        GenerateResult r = generateWith(m, 4, sets[i], o, model);
        GenerateResult want = generateWith(plain, 4, sets[i], o, ref);
        std::string what = "S=" + std::to_string(seq) + " set " +
                           std::to_string(i) +
                           " T=" + std::to_string(temperature);
        int64_t longest = 0;
        for (const auto &p : sets[i])
          longest = std::max(longest, int64_t(p.size()));
        int64_t chunks = (longest + seq - 1) / seq;
        EXPECT_EQ(r.prefillSteps, chunks) << what;
        EXPECT_EQ(r.steps, chunks + 6 - 1) << what;
        for (int64_t c = 0; c < chunks; ++c)
          expectChunk(model->calls[c], m.functions[0].name, seq, c, sets[i], 4);
        expectDecodeAfterPrefill(*model, chunks, sets[i], r, "decode_b4");
        expectSameGeneration(r, want, what);
      }
  }
}

TEST(GeneratePrefill, SmallestSeqThatHoldsTheLongestPrompt) {
  Manifest m = makeManifest({1, 2, 4}, 64);
  for (int64_t seq : {64, 4, 16, 128}) // 128 > max_seq: never chosen
    addPrefill(m, 4, seq);
  addPrefill(m, 1, 8);
  std::string error;
  const Function *b4 = selectStepFunction(m, 3, "t.kiln", error);
  const Function *b1 = selectStepFunction(m, 1, "t.kiln", error);
  const Function *b2 = selectStepFunction(m, 2, "t.kiln", error);
  ASSERT_TRUE(b4 && b1 && b2) << error;
  for (auto [longest, name] :
       std::vector<std::pair<int64_t, std::string>>{{1, "prefill_b4_s4"},
                                                    {4, "prefill_b4_s4"},
                                                    {5, "prefill_b4_s16"},
                                                    {16, "prefill_b4_s16"},
                                                    {17, "prefill_b4_s64"},
                                                    {64, "prefill_b4_s64"},
                                                    {200, "prefill_b4_s64"}}) {
    const Function *f = selectPrefillFunction(m, *b4, longest);
    ASSERT_TRUE(f) << longest;
    EXPECT_EQ(f->name, name) << longest;
  }
  const Function *f = selectPrefillFunction(m, *b1, 30);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->name, "prefill_b1_s8");
  EXPECT_EQ(selectPrefillFunction(m, *b2, 3), nullptr);
  // Through generate(): prompts of 8, 5, 3 take prefill_b4_s16 once.
  std::unique_ptr<FakeModel> model;
  GenerateResult r = generateWith(m, 4, kPrompts853, greedy(2), model);
  EXPECT_EQ(r.prefillFunction, "prefill_b4_s16");
  EXPECT_EQ(r.prefillSteps, 1);
  // Two prompts go to bucket 2, which has no prefill function: token by
  // token, as without any.
  r = generateWith(m, 2, {{1, 2, 3}, {4}}, greedy(2), model);
  EXPECT_EQ(r.function, "decode_b2");
  EXPECT_EQ(r.prefillFunction, "");
  EXPECT_EQ(r.prefillSteps, 0);
  ASSERT_EQ(model->calls.size(), 4u);
  for (const Call &c : model->calls)
    EXPECT_EQ(c.function, "decode_b2");
}

TEST(GeneratePrefill, PromptPastMaxSeqIsRefusedBeforeAnything) {
  Manifest m = makeManifest({1, 2}, 16);
  addPrefill(m, 1, 4);
  addPrefill(m, 2, 4);
  FakeModel model(1, 16);
  GenerateResult r;
  std::string error;
  std::vector<int64_t> tooLong(17, 3), full(16, 3);
  EXPECT_FALSE(generate(m, model, {tooLong}, greedy(1), "t.kiln", r, error));
  EXPECT_EQ(error, "prompt 0 has 17 tokens: KV cache full: row 0 needs slot "
                   "16, max_seq is 16; compile with a larger --max-seq-len");
  EXPECT_TRUE(model.calls.empty());
  EXPECT_EQ(model.resets, 0);
  EXPECT_FALSE(prepareGeneration(m, {{1}, tooLong}, "t.kiln", error));
  EXPECT_EQ(error.substr(0, 23), "prompt 1 has 17 tokens:");
  // A prompt that fills the cache: 4 chunks, its token from the last one.
  ASSERT_TRUE(generate(m, model, {full}, greedy(1), "t.kiln", r, error))
      << error;
  EXPECT_EQ(model.calls.size(), 4u);
  EXPECT_EQ(r.prefillSteps, 4);
  // Its second token would need slot 16: refused before that step.
  model.calls.clear();
  EXPECT_FALSE(generate(m, model, {full}, greedy(2), "t.kiln", r, error));
  EXPECT_EQ(error, "step 4: KV cache full: row 0 needs slot 16, max_seq is "
                   "16; compile with a larger --max-seq-len");
  EXPECT_EQ(model.calls.size(), 4u);
  // Without prefill the too-long prompt runs as before until slot 16.
  model.calls.clear();
  GenerateOptions o = greedy(1);
  o.prefill = false;
  EXPECT_FALSE(generate(m, model, {tooLong}, o, "t.kiln", r, error));
  EXPECT_EQ(error, "step 16: KV cache full: row 0 needs slot 16, max_seq is "
                   "16; compile with a larger --max-seq-len");
  EXPECT_EQ(model.calls.size(), 16u);
}

TEST(GeneratePrefill, PromptPastTheLastWholeChunkEndsTokenByToken) {
  // max_seq 10, S = 4: chunks may cover slots 0..7 only; token 8 of a
  // 9-token prompt goes through the decode function.
  Manifest plain = makeManifest({2}, 10);
  Manifest m = plain;
  addPrefill(m, 2, 4);
  std::vector<std::vector<int64_t>> prompts = {{1, 2, 3, 4, 5, 6, 7, 8, 9},
                                               {2, 2}};
  std::unique_ptr<FakeModel> model, ref;
  GenerateResult r = generateWith(m, 2, prompts, greedy(2), model);
  GenerateResult want = generateWith(plain, 2, prompts, greedy(2), ref);
  expectSameGeneration(r, want, "max_seq 10, S 4");
  EXPECT_EQ(r.prefillSteps, 2);
  ASSERT_EQ(model->calls.size(), 4u);
  expectChunk(model->calls[0], "prefill_b2_s4", 4, 0, prompts, 2);
  expectChunk(model->calls[1], "prefill_b2_s4", 4, 1, prompts, 2);
  const Fed &tail = model->calls[2].rows[0];
  EXPECT_EQ(model->calls[2].function, "decode_b2");
  EXPECT_EQ(tail.token, 9);
  EXPECT_EQ(tail.kvPos, 8);
  const Fed &next = model->calls[3].rows[0];
  EXPECT_EQ(next.token, r.tokens[0][0]);
  EXPECT_EQ(next.kvPos, 9);
  // Row 1 (done in chunk 0) decodes its second token at slot 2 in the
  // first decode step, then stops.
  EXPECT_EQ(model->calls[2].rows[1].token, r.tokens[1][0]);
  EXPECT_EQ(model->calls[2].rows[1].kvPos, 2);
  EXPECT_EQ(model->calls[3].rows[1].kvPos, 0);
}

TEST(GeneratePrefill, NoPrefillIsTokenByToken) {
  Manifest plain = makeManifest({1, 4}, 32);
  Manifest m = plain;
  addPrefill(m, 4, 16);
  GenerateOptions o = greedy(3);
  o.prefill = false;
  std::unique_ptr<FakeModel> model, ref;
  GenerateResult r = generateWith(m, 4, kPrompts853, o, model);
  GenerateResult want = generateWith(plain, 4, kPrompts853, greedy(3), ref);
  expectSameGeneration(r, want, "--no-prefill");
  EXPECT_EQ(r.prefillFunction, "");
  EXPECT_EQ(r.steps, want.steps);
  ASSERT_EQ(model->calls.size(), ref->calls.size());
  for (size_t i = 0; i < model->calls.size(); ++i) {
    EXPECT_EQ(model->calls[i].function, "decode_b4");
    for (size_t b = 0; b < 4; ++b) {
      const Fed &a = model->calls[i].rows[b], &w = ref->calls[i].rows[b];
      EXPECT_EQ(a.tokens, w.tokens);
      EXPECT_EQ(a.kvPos, w.kvPos);
      EXPECT_EQ(a.mask, w.mask);
    }
  }
  // A broken prefill function is an error with prefill, not without.
  m.functions[0].outputs[0] =
      spec("logits", DType::F32, {4, 1, kVocab}, "logits");
  std::string error;
  EXPECT_FALSE(prepareGeneration(m, kPrompts853, "t.kiln", error));
  EXPECT_EQ(error, "t.kiln: function 'prefill_b4_s16': output 'logits' (role "
                   "logits) is f32 4x1x10; expected f32 4x16xV");
  const Function *f = prepareGeneration(m, kPrompts853, "t.kiln", error,
                                        /*usePrefill=*/false);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->name, "decode_b4");
  GenerateResult broken;
  EXPECT_FALSE(
      generate(m, *model, kPrompts853, greedy(3), "t.kiln", broken, error));
  EXPECT_NE(error.find("expected f32 4x16xV"), std::string::npos) << error;
}

TEST(GeneratePrefill, OneNewTokenOrNone) {
  Manifest plain = makeManifest({4}, 32);
  Manifest m = plain;
  addPrefill(m, 4, 4);
  std::unique_ptr<FakeModel> model, ref;
  // One new token: the prefill chunks only.
  GenerateResult r = generateWith(m, 4, kPrompts853, greedy(1), model);
  GenerateResult want = generateWith(plain, 4, kPrompts853, greedy(1), ref);
  expectSameGeneration(r, want, "one token");
  EXPECT_EQ(model->calls.size(), 2u);
  // EOS at a row's first token stops it in prefill; the others go on.
  int64_t eos = want.tokens[2][0];
  r = generateWith(m, 4, kPrompts853, greedy(3, eos), model);
  want = generateWith(plain, 4, kPrompts853, greedy(3, eos), ref);
  expectSameGeneration(r, want, "eos");
  EXPECT_EQ(r.tokens[2].size(), 1u);
  // No new token: nothing runs.
  r = generateWith(m, 4, kPrompts853, greedy(0), model);
  EXPECT_TRUE(model->calls.empty());
  EXPECT_EQ(r.steps, 0);
  EXPECT_EQ(r.ids.shape, (std::vector<int64_t>{3, 0}));
}

TEST(GeneratePrefill, StepErrorsNameThePrefillFunction) {
  Manifest m = makeManifest({4}, 32);
  addPrefill(m, 4, 4);
  FakeModel model(4, 32);
  model.failAt = 1;
  GenerateResult r;
  std::string error;
  EXPECT_FALSE(generate(m, model, kPrompts853, greedy(2), "t.kiln", r, error));
  EXPECT_EQ(error, "step 1 (function 'prefill_b4_s4'): device fell over");
  model.calls.clear();
  model.failAt = 2;
  EXPECT_FALSE(generate(m, model, kPrompts853, greedy(2), "t.kiln", r, error));
  EXPECT_EQ(error, "step 2 (function 'decode_b4'): device fell over");
}

TEST(GeneratePrefill, TeacherForcingStaysOnTheDecodeFunction) {
  Manifest m = makeManifest({1}, 16);
  addPrefill(m, 1, 4);
  FakeModel model(1, 16);
  HostTensor logits;
  std::string function, error;
  ASSERT_TRUE(teacherForce(m, model, {4, 1, 7, 7, 2}, "t.kiln", logits,
                           function, error))
      << error;
  EXPECT_EQ(function, "decode_b1");
  ASSERT_EQ(model.calls.size(), 5u);
  for (const Call &c : model.calls)
    EXPECT_EQ(c.function, "decode_b1");
}

TEST(GeneratePrefill, ChunkInputs) {
  Manifest m = makeManifest({2}, 8);
  addPrefill(m, 2, 4);
  const Function &f = m.functions[0];
  std::vector<HostTensor> ordered;
  std::string error;
  RowChunk a{{1, 2, 3, 4}, 4}, b{{0, 0, 0, 0}, 2};
  ASSERT_TRUE(buildChunkInputs(m, f, {a, b}, ordered, error)) << error;
  ASSERT_EQ(ordered.size(), 4u);
  std::vector<int64_t> tokens, mask, positions;
  for (int64_t i = 0; i < 8; ++i) {
    tokens.push_back(intAt(ordered[0], i));
    positions.push_back(intAt(ordered[2], i));
  }
  for (int64_t i = 0; i < 16; ++i)
    mask.push_back(intAt(ordered[1], i));
  EXPECT_EQ(tokens, (std::vector<int64_t>{1, 2, 3, 4, 0, 0, 0, 0}));
  EXPECT_EQ(positions, (std::vector<int64_t>{4, 5, 6, 7, 2, 3, 4, 5}));
  EXPECT_EQ(mask, (std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1, 1, //
                                        1, 1, 1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(intAt(ordered[3], 0), 4);
  EXPECT_EQ(intAt(ordered[3], 1), 2);
  b.start = 5; // slots 5..8: past max_seq 8
  EXPECT_FALSE(buildChunkInputs(m, f, {a, b}, ordered, error));
  EXPECT_EQ(error, "KV cache full: row 1 needs slot 8, max_seq is 8; compile "
                   "with a larger --max-seq-len");
  b = RowChunk{{1}, 0};
  EXPECT_FALSE(buildChunkInputs(m, f, {a, b}, ordered, error));
  EXPECT_EQ(error, "function 'prefill_b2_s4' has seq 4 but row 1 feeds 1 "
                   "tokens");
}

} // namespace

TEST(GenerateSampling, UniformDrawIsSplitMix) {
  // splitmix64 of 0 is 0xe220a8397b1dcdaf (the reference sequence).
  EXPECT_EQ(samplingMix(0), 0xe220a8397b1dcdafull);
  SamplingOptions o;
  o.seed = 3;
  double u = samplingDraw(o, 2, 5);
  EXPECT_GE(u, 0.0);
  EXPECT_LT(u, 1.0);
  EXPECT_EQ(u, samplingUniform(5, 0, 5)); // row b of seed S = row 0 of S + b
  EXPECT_NE(u, samplingDraw(o, 2, 6));
  EXPECT_NE(u, samplingDraw(o, 3, 5));
}

TEST(GenerateSampling, ThreeTokensOverManySeeds) {
  // Weights 1 : 2 : 5 at T = 1: 0.125, 0.25, 0.625; one draw per seed.
  float logits[] = {0.0f, std::log(2.0f), std::log(5.0f)};
  SamplingOptions o;
  o.temperature = 1;
  std::vector<double> f(3, 0);
  const int n = 20000;
  for (int s = 0; s < n; ++s) {
    o.seed = uint64_t(s);
    f[size_t(sampleToken(logits, 3, o, samplingDraw(o, 0, 0)))] += 1.0 / n;
  }
  EXPECT_NEAR(f[0], 0.125, 0.02);
  EXPECT_NEAR(f[1], 0.25, 0.02);
  EXPECT_NEAR(f[2], 0.625, 0.02);
}

TEST(GenerateSampling, DrawIsInverseCdfInIndexOrder) {
  // Equal weights: u in [i/4, (i+1)/4) takes token i.
  float logits[] = {1, 1, 1, 1};
  SamplingOptions o;
  o.temperature = 1;
  EXPECT_EQ(sampleToken(logits, 4, o, 0.0), 0);
  EXPECT_EQ(sampleToken(logits, 4, o, 0.26), 1);
  EXPECT_EQ(sampleToken(logits, 4, o, 0.74), 2);
  EXPECT_EQ(sampleToken(logits, 4, o, 0.9999), 3);
}

TEST(GenerateSampling, TiesAtThresholdsAreKept) {
  // Top-k 2 over {5, 3, 3, 1}: the second largest is 3, so both 3s stay.
  float logits[] = {5, 3, 3, 1};
  SamplingOptions o;
  o.temperature = 100; // nearly uniform over the kept
  o.topK = 2;
  std::vector<int> seen(4, 0);
  for (int i = 0; i < 2000; ++i)
    ++seen[size_t(sampleToken(logits, 4, o, samplingDraw(o, 0, uint64_t(i))))];
  EXPECT_GT(seen[0], 0);
  EXPECT_GT(seen[1], 0);
  EXPECT_GT(seen[2], 0);
  EXPECT_EQ(seen[3], 0);
  // Top-p 0.3 over {1, 1, 1, 0} (w = 1, 1, 1, e^-1): the top value alone
  // reaches it, and its three ties are all kept.
  float tied[] = {1, 1, 1, 0};
  o.temperature = 1;
  o.topK = 0;
  o.topP = 0.3;
  seen.assign(4, 0);
  for (int i = 0; i < 3000; ++i)
    ++seen[size_t(sampleToken(tied, 4, o, samplingDraw(o, 0, uint64_t(i))))];
  EXPECT_NEAR(seen[0], 1000, 100);
  EXPECT_NEAR(seen[1], 1000, 100);
  EXPECT_NEAR(seen[2], 1000, 100);
  EXPECT_EQ(seen[3], 0);
}

TEST(GenerateSampling, TopKAndTopPRestrictOverALargeVocabulary) {
  // 1000 logits of a fixed pseudo-random pattern: top-k 10 only ever draws
  // one of the 10 largest; top-p 0.5 only from the nucleus.
  std::vector<float> logits(1000);
  for (size_t i = 0; i < logits.size(); ++i)
    logits[i] = float((samplingMix(i) >> 40) % 1000) / 100.0f;
  std::vector<float> sorted = logits;
  std::sort(sorted.begin(), sorted.end(), std::greater<float>());
  SamplingOptions o;
  o.temperature = 0.5;
  o.topK = 10;
  for (int i = 0; i < 500; ++i) {
    int64_t t =
        sampleToken(logits.data(), 1000, o, samplingDraw(o, 0, uint64_t(i)));
    EXPECT_GE(logits[size_t(t)], sorted[9]);
  }
  // The nucleus of p = 0.5: the fewest largest z whose mass reaches half.
  o.topK = 0;
  o.topP = 0.5;
  double total = 0;
  for (float l : logits)
    total += std::exp((l - sorted[0]) / 0.5);
  double cum = 0;
  float tau = sorted[0];
  for (float l : sorted) {
    cum += std::exp((l - sorted[0]) / 0.5);
    tau = l;
    if (cum >= 0.5 * total)
      break;
  }
  bool reachedTop = false;
  for (int i = 0; i < 500; ++i) {
    int64_t t =
        sampleToken(logits.data(), 1000, o, samplingDraw(o, 0, uint64_t(i)));
    EXPECT_GE(logits[size_t(t)], tau);
    reachedTop |= logits[size_t(t)] == sorted[0];
  }
  EXPECT_TRUE(reachedTop);
}

/// A FakeModel that samples "on the device" with the host algorithm, so the
/// generation loop's device path (no logits back) can be checked.
class DeviceSamplingModel : public FakeModel {
public:
  using FakeModel::FakeModel;
  bool samplesOnDevice() const override { return true; }
  bool runAndSample(const Function &fn, const std::vector<HostTensor> &ordered,
                    size_t logitsOutput, const std::vector<DeviceDraw> &draws,
                    const SamplingOptions &sampling,
                    std::vector<int64_t> &tokens, std::string &error) override {
    ++deviceSteps;
    if (!run(fn, ordered, outputs, error))
      return false;
    const HostTensor &l = outputs[logitsOutput];
    int64_t vocab = l.shape.back();
    const float *base = reinterpret_cast<const float *>(l.bytes.data());
    tokens.clear();
    for (const DeviceDraw &d : draws)
      tokens.push_back(sampleToken(base + d.logitsRow * vocab, vocab, sampling,
                                   samplingDraw(sampling, d.seedRow, d.index)));
    return true;
  }
  int deviceSteps = 0;
  std::vector<HostTensor> outputs;
};

TEST(GenerateSampling, DeviceSamplingPathGivesTheHostTokens) {
  Manifest m = makeManifest({4}, 32);
  for (bool sample : {false, true}) {
    GenerateOptions o = greedy(6);
    if (sample) {
      o.sampling.temperature = 1.5;
      o.sampling.topK = 5;
      o.sampling.topP = 0.9;
      o.sampling.seed = 11;
    }
    FakeModel host(4, 32);
    DeviceSamplingModel device(4, 32);
    GenerateResult a, b;
    std::string error;
    ASSERT_TRUE(
        generate(m, host, {{3, 1}, {2}, {5, 4, 1}}, o, "t.kiln", a, error))
        << error;
    o.keepLogits = false;
    ASSERT_TRUE(
        generate(m, device, {{3, 1}, {2}, {5, 4, 1}}, o, "t.kiln", b, error))
        << error;
    EXPECT_EQ(a.tokens, b.tokens) << sample;
    EXPECT_GT(device.deviceSteps, 0);
    EXPECT_TRUE(b.logits.bytes.empty());
    EXPECT_EQ(a.ids.bytes, b.ids.bytes);
  }
}

/// Random logits rows, the device's tokens against sampleToken()'s; skipped
/// without a CUDA device (run it on a GPU: kiln-runtime-tests
/// --gtest_filter='SamplingDevice.*').
TEST(SamplingDevice, MatchesTheHost) {
  std::string error;
  std::unique_ptr<DeviceSampler> sampler = DeviceSampler::create(0, 8, error);
  if (!sampler)
    GTEST_SKIP() << error;
  struct Case {
    double temperature;
    int64_t topK;
    double topP;
  };
  const Case cases[] = {{0, 0, 1},      {0.8, 0, 1}, {1, 40, 1},  {0.7, 0, 0.9},
                        {1.2, 50, 0.8}, {2, 1, 1},   {1, 0, 0.05}};
  for (int64_t vocab : {int64_t(512), int64_t(151936)}) {
    const int64_t rows = 8;
    std::vector<float> logits(size_t(rows * vocab));
    for (size_t i = 0; i < logits.size(); ++i) // roughly N(0, 3), some ties
      logits[i] =
          float(int64_t(samplingMix(i + uint64_t(vocab)) >> 52) - 2048) /
          256.0f;
    for (const Case &c : cases)
      for (uint64_t seed : {uint64_t(0), uint64_t(17)}) {
        SamplingOptions o;
        o.temperature = c.temperature;
        o.topK = c.topK;
        o.topP = c.topP;
        o.seed = seed;
        DeviceSamplingParams p;
        p.greedy = o.greedy() || o.topK == 1;
        p.temperature = float(o.temperature);
        p.topK = o.topK;
        p.topP = o.topP;
        p.seed = o.seed;
        std::vector<DeviceDraw> draws;
        for (int64_t r = 0; r < rows; ++r)
          draws.push_back({rows - 1 - r, uint64_t(r), uint64_t(3 * r)});
        std::vector<int64_t> tokens;
        ASSERT_TRUE(sampler->sampleHost(logits.data(), rows, vocab, draws, p,
                                        tokens, error))
            << error;
        for (int64_t r = 0; r < rows; ++r) {
          const DeviceDraw &d = draws[size_t(r)];
          int64_t want = sampleToken(logits.data() + d.logitsRow * vocab, vocab,
                                     o, samplingDraw(o, d.seedRow, d.index));
          EXPECT_EQ(tokens[size_t(r)], want)
              << "vocab " << vocab << " T " << c.temperature << " k " << c.topK
              << " p " << c.topP << " seed " << seed << " row " << r;
        }
      }
  }
}
