//===- kiln-compile.cpp - ONNX or kiln IR to a kiln artifact --------------===//
//
// The compiler driver: reads an ONNX model (through the importer) or kiln IR
// text, runs kiln-compile-pipeline (passes/Pipeline.cpp: kiln-simplify,
// kiln-form-fusions with one op per kernel, kiln-plan-memory,
// kiln-verify-plan, kiln-schedule), and stops at the level --emit names:
// the graph-level IR, the fused-level IR, the scheduled IR, the CUDA source
// translated from it, or (default) the artifact directory of
// docs/artifact.md, compiled with nvcc. --memory-report writes what the
// planned function needs in memory as JSON (docs/memory-plan.md).
//
//===----------------------------------------------------------------------===//

#include "kiln/Codegen/Artifact.h"
#include "kiln/Codegen/CudaEmitter.h"
#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Driver/Driver.h"
#include "kiln/Transforms/LaunchConfig.h"
#include "kiln/Transforms/MemoryPlan.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {
enum class Emit { Graph, Fused, Scheduled, Cuda, Artifact };

cl::OptionCategory category("kiln-compile options");
cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                               cl::desc("<model.onnx | model.mlir>"),
                               cl::cat(category));
cl::opt<std::string> outputPath(
    "o", cl::value_desc("path"), cl::init("-"), cl::cat(category),
    cl::desc("Output: the artifact directory for --emit=artifact (required), "
             "else a file ('-' = stdout)"));
cl::list<std::string> binds(
    "bind", cl::value_desc("NAME=N"), cl::cat(category),
    cl::desc("Fix a symbolic ONNX dim (repeatable), e.g. --bind past_len=7"));
cl::opt<std::string> arch("arch", cl::init("sm_90a"), cl::cat(category),
                          cl::desc("GPU target: sm_80, sm_90a, ... (SASS for "
                                   "it plus PTX go into kernels.fatbin)"));
cl::opt<Emit> emit(
    "emit", cl::init(Emit::Artifact), cl::cat(category),
    cl::desc("Level to stop at"),
    cl::values(clEnumValN(Emit::Graph, "graph",
                          "print the graph-level IR after the graph passes "
                          "(kiln-opt --kiln-graph-pipeline)"),
               clEnumValN(Emit::Fused, "fused",
                          "print the fused-level IR: the graph level after "
                          "kiln-form-fusions (kiln-opt "
                          "--kiln-fused-pipeline)"),
               clEnumValN(Emit::Scheduled, "scheduled",
                          "print the scheduled IR: arena, views, kernels, "
                          "launches in a kiln.graph (kiln-opt "
                          "--kiln-compile-pipeline)"),
               clEnumValN(Emit::Scheduled, "mlir", "alias of scheduled"),
               clEnumValN(Emit::Cuda, "cuda",
                          "print the generated CUDA C++ (every function's "
                          "kernels; with --function, that function's)"),
               clEnumValN(Emit::Artifact, "artifact",
                          "write the artifact directory (default)")));
cl::opt<std::string> nvccPath("nvcc", cl::init(""), cl::cat(category),
                              cl::desc("nvcc to run (default: nvcc in PATH, "
                                       "then /usr/local/cuda/bin/nvcc)"));
cl::opt<std::string> kernelsDir(
    "kernels-dir", cl::init(KILN_KERNELS_DIR), cl::cat(category),
    cl::desc("Directory holding kiln_kernels.cuh"));
cl::opt<bool> noGemm("no-gemm", cl::init(false), cl::cat(category),
                     cl::desc("Lower matmul/linear to generated kernels "
                              "instead of cuBLASLt kiln.gemm calls (the "
                              "pipeline's library-calls=false)"));
cl::opt<bool> noGemv("no-gemv", cl::init(false), cl::cat(category),
                     cl::desc("Keep products of one row as cuBLASLt gemms "
                              "instead of kiln's GEMV kernel (the "
                              "pipeline's gemv=false; docs/codegen.md)"));
cl::opt<bool> mergeGemms(
    "merge-gemms", cl::init(true), cl::cat(category),
    cl::desc("Sibling gemms of more rows than a GEMV takes (gate/up at "
             "prefill or batch 32) as one cuBLASLt gemm on weights stored "
             "back to back (kiln-merge-gemms, docs/graph-optimisation.md); "
             "on by default, --merge-gemms=false keeps a gemm per product; "
             "off with --no-gemm or --no-gemv (asking for it explicitly "
             "beside either is an error)"));
cl::opt<bool> mergeQkvGemms(
    "merge-qkv-gemms", cl::init(true), cl::cat(category),
    cl::desc("With --merge-gemms, also merge the products that the "
             "exporters split into heads for the rotaries and the KV append "
             "(Llama-style q/k/v in decode steps of more rows than a GEMV "
             "takes, e.g. batch 32), whose kernels then read the merged "
             "result in place (kiln-merge-gemms head-split, "
             "docs/graph-optimisation.md); on by default where --merge-gemms "
             "is, =false keeps q/k/v apart; asking for it explicitly where "
             "--merge-gemms is off is an error"));
