//===- ArtifactTest.cpp - tests of the manifest parser and loader ---------===//
//
// A valid manifest parsed field by field, one test per refusal the format
// promises (each checked for its `file:line:` prefix and its message),
// truncation at every byte, loading artifact directories, and binding inputs.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Artifact.h"
#include "kiln/runtime/Hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace kiln::runtime;

namespace {

// The file hashes are those of the ArtifactDir files below (1024 bytes of
// 0x01, 100 of 0x02, "module {}\n"), computed with the reference xxHash
// implementation (python xxhash 3.x), not with the code under test.
const char *kBody = R"(# a test manifest
kiln-artifact 2
arch sm_90a
arena_bytes 4096
weights_file weights.bin 1024 xxh64:80fd103205db55c9
kernels_file kernels.fatbin 100 xxh64:78ba8d72981abf53
ir_file scheduled.mlir 10 xxh64:cda6da4540462fc8
weight 0 w0 f32 8x16 0 512   # B of the gemm
weight 1 b f32 16 512 64
input 0 x f32 4x8 0 128
output 0 y f32 4x16 512 256
function main 2

launch kernel k1 1 1 1 32 1 1 0 3 a:0 w:1 a:256
launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0
end
)";

/// `body` with a `checksum` record over it appended, as kiln-compile writes
/// it. (Xxh64 itself is checked against reference vectors below.)
std::string sealed(const std::string &body) {
  return body + "checksum " + formatHash(xxh64(body.data(), body.size())) +
         "\n";
}

const std::string kValid = sealed(kBody);

std::vector<std::string> lines() {
  std::vector<std::string> out;
  std::istringstream in(kBody);
  for (std::string l; std::getline(in, l);)
    out.push_back(l);
  return out;
}

/// kBody with 1-based line `line` replaced by `text`, sealed.
std::string withLine(int line, const std::string &text) {
  std::vector<std::string> ls = lines();
  ls[size_t(line - 1)] = text;
  std::string s;
  for (const std::string &l : ls)
    s += l + "\n";
  return sealed(s);
}

TEST(Manifest, ParsesValid) {
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(kValid, "m.txt", m, error)) << error;
  EXPECT_EQ(m.version, 2);
  EXPECT_EQ(m.arch, "sm_90a");
  EXPECT_EQ(m.arenaBytes, 4096u);
  EXPECT_EQ(m.weightsFile.name, "weights.bin");
  EXPECT_EQ(m.weightsFile.bytes, 1024u);
  EXPECT_EQ(m.weightsFile.hash, 0x80fd103205db55c9u);
  EXPECT_EQ(m.weightsFile.line, 5);
  EXPECT_EQ(m.kernelsFile.name, "kernels.fatbin");
  EXPECT_EQ(m.kernelsFile.bytes, 100u);
  EXPECT_EQ(m.irFile.name, "scheduled.mlir");
  EXPECT_EQ(m.irFile.bytes, 10u);
  EXPECT_EQ(m.irFile.hash, 0xcda6da4540462fc8u);
  ASSERT_EQ(m.weights.size(), 2u);
  EXPECT_EQ(m.weights[1].name, "b");
  EXPECT_EQ(m.weights[1].offset, 512u);
  EXPECT_EQ(m.weights[1].shape, (std::vector<int64_t>{16}));
  EXPECT_EQ(m.weights[1].line, 9);
  ASSERT_EQ(m.inputs.size(), 1u);
  EXPECT_EQ(m.inputs[0].name, "x");
  EXPECT_EQ(m.inputs[0].bytes, 128u);
  ASSERT_EQ(m.outputs.size(), 1u);
  EXPECT_EQ(m.outputs[0].offset, 512u);
  ASSERT_EQ(m.functions.size(), 1u);
  const Function *f = m.findFunction("main");
  ASSERT_TRUE(f);
  ASSERT_EQ(f->launches.size(), 2u);
  const Launch &k = f->launches[0];
  EXPECT_EQ(k.kind, Launch::Kind::Kernel);
  EXPECT_EQ(k.line, 14);
  EXPECT_EQ(k.kernel.name, "k1");
  EXPECT_EQ(k.kernel.block[0], 32u);
  ASSERT_EQ(k.kernel.args.size(), 3u);
  EXPECT_EQ(k.kernel.args[1].kind, PointerRef::Kind::Weight);
  EXPECT_EQ(k.kernel.args[1].value, 1u);
  EXPECT_EQ(k.kernel.args[2].str(), "a:256");
  const Launch &g = f->launches[1];
  EXPECT_EQ(g.kind, Launch::Kind::Gemm);
  EXPECT_EQ(g.gemm.m, 4);
  EXPECT_EQ(g.gemm.n, 16);
  EXPECT_EQ(g.gemm.k, 8);
  EXPECT_EQ(g.gemm.bias.str(), "w:1");
  EXPECT_EQ(g.gemm.residual.kind, PointerRef::Kind::None);
  EXPECT_FALSE(g.gemm.transB);
  EXPECT_EQ(g.label(), "gemm 4x16x8");
  EXPECT_EQ(m.findFunction("decode_b2"), nullptr);
}

