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
kiln-artifact 4
arch sm_90a
arena_bytes 4096
weights_file weights.bin 1024 xxh64:80fd103205db55c9
kernels_file kernels.fatbin 100 xxh64:78ba8d72981abf53
ir_file scheduled.mlir 10 xxh64:cda6da4540462fc8
weight 0 w0 f32 8x16 0 512   # B of the gemm
weight 1 b f32 16 512 64
function main 2
input 0 x f32 4x8 0 128
output 0 y f32 4x16 512 256

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

std::vector<std::string> lines(const char *body = kBody) {
  std::vector<std::string> out;
  std::istringstream in(body);
  for (std::string l; std::getline(in, l);)
    out.push_back(l);
  return out;
}

/// `body` (kBody) with 1-based line `line` replaced by `text`, sealed.
std::string withLine(int line, const std::string &text,
                     const char *body = kBody) {
  std::vector<std::string> ls = lines(body);
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
  EXPECT_EQ(m.version, 4);
  EXPECT_FALSE(m.kvCache.present());
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
  ASSERT_EQ(m.functions.size(), 1u);
  const Function *f = m.findFunction("main");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->line, 10);
  EXPECT_FALSE(f->isStep());
  ASSERT_EQ(f->inputs.size(), 1u);
  EXPECT_EQ(f->inputs[0].name, "x");
  EXPECT_EQ(f->inputs[0].bytes, 128u);
  EXPECT_EQ(f->inputs[0].line, 11);
  EXPECT_TRUE(f->inputs[0].role.empty());
  ASSERT_EQ(f->outputs.size(), 1u);
  EXPECT_EQ(f->outputs[0].offset, 512u);
  EXPECT_EQ(f->inputWithRole("tokens"), nullptr);
  EXPECT_EQ(defaultFunction(m), f);
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

  EXPECT_EQ(defaultFunction(m), m.findFunction("main"));

  ASSERT_TRUE(parseManifest(withLine(11, "input 0 pos i64 scalar 0 8"), "m.txt",
                            m, error))
      << error;
  EXPECT_TRUE(m.functions[0].inputs[0].shape.empty());
}

/// The canonical spelling of kValid: no comments, no blank lines, single
/// spaces. formatManifest must write exactly this for what parseManifest read.
const std::string kCanonical =
    sealed("kiln-artifact 4\n"
           "arch sm_90a\n"
           "arena_bytes 4096\n"
           "weights_file weights.bin 1024 xxh64:80fd103205db55c9\n"
           "kernels_file kernels.fatbin 100 xxh64:78ba8d72981abf53\n"
           "ir_file scheduled.mlir 10 xxh64:cda6da4540462fc8\n"
           "weight 0 w0 f32 8x16 0 512\n"
           "weight 1 b f32 16 512 64\n"
           "function main 2\n"
           "input 0 x f32 4x8 0 128\n"
           "output 0 y f32 4x16 512 256\n"
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

TEST(Manifest, GemmDtypeRoundTripsAndSizesExtents) {
  // `dtype bf16` after the residual: 2-byte elements, so the residual range
  // that is 16 bytes short as f32 (see the ManifestError cases) fits.
  std::string record = "launch gemm 4 16 8 2 a:256 w:0 a:512 w:1 0 0 64 0 "
                       "residual a:3600 dtype bf16";
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(withLine(15, record), "m.txt", m, error)) << error;
  const GemmLaunch &g = m.findFunction("main")->launches[1].gemm;
  EXPECT_EQ(g.dtype, DType::BF16);
  std::string text = formatManifest(m);
  EXPECT_NE(text.find(record + "\n"), std::string::npos) << text;
  // f32 (the default) is not written.
  ASSERT_TRUE(parseManifest(kValid, "m.txt", m, error)) << error;
  EXPECT_EQ(m.findFunction("main")->launches[1].gemm.dtype, DType::F32);
  EXPECT_EQ(formatManifest(m).find("dtype"), std::string::npos);
}

