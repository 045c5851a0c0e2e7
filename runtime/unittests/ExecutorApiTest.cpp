//===- ExecutorApiTest.cpp - the CudaExecutor API without a GPU -----------===//
//
// Pins the executor's public signatures (kiln-run and the generation loop
// call them) and checks what can be checked on a machine without a GPU or
// in a build without CUDA: create() fails cleanly with "no CUDA device".
// The executor's behaviour on a device is covered by test/Runtime/gpu_smoke.sh.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/CudaExecutor.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <type_traits>

using namespace kiln::runtime;

namespace {

// The entry points, by type: a change here is an API change for kiln-run.
using CreateAll = std::unique_ptr<CudaExecutor> (*)(const Artifact &, int,
                                                    std::string &);
using CreateOne = std::unique_ptr<CudaExecutor> (*)(const Artifact &,
                                                    const std::string &, int,
                                                    std::string &);
using RunNamed = bool (CudaExecutor::*)(const std::string &, CudaExecutor::Mode,
                                        const std::vector<HostTensor> &, int,
                                        std::vector<HostTensor> &, RunStats &,
                                        std::string &);
using RunDefault = bool (CudaExecutor::*)(CudaExecutor::Mode,
                                          const std::vector<HostTensor> &, int,
                                          std::vector<HostTensor> &, RunStats &,
                                          std::string &);
using Step = bool (CudaExecutor::*)(const std::string &,
                                    const std::vector<HostTensor> &,
                                    std::vector<HostTensor> &, bool,
                                    std::string &);
using Reset = bool (CudaExecutor::*)(std::string &);
[[maybe_unused]] constexpr CreateAll kCreateAll = &CudaExecutor::create;
[[maybe_unused]] constexpr CreateOne kCreateOne = &CudaExecutor::create;
[[maybe_unused]] constexpr RunNamed kRunNamed = &CudaExecutor::run;
[[maybe_unused]] constexpr RunDefault kRunDefault = &CudaExecutor::run;
[[maybe_unused]] constexpr Step kStep = &CudaExecutor::step;
[[maybe_unused]] constexpr Reset kReset = &CudaExecutor::resetKvCache;
static_assert(!std::is_copy_constructible_v<CudaExecutor>,
              "an executor owns device memory");

/// True when this process sees no CUDA device (no driver or none present):
/// create() must then fail with "no CUDA device".
bool noDevice(const std::string &error) {
  return error.rfind("no CUDA device", 0) == 0;
}

TEST(ExecutorApi, CreateWithoutDeviceFailsCleanly) {
  Artifact artifact;
  artifact.manifestPath = "x.kiln/manifest.txt";
  std::string error;
  std::unique_ptr<CudaExecutor> exec = CudaExecutor::create(artifact, 0, error);
  if (exec || !noDevice(error))
    GTEST_SKIP() << "a CUDA device is present (" << error << ")";
  EXPECT_EQ(exec, nullptr);
}

TEST(ExecutorApi, CreateNamedFunctionChecksTheName) {
  // The function is looked up before any device is touched.
  Artifact artifact;
  artifact.manifestPath = "x.kiln/manifest.txt";
  std::string error;
  EXPECT_EQ(CudaExecutor::create(artifact, "decode_b1", 0, error), nullptr);
  EXPECT_EQ(error, "x.kiln/manifest.txt: no function 'decode_b1'");
}

TEST(ExecutorApi, CreateNamedFunctionWithoutDevice) {
  Artifact artifact;
  artifact.manifestPath = "x.kiln/manifest.txt";
  artifact.manifest.functions.emplace_back();
  artifact.manifest.functions.back().name = "main";
  std::string error;
  std::unique_ptr<CudaExecutor> exec =
      CudaExecutor::create(artifact, "main", 0, error);
  if (exec || !noDevice(error))
    GTEST_SKIP() << "a CUDA device is present (" << error << ")";
  EXPECT_EQ(exec, nullptr);
}

//===----------------------------------------------------------------------===//
// On a GPU: the KV test artifact (make_test_artifact.py --kv)
//===----------------------------------------------------------------------===//

HostTensor f32(const std::string &name, std::vector<int64_t> shape,
               std::vector<float> values) {
  HostTensor t;
  t.name = name;
  t.dtype = DType::F32;
  t.shape = std::move(shape);
  t.bytes.resize(values.size() * 4);
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

HostTensor i64(const std::string &name, std::vector<int64_t> shape,
               int64_t value) {
  HostTensor t;
  t.name = name;
  t.dtype = DType::I64;
  t.shape = std::move(shape);
  t.bytes.resize(8);
  std::memcpy(t.bytes.data(), &value, 8);
  return t;
}

std::vector<float> values(const HostTensor &t) {
  std::vector<float> v(t.bytes.size() / 4);
  std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
  return v;
}

/// `KILN_TEST_KV_ARTIFACT=OUT/kv.kiln` (written by
/// `test/Runtime/make_test_artifact.py OUT --kv`) on a machine with a GPU:
/// two functions of one executor share the KV cache; step() (eager and
/// graph) appends to it, run() reads it (a kernel and a gemm with a k: A
/// operand), resetKvCache() clears it.
TEST(ExecutorGpu, KvCacheAcrossFunctionsAndSteps) {
  const char *path = std::getenv("KILN_TEST_KV_ARTIFACT");
  if (!path)
    GTEST_SKIP() << "set KILN_TEST_KV_ARTIFACT to make_test_artifact.py's "
                    "kv.kiln to run this on a GPU";
  Artifact artifact;
  std::string error;
  ASSERT_TRUE(loadArtifact(path, artifact, error)) << error;
  std::unique_ptr<CudaExecutor> exec = CudaExecutor::create(artifact, 0, error);
  ASSERT_TRUE(exec) << error;
  const Function &append = *artifact.manifest.findFunction("append");
  auto appendInputs = [&](int64_t pos, std::vector<float> x) {
    std::vector<HostTensor> named = {i64("ids", {1, 1}, 7),
                                     i64("kv_pos", {1}, pos),
                                     f32("x", {4}, std::move(x))};
    std::vector<HostTensor> ordered;
    EXPECT_TRUE(bindInputs(append, named, ordered, error)) << error;
    return ordered;
  };
  std::vector<HostTensor> out;
  // Eager step, then graph steps (the graph captured on the first).
  ASSERT_TRUE(exec->step("append", appendInputs(0, {1, 2, 3, 4}), out,
                         /*graph=*/false, error))
      << error;
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].name, "logits");
  EXPECT_EQ(out[0].shape, (std::vector<int64_t>{1, 1, 4}));
  EXPECT_EQ(values(out[0]), (std::vector<float>{1, 2, 3, 4}));
  ASSERT_TRUE(exec->step("append", appendInputs(1, {10, 20, 30, 40}), out,
                         /*graph=*/true, error))
      << error;
  EXPECT_EQ(values(out[0]), (std::vector<float>{11, 22, 33, 44}));
  ASSERT_TRUE(exec->step("append", appendInputs(2, {100, 200, 300, 400}), out,
                         /*graph=*/true, error))
      << error;
  EXPECT_EQ(values(out[0]), (std::vector<float>{111, 222, 333, 444}));
  // The other function sees the same cache; z = key slot 0 @ I (k: gemm A).
  RunStats stats;
  std::vector<HostTensor> peek;
  ASSERT_TRUE(
      exec->run("peek", CudaExecutor::Mode::Eager, {}, 1, peek, stats, error))
      << error;
  ASSERT_EQ(peek.size(), 2u);
  EXPECT_EQ(values(peek[0]), (std::vector<float>{111, 222, 333, 444}));
  EXPECT_EQ(values(peek[1]), (std::vector<float>{1, 2, 3, 4}));
  // Reset: the cache is zeros again, in graph mode too.
  ASSERT_TRUE(exec->resetKvCache(error)) << error;
  ASSERT_TRUE(
      exec->run("peek", CudaExecutor::Mode::Graph, {}, 3, peek, stats, error))
      << error;
  EXPECT_EQ(stats.steps, 3);
  EXPECT_EQ(values(peek[0]), (std::vector<float>{0, 0, 0, 0}));
  EXPECT_EQ(values(peek[1]), (std::vector<float>{0, 0, 0, 0}));
  ASSERT_TRUE(exec->step("append", appendInputs(3, {5, 6, 7, 8}), out,
                         /*graph=*/true, error))
      << error;
  EXPECT_EQ(values(out[0]), (std::vector<float>{5, 6, 7, 8}));
  // Refusals: an unknown function, a wrong input count or size.
  EXPECT_FALSE(exec->step("nope", {}, out, false, error));
  EXPECT_NE(error.find("no function 'nope' (functions: append peek)"),
            std::string::npos)
      << error;
  EXPECT_FALSE(exec->step("append", {}, out, false, error));
  EXPECT_EQ(error, "step: function 'append' takes 3 inputs, got 0");
  std::vector<HostTensor> bad = appendInputs(0, {1, 2, 3, 4});
  bad[2].bytes.resize(8);
  EXPECT_FALSE(exec->step("append", bad, out, false, error));
  EXPECT_EQ(error, "step: function 'append' input 2 'x' has 8 bytes, "
                   "expected 16");
}

} // namespace