TEST(Manifest, ScalarsBroadcastAndSeveralFunctions) {
  std::string text = sealed(std::string(kBody) +
                            "function decode_b2 1\n"
                            "launch gemm 2 16 8 3 a:0 w:0 a:1024 - 0 0 32 0\n"
                            "end\n");
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(text, "m.txt", m, error)) << error;
  ASSERT_EQ(m.functions.size(), 2u);
  const GemmLaunch &g = m.findFunction("decode_b2")->launches[0].gemm;
  EXPECT_EQ(g.batch, 3);
  EXPECT_EQ(g.strideA, 0);
  EXPECT_EQ(g.bias.kind, PointerRef::Kind::None);

  ASSERT_TRUE(parseManifest(withLine(10, "input 0 pos i64 scalar 0 8"), "m.txt",
                            m, error))
      << error;
  EXPECT_TRUE(m.inputs[0].shape.empty());
}

/// The canonical spelling of kValid: no comments, no blank lines, single
/// spaces. formatManifest must write exactly this for what parseManifest read.
const std::string kCanonical =
    sealed("kiln-artifact 2\n"
           "arch sm_90a\n"
           "arena_bytes 4096\n"
           "weights_file weights.bin 1024 xxh64:80fd103205db55c9\n"
           "kernels_file kernels.fatbin 100 xxh64:78ba8d72981abf53\n"
           "ir_file scheduled.mlir 10 xxh64:cda6da4540462fc8\n"
           "weight 0 w0 f32 8x16 0 512\n"
           "weight 1 b f32 16 512 64\n"
           "input 0 x f32 4x8 0 128\n"
           "output 0 y f32 4x16 512 256\n"
           "function main 2\n"
           "launch kernel k1 1 1 1 32 1 1 0 3 a:0 w:1 a:256\n"
           "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0\n"
           "end\n");

TEST(Manifest, FormatRoundTrips) {
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(kValid, "m.txt", m, error)) << error;
  EXPECT_EQ(formatManifest(m), kCanonical);
  Manifest again;
  ASSERT_TRUE(parseManifest(formatManifest(m), "m2.txt", again, error))
      << error;
  EXPECT_EQ(formatManifest(again), kCanonical);
}

TEST(Manifest, GemmResidualRoundTrips) {
  // The optional trailing `residual <R>`: here C itself (cuBLASLt's C == D,
  // the residual updated in place), then another arena range.
  for (const char *residual : {"a:512", "a:1024"}) {
    std::string record =
        std::string("launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 "
                    "residual ") +
        residual;
    Manifest m;
    std::string error;
    ASSERT_TRUE(parseManifest(withLine(15, record), "m.txt", m, error))
        << error;
    const GemmLaunch &g = m.findFunction("main")->launches[1].gemm;
    EXPECT_EQ(g.residual.kind, PointerRef::Kind::Arena);
    EXPECT_EQ(g.residual.str(), residual);
    std::string text = formatManifest(m);
    EXPECT_NE(text.find(record + "\n"), std::string::npos) << text;
    Manifest again;
    ASSERT_TRUE(parseManifest(text, "m2.txt", again, error)) << error;
    EXPECT_EQ(formatManifest(again), text);
  }
  // Without a residual the record is written as before (kCanonical).
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(kValid, "m.txt", m, error)) << error;
  EXPECT_EQ(formatManifest(m).find("residual"), std::string::npos);
}