TEST(Manifest, GemmEpilogueRoundTrips) {
  // `activation <act>` and `alpha <a>` after the other fields; alpha in the
  // fewest digits that read back as the same float.
  for (const char *tail :
       {" activation gelu_tanh", " activation relu alpha 0.25",
        " alpha -0.5", " residual a:512 activation relu alpha 0.1"}) {
    std::string record =
        std::string("launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0") + tail;
    Manifest m;
    std::string error;
    ASSERT_TRUE(parseManifest(withLine(15, record), "m.txt", m, error))
        << error;
    std::string text = formatManifest(m);
    EXPECT_NE(text.find(record + "\n"), std::string::npos) << text;
  }
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(
      withLine(15, "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 "
                   "alpha 0.1 activation gelu_tanh"),
      "m.txt", m, error))
      << error;
  const GemmLaunch &g = m.findFunction("main")->launches[1].gemm;
  EXPECT_EQ(g.activation, GemmActivation::GeluTanh);
  EXPECT_EQ(g.alpha, 0.1f);
  // Written in canonical order, alpha in the fewest digits that read back.
  EXPECT_NE(formatManifest(m).find(" 0 activation gelu_tanh alpha 0.1\n"),
            std::string::npos)
      << formatManifest(m);
  // `activation none` and `alpha 1` are the defaults, not written back.
  ASSERT_TRUE(parseManifest(
      withLine(15, "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 "
                   "activation none alpha 1"),
      "m.txt", m, error))
      << error;
  EXPECT_EQ(formatManifest(m).find("activation"), std::string::npos);
  EXPECT_EQ(formatManifest(m).find("alpha"), std::string::npos);
}

TEST(Manifest, PrefetchArgsRoundTrip) {
  // `prefetch <n>` after a kernel's args: its last n args are prefetch-only.
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(kValid, "m.txt", m, error)) << error;
  EXPECT_EQ(m.functions[0].launches[0].kernel.prefetchArgs, 0u);
  EXPECT_EQ(formatManifest(m).find(" prefetch "), std::string::npos);
  ASSERT_TRUE(parseManifest(
      withLine(14, "launch kernel k1 1 1 1 32 1 1 0 4 a:0 w:1 a:256 w:0 "
                   "prefetch 1"),
      "m.txt", m, error))
      << error;
  const KernelLaunch &k = m.functions[0].launches[0].kernel;
  EXPECT_EQ(k.args.size(), 4u);
  EXPECT_EQ(k.prefetchArgs, 1u);
  std::string text = formatManifest(m);
  EXPECT_NE(text.find("a:0 w:1 a:256 w:0 prefetch 1\n"), std::string::npos)
      << text;
  Manifest again;
  ASSERT_TRUE(parseManifest(text, "m2.txt", again, error)) << error;
  EXPECT_EQ(again.functions[0].launches[0].kernel.prefetchArgs, 1u);
  // More prefetch args than args, or a count that is not a number: an
  // error at the line.
  EXPECT_FALSE(parseManifest(
      withLine(14, "launch kernel k1 1 1 1 32 1 1 0 3 a:0 w:1 a:256 "
                   "prefetch 4"),
      "m.txt", m, error));
  EXPECT_NE(error.find("m.txt:14:"), std::string::npos) << error;
  EXPECT_NE(error.find("invalid prefetch argument count '4'"),
            std::string::npos)
      << error;
  EXPECT_FALSE(parseManifest(
      withLine(14, "launch kernel k1 1 1 1 32 1 1 0 3 a:0 w:1 a:256 "
                   "prefetch x"),
      "m.txt", m, error));
  EXPECT_NE(error.find("invalid prefetch argument count 'x'"),
            std::string::npos)
      << error;
}