cl::opt<bool> mergeSmallLaunches(
    "merge-small-launches", cl::init(true), cl::cat(category),
    cl::desc("Merge small independent elementwise kernels of any shapes "
             "(a decode step's rotary table, mask and embedding row) into "
             "one launch with a loop per shape (kiln-merge-siblings "
             "independent, docs/codegen.md); on by default, =false keeps a "
             "launch each"));
cl::opt<int64_t> gemvSplitK(
    "gemv-split-k", cl::value_desc("0|1|2|4|8"), cl::init(0), cl::cat(category),
    cl::desc("Warps that share each output column of kiln's GEMV kernels, "
             "each over 1/N of the row (0, default: chosen per kernel from "
             "the row length, docs/codegen.md); sets the module attribute "
             "kiln.gemv_split_k"));
cl::opt<bool> gemvPreload(
    "gemv-preload", cl::init(kiln::kGemvPreloadDefault), cl::cat(category),
    cl::desc("kiln's one-row GEMV kernels load their first column's first "
             "tile of weights into registers before waiting for the launch "
             "before them (default: on; =false asks L2 for the rows "
             "instead, docs/codegen.md); given, sets the module attribute "
             "kiln.gemv_preload"));
cl::opt<bool> gemvMmaAhead(
    "gemv-mma-ahead", cl::init(false), cl::cat(category),
    cl::desc("kiln's tensor-core GEMV kernels (2 to 8 rows) issue each "
             "round's weight loads before the previous round's mma, two "
             "rounds in flight a warp (kiln::gemvMmaPartials' Ahead). "
             "Default: where a warp's slice of the row is two or more whole "
             "rounds (measured, docs/codegen.md); =true every one, "
             "=false none; given, sets "
             "the module attribute kiln.gemv_mma_ahead"));
cl::opt<bool> gemvMmaPreload(
    "gemv-mma-preload", cl::init(kiln::kGemvMmaPreloadDefault),
    cl::cat(category),
    cl::desc("kiln's tensor-core GEMV kernels (2 to 8 rows) load their "
             "first tile's first round of weights into registers before "
             "waiting for the launch before them, as the one-row kernels "
             "do (default: on, measured; =false asks L2 for the rows "
             "instead, docs/codegen.md); given, sets the module attribute "
             "kiln.gemv_mma_preload"));
cl::opt<int64_t> gemvMmaMinBlocks(
    "gemv-mma-min-blocks", cl::value_desc("N"), cl::init(0),
    cl::cat(category),
    cl::desc("Declare kiln's tensor-core GEMV kernels (2 to 8 rows) "
             "__launch_bounds__(256, N), N from 1 to 8, so ptxas keeps "
             "their registers to what N blocks an SM allow (0, default: no "
             "such bound; for measurement); sets the module attribute "
             "kiln.gemv_mma_min_blocks"));
cl::opt<int64_t> gemvMinBlocks(
    "gemv-min-blocks", cl::value_desc("N"), cl::init(0), cl::cat(category),
    cl::desc("Declare kiln's one-row GEMV kernels whose grid is at most N "
             "blocks on each of 132 SMs __launch_bounds__(256, N), N from 1 "
             "to 8, so the whole grid can be resident at once (0, default: "
             "no such bound; for measurement, docs/codegen.md); sets the "
             "module attribute kiln.gemv_min_blocks"));
cl::opt<int64_t> gemvWaveMinBlocks(
    "gemv-wave-min-blocks", cl::value_desc("N"), cl::init(0),
    cl::cat(category),
    cl::desc("Declare kiln's one-row GEMV kernels whose grid is more than N "
             "blocks on each of 132 SMs (those that run in waves, e.g. "
             "gate/up) __launch_bounds__(256, N), N from 1 to 8, so N blocks "
             "an SM keep their weight loads in flight (0, default: no such "
             "bound; for measurement, docs/codegen.md); sets the module "
             "attribute kiln.gemv_wave_min_blocks"));
cl::opt<int64_t> gemvStages(
    "gemv-stages", cl::value_desc("N"), cl::init(0), cl::cat(category),
    cl::desc("Stage every one-row GEMV kernel of kiln's through shared "
             "memory: each warp copies the weight rows of the column N ahead "
             "(cp.async) while it computes one, N from 1 to 8, and the grid "
             "is the blocks that fit on the SMs at once; 0 stages none "
             "(default, no flag: the rule, which stages a kernel that runs "
             "in waves and whose weights fit in shared memory at once, and "
             "at 2 slots one of more than 32 blocks an SM, such as an lm "
             "head; for measurement, docs/codegen.md); sets the module "
             "attribute "
             "kiln.gemv_stages"));