TEST(Manifest, FormatMakesNamesTokens) {
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(kValid, "m.txt", m, error)) << error;
  m.inputs[0].name = "past key\tvalues";
  m.outputs[0].name = "";
  std::string text = formatManifest(m);
  EXPECT_NE(text.find("input 0 past_key_values f32"), std::string::npos);
  EXPECT_NE(text.find("output 0 _ f32"), std::string::npos);
  Manifest again;
  EXPECT_TRUE(parseManifest(text, "m.txt", again, error)) << error;
}

struct ErrorCase {
  int line;            ///< line to replace (0: use `text` as the manifest)
  std::string text;    ///< replacement line, or the whole manifest
  int errorLine;       ///< line the error must name
  std::string message; ///< substring the error must hold
};

class ManifestError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ManifestError, NamesFileLineAndCause) {
  const ErrorCase &c = GetParam();
  std::string text = c.line ? withLine(c.line, c.text) : c.text;
  Manifest m;
  std::string error;
  EXPECT_FALSE(parseManifest(text, "dir/manifest.txt", m, error));
  std::string prefix = "dir/manifest.txt:" + std::to_string(c.errorLine) + ": ";
  EXPECT_EQ(error.rfind(prefix, 0), 0u)
      << "error: " << error << "\nexpected prefix: " << prefix;
  EXPECT_NE(error.find(c.message), std::string::npos)
      << "error: " << error << "\nexpected to contain: " << c.message;
}