TEST(Manifest, RowArgsRoundTrip) {
  // `rows <i>,<j>` after a kernel's args (before `prefetch`): the args it
  // reads only by rows.
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(kValid, "m.txt", m, error)) << error;
  EXPECT_TRUE(m.functions[0].launches[0].kernel.rowArgs.empty());
  EXPECT_EQ(formatManifest(m).find(" rows "), std::string::npos);
  ASSERT_TRUE(parseManifest(
      withLine(14, "launch kernel k1 1 1 1 32 1 1 0 4 w:1 a:0 w:0 a:256 "
                   "rows 0,2 prefetch 1"),
      "m.txt", m, error))
      << error;
  const KernelLaunch &k = m.functions[0].launches[0].kernel;
  EXPECT_EQ(k.args.size(), 4u);
  EXPECT_EQ(k.rowArgs, (std::vector<uint32_t>{0, 2}));
  EXPECT_EQ(k.prefetchArgs, 1u);
  std::string text = formatManifest(m);
  EXPECT_NE(text.find("w:1 a:0 w:0 a:256 rows 0,2 prefetch 1\n"),
            std::string::npos)
      << text;
  Manifest again;
  ASSERT_TRUE(parseManifest(text, "m2.txt", again, error)) << error;
  EXPECT_EQ(again.functions[0].launches[0].kernel.rowArgs,
            (std::vector<uint32_t>{0, 2}));
  // Without `prefetch` too.
  ASSERT_TRUE(parseManifest(
      withLine(14, "launch kernel k1 1 1 1 32 1 1 0 3 w:1 a:0 a:256 rows 0"),
      "m.txt", m, error))
      << error;
  EXPECT_EQ(m.functions[0].launches[0].kernel.rowArgs,
            (std::vector<uint32_t>{0}));
  // An index past the args, out of order, repeated, not a number, empty
  // or with a trailing comma: an error at the line that says what it takes.
  for (const char *bad : {"3", "2,0", "1,1", "x", "0,", ",0", "1234567"}) {
    EXPECT_FALSE(parseManifest(
        withLine(14, std::string("launch kernel k1 1 1 1 32 1 1 0 3 w:1 a:0 "
                                 "a:256 rows ") +
                         bad),
        "m.txt", m, error))
        << bad;
    EXPECT_NE(error.find("m.txt:14:"), std::string::npos) << error;
    EXPECT_NE(error.find("'rows' takes increasing argument indices below 3"),
              std::string::npos)
        << error;
  }
}

TEST(Manifest, DependentLaunchRecord) {
  // Optional, right after `arch`; written only when set.
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(kValid, "m.txt", m, error)) << error;
  EXPECT_FALSE(m.dependentLaunch);
  EXPECT_EQ(formatManifest(m).find("dependent_launch"), std::string::npos);
  ASSERT_TRUE(parseManifest(withLine(3, "arch sm_90a\ndependent_launch"),
                            "m.txt", m, error))
      << error;
  EXPECT_TRUE(m.dependentLaunch);
  std::string text = formatManifest(m);
  EXPECT_NE(text.find("arch sm_90a\ndependent_launch\narena_bytes 4096\n"),
            std::string::npos)
      << text;
  Manifest again;
  ASSERT_TRUE(parseManifest(text, "m2.txt", again, error)) << error;
  EXPECT_TRUE(again.dependentLaunch);
  // Anywhere else, or with an argument, it is an error at its line.
  EXPECT_FALSE(parseManifest(withLine(4, "arena_bytes 4096\ndependent_launch"),
                             "m.txt", m, error));
  EXPECT_NE(error.find("m.txt:5:"), std::string::npos) << error;
  EXPECT_FALSE(parseManifest(withLine(3, "arch sm_90a\ndependent_launch 1"),
                             "m.txt", m, error));
  EXPECT_NE(error.find("m.txt:4:"), std::string::npos) << error;
  EXPECT_NE(error.find("dependent_launch"), std::string::npos) << error;
}

