//===- BenchTest.cpp - kiln-bench's host half -----------------------------===//
//
// traceEvents (kiln-bench --trace): one event per launch at the prefix
// medians it is given, names escaped for JSON, the measured difference kept
// even where the drawn duration is clamped, and a refusal of a prefix list
// of the wrong length. weightBytesPerLaunch (--per-kernel's and --trace's
// floors): each weight of a launch once, the step's rows of a table the
// kernel reads by rows (`rows`).
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Bench.h"

#include <gtest/gtest.h>

using namespace kiln::runtime;

namespace {

Function twoLaunches() {
  Function fn;
  fn.name = "decode_b1";
  Launch k;
  k.kind = Launch::Kind::Kernel;
  k.kernel.name = "k0_rms\"norm";
  k.line = 7;
  Launch g;
  g.kind = Launch::Kind::Gemm;
  g.gemm.m = 1;
  g.gemm.n = 8;
  g.gemm.k = 4;
  g.line = 9;
  fn.launches = {k, g};
  return fn;
}

TEST(BenchTrace, EventsSpanThePrefixMedians) {
  std::string events = traceEvents(twoLaunches(), {1.5, 4.0, 10.25}, 3);
  EXPECT_EQ(events,
            "{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 0, \"tid\": 3, "
            "\"args\": {\"name\": \"decode_b1\"}},\n"
            "{\"name\": \"k0_rms\\\"norm\", \"ph\": \"X\", \"pid\": 0, "
            "\"tid\": 3, \"ts\": 0.000, \"dur\": 2.500, \"args\": {\"launch\": "
            "0, \"line\": 7, \"added_us\": 2.500}},\n"
            "{\"name\": \"gemm 1x8x4\", \"ph\": \"X\", \"pid\": 0, \"tid\": 3, "
            "\"ts\": 2.500, \"dur\": 6.250, \"args\": {\"launch\": 1, "
            "\"line\": 9, \"added_us\": 6.250}}");
}

TEST(BenchTrace, NegativeDifferenceDrawsNothingButIsKept) {
  std::string events = traceEvents(twoLaunches(), {0.0, 5.0, 4.5}, 0);
  EXPECT_NE(events.find("\"ts\": 5.000, \"dur\": 0.000"), std::string::npos)
      << events;
  EXPECT_NE(events.find("\"added_us\": -0.500"), std::string::npos) << events;
}

TEST(BenchTrace, WrongPrefixCountIsRefused) {
  EXPECT_EQ(traceEvents(twoLaunches(), {0.0, 1.0}, 0), "");
  EXPECT_EQ(traceEvents(twoLaunches(), {}, 0), "");
}

TEST(BenchWeights, BytesPerLaunch) {
  Manifest m;
  auto weight = [&](std::vector<int64_t> shape, uint64_t bytes) {
    TensorSpec w;
    w.index = int64_t(m.weights.size());
    w.shape = shape;
    w.bytes = bytes;
    m.weights.push_back(w);
  };
  weight({100, 8}, 3200); // w:0, an embedding table of 100 rows
  weight({8, 8}, 256);    // w:1
  weight({8}, 32);        // w:2, a bias
  Function fn;
  fn.name = "decode_b2";
  fn.stepBatch = 2;
  fn.stepSeq = 1;
  Launch gather; // reads w:0 by rows (`rows 0`), whatever its name says
  gather.kernel.name = "k0_cast_mul_cos_cast_and7";
  gather.kernel.args = {PointerRef::weight(0), PointerRef::arena(0),
                        PointerRef::arena(64)};
  gather.kernel.rowArgs = {0};
  Launch gemv; // reads w:1 twice (two products of one weight) and w:2
  gemv.kernel.name = "k1_linear_linear_add";
  gemv.kernel.args = {PointerRef::arena(64), PointerRef::weight(1),
                      PointerRef::weight(1), PointerRef::weight(2),
                      PointerRef::arena(128)};
  Launch gemm;
  gemm.kind = Launch::Kind::Gemm;
  gemm.gemm.a = PointerRef::arena(128);
  gemm.gemm.b = PointerRef::weight(0); // a tied head: the whole table
  gemm.gemm.c = PointerRef::arena(256);
  Launch plain;
  plain.kernel.name = "k3_softmax";
  plain.kernel.args = {PointerRef::arena(256), PointerRef::arena(512)};
  fn.launches = {gather, gemv, gemm, plain};
  EXPECT_EQ(weightBytesPerLaunch(m, fn),
            (std::vector<uint64_t>{2 * 32, 256 + 32, 3200, 0}));
  // Prefetch-only args (the last prefetchArgs) are not read by the launch:
  // neither its bytes nor the step's change, and a prefetch of a gathered
  // table does not make the table read whole.
  WeightTraffic before = weightTrafficPerStep(m, fn);
  fn.launches[3].kernel.args.push_back(PointerRef::weight(1));
  fn.launches[3].kernel.args.push_back(PointerRef::weight(0));
  fn.launches[3].kernel.prefetchArgs = 2;
  fn.launches[2].kind = Launch::Kind::Kernel; // drop the tied head
  fn.launches[2].kernel.name = "k2_add";
  fn.launches[2].kernel.args = {PointerRef::arena(128), PointerRef::arena(256)};
  EXPECT_EQ(weightBytesPerLaunch(m, fn),
            (std::vector<uint64_t>{2 * 32, 256 + 32, 0, 0}));
  WeightTraffic after = weightTrafficPerStep(m, fn);
  EXPECT_EQ(after.gatherOnly, 1);
  EXPECT_EQ(after.bytes, 2 * 32 + 256 + 32u);
  EXPECT_NE(before.bytes, after.bytes); // the tied head was read whole
  // A gemm whose B is a weight concatenation (`b_records 2`) reads both
  // records.
  Launch merged;
  merged.kind = Launch::Kind::Gemm;
  merged.gemm.a = PointerRef::arena(128);
  merged.gemm.b = PointerRef::weight(1);
  merged.gemm.bRecords = 2;
  merged.gemm.c = PointerRef::arena(256);
  fn.launches = {merged};
  EXPECT_EQ(weightBytesPerLaunch(m, fn), (std::vector<uint64_t>{256 + 32}));
  // Only `rows` says a table is read by rows: a kernel named for a gather
  // without it reads the whole table, and `rows` counts only its own args.
  Launch named;
  named.kernel.name = "k0_gather_cast";
  named.kernel.args = {PointerRef::weight(0), PointerRef::weight(2),
                       PointerRef::arena(0)};
  fn.launches = {named};
  EXPECT_EQ(weightBytesPerLaunch(m, fn), (std::vector<uint64_t>{3200 + 32}));
  fn.launches[0].kernel.rowArgs = {0};
  EXPECT_EQ(weightBytesPerLaunch(m, fn), (std::vector<uint64_t>{2 * 32 + 32}));
}

} // namespace