std::string valid() { return kValid; }
std::string cutAfter(int keep) {
  std::vector<std::string> ls = lines();
  std::string s;
  for (int i = 0; i < keep; ++i)
    s += ls[size_t(i)] + "\n";
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    All, ManifestError,
    ::testing::Values(
        ErrorCase{2, "kiln-artifact 1", 2,
                  "unsupported artifact format version '1' (this runtime "
                  "reads version 2)"},
        ErrorCase{2, "kiln-artifact one", 2,
                  "unsupported artifact format version"},
        ErrorCase{2, "kiln-artifact 2 extra", 2, "needs 1 fields"},
        ErrorCase{2, "hello 1", 2, "not a kiln artifact manifest"},
        ErrorCase{0, "", 1, "empty manifest"},
        ErrorCase{0, "# only a comment\n\n", 1, "empty manifest"},
        ErrorCase{3, "arch 90", 3, "invalid arch '90'"},
        ErrorCase{3, "arena_bytes 4096", 3, "expected 'arch' record"},
        ErrorCase{4, "arena_bytes -5", 4, "invalid arena size '-5'"},
        ErrorCase{4, "arena_bytes 99999999999999999999", 4,
                  "invalid arena size"},
        ErrorCase{4, "arena 5", 4, "expected 'arena_bytes' record"},
        ErrorCase{5, "weights_file ../w.bin 1024 xxh64:80fd103205db55c9", 5,
                  "must name a data file inside"},
        ErrorCase{5, "weights_file /etc/passwd 1024 xxh64:80fd103205db55c9", 5,
                  "must name a data file inside"},
        ErrorCase{5, "weights_file manifest.txt 1024 xxh64:80fd103205db55c9", 5,
                  "must name a data file inside"},
        ErrorCase{5, "weights_file weights.bin 1024", 5, "needs 3 fields"},
        ErrorCase{5, "weights_file weights.bin 1024 80fd103205db55c9", 5,
                  "invalid content hash '80fd103205db55c9'"},
        ErrorCase{5, "weights_file weights.bin 1024 xxh64:80FD103205DB55C9", 5,
                  "invalid content hash"},
        ErrorCase{5, "weights_file weights.bin 1024 xxh64:80fd103205db55c", 5,
                  "invalid content hash"},
        ErrorCase{7, "ir_file kernels.fatbin 10 xxh64:cda6da4540462fc8", 7,
                  "file 'kernels.fatbin' is recorded twice"},
        ErrorCase{7, "weight 0 w0 f32 8x16 0 512", 7,
                  "expected 'ir_file' record"},
        ErrorCase{5, "kernels_file kernels.fatbin 100", 5,
                  "expected 'weights_file' record"},
        ErrorCase{6, "kernels_file kernels.fatbin", 6, "needs 3 fields"},
        ErrorCase{8, "weight 1 w0 f32 8x16 0 512", 8, "out of order"},
        ErrorCase{8, "weight 0 w0 f31 8x16 0 512", 8, "unknown dtype 'f31'"},
        ErrorCase{8, "weight 0 w0 f32 8xx16 0 512", 8, "invalid shape '8xx16'"},
        ErrorCase{8, "weight 0 w0 f32 8x16x 0 512", 8, "invalid shape"},
        ErrorCase{8, "weight 0 w0 f32 8x16 0 500", 8,
                  "500 bytes does not match f32 8x16"},
        ErrorCase{8, "weight 0 w0 f32 8x16 128 512", 8, "not 256-byte aligned"},
        ErrorCase{8, "weight 0 w0 f32 8x16 0", 8, "needs 6 fields"},
        ErrorCase{9, "weight 1 b f32 16 1024 64", 9,
                  "past the end of weights.bin"},
        ErrorCase{10, "input 0 x f32 4x8 4000 128", 10,
                  "past arena_bytes 4096"},
        ErrorCase{10, "input 1 x f32 4x8 0 128", 10, "out of order"},
        ErrorCase{10, "input 0 x f32 4x8 64 128", 10,
                  "input 'x': arena offset 64 is not 256-byte aligned"},
        ErrorCase{11, "output 0 y f32 4x16 0 256", 11,
                  "output 'y' (arena [0, 256)) overlaps 'x' of line 10"},
        ErrorCase{11,
                  "output 0 y f32 4x16 512 256\noutput 1 z f32 4x16 512 256",
                  12, "output 'z' (arena [512, 768)) overlaps 'y' of line 11"},
        ErrorCase{11, "weight 2 c f32 16 768 64", 11, "'weight' record after"},
        ErrorCase{10, "output 0 y f32 4x16 512 256\ninput 1 z f32 4x8 0 128",
                  11, "'input' record after 'output'"},
        ErrorCase{10, "frobnicate 1", 10,
                  "unknown or misplaced record 'frobnicate'"},
        ErrorCase{12, "function main", 12, "needs 2 fields"},
        ErrorCase{12, "function main 3", 16, "declares 3 launches but has 2"},
        ErrorCase{12, "function main 1", 15, "more launches than function"},
        ErrorCase{12, "function ma-in 2", 12, "invalid function name 'ma-in'"},
        ErrorCase{14, "launch kernel k1 1 1 1 32 1 1 0 3 a:0 w:7 a:256", 14,
                  "unknown weight id in 'w:7' (2 weights)"},
        ErrorCase{14, "launch kernel k1 1 1 1 32 1 1 0 3 a:0 w:1 a:5000", 14,
                  "arena pointer 'a:5000' is past arena_bytes"},
        ErrorCase{14, "launch kernel k1 1 1 1 32 1 1 0 3 a:0 w:1 p:0", 14,
                  "invalid pointer argument 'p:0'"},
        ErrorCase{14, "launch kernel k1 1 1 1 32 1 1 0 3 a:0 w:1 -", 14,
                  "invalid pointer argument '-'"},
        ErrorCase{14, "launch kernel k1 1 1 1 32 1 1 0 2 a:0 w:1 a:256", 14,
                  "declares 2 arguments but lists 3"},
        ErrorCase{14, "launch kernel k1 1 1 1 2048 1 1 0 0", 14,
                  "invalid block dimension '2048'"},
        ErrorCase{14, "launch kernel k1 1 1 1 32 32 2 0 0", 14,
                  "more than 1024 threads per block"},
        ErrorCase{14, "launch kernel k1 0 1 1 32 1 1 0 0", 14, "at least 1"},
        ErrorCase{14, "launch kernel k1 1 70000 1 32 1 1 0 0", 14,
                  "invalid grid dimension '70000'"},
        ErrorCase{14, "launch kernel k1 1 1 1 32 1 1 300000 0", 14,
                  "invalid shared memory size"},
        ErrorCase{14, "launch kernel k-1 1 1 1 32 1 1 0 0", 14,
                  "invalid kernel name 'k-1'"},
        ErrorCase{14, "launch kernel k1 1 1 1", 14, "'launch kernel' needs"},
        ErrorCase{14, "launch conv 1 2 3", 14, "unknown launch kind 'conv'"},
        ErrorCase{14, "launch", 14, "needs a kind"},
        ErrorCase{14, "weight 2 c f32 16 768 64", 14,
                  "expected 'launch' or 'end'"},
        ErrorCase{15, "launch gemm 4 16 8 1 a:256 w:0 w:1 w:1 0 0 0 0", 15,
                  "gemm output C must be in the arena"},
        ErrorCase{15, "launch gemm 4 16 8 1 a:4000 w:0 a:512 w:1 0 0 0 0", 15,
                  "gemm operand A (a:4000) needs 128 bytes but only 96 remain "
                  "in the arena"},
        ErrorCase{15, "launch gemm 64 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0", 15,
                  "gemm operand C (a:512) needs 4096 bytes"},
        ErrorCase{15, "launch gemm 4 16 8 2 a:256 w:0 a:512 w:1 0 0 0 0", 15,
                  "makes batch items of C overlap"},
        ErrorCase{15, "launch gemm 4 16 8 2 a:256 w:0 a:512 w:1 0 1 64 0", 15,
                  "gemm operand B (w:0) needs 516 bytes but only 512 are in "
                  "weight 'w0'"},
        ErrorCase{15, "launch gemm 4 32 8 1 a:256 w:0 a:512 - 0 0 0 0", 15,
                  "gemm operand B (w:0) needs 1024 bytes"},
        ErrorCase{15, "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 2", 15,
                  "invalid transB '2'"},
        ErrorCase{15, "launch gemm 4 16 0 1 a:256 w:0 a:512 w:1 0 0 0 0", 15,
                  "must be at least 1"},
        ErrorCase{15, "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0", 15,
                  "needs 13 fields"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 residual "
                  "a:4000",
                  15,
                  "gemm operand residual (a:4000) needs 256 bytes but only 96 "
                  "remain in the arena"},
        ErrorCase{15,
                  "launch gemm 4 16 8 2 a:256 w:0 a:512 w:1 0 0 64 0 residual "
                  "a:3600",
                  15,
                  "gemm operand residual (a:3600) needs 512 bytes but only 496 "
                  "remain in the arena"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 residual -",
                  15, "invalid pointer argument '-'"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 bias a:0",
                  15, "unknown gemm field 'bias'"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 residual",
                  15, "needs 13 fields"},
        ErrorCase{16, "end now", 16, "needs 0 fields"},
        ErrorCase{0, cutAfter(15), 12, "function 'main' has no 'end'"},
        ErrorCase{0, cutAfter(11), 11, "no 'function' record"},
        ErrorCase{0, cutAfter(16), 16, "no 'checksum' record"},
        ErrorCase{0, cutAfter(16) + "checksum xxh64:0123456789abcdef\n", 17,
                  "does not match the recorded xxh64:0123456789abcdef (the "
                  "manifest was edited or corrupted)"},
        ErrorCase{0, cutAfter(16) + "checksum 12\n", 17,
                  "invalid checksum '12'"},
        ErrorCase{0, valid() + "end\n", 18,
                  "record 'end' after the 'checksum' record"},
        ErrorCase{0, sealed(valid()), 18,
                  "record 'checksum' after the 'checksum' record"},
        ErrorCase{0, sealed(cutAfter(16) + "function main 0\nend\n"), 17,
                  "duplicate function 'main'"},
        ErrorCase{0, sealed(cutAfter(16) + "input 1 q f32 4 0 16\n"), 17,
                  "unknown or misplaced record 'input'"}));