TEST(Manifest, FormatMakesNamesTokens) {
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(kValid, "m.txt", m, error)) << error;
  m.functions[0].inputs[0].name = "past key\tvalues";
  m.functions[0].outputs[0].name = "";
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
                  "reads version 4)"},
        ErrorCase{2, "kiln-artifact 2", 2,
                  "unsupported artifact format version '2' (this runtime "
                  "reads version 4); the artifact was written by an older "
                  "kiln-compile: recompile the model"},
        ErrorCase{2, "kiln-artifact 3", 2,
                  "unsupported artifact format version '3' (this runtime "
                  "reads version 4); the artifact was written by an older "
                  "kiln-compile: recompile the model"},
        ErrorCase{2, "kiln-artifact 5", 2,
                  "unsupported artifact format version '5' (this runtime "
                  "reads version 4)"},
        ErrorCase{2, "kiln-artifact one", 2,
                  "unsupported artifact format version"},
        ErrorCase{2, "kiln-artifact 4 extra", 2, "needs 1 fields"},
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
        ErrorCase{11, "input 0 x f32 4x8 4000 128", 11,
                  "past arena_bytes 4096"},
        ErrorCase{11, "input 1 x f32 4x8 0 128", 11, "out of order"},
        ErrorCase{11, "input 0 x f32 4x8 64 128", 11,
                  "input 'x': arena offset 64 is not 256-byte aligned"},
        ErrorCase{11, "input 0 x f32 4x8 0 128 rol tokens", 11,
                  "unknown input field 'rol' (expected 'role <r>')"},
        ErrorCase{11, "input 0 x f32 4x8 0 128 role", 11, "needs 6 fields"},
        ErrorCase{12, "output 0 y f32 4x16 0 256", 12,
                  "output 'y' (arena [0, 256)) overlaps 'x' of line 11"},
        ErrorCase{12,
                  "output 0 y f32 4x16 512 256\noutput 1 z f32 4x16 512 256",
                  13, "output 'z' (arena [512, 768)) overlaps 'y' of line 12"},
        ErrorCase{12, "weight 2 c f32 16 768 64", 12,
                  "unknown or misplaced record 'weight'"},
        ErrorCase{11, "output 0 y f32 4x16 512 256\ninput 1 z f32 4x8 0 128",
                  12, "'input' record after 'output' or 'launch' records"},
        ErrorCase{13,
                  "output 1 z f32 4x8 1024 128\nlaunch kernel k1 1 1 1 32 "
                  "1 1 0 3 a:0 w:1 a:256\noutput 2 q f32 4 2048 16",
                  15, "'output' record after 'launch' records"},
        ErrorCase{12, "output 0 y f32 4x16 512 256\nstep 1 1", 13,
                  "'step' record must be the first record of function 'main'"},
        ErrorCase{10, "frobnicate 1", 10,
                  "unknown or misplaced record 'frobnicate'"},
        ErrorCase{10, "input 0 x f32 4x8 0 128", 10,
                  "'input' record outside a function"},
        ErrorCase{10, "function main", 10, "needs 2 fields"},
        ErrorCase{10, "function main 3", 16, "declares 3 launches but has 2"},
        ErrorCase{10, "function main 1", 15, "more launches than function"},
        ErrorCase{10, "function ma-in 2", 10, "invalid function name 'ma-in'"},
        ErrorCase{14, "launch kernel k1 1 1 1 32 1 1 0 3 a:0 w:1 k:0", 14,
                  "KV cache pointer 'k:0' but the manifest has no 'kv_cache' "
                  "record"},
        ErrorCase{11, "input 0 x f32 4x8 0 128 role tokens", 11,
                  "input 'x' (role tokens) must be an integer tensor, got "
                  "f32"},
        ErrorCase{12, "output 0 y f32 4x16 512 256 role logits", 12,
                  "output 'y' (role logits) must have rank 3, got 4x16"},
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
                  "expected 'step', 'input', 'output', 'launch' or "
                  "'end'"},
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
        // With b_records, B spans the records after its own (a weight
        // concatenation): they must exist, abut, and hold the extent.
        ErrorCase{15,
                  "launch gemm 4 16 16 1 a:256 w:0 a:512 - 0 0 0 0 b_records 2",
                  15,
                  "gemm operand B (w:0) needs 1024 bytes but only 576 are in "
                  "weight 'w0' and the 1 after it"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 w:1 a:512 - 0 0 0 0 b_records 2",
                  15, "gemm b_records 2 from weight 1 runs past the 2 weights"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 a:0 a:512 - 0 0 0 0 b_records 2",
                  15, "gemm b_records 2 needs B to be a weight (w:<id>)"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 w:0 a:512 - 0 0 0 0 b_records 0",
                  15, "gemm b_records must be at least 1"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 residual -",
                  15, "invalid pointer argument '-'"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 bias a:0",
                  15, "unknown gemm field 'bias'"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 residual",
                  15, "needs 13 fields"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 dtype f64",
                  15, "gemm dtype 'f64' is not supported (expected f32, bf16 or "
                      "f16)"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 dtype bf16 "
                  "dtype bf16",
                  15, "unknown gemm field 'dtype' (expected 'residual <R>', "
                      "'dtype <T>', 'activation <act>', 'alpha <a>' or "
                      "'b_records <n>', each at most once)"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 "
                  "activation swish",
                  15, "gemm activation 'swish' is not supported (expected "
                      "none, relu or gelu_tanh)"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 alpha 1e99",
                  15, "gemm alpha '1e99' is not a finite float"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 alpha 0.5x",
                  15, "gemm alpha '0.5x' is not a finite float"},
        ErrorCase{15,
                  "launch gemm 4 16 8 1 a:256 w:0 a:512 w:1 0 0 0 0 alpha 2 "
                  "alpha 2",
                  15, "unknown gemm field 'alpha'"},
        ErrorCase{16, "end now", 16, "needs 0 fields"},
        ErrorCase{0, cutAfter(15), 10, "function 'main' has no 'end'"},
        ErrorCase{0, cutAfter(9), 9, "no 'function' record"},
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
                  "'input' record outside a function (in format 3 inputs, "
                  "outputs and steps belong to a 'function' record)"},
        ErrorCase{0, sealed(cutAfter(16) + "weight 2 c f32 16 768 64\n"), 17,
                  "'weight' record after a 'function' record"}));