cl::opt<int64_t> gemvStagesMinGrid(
    "gemv-stages-min-grid", cl::value_desc("B"), cl::init(0),
    cl::cat(category),
    cl::desc("With --gemv-stages, stage only the one-row GEMV kernels whose "
             "grid without staging is more than B blocks, B at least 1 (0, "
             "default: every kernel --gemv-stages allows; for measurement, "
             "docs/codegen.md); sets the module attribute "
             "kiln.gemv_stages_min_grid"));
cl::opt<int64_t> kvAttentionHeads(
    "kv-attention-heads", cl::value_desc("N"), cl::init(0), cl::cat(category),
    cl::desc("Query heads a block of the decode attention in clusters (batch "
             "1, and more rows where the rule puts them there), 1 to 16, where N divides a kv head's query heads "
             "(0, default: the rule, the most that still make 128 blocks; "
             "for measurement, docs/codegen.md); sets the module attribute "
             "kiln.kv_attention_heads"));
cl::opt<int64_t> kvAttentionSplitHeads(
    "kv-attention-split-heads", cl::value_desc("N"), cl::init(0),
    cl::cat(category),
    cl::desc("Query heads a block of the split decode attention of more "
             "than one query row wherever it does not run in clusters, 1 to "
             "16, "
             "where N divides a kv head's query heads (0, default: all of "
             "them, or one at batch 1 without clusters; for measurement, "
             "docs/codegen.md); sets the module attribute "
             "kiln.kv_attention_split_heads"));
cl::opt<int64_t> kvAttentionMinBlocks(
    "kv-attention-min-blocks", cl::value_desc("N"), cl::init(0),
    cl::cat(category),
    cl::desc("Declare the split decode attention kernels __launch_bounds__("
             "32 W, N), N from 1 to 8, so ptxas keeps their registers to "
             "what N blocks an SM allow (0, default: no such bound; for "
             "measurement, docs/codegen.md); sets the module attribute "
             "kiln.kv_attention_min_blocks"));
cl::opt<int64_t> fuseKvAttentionMaxBatch(
    "fuse-kv-attention-max-batch", cl::value_desc("N"), cl::init(0),
    cl::cat(category),
    cl::desc("Batch rows up to which kiln-fuse-kv-attention merges a decode "
             "layer's rotaries, KV append and attention into one kernel, "
             "whether or not the attention runs in clusters (0, default: "
             "8, and more than one only where it does not run in clusters, "
             "from measurements, docs/kv-cache.md); sets the module "
             "attribute kiln.fuse_kv_attention_max_batch"));
cl::opt<bool> fuseRopeAppend(
    "fuse-rope-append", cl::init(kiln::kKvRopeAppendDefault),
    cl::cat(category),
    cl::desc("Where a decode layer's attention stays its own kernel (more "
             "batch rows than --fuse-kv-attention-max-batch, or a prefill "
             "step), merge its rotaries and KV append into one kernel "
             "(kiln-fuse-kv-attention, docs/graph-optimisation.md); on by "
             "default, =false keeps three kernels; given, sets the module "
             "attribute kiln.fuse_rope_append"));
cl::opt<int64_t> kvAttentionSteps(
    "kv-attention-steps", cl::value_desc("N"), cl::init(0), cl::cat(category),
    cl::desc("Key steps per warp of the split decode attention's 8-warp "
             "blocks wherever a step is not one query row in clusters (1 to "
             "16; 0, default: the rule from measurements, 3 where the "
             "step's groups are 34 to 132, else 2, docs/codegen.md); sets "
             "the module attribute "
             "kiln.kv_attention_steps"));
cl::opt<int64_t> kvAttentionClusterRows(
    "kv-attention-cluster-rows", cl::value_desc("N"), cl::init(0),
    cl::cat(category),
    cl::desc("Run the split decode attention of up to N query rows (batch x "
             "positions; 1 to 64) in clusters, the shape batch 1 takes, "
             "whatever the grid (0, default: the rule, one row, or more "
             "where the cluster grid is at most 132 blocks; for "
             "measurement, docs/codegen.md); sets the module attribute "
             "kiln.kv_attention_cluster_rows"));
cl::opt<bool> kvAttentionSplitMajor(
    "kv-attention-split-major", cl::init(kiln::kKvAttentionSplitMajorDefault),
    cl::cat(category),
    cl::desc("Number the blocks of the split decode attention without "
             "clusters split-major (every group's first chunk, then every "
             "group's second...) instead of a group's chunks together; "
             "bit-identical results (off by default; for measurement, "
             "docs/codegen.md); given, sets the module attribute "
             "kiln.kv_attention_split_major"));