TEST(Manifest, BiasWithinWeightIsFine) {
  // A bias inside a larger weight is fine: it needs 64 bytes of w0's 512.
  Manifest m;
  std::string error;
  EXPECT_TRUE(parseManifest(
      withLine(15, "launch gemm 4 16 8 1 a:256 w:0 a:512 w:0 0 0 0 0"), "m", m,
      error))
      << error;
}

TEST(Manifest, NeverCrashesOnTruncation) {
  std::string text = kValid;
  for (size_t len = 0; len < text.size(); ++len) {
    Manifest m;
    std::string error;
    bool parsed = parseManifest(text.substr(0, len), "t", m, error);
    if (!parsed)
      EXPECT_EQ(error.rfind("t:", 0), 0u) << error;
  }
}

//===----------------------------------------------------------------------===//
// loadArtifact
//===----------------------------------------------------------------------===//

class ArtifactDir : public ::testing::Test {
protected:
  void SetUp() override {
    dir = ::testing::TempDir() + "kiln-art-" + std::to_string(getpid()) + "-" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name() +
          ".kiln";
    mkdir(dir.c_str(), 0777);
    write("manifest.txt", kValid);
    write("weights.bin", std::string(1024, '\1'));
    write("kernels.fatbin", std::string(100, '\2'));
    write("scheduled.mlir", "module {}\n");
  }
  void TearDown() override {
    for (const char *f :
         {"manifest.txt", "weights.bin", "kernels.fatbin", "scheduled.mlir"})
      std::remove((dir + "/" + f).c_str());
    rmdir(dir.c_str());
  }
  void write(const std::string &name, const std::string &bytes) {
    std::string error;
    ASSERT_TRUE(writeFileBytes(dir + "/" + name,
                               std::vector<uint8_t>(bytes.begin(), bytes.end()),
                               error))
        << error;
  }
  std::string dir;
};