//===----------------------------------------------------------------------===//
// Format 3: the KV cache, step functions and roles
//===----------------------------------------------------------------------===//

// Two bucket functions over one KV cache: 2 layers x (key, value) x
// max_batch 2 x kv_heads 2 x max_seq 8 x head_dim 4 x f32 = 2048 bytes.
// decode_b2's records reuse decode_b1's arena bytes (functions never run at
// once).
const char *kKvBody = R"(kiln-artifact 4
arch sm_90a
arena_bytes 4096
kv_cache 2 2 4 2 8 f32 2048
weights_file weights.bin 1024 xxh64:80fd103205db55c9
kernels_file kernels.fatbin 100 xxh64:78ba8d72981abf53
ir_file scheduled.mlir 10 xxh64:cda6da4540462fc8
weight 0 w0 f32 8x16 0 512
weight 1 b f32 16 512 64
function decode_b1 2
step 1 1
input 0 ids i64 1x1 0 8 role tokens
input 1 pos i64 1 256 8 role kv_pos
input 2 mask i64 1x8 512 64 role mask
output 0 logits f32 1x1x16 768 64 role logits
launch kernel kv_append 1 1 1 32 1 1 0 3 a:0 k:0 k:1024
launch gemm 1 16 8 1 k:0 w:0 a:1024 w:1 0 0 0 0
end
function decode_b2 1
step 2 1
input 0 ids i64 2x1 0 16 role tokens
output 0 logits f32 2x1x16 256 128 role logits
launch kernel k2 1 1 1 32 1 1 0 2 a:0 k:512
end
)";

TEST(ManifestKv, ParsesAndRoundTrips) {
  std::string text = sealed(kKvBody);
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(text, "m.txt", m, error)) << error;
  // kKvBody is in the canonical spelling already.
  EXPECT_EQ(formatManifest(m), text);
  const KvCacheSpec &kv = m.kvCache;
  ASSERT_TRUE(kv.present());
  EXPECT_EQ(kv.layers, 2);
  EXPECT_EQ(kv.kvHeads, 2);
  EXPECT_EQ(kv.headDim, 4);
  EXPECT_EQ(kv.maxBatch, 2);
  EXPECT_EQ(kv.maxSeq, 8);
  EXPECT_EQ(kv.dtype, DType::F32);
  EXPECT_EQ(kv.bytes, 2048u);
  EXPECT_EQ(kv.expectedBytes(), 2048u);
  EXPECT_EQ(kv.line, 4);
  ASSERT_EQ(m.functions.size(), 2u);
  EXPECT_EQ(defaultFunction(m), nullptr);
  const Function &b1 = m.functions[0];
  EXPECT_TRUE(b1.isStep());
  EXPECT_EQ(b1.stepBatch, 1);
  EXPECT_EQ(b1.stepSeq, 1);
  EXPECT_EQ(b1.stepLine, 11);
  ASSERT_EQ(b1.inputs.size(), 3u);
  EXPECT_EQ(b1.inputWithRole("tokens"), &b1.inputs[0]);
  EXPECT_EQ(b1.inputWithRole("kv_pos"), &b1.inputs[1]);
  EXPECT_EQ(b1.inputWithRole("mask"), &b1.inputs[2]);
  EXPECT_EQ(b1.inputWithRole("positions"), nullptr);
  EXPECT_EQ(b1.inputWithRole("logits"), nullptr);
  EXPECT_EQ(b1.inputWithRole(""), nullptr);
  EXPECT_EQ(b1.outputWithRole("logits"), &b1.outputs[0]);
  const KernelLaunch &k = b1.launches[0].kernel;
  EXPECT_EQ(k.args[1].kind, PointerRef::Kind::Kv);
  EXPECT_EQ(k.args[2].value, 1024u);
  EXPECT_EQ(k.args[2].str(), "k:1024");
  EXPECT_EQ(b1.launches[1].gemm.a.kind, PointerRef::Kind::Kv);
  const Function &b2 = *m.findFunction("decode_b2");
  EXPECT_EQ(b2.stepBatch, 2);
  EXPECT_EQ(b2.inputs[0].offset, 0u);
  EXPECT_EQ(b2.outputs[0].role, "logits");

  // The writer builds the same text from the structures.
  Manifest built = m;
  for (Function &f : built.functions) {
    for (TensorSpec &t : f.inputs)
      t.line = 0;
    for (Launch &l : f.launches)
      l.line = 0;
  }
  EXPECT_EQ(formatManifest(built), text);
  Manifest again;
  ASSERT_TRUE(parseManifest(formatManifest(built), "m2.txt", again, error))
      << error;
  EXPECT_EQ(formatManifest(again), text);
}