cl::opt<int64_t> prefetchWeightsMb(
    "prefetch-weights-mb", cl::value_desc("N"), cl::init(0), cl::cat(category),
    cl::desc("After each launch that streams no weights (attention, small "
             "elementwise kernels), let the first launch that does ask L2 "
             "for up to N MiB of the weights the launches after it stream, "
             "before its wait for the launch before it, so DRAM streams "
             "while the quiet launch runs (kiln-prefetch-weights, "
             "docs/codegen.md; --prefetch-weights-at=quiet: the quiet "
             "launch asks instead, after its wait); 0 (default): none"));
enum class PrefetchAt { Next, Quiet };
cl::opt<PrefetchAt> prefetchWeightsAt(
    "prefetch-weights-at", cl::init(PrefetchAt::Next), cl::cat(category),
    cl::desc("Which launch asks L2 for the --prefetch-weights-mb weights "
             "(kiln-prefetch-weights at-quiet, docs/codegen.md)"),
    cl::values(clEnumValN(PrefetchAt::Next, "next",
                          "the first launch that streams weights after a "
                          "quiet one, before its wait, for the launches "
                          "after it (default)"),
               clEnumValN(PrefetchAt::Quiet, "quiet",
                          "the quiet launch itself, after its wait, for the "
                          "streaming launches after it")));
cl::opt<bool> kilnRemarks(
    "kiln-remarks", cl::init(false), cl::cat(category),
    cl::desc("Say, as remarks at the ops, where kiln-recognize left an "
             "almost-matching idiom unrewritten and why (e.g. a rotary whose "
             "cos/sin tables are inputs, an attention mask filled with a "
             "value above -1e30)"));
cl::opt<std::string> precision(
    "precision", cl::value_desc("auto|bf16|f16|f32"), cl::init("auto"),
    cl::cat(category),
    cl::desc("Storage type of float weights, activations and the KV cache "
             "(kernels accumulate in f32): bf16 or f16 convert an f32 model "
             "at compile time (kiln-lower-precision, docs/precision.md); "
             "auto (default) and f32 keep the model's own types"));
cl::opt<std::string> functionName("function", cl::init(""), cl::cat(category),
                                  cl::desc("Function to compile (default: the "
                                           "only one, or @main)"));
cl::opt<int64_t> maxSeqLen(
    "max-seq-len", cl::value_desc("N"), cl::init(0), cl::cat(category),
    cl::desc("Rewrite the model's past/present KV tensors into one persistent "
             "cache of N positions and compile one decode step function per "
             "batch bucket (docs/kv-cache.md); .onnx input only"));
cl::list<int64_t> batchBuckets(
    "batch-buckets", cl::value_desc("B,..."), cl::CommaSeparated,
    cl::cat(category),
    cl::desc("With --max-seq-len: the batch sizes to compile a decode step "
             "for (default 1); the cache has rows for the largest"));
cl::list<int64_t> prefillBuckets(
    "prefill-buckets", cl::value_desc("S,..."), cl::CommaSeparated,
    cl::cat(category),
    cl::desc("With --max-seq-len, for a model whose sequence dim is "
             "symbolic: also compile, per batch bucket, a prefill step of S "
             "new tokens per prompt-length bucket (prefill_b<B>_s<S>); "
             "kiln-run processes prompts through them"));
cl::opt<std::string> memoryReport(
    "memory-report", cl::value_desc("file"), cl::init(""), cl::cat(category),
    cl::desc("Write the planned function's memory needs as one JSON object "
             "to <file> ('-' = stdout, after any other output): "
             "weights_bytes, arena_bytes, arena_lower_bound_bytes, "
             "naive_bytes, kv_cache_bytes, total_bytes, ... "
             "(docs/memory-plan.md)"));
} // namespace

/// Writes `text` to `path` ('-' = stdout).
static int writeTo(StringRef path, StringRef text) {
  std::string error;
  auto out = openOutputFile(path, &error);
  if (!out) {
    llvm::errs() << "error: " << error << "\n";
    return 1;
  }
  out->os() << text;
  out->keep();
  return 0;
}

/// Writes `text` to outputPath ('-' = stdout).
static int writeOutput(StringRef text) { return writeTo(outputPath, text); }