TEST_F(ArtifactDir, Loads) {
  Artifact a;
  std::string error;
  ASSERT_TRUE(loadArtifact(dir, a, error)) << error;
  EXPECT_EQ(a.weights.size(), 1024u);
  EXPECT_EQ(a.fatbin.size(), 100u);
  EXPECT_EQ(a.where(13), dir + "/manifest.txt:13");
}

TEST_F(ArtifactDir, TruncatedWeights) {
  write("weights.bin", std::string(1000, '\1'));
  Artifact a;
  std::string error;
  EXPECT_FALSE(loadArtifact(dir, a, error));
  EXPECT_EQ(error, dir + "/manifest.txt:5: " + dir +
                       "/weights.bin has 1000 bytes but the manifest says "
                       "1024 (truncated or corrupt artifact)");
}

TEST_F(ArtifactDir, MissingFatbin) {
  std::remove((dir + "/kernels.fatbin").c_str());
  Artifact a;
  std::string error;
  EXPECT_FALSE(loadArtifact(dir, a, error));
  EXPECT_EQ(error, dir + "/manifest.txt:6: " + dir +
                       "/kernels.fatbin: cannot open file (missing or "
                       "unreadable artifact file)");
}

TEST_F(ArtifactDir, CorruptManifest) {
  write("manifest.txt", "kiln-artifact 2\narch sm_90\n\x01\x02garbage\n");
  Artifact a;
  std::string error;
  EXPECT_FALSE(loadArtifact(dir, a, error));
  EXPECT_EQ(error.rfind(dir + "/manifest.txt:3: expected 'arena_bytes'", 0), 0u)
      << error;
}

TEST_F(ArtifactDir, ValidatesWithoutReading) {
  Artifact a;
  std::string error;
  ASSERT_TRUE(loadArtifact(dir, a, error, /*readData=*/false)) << error;
  EXPECT_TRUE(a.weights.empty());
  EXPECT_TRUE(a.fatbin.empty());
  EXPECT_EQ(a.manifest.irFile.name, "scheduled.mlir");
}