// KILN_RUNTIME_CARVEOUT (docs/runtime.md): unset or empty is the driver's
// choice (-1), 0-100 a percentage, anything else a message naming the
// variable and the text.
TEST(ExecutorEnv, CarveoutParses) {
  std::string error;
  int percent = 7;
  EXPECT_TRUE(parseSharedMemoryCarveout(nullptr, percent, error));
  EXPECT_EQ(percent, -1);
  percent = 7;
  EXPECT_TRUE(parseSharedMemoryCarveout("", percent, error));
  EXPECT_EQ(percent, -1);
  EXPECT_TRUE(parseSharedMemoryCarveout("0", percent, error));
  EXPECT_EQ(percent, 0);
  EXPECT_TRUE(parseSharedMemoryCarveout("100", percent, error));
  EXPECT_EQ(percent, 100);
  EXPECT_TRUE(parseSharedMemoryCarveout("050", percent, error));
  EXPECT_EQ(percent, 50);
  EXPECT_TRUE(error.empty());
}

TEST(ExecutorEnv, CarveoutRejects) {
  for (const char *bad : {"101", "-1", "max", "50%", " 50", "1000", "4.5"}) {
    std::string error;
    int percent = 7;
    EXPECT_FALSE(parseSharedMemoryCarveout(bad, percent, error)) << bad;
    EXPECT_EQ(percent, -1) << bad;
    EXPECT_NE(error.find("KILN_RUNTIME_CARVEOUT"), std::string::npos) << bad;
    EXPECT_NE(error.find(std::string("'") + bad + "'"), std::string::npos)
        << error;
  }
}