TEST(ManifestKv, RolesWithoutStepAreNotShapeChecked) {
  // A role without a step record: dtype and rank only.
  std::string text = withLine(11, "input 0 x i64 4x8 0 256 role positions");
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(text, "m.txt", m, error)) << error;
  EXPECT_EQ(m.functions[0].inputWithRole("positions")->name, "x");
}

TEST(ManifestKv, BindsPerFunction) {
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(sealed(kKvBody), "m.txt", m, error)) << error;
  HostTensor ids;
  ids.name = "ids";
  ids.dtype = DType::I64;
  ids.shape = {2, 1};
  ids.bytes.assign(16, 7);
  std::vector<HostTensor> ordered;
  ASSERT_TRUE(bindInputs(*m.findFunction("decode_b2"), {ids}, ordered, error))
      << error;
  EXPECT_EQ(ordered[0].bytes[0], 7);
  EXPECT_FALSE(bindInputs(*m.findFunction("decode_b1"), {ids}, ordered, error));
  EXPECT_EQ(error.rfind("the model has 3 input(s) but 1 were given", 0), 0u)
      << error;
  // The format-2 overload needs one function or a main.
  EXPECT_FALSE(bindInputs(m, {ids}, ordered, error));
  EXPECT_EQ(error, "the artifact has 2 functions and none is 'main' "
                   "(functions: decode_b1 decode_b2); name the one to run");
}

class ManifestKvError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ManifestKvError, NamesFileLineAndCause) {
  const ErrorCase &c = GetParam();
  std::string text = withLine(c.line, c.text, kKvBody);
  Manifest m;
  std::string error;
  EXPECT_FALSE(parseManifest(text, "dir/manifest.txt", m, error));
  std::string prefix = "dir/manifest.txt:" + std::to_string(c.errorLine) + ": ";
  EXPECT_EQ(error.rfind(prefix, 0), 0u)
      << "error: " << error << "\nexpected prefix: " << prefix;
  EXPECT_NE(error.find(c.message), std::string::npos)
      << "error: " << error << "\nexpected to contain: " << c.message;
}