TEST_F(ArtifactDir, FlippedByteSameSize) {
  std::string weights(1024, '\1');
  weights[700] = '\3';
  write("weights.bin", weights);
  for (bool readData : {true, false}) {
    Artifact a;
    std::string error;
    EXPECT_FALSE(loadArtifact(dir, a, error, readData));
    EXPECT_EQ(error, dir + "/manifest.txt:5: " + dir +
                         "/weights.bin has content hash " +
                         formatHash(xxh64(weights.data(), weights.size())) +
                         " but the manifest says xxh64:80fd103205db55c9 "
                         "(corrupt artifact)");
  }
}

TEST_F(ArtifactDir, ExtendedIr) {
  write("scheduled.mlir", "module {}\n// extra\n");
  Artifact a;
  std::string error;
  EXPECT_FALSE(loadArtifact(dir, a, error, /*readData=*/false));
  EXPECT_EQ(error, dir + "/manifest.txt:7: " + dir +
                       "/scheduled.mlir has 19 bytes but the manifest says 10 "
                       "(truncated or corrupt artifact)");
}

TEST_F(ArtifactDir, DataFileIsADirectory) {
  std::remove((dir + "/weights.bin").c_str());
  mkdir((dir + "/weights.bin").c_str(), 0777);
  for (bool readData : {true, false}) {
    Artifact a;
    std::string error;
    EXPECT_FALSE(loadArtifact(dir, a, error, readData));
    EXPECT_EQ(error, dir + "/manifest.txt:5: " + dir +
                         "/weights.bin: not a regular file (missing or "
                         "unreadable artifact file)");
  }
  rmdir((dir + "/weights.bin").c_str());
}

TEST_F(ArtifactDir, EditedManifest) {
  // One digit of the arena size changed, still a valid manifest otherwise.
  std::string text = kValid;
  text.replace(text.find("arena_bytes 4096"), 16, "arena_bytes 4097");
  write("manifest.txt", text);
  Artifact a;
  std::string error;
  EXPECT_FALSE(loadArtifact(dir, a, error));
  EXPECT_NE(error.find("manifest.txt:17: manifest checksum"), std::string::npos)
      << error;
}

//===----------------------------------------------------------------------===//
// Hash
//===----------------------------------------------------------------------===//

TEST(Hash, ReferenceVectors) {
  // From the reference implementation (python xxhash 3.x, XXH64 seed 0).
  std::string kiln9;
  for (int i = 0; i < 9; ++i)
    kiln9 += "kiln";
  std::string bytes256;
  for (int i = 0; i < 256; ++i)
    bytes256 += char(i);
  struct Vector {
    std::string data;
    uint64_t hash;
  } vectors[] = {{"", 0xef46db3751d8e999u},
                 {"a", 0xd24ec4f1a98c6e5bu},
                 {"abc", 0x44bc2cf5ad770999u},
                 {kiln9, 0x9cc3101486c4dc96u},
                 {bytes256.substr(0, 31), 0xc346d2b59b4d8ee1u},
                 {bytes256.substr(0, 32), 0xcbf59c5116ff32b4u},
                 {bytes256.substr(0, 33), 0x0c535d1acafb8eadu},
                 {bytes256 + bytes256 + bytes256, 0x8e03c838c596036fu}};
  for (const Vector &v : vectors) {
    EXPECT_EQ(xxh64(v.data.data(), v.data.size()), v.hash)
        << "length " << v.data.size();
    // Streaming in uneven pieces gives the same digest.
    Xxh64 state;
    for (size_t at = 0, step = 1; at < v.data.size(); at += step, step += 3)
      state.update(v.data.data() + at, std::min(step, v.data.size() - at));
    EXPECT_EQ(state.digest(), v.hash) << "streamed, length " << v.data.size();
  }
}

TEST(Hash, Spelling) {
  EXPECT_EQ(formatHash(0x0c535d1acafb8eadu), "xxh64:0c535d1acafb8ead");
  uint64_t h = 0;
  EXPECT_TRUE(parseHash("xxh64:0c535d1acafb8ead", h));
  EXPECT_EQ(h, 0x0c535d1acafb8eadu);
  for (const char *bad : {"", "xxh64:", "0c535d1acafb8ead", "xxh64:0c535d1a",
                          "xxh64:0c535d1acafb8eadd", "xxh64:0C535D1ACAFB8EAD",
                          "xxh64:0c535d1acafb8eaz", "sha1:0c535d1acafb8ead"})
    EXPECT_FALSE(parseHash(bad, h)) << bad;
}