/// The KV-cache build: one import per batch bucket (decode step of a full
/// cache, dims bound by role), each through the graph passes including
/// kiln-kv-cache, then all the step functions in one module with one cache
/// whose rows are the largest bucket's. The entry is the largest bucket.
static FailureOr<kiln::LoadedModel>
loadBuckets(MLIRContext &context, const kiln::ImportOptions &base) {
  auto fail = [](const Twine &msg) -> FailureOr<kiln::LoadedModel> {
    llvm::errs() << "kiln-compile: error: " << msg << "\n";
    return failure();
  };
  if (!StringRef(inputFile).ends_with(".onnx"))
    return fail("--max-seq-len applies to .onnx models (it chooses how the "
                "model is imported)");
  if (maxSeqLen < 2)
    return fail("--max-seq-len needs N >= 2");
  SmallVector<int64_t> buckets(batchBuckets.begin(), batchBuckets.end());
  if (buckets.empty())
    buckets.push_back(1);
  llvm::sort(buckets);
  if (buckets.front() < 1)
    return fail("--batch-buckets: every bucket must be >= 1");
  if (std::adjacent_find(buckets.begin(), buckets.end()) != buckets.end())
    return fail("--batch-buckets lists a bucket twice");

  if (!functionName.empty())
    return fail("--function does not apply with --max-seq-len (the step "
                "functions are named decode_b<B>)");

  SmallVector<int64_t> prefills(prefillBuckets.begin(), prefillBuckets.end());
  llvm::sort(prefills);
  if (std::adjacent_find(prefills.begin(), prefills.end()) != prefills.end())
    return fail("--prefill-buckets lists a bucket twice");
  if (!prefills.empty() && (prefills.front() < 2 || prefills.back() >= maxSeqLen))
    return fail("--prefill-buckets: every prompt-length bucket must be >= 2 "
                "(1 is the decode step) and below --max-seq-len " +
                Twine(maxSeqLen));
  // (batch, new tokens) of every step function; decode steps first.
  SmallVector<std::pair<int64_t, int64_t>> steps;
  for (int64_t batch : buckets)
    steps.push_back({batch, 1});
  for (int64_t batch : buckets)
    for (int64_t seq : prefills)
      steps.push_back({batch, seq});

  kiln::LoadedModel merged;
  func::FuncOp entry;
  for (auto [batch, seq] : steps) {
    kiln::ImportOptions options = base;
    options.kvStep = kiln::KvStepShape{batch, seq, maxSeqLen};
    options.functionName =
        seq == 1 ? "decode_b" + std::to_string(batch)
                 : "prefill_b" + std::to_string(batch) + "_s" +
                       std::to_string(seq);
    FailureOr<kiln::LoadedModel> one =
        kiln::loadModel(context, inputFile, options);
    if (failed(one))
      return failure();
    PassManager pm(&context);
    kiln::buildGraphPipeline(pm);
    if (failed(applyPassManagerCLOptions(pm)))
      return failure();
    applyDefaultTimingPassManagerCLOptions(pm);
    if (failed(pm.run(*one->module)))
      return failure();
    func::FuncOp func = one->entry;
    if (!func->hasAttr("kiln.step"))
      return fail("--max-seq-len: the KV-cache rewrite did not apply to " +
                  inputFile + " for " + options.functionName +
                  " (the remark above says why)");
    if (seq == 1)
      entry = func;
    if (!merged.module) {
      merged = std::move(*one);
      continue;
    }
    // Move the function in; the cache declarations must agree but for rows.
    auto cacheOf = [](ModuleOp m) { return *m.getOps<kiln::KvCacheOp>().begin(); };
    kiln::KvCacheOp mine = cacheOf(*merged.module), theirs = cacheOf(*one->module);
    if (mine.getLayers() != theirs.getLayers() ||
        mine.getKvHeads() != theirs.getKvHeads() ||
        mine.getHeadDim() != theirs.getHeadDim() ||
        mine.getMaxSeq() != theirs.getMaxSeq() ||
        mine.getElementType() != theirs.getElementType())
      return fail("bucket " + Twine(batch) +
                  " needs a different KV cache than the smaller buckets");
    mine.setMaxBatch(std::max(mine.getMaxBatch(), theirs.getMaxBatch()));
    func->moveBefore(merged.module->getBody(),
                     merged.module->getBody()->end());
  }
  merged.entry = entry; // the largest decode bucket
  return merged;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // MLIR's pass-manager and IR-printing flags (--mlir-print-ir-after-all,
  // --mlir-timing, ...) work here as in kiln-opt.
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  registerMLIRContextCLOptions();
  registerAsmPrinterCLOptions();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "kiln-compile: ONNX or kiln IR -> kiln artifact\n\n"
      "Runs kiln-compile-pipeline (kiln-simplify, kiln-form-fusions,\n"
      "kiln-plan-memory, kiln-verify-plan, kiln-schedule; `kiln-opt\n"
      "--kiln-compile-pipeline` runs the same): one kernel per op,\n"
      "matmul/linear as cuBLASLt kiln.gemm calls, reshapes and other views\n"
      "of contiguous data as aliases with no kernel, every buffer at a\n"
      "static arena offset and every launch in one kiln.graph. It then\n"
      "translates that scheduled IR to CUDA, compiles it with nvcc and\n"
      "writes the artifact directory (docs/artifact.md): manifest.txt,\n"
      "kernels.fatbin, kernels.cu, weights.bin, scheduled.mlir. Input that\n"
      "is already scheduled (has a kiln.graph or kiln.arena) is translated as is. MLIR's\n"
      "--mlir-print-ir-after-all, --mlir-timing and the other --mlir-* flags\n"
      "apply (--help-hidden).\n"
      "\n  kiln-compile model.onnx -o model.kiln --bind past_len=7 --arch "
      "sm_90a\n  kiln-compile model.mlir --emit=cuda\n"
      "  kiln-compile model.onnx --emit=scheduled -o /dev/null "
      "--memory-report=-\n");

  DialectRegistry registry;
  kiln::registerKilnDialects(registry);
  MLIRContext context(registry);
  kiln::DiagnosticPrinter diagnostics(context);

  kiln::ImportOptions importOptions;
  for (StringRef bind : binds)
    if (!kiln::addBind(importOptions, bind)) {
      llvm::errs() << "kiln-compile: error: --bind expects NAME=N with "
                      "N >= 0, got '"
                   << bind << "'\n";
      return 1;
    }
  if (!binds.empty() && !StringRef(inputFile).ends_with(".onnx"))
    llvm::errs() << "kiln-compile: warning: --bind only applies to .onnx "
                    "input\n";
  FailureOr<kiln::LoadedModel> model = failure();
  if (maxSeqLen.getNumOccurrences()) {
    model = loadBuckets(context, importOptions);
  } else {
    if (batchBuckets.getNumOccurrences() || prefillBuckets.getNumOccurrences()) {
      llvm::errs() << "kiln-compile: error: --"
                   << (batchBuckets.getNumOccurrences() ? "batch" : "prefill")
                   << "-buckets needs --max-seq-len\n";
      return 1;
    }
    model = kiln::loadModel(context, inputFile, importOptions, functionName);
  }
  if (failed(model))
    return 1;
  ModuleOp module = *model->module;
  func::FuncOp func = model->entry;

  // The one pipeline (passes/Pipeline.cpp), run in its stages so that
  // --emit can stop between them and the memory report can read the plan
  // before kiln-schedule turns it into views; --mlir-print-ir-after-all and
  // friends apply. Input already at the scheduled level (it has a
  // kiln.graph, e.g. an artifact's scheduled.mlir) goes straight to codegen.
  bool scheduled = false;
  module.walk([&](Operation *op) {
    scheduled = isa<kiln::GraphOp, kiln::ArenaOp>(op);
    return scheduled ? WalkResult::interrupt() : WalkResult::advance();
  });
  if (scheduled && (emit == Emit::Graph || emit == Emit::Fused ||
                    !memoryReport.empty())) {
    llvm::errs() << "kiln-compile: error: " << inputFile
                 << " is already at the scheduled level (it has a "
                    "kiln.graph or kiln.arena): only --emit=scheduled, cuda or artifact "
                    "apply, without --memory-report\n";
    return 1;
  }
  kiln::PipelineOptions pipelineOptions;
  pipelineOptions.libraryCalls = !noGemm;
  pipelineOptions.gemv = !noGemv;
  if (precision != "auto" && precision != "f32" && precision != "bf16" &&
      precision != "f16") {
    llvm::errs() << "kiln-compile: error: --precision=" << precision
                 << " is not one of auto, bf16, f16, f32\n";
    return 1;
  }
  pipelineOptions.precision = precision == "auto" ? std::string("f32") : precision.getValue();
  if (prefetchWeightsMb < 0) {
    llvm::errs() << "kiln-compile: error: --prefetch-weights-mb="
                 << prefetchWeightsMb << " must be at least 0\n";
    return 1;
  }
  pipelineOptions.prefetchMb = prefetchWeightsMb;
  if (prefetchWeightsAt.getNumOccurrences() && prefetchWeightsMb == 0) {
    llvm::errs() << "kiln-compile: error: --prefetch-weights-at needs "
                    "--prefetch-weights-mb=N with N > 0\n";
    return 1;
  }
  pipelineOptions.prefetchAtQuiet = prefetchWeightsAt == PrefetchAt::Quiet;
  pipelineOptions.remarks = kilnRemarks;
  if (mergeGemms && mergeGemms.getNumOccurrences() && (noGemm || noGemv)) {
    // kiln-merge-gemms runs after kiln-gemv, on the cuBLASLt gemms whose
    // weights kiln-gemv stores transposed ([N, K]).
    llvm::errs() << "kiln-compile: error: --merge-gemms needs the cuBLASLt "
                    "gemms and kiln-gemv; it cannot be combined with "
                 << (noGemm ? "--no-gemm" : "--no-gemv") << "\n";
    return 1;
  }
  pipelineOptions.mergeGemms = mergeGemms && !noGemm && !noGemv;
  if (mergeQkvGemms && mergeQkvGemms.getNumOccurrences() &&
      !pipelineOptions.mergeGemms) {
    llvm::errs() << "kiln-compile: error: --merge-qkv-gemms extends "
                    "--merge-gemms, which "
                 << (noGemm    ? "--no-gemm turns off"
                     : noGemv ? "--no-gemv turns off"
                              : "--merge-gemms=false turns off")
                 << "\n";
    return 1;
  }
  pipelineOptions.mergeQkvGemms = mergeQkvGemms && pipelineOptions.mergeGemms;
  pipelineOptions.mergeSmallLaunches = mergeSmallLaunches;
  // The measurement flags that become i64 module attributes, and the bool
  // flags that become module attributes only when given.
  auto setI64 = [&](StringRef attr, int64_t value) {
    module->setAttr(attr,
                    IntegerAttr::get(IntegerType::get(&context, 64), value));
  };
  auto setBoolIfGiven = [&](const cl::opt<bool> &flag, StringRef attr) {
    if (flag.getNumOccurrences())
      module->setAttr(attr, BoolAttr::get(&context, flag.getValue()));
  };
  if (gemvSplitK != 0) {
    if (!kiln::isValidGemvSplitK(gemvSplitK)) {
      llvm::errs() << "kiln-compile: error: --gemv-split-k=" << gemvSplitK
                   << " is not one of 0, 1, 2, 4, 8\n";
      return 1;
    }
    setI64(kiln::kGemvSplitKAttr, gemvSplitK);
  }
  setBoolIfGiven(gemvPreload, kiln::kGemvPreloadAttr);
  setBoolIfGiven(gemvMmaAhead, kiln::kGemvMmaAheadAttr);
  setBoolIfGiven(gemvMmaPreload, kiln::kGemvMmaPreloadAttr);
  // The measurement flags of a count: `least` to `most` where given; with
  // `least` 1, 0 means unset (the flag's default), while --gemv-stages=0
  // (least 0) is a value: none staged. The min-blocks ones and the stages
  // at most kiln::kGemvMinBlocksMax.
  constexpr int64_t kMax = kiln::kGemvMinBlocksMax;
  auto setCount = [&](const cl::opt<int64_t> &flag, StringRef attr,
                      int64_t least, int64_t most) {
    if (!flag.getNumOccurrences() || (least > 0 && flag == 0))
      return true;
    if (flag < least || flag > most) {
      llvm::errs() << "kiln-compile: error: --" << flag.ArgStr << "="
                   << flag.getValue() << " is not between " << least
                   << " and " << most << "\n";
      return false;
    }
    setI64(attr, flag);
    return true;
  };
  if (!setCount(gemvMmaMinBlocks, kiln::kGemvMmaMinBlocksAttr, 1, kMax) ||
      !setCount(gemvMinBlocks, kiln::kGemvMinBlocksAttr, 1, kMax) ||
      !setCount(gemvWaveMinBlocks, kiln::kGemvWaveMinBlocksAttr, 1, kMax) ||
      !setCount(gemvStages, kiln::kGemvStagesAttr, 0, kMax) ||
      !setCount(gemvStagesMinGrid, kiln::kGemvStagesMinGridAttr, 1, 65535) ||
      !setCount(kvAttentionMinBlocks, kiln::kKvAttentionMinBlocksAttr, 1,
                kMax))
    return 1;
  if (gemvStagesMinGrid != 0 && gemvStages == 0) {
    llvm::errs() << "kiln-compile: error: --gemv-stages-min-grid narrows "
                    "--gemv-stages=N, N from 1 to 8, which is not given\n";
    return 1;
  }
  if (fuseKvAttentionMaxBatch != 0) {
    if (fuseKvAttentionMaxBatch < 0) {
      llvm::errs() << "kiln-compile: error: --fuse-kv-attention-max-batch="
                   << fuseKvAttentionMaxBatch << " must be at least 0\n";
      return 1;
    }
    setI64(kiln::kFuseKvAttentionMaxBatchAttr, fuseKvAttentionMaxBatch);
  }
  setBoolIfGiven(fuseRopeAppend, kiln::kKvRopeAppendAttr);
  setBoolIfGiven(kvAttentionSplitMajor, kiln::kKvAttentionSplitMajorAttr);
  if (!setCount(kvAttentionHeads, kiln::kKvAttentionHeadsAttr, 1, 16) ||
      !setCount(kvAttentionSplitHeads, kiln::kKvAttentionSplitHeadsAttr, 1,
                16) ||
      !setCount(kvAttentionSteps, kiln::kKvAttentionStepsAttr, 1, 16) ||
      !setCount(kvAttentionClusterRows, kiln::kKvAttentionClusterRowsAttr, 1,
                64))
    return 1;
  auto runStage = [&](llvm::function_ref<void(OpPassManager &)> build) {
    PassManager pm(&context);
    build(pm);
    if (failed(applyPassManagerCLOptions(pm)))
      return false;
    // --mlir-timing: one report per stage run (each bucket's graph
    // pipeline, then the fused, planning and scheduling stages).
    applyDefaultTimingPassManagerCLOptions(pm);
    return succeeded(pm.run(module));
  };
  auto print = [&]() {
    std::string text;
    llvm::raw_string_ostream os(text);
    module.print(os);
    os << "\n"; // as kiln-opt prints it, so the two can be diffed
    return text;
  };
  if (!scheduled) {
    if ((emit == Emit::Graph || emit == Emit::Fused) && !memoryReport.empty()) {
      llvm::errs() << "kiln-compile: error: --memory-report needs a planned "
                      "function: use --emit=scheduled or later\n";
      return 1;
    }
    // --kiln-remarks here only: with --max-seq-len each bucket's function
    // went through the graph pipeline already, and this run sees them all
    // (a near miss is reported once per op and reason).
    if (!runStage([&](OpPassManager &pm) {
          kiln::buildGraphPipeline(pm, pipelineOptions);
        }))
      return 1;
    if (emit == Emit::Graph)
      return writeOutput(print());
    if (!runStage([&](OpPassManager &pm) {
          kiln::buildFusePipeline(pm, pipelineOptions);
        }))
      return 1;
    if (emit == Emit::Fused)
      return writeOutput(print());
    if (!runStage([](OpPassManager &pm) { kiln::buildPlanPipeline(pm); }))
      return 1;
  }

  // The report is computed from the plan, before kiln-schedule, and written
  // last, so that on stdout it follows everything else.
  std::optional<kiln::MemoryReport> report;
  if (!memoryReport.empty()) {
    FailureOr<kiln::MemoryReport> computed = kiln::computeMemoryReport(func);
    if (failed(computed))
      return 1;
    report = std::move(*computed);
    // Batch buckets share one arena: each one's plan, and the largest.
    auto funcs = llvm::to_vector(module.getOps<func::FuncOp>());
    if (funcs.size() > 1) {
      FailureOr<int64_t> weights = kiln::sharedWeightsBytes(module);
      if (failed(weights))
        return 1;
      report->weightsBytes = *weights;
    }
    if (funcs.size() > 1)
      for (func::FuncOp f : funcs) {
        FailureOr<kiln::MemoryReport> one = kiln::computeMemoryReport(f);
        if (failed(one))
          return 1;
        report->functionArenaBytes.push_back({one->function, one->arenaBytes});
        report->arenaBytes = std::max(report->arenaBytes, one->arenaBytes);
      }
  }
  auto finish = [&](int status) {
    if (status != 0 || !report)
      return status;
    std::string text;
    llvm::raw_string_ostream os(text);
    report->printJson(os);
    return writeTo(memoryReport, text);
  };
  if (!scheduled &&
      !runStage([&](OpPassManager &pm) {
        kiln::buildLowerPipeline(pm, pipelineOptions);
      }))
    return 1;
  if (emit == Emit::Scheduled)
    return finish(writeOutput(print()));

  FailureOr<kiln::codegen::EmittedFunction> emitted =
      kiln::codegen::emitFunction(func);
  if (failed(emitted))
    return 1;
  // The report's weights.bin size is derived from the IR on its own; it must
  // be the layout the emitter chose.
  if (report && report->weightsBytes != emitted->weightsBytes) {
    llvm::errs() << "kiln-compile: internal error: memory report says "
                 << report->weightsBytes << " bytes of weights, the emitter "
                 << emitted->weightsBytes << "\n";
    return 1;
  }
  if (emit == Emit::Cuda) {
    // --function: that function's kernels. Otherwise every function's, as
    // the artifact's kernels.cu holds them (the step functions of
    // --max-seq-len share kernels between them).
    if (!functionName.empty())
      return finish(writeOutput(emitted->source));
    FailureOr<kiln::codegen::EmittedModule> all =
        kiln::codegen::emitModule(module, func, &*emitted);
    if (failed(all))
      return 1;
    return finish(writeOutput(all->merged.source));
  }

  if (outputPath == "-") {
    llvm::errs() << "error: --emit=artifact needs -o DIR\n";
    return 1;
  }
  kiln::codegen::ArtifactOptions options;
  options.arch = arch;
  options.kernelsDir = kernelsDir;
  options.nvcc = nvccPath;
  if (options.nvcc.empty())
    options.nvcc = llvm::sys::findProgramByName("nvcc")
                       ? "nvcc"
                       : "/usr/local/cuda/bin/nvcc";
  // Weight paths from the importer are as it resolved them; those in .mlir
  // input are relative to the file's directory.
  options.weightBaseDir = model->weightDir.empty() ? "." : model->weightDir;
  if (failed(kiln::codegen::writeArtifact(module, func, *emitted, outputPath,
                                          options)))
    return 1;
  return finish(0);
}