INSTANTIATE_TEST_SUITE_P(
    All, ManifestKvError,
    ::testing::Values(
        ErrorCase{16, "launch kernel kv_append 1 1 1 32 1 1 0 3 a:0 k:0 k:2048",
                  16,
                  "KV cache pointer 'k:2048' is past the kv_cache's 2048 "
                  "bytes"},
        ErrorCase{17, "launch gemm 1 16 8 1 k:2040 w:0 a:1024 w:1 0 0 0 0", 17,
                  "gemm operand A (k:2040) needs 32 bytes but only 8 remain "
                  "in the KV cache region"},
        ErrorCase{17, "launch gemm 1 16 8 1 a:0 w:0 k:0 w:1 0 0 0 0", 17,
                  "gemm output C must be in the arena"},
        ErrorCase{17,
                  "launch gemm 1 16 8 1 a:0 w:0 a:1024 w:1 0 0 0 0 "
                  "residual k:2000",
                  17, "gemm operand residual (k:2000) needs 64 bytes"},
        ErrorCase{16, "launch kernel kv_append 1 1 1 32 1 1 0 3 a:0 k:0 k:x",
                  16, "invalid pointer argument 'k:x'"},
        ErrorCase{4, "kv_cache 2 2 4 2 8 f32 4096", 4,
                  "kv_cache: 4096 bytes does not match layers 2 x 2 x "
                  "max_batch 2 x kv_heads 2 x max_seq 8 x head_dim 4 x f32 "
                  "(2048 bytes)"},
        ErrorCase{4, "kv_cache 2 2 4 0 8 f32 0", 4,
                  "kv_cache max_batch must be at least 1"},
        ErrorCase{4, "kv_cache 2 2 4 2 8 i64 4096", 4,
                  "kv_cache dtype 'i64' is not a float type"},
        ErrorCase{4, "kv_cache 2 2 4 2 8 f32", 4, "needs 7 fields"},
        ErrorCase{4, "kv_cache 2 2 4 2 8 f32 2048\nkv_cache 2 2 4 2 8 f32 2048",
                  5, "expected 'weights_file' record, got 'kv_cache'"},
        ErrorCase{12, "input 0 ids i64 1x1 0 8 role keys", 12,
                  "unknown input role 'keys' (expected tokens, positions, "
                  "mask or kv_pos)"},
        ErrorCase{15, "output 0 logits f32 1x1x16 768 64 role tokens", 15,
                  "unknown output role 'tokens' (expected logits)"},
        ErrorCase{13, "input 1 pos i64 1x1 256 8 role tokens", 13,
                  "function 'decode_b1' has two inputs with role tokens "
                  "('ids' of line 12 and 'pos')"},
        ErrorCase{12, "input 0 ids i64 1x2 0 16 role tokens", 12,
                  "input 'ids' (role tokens) is 1x2 but step 1 1 make it 1x1 "
                  "[batch, seq] (step of line 11)"},
        ErrorCase{14, "input 2 mask i64 1x7 512 56 role mask", 14,
                  "input 'mask' (role mask) is 1x7 but step 1 1 and max_seq 8 "
                  "make it 1x8 [batch, max_seq]"},
        ErrorCase{14, "input 2 mask f32 1x8 512 32 role mask", 14,
                  "must be an integer or bool tensor, got f32"},
        ErrorCase{13, "input 1 pos i32 1 256 4 role kv_pos", 13,
                  "input 'pos' (role kv_pos) must be i64 tensor, got i32"},
        ErrorCase{13, "input 1 pos i64 2 256 16 role kv_pos", 13,
                  "is 2 but step 1 1 make it 1 [batch]"},
        ErrorCase{15, "output 0 logits f32 2x1x8 768 64 role logits", 15,
                  "is 2x1x8 but step 1 1 make it 1x1x8 [batch, seq, vocab]"},
        ErrorCase{15, "output 0 logits f64 1x1x16 768 128 role logits", 15,
                  "must be f32 tensor, got f64"},
        ErrorCase{15, "output 0 logits f32 1x1x16 0 64 role logits", 15,
                  "output 'logits' (arena [0, 64)) overlaps 'ids' of line 12"},
        ErrorCase{11, "step 4 1", 11,
                  "step 4 1 does not fit the kv_cache of line 4 (max_batch "
                  "2, max_seq 8)"},
        ErrorCase{11, "step 1 0", 11, "must be at least 1"},
        ErrorCase{11, "step 1", 11, "needs 2 fields"},
        ErrorCase{20, "step 2 1\nstep 2 1", 21,
                  "'step' record must be the first record"},
        ErrorCase{22, "output 0 logits f32 2x1x16 256 128", 24,
                  "step function 'decode_b2' needs an input with role tokens "
                  "and an output with role logits"},
        ErrorCase{4, "# no kv_cache", 14,
                  "input 'mask' (role mask) needs the kv_cache record"}));

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
  write("manifest.txt", "kiln-artifact 4\narch sm_90\n\x01\x02garbage\n");
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

Manifest twoInputManifest() {
  Manifest m;
  std::string error;
  std::string text = withLine(11, "input 0 ids i64 1x4 0 32\n"
                                  "input 1 past_len i64 scalar 256 8");
  EXPECT_TRUE(parseManifest(text, "m", m, error)) << error;
  return m;
}

/// The function of twoInputManifest() (kept alive by a static).
const Function &twoInputs() {
  static const Manifest m = twoInputManifest();
  return m.functions.front();
}

TEST(BindInputs, ByNameInOrderAndMixed) {
  const Function &m = twoInputs();
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

TEST(BindInputs, ManifestOverloadBindsTheOnlyFunction) {
  Manifest m = twoInputManifest();
  std::vector<HostTensor> ordered;
  std::string error;
  ASSERT_TRUE(bindInputs(
      m,
      {tensor("past_len", {}, DType::I64), tensor("ids", {1, 4}, DType::I64)},
      ordered, error))
      << error;
  EXPECT_EQ(ordered[0].name, "ids");
}

TEST(BindInputs, Refusals) {
  const Function &m = twoInputs();
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