TEST(Artifact, NotADirectory) {
  Artifact a;
  std::string error;
  EXPECT_FALSE(loadArtifact("/nonexistent.kiln", a, error));
  EXPECT_EQ(error, "/nonexistent.kiln: no such artifact directory");
  EXPECT_FALSE(loadArtifact("/etc/hostname", a, error));
  EXPECT_NE(error.find("not a directory"), std::string::npos);
  EXPECT_FALSE(loadArtifact("/", a, error));
  EXPECT_EQ(error, "//manifest.txt: cannot open file (not a kiln artifact "
                   "directory?)");
}

//===----------------------------------------------------------------------===//
// bindInputs
//===----------------------------------------------------------------------===//

HostTensor tensor(const std::string &name, std::vector<int64_t> shape,
                  DType dtype = DType::F32) {
  HostTensor t;
  t.name = name;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.assign(size_t(t.numElements() * dtypeByteWidth(dtype)),
                 uint8_t(name.empty() ? 0 : name[0]));
  return t;
}

Manifest twoInputs() {
  Manifest m;
  std::string error;
  std::string text = withLine(10, "input 0 ids i64 1x4 0 32\n"
                                  "input 1 past_len i64 scalar 256 8");
  EXPECT_TRUE(parseManifest(text, "m", m, error)) << error;
  return m;
}

TEST(BindInputs, ByNameInOrderAndMixed) {
  Manifest m = twoInputs();
  std::vector<HostTensor> ordered;
  std::string error;
  // By name, given in reverse order.
  ASSERT_TRUE(bindInputs(
      m,
      {tensor("past_len", {}, DType::I64), tensor("ids", {1, 4}, DType::I64)},
      ordered, error))
      << error;
  EXPECT_EQ(ordered[0].name, "ids");
  EXPECT_EQ(ordered[0].bytes[0], 'i');
  EXPECT_EQ(ordered[1].bytes[0], 'p');
  // Unnamed: in order.
  ASSERT_TRUE(bindInputs(
      m, {tensor("", {1, 4}, DType::I64), tensor("", {}, DType::I64)}, ordered,
      error))
      << error;
  EXPECT_EQ(ordered[1].name, "past_len");
  // Mixed: the named one takes its slot, the unnamed one the other.
  ASSERT_TRUE(bindInputs(
      m, {tensor("", {1, 4}, DType::I64), tensor("past_len", {}, DType::I64)},
      ordered, error))
      << error;
}

TEST(BindInputs, Refusals) {
  Manifest m = twoInputs();
  std::vector<HostTensor> ordered;
  std::string error;
  EXPECT_FALSE(
      bindInputs(m, {tensor("ids", {1, 4}, DType::I64)}, ordered, error));
  EXPECT_EQ(error.rfind("the model has 2 input(s) but 1 were given", 0), 0u)
      << error;
  EXPECT_FALSE(bindInputs(
      m, {tensor("ids", {1, 4}, DType::I64), tensor("pos", {}, DType::I64)},
      ordered, error));
  EXPECT_EQ(error, "input tensor 'pos' names no input of the model (inputs: "
                   "ids past_len)");
  EXPECT_FALSE(bindInputs(
      m,
      {tensor("ids", {1, 5}, DType::I64), tensor("past_len", {}, DType::I64)},
      ordered, error));
  EXPECT_EQ(error, "input 0 'ids': expected i64 1x4, got i64 1x5");
  EXPECT_FALSE(bindInputs(
      m,
      {tensor("ids", {1, 4}, DType::I32), tensor("past_len", {}, DType::I64)},
      ordered, error));
  EXPECT_EQ(error, "input 0 'ids': expected i64 1x4, got i32 1x4");
  EXPECT_FALSE(bindInputs(
      m, {tensor("ids", {1, 4}, DType::I64), tensor("ids", {1, 4}, DType::I64)},
      ordered, error));
  EXPECT_EQ(error, "two inputs are named 'ids'");
}

} // namespace
