//===- LaunchConfig.h - grid and block of kiln's generated kernels -*- C++ -*-===//
//
// The launch shape kiln-schedule writes on every kiln.launch. Codegen reads
// it back from the IR (it does not choose its own): every generated kernel
// is a grid-stride loop (elementwise shapes) or a block-per-row loop
// (reductions, norms, softmax, attention), so it is correct for any grid,
// and a row kernel for any power-of-two block of 32..1024 threads.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TRANSFORMS_LAUNCHCONFIG_H
#define KILN_TRANSFORMS_LAUNCHCONFIG_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>

namespace kiln {

/// Threads per block of grid-stride (elementwise-shaped) kernels.
inline constexpr int64_t kElementwiseBlock = 256;

/// A 1-D launch: grid and block sizes and dynamic shared memory bytes.
struct LaunchDims {
  int64_t grid = 1;
  int64_t block = kElementwiseBlock;
  int64_t smem = 0;
};

/// The blocks of the split kiln.kv_attention kernel (kvAttentionSplitWith
/// in kiln_kernels.cuh) for one op: `warps` warps a block, each taking
/// `steps` steps of the keys one warp loads at once (32 lanes / the lanes of
/// a key's 16-byte pieces), so a block covers `chunk` = warps x steps x
/// keys a step cache slots, and the cache is `splits` chunks; a block
/// serves `heads` of the Hq / Hkv query heads of its kv head (`sets` =
/// Hq / Hkv / heads blocks per kv head and chunk). splits == 0 where the
/// split kernel does not apply. `cluster` (0 or splits): the blocks of a
/// group are one thread block cluster of that many blocks and merge there
/// (sm_90 and later; below, the kernel merges through global memory).
struct KvSplitShape {
  int64_t warps = 0, steps = 0, chunk = 0, splits = 0, heads = 0, sets = 0,
          cluster = 0;
  /// Blocks numbered split-major (block = split x groups + group) rather
  /// than group-major; never with a cluster (kKvAttentionSplitMajorAttr).
  bool splitMajor = false;
};
/// The split kernel's block for kiln.kv_attention `op`, or splits == 0 where
/// it does not apply and the kernel is one block per query row
/// (kvAttention). It applies when K and V have one head dim D of one
/// element type whose row is a power of two of 16-byte pieces up to 32,
/// the grid (groups x chunks) fits one grid dim, the partial results
/// (query rows x chunks x (2 + D) floats) fit 16 MiB and the block's
/// shared arrays 40 KB - so decode steps, not long prefills. The block
/// shape is chosen per shape from measurements (docs/codegen.md): where the
/// cache is 2 to 8 chunks of 8 warps x 4 steps, those blocks in clusters,
/// with the most query heads a block that still make 128 blocks over the
/// step's query rows (B x S), if the step has one row or that grid is at
/// most 132 blocks (kiln.kv_attention_cluster_rows replaces that test);
/// otherwise 8 warps of 2 steps (else 4
/// of 4, where the shared arrays do not fit), one query head a block where
/// the step has one row (a batch-1 decode step fills few SMs otherwise),
/// all of the kv head's otherwise. The CUDA
/// emitter (codegen/EmitTransformer.cpp) and chooseLaunchDims agree through
/// this function.
KvSplitShape kvAttentionSplitShape(mlir::Operation *op);
/// kvAttentionSplitShape(op).splits.
int64_t kvAttentionSplits(mlir::Operation *op);

/// Rows up to which a kiln.linear with a transposed f32 weight is a GEMV.
/// Set from measurements (bench/RESULTS.md, H200, Llama-1B shapes): at 1
/// row kiln::gemv beat cuBLASLt (step 1.663 -> 1.466 ms); at 8 rows the
/// CUDA-core kernel, which reads x again for every row, was far slower
/// (1.991 -> 3.608 ms).
constexpr int64_t kGemvMaxRows = 1;
/// Rows up to which a kiln.linear with a transposed bf16 or f16 weight is a
/// GEMV:
/// from 2 rows on, kiln::gemvMmaPartials puts each weight load through the
/// tensor cores once for every row (mma.m16n8k16 with x's rows as the 16-row
/// operand, so at most 8 rows; 16 would need a second product per load).
constexpr int64_t kGemvMmaMaxRows = 8;
/// Whether kiln.linear `op` runs as kiln's weight-streaming GEMV
/// (kiln::gemv: one warp per output column, 16-byte loads along K; at 2 to
/// 8 rows of bf16 or f16, tiles of 8 columns on the tensor cores): a
/// transposed [N, K] weight, at most kGemvMaxRows rows of f32 or
/// kGemvMmaMaxRows of bf16 or f16 (isGemvInput), and K a multiple of the 16-byte vector. The launch
/// config (256 threads; a warp per column, or gemvMmaSplit warps per tile)
/// and the CUDA emitter agree through this function.
bool isGemv(mlir::Operation *op);
/// Rows up to which kiln.matmul_nbits runs as kiln::matmulNBitsGemv (one
/// warp per output column, each packed weight piece loaded once for all
/// rows) instead of kiln::matmulNBits (one thread per output element, which
/// reads the weights once per row, a byte at a time): decode steps of up to
/// 8 rows, as for the performance issue's GEMV.
constexpr int64_t kNBitsGemvMaxRows = 8;
/// Rows up to which kiln.matmul_nbits products join kiln-gemv's GEMV
/// kernels (kiln::nbitsDots: siblings and epilogues; never a norm
/// prologue). Set from measurements (bench/RESULTS.md, session 14, H200,
/// Llama-1B shapes in int4 with bf16 activations, graph mode): with the
/// norm folded in, at 1 row the merged kernels took the step from 0.967 to
/// 0.895 ms, at 8 rows from 2.669 to 3.446 ms (a warp holds 8 rows of sums
/// and x for each of a group's products), so more rows keep
/// kiln::matmulNBitsGemv's kernels. The norm keeps its own kernel: the
/// folded norm is not rounded to the activation type where the norm's
/// kernel (and so the steps of more rows) rounds it, and a prompt's logits
/// alone and in a batch then differed by 2.68x the bf16 bound.
constexpr int64_t kNBitsGemvMergeMaxRows = 1;
/// Whether kiln.matmul_nbits `op` runs as kiln::matmulNBitsGemv: at most
/// kNBitsGemvMaxRows rows of an f32, f16 or bf16 input, and packed rows of
/// whole 16-byte pieces (K * bits / 8 a multiple of 16). The launch config
/// (one warp per column, 256 threads) and the CUDA emitter agree through
/// this function.
bool isNBitsGemv(mlir::Operation *op);
/// Output columns each warp of kiln::matmulNBitsGemv computes for packed
/// rows of `rowBytes` bytes: enough that a lane has about 4 16-byte pieces
/// in flight, at most 4. Measured on an H200 (bench/micro/nbits_gemv.cu,
/// bench/RESULTS.md): on Llama-1B's int4 projections 2 columns a warp is
/// best for the 1 KB rows of K = 2048 (lm head 84.0 -> 71.4 us, gate 9.4
/// -> 8.7 us; 4 and 8 are slower) and 1 for the 4 KB rows of K = 8192
/// (10.3 us; 2 columns 14.4). The launch config (N / (8 * columns) blocks
/// of 256) and the emitter's template argument agree through this
/// function.
int64_t nbitsGemvColumns(int64_t rowBytes);
/// The operand test of isGemv, for kiln-gemv to apply before it rewrites: an
/// input `x` ([..., K]) of f32 with at most kGemvMaxRows rows or of bf16 or
/// f16 with at most kGemvMmaMaxRows, K a multiple of the 16-byte vector.
bool isGemvInput(mlir::ShapedType x);

/// Output columns of one GEMV group of a GEMV kernel: the GEMV linears whose
/// results the group's elementwise epilogue combines (kiln.add of a
/// residual, SwiGLU's silu and mul, casts), all of one result shape
/// [rows..., columns]. Each warp of the kernel computes one column n of
/// every linear of the group (one weight row each) and then the epilogue
/// of element (m, n) for every row m.
struct GemvGroup {
  int64_t columns = 0;
  llvm::SmallVector<mlir::Operation *> linears;
  /// The body's yielded values this group computes (terminator operand
  /// indices), each of the group's result shape.
  llvm::SmallVector<unsigned> yields;
};
/// Bytes of shared memory a GEMV kernel's prologue may fill (rows x K):
/// a LayerNorm, or an RMSNorm that does not fold into the dots (foldedRms).
constexpr int64_t kGemvPrologueBytes = 32 * 1024;
/// Most blocks of a GEMV kernel with a prologue (each block normalises the
/// rows once, then loops over columns): 8 blocks of 256 threads on each of
/// an H100's or H200's 132 SMs, rounded down to a power of two, so the lm
/// head's 16032 column blocks do not each repeat the norm.
constexpr int64_t kGemvPrologueGrid = 1024;
/// A kernel body that codegen emits as one GEMV kernel (kiln-gemv's
/// fusions): every non-elementwise op but the prologue is a GEMV "linear"
/// - a kiln.linear (isGemv), or a kiln.matmul_nbits (isNBitsGemv, one row:
/// kNBitsGemvMergeMaxRows, and no prologue; all the kernel's linears then
/// are, of one bits, block size and kind of zero point) - whose input is
/// the same block argument or the prologue's result (at most
/// kGemvPrologueBytes where the prologue fills shared memory; a folded
/// RMSNorm, which does not, has no bound) and whose other operands are
/// block arguments, every elementwise op (the epilogue) depends on at least
/// one linear (or reads block arguments only and is read only by ops that
/// depend on linears of one group: a residual cast before the add), has
/// the result shape of the linears it depends on or broadcasts to it,
/// reads only those linears, other epilogue values and block arguments
/// that broadcast to that shape (a residual, a bias [N], a scalar), and
/// every yielded value depends on at least one linear. Linears that an
/// epilogue op combines form one group; the kernel's columns are the
/// groups' columns one after another.
struct GemvKernel {
  /// The row block every linear reads: a block argument, or the result of
  /// the prologue.
  mlir::Value input;
  /// A kiln.rms_norm or kiln.layer_norm over the last dim of a block
  /// argument whose result only the linears read (the norm before q/k/v or
  /// gate/up), or null: a few KB read again from L2 instead of a launch and
  /// a round trip through memory. How it is computed: see foldedRms.
  mlir::Operation *prologue = nullptr;
  /// The prologue is an RMSNorm whose scale is K contiguous values, folded
  /// into each warp's dots (kiln::GemvRmsX: dot(w, x * scale) *
  /// rsqrt(mean(x^2) + eps), no barrier; measured faster,
  /// bench/micro/gemv_prologue.cu). Otherwise every block normalises the
  /// rows into shared memory before its columns, and the grid is at most
  /// kGemvPrologueGrid blocks.
  bool foldedRms = false;
  /// The linears are kiln.matmul_nbits (isNBitsGemv), all of one bits,
  /// block size and kind of zero point (none, packed uint8, float), each
  /// warp one column of every linear of its group (kiln::nbitsDots), no
  /// split, no preload; one row only (kNBitsGemvMergeMaxRows) and no
  /// prologue; otherwise they are kiln.linear (isGemv). A kernel never
  /// mixes the two.
  bool nbits = false;
  int64_t rows = 0, k = 0;
  llvm::SmallVector<GemvGroup> groups;
  int64_t columns() const;
  /// Whether the kernel runs on the tensor cores (kiln::gemvMmaPartials: 2 to
  /// kGemvMmaMaxRows rows of bf16 or f16), a warp computing tiles of 8 columns of
  /// one group, rather than one column (kiln::gemvDots).
  bool mma() const { return rows > 1 && !nbits; }
  /// What one warp (one group of S warps, gemvSplitK) computes at a time,
  /// over the whole kernel: its columns, or with mma() each group's
  /// ceil(columns / 8) tiles.
  int64_t units() const;
};
/// Whether `op` is one of a GEMV kernel's products: a kiln.linear or a
/// kiln.matmul_nbits (analyzeGemvKernel says whether it qualifies).
bool isGemvProduct(mlir::Operation *op);
/// The weight operand of a GEMV kernel's product (the packed weight of a
/// kiln.matmul_nbits).
mlir::Value gemvProductWeight(mlir::Operation *op);
/// The GEMV kernel of `body` (a fusion's or kernel's block), or nullopt if
/// the body is not one (the conditions above).
std::optional<GemvKernel> analyzeGemvKernel(mlir::Block &body);

/// The module attribute that sets the split-K of every GEMV kernel
/// (kiln-compile --gemv-split-k): an i64 of 1, 2, 4 or 8. Without it the
/// split follows gemvSplitK's rule.
inline constexpr llvm::StringLiteral kGemvSplitKAttr = "kiln.gemv_split_k";
/// The module attribute (a bool; kiln-compile --gemv-preload) that says
/// whether kiln's one-row GEMV kernels load their first column's first
/// tile of weights into registers before their PDL wait
/// (kiln::gemvFirstTile) instead of asking L2 for the rows
/// (kiln::prefetchL2). Without it: kGemvPreloadDefault.
inline constexpr llvm::StringLiteral kGemvPreloadAttr = "kiln.gemv_preload";
inline constexpr bool kGemvPreloadDefault = true;
/// kGemvPreloadAttr of the module holding `op`, or the default.
bool gemvPreload(mlir::Operation *op);
/// The module attribute (a bool; kiln-compile --gemv-mma-preload) that says
/// whether kiln's tensor-core GEMV kernels (2 to 8 rows) load their first
/// tile's first round of weights into registers before their PDL wait
/// (kiln::gemvMmaFirstRound) instead of asking L2 for the rows
/// (kiln::prefetchL2Rows). Without it: kGemvMmaPreloadDefault, on since
/// session 24 (H200, bf16, batch 8 graph steps, each beside the kernels
/// without it in one run; bench/RESULTS.md): Llama-1B 1.2313 / 1.2291 ->
/// 1.1394 / 1.1414 ms, Qwen2.5-0.5B 0.9539 / 0.9533 -> 0.9475 / 0.9459.
inline constexpr llvm::StringLiteral kGemvMmaPreloadAttr =
    "kiln.gemv_mma_preload";
inline constexpr bool kGemvMmaPreloadDefault = true;
/// kGemvMmaPreloadAttr of the module holding `op`, or the default.
bool gemvMmaPreload(mlir::Operation *op);
/// The module attribute (a bool; kiln-compile --gemv-mma-ahead[=false])
/// that replaces gemvMmaAheadRule for every tensor-core GEMV kernel (2 to 8
/// rows) of the module: true, each takes kiln::gemvMmaPartials' Ahead (the
/// next round's weight loads issued before this round's mma); false, none
/// does.
inline constexpr llvm::StringLiteral kGemvMmaAheadAttr = "kiln.gemv_mma_ahead";
/// Whether a tensor-core GEMV of `l` weights over rows of `k` elements,
/// `split` warps a tile, takes Ahead without the attribute: where each
/// warp's slice is two or more whole rounds (Tile steps of 32 elements,
/// gemvTile(l)). Set from measurements (bench/RESULTS.md, session 17, H200,
/// bf16, batch 8, graph mode): Llama-1B's down (K = 8192, S = 8: 4 whole
/// rounds) 14.17 -> 13.09 us alone, the step 1.3075 -> 1.2733 ms with every
/// tensor-core kernel taking Ahead; Qwen2.5-0.5B's step, whose only
/// product of more than one round is down (K = 4864, S = 8: 2 rounds and 3
/// steps), 0.964 -> 0.979 ms with it. A slice of one round is the same
/// kernel either way (nothing to load ahead).
bool gemvMmaAheadRule(int64_t k, int64_t l, int64_t split);
/// kGemvMmaAheadAttr of the module holding `op`, or gemvMmaAheadRule.
bool gemvMmaAhead(mlir::Operation *op, int64_t k, int64_t l, int64_t split);
/// The module attribute (an i64 from 1 to 8; kiln-compile
/// --gemv-mma-min-blocks, for measurement) that declares kiln's tensor-core
/// GEMV kernels `__launch_bounds__(256, N)`, so ptxas keeps their registers
/// to what N blocks an SM allow (session 16's profile: Llama-1B's batch-8
/// gate/up at 70 registers, 3 blocks an SM, 2.59 waves). Without it: no
/// such bound.
inline constexpr llvm::StringLiteral kGemvMmaMinBlocksAttr =
    "kiln.gemv_mma_min_blocks";
/// kGemvMmaMinBlocksAttr of the module holding `op`, or 0.
int64_t gemvMmaMinBlocks(mlir::Operation *op);
/// The largest kGemvMmaMinBlocksAttr (and kGemvMinBlocksAttr,
/// kGemvWaveMinBlocksAttr, kKvAttentionMinBlocksAttr, kGemvStagesAttr)
/// value: 8 blocks of 256 threads fill an SM.
inline constexpr int64_t kGemvMinBlocksMax = 8;
/// SMs of the GPUs kiln's launch rules are measured on (an H100 SXM's or an
/// H200's 132).
constexpr int64_t kTargetSms = 132;

/// The largest yielded value (in elements) of a fusion that
/// kiln-merge-siblings' independent rule merges with another: one wave of
/// the target GPU's threads (kTargetSms x 2048), so each part of the merged
/// kernel is a launch whose time is its latency, not its bandwidth. A
/// decode step's rotary table, mask and embedding row are far below it at
/// every batch bucket (Llama-1B at batch 32: 65536 elements).
inline constexpr int64_t kMergeIndependentMaxElements = kTargetSms * 2048;

/// The module attribute (an i64 from 1 to 8; kiln-compile
/// --gemv-min-blocks, for measurement) that declares each one-row GEMV
/// kernel (kiln-gemv's CUDA-core kernels of 16-bit or f32 weights, not the
/// int4 ones) whose grid (chooseFusedLaunchDims) is at most N x kTargetSms
/// blocks `__launch_bounds__(256, N)`: ptxas then
/// keeps its registers to N blocks an SM, so the whole grid can be resident
/// at once and every block loads its first tile of weights before the PDL
/// wait (session 17's trace: Llama-1B's batch-1 q/k/v, 768 blocks at 46
/// registers, 5 blocks an SM, adds 5.7-7.2 us a layer against a 3.0 us
/// floor; its o, 512 blocks in one wave, 2.3-2.6 against 2.0). Kernels of
/// larger grids are unchanged. Without it: no such bound.
inline constexpr llvm::StringLiteral kGemvMinBlocksAttr =
    "kiln.gemv_min_blocks";
/// The module attribute (an i64 from 1 to 8; kiln-compile
/// --gemv-wave-min-blocks, for measurement) that declares each one-row GEMV
/// kernel that kGemvMinBlocksAttr's rule leaves out, those whose grid is
/// more than N x kTargetSms blocks and so runs in waves (Llama-1B's gate/up
/// at batch 1: 2048 blocks, 98 registers, 2 blocks an SM),
/// `__launch_bounds__(256, N)`, so N blocks an SM keep N x 8 warps' weight
/// loads in flight. Without it: no such bound.
inline constexpr llvm::StringLiteral kGemvWaveMinBlocksAttr =
    "kiln.gemv_wave_min_blocks";
/// The __launch_bounds__ minimum of the one-row GEMV kernel of body `body`:
/// kGemvMinBlocksAttr's N where the grid is at most N x kTargetSms, else
/// kGemvWaveMinBlocksAttr's N where the grid is more than N x kTargetSms,
/// else 0 (the grid computed only where either attribute is set).
int64_t gemvBodyMinBlocks(mlir::Block &body);
/// Whether `v` is a valid kGemvSplitKAttr value.
bool isValidGemvSplitK(int64_t v);
/// The warps that share each output column of GEMV kernel `kernel`
/// (kiln::gemvSplitDots: each takes 1/S of K and the block adds the
/// partials): the module's kGemvSplitKAttr where `op` (any op inside the
/// kernel) has one, else the fewest S that leave each warp one tile of
/// loads per row (a row of K elements over the warp's 32 lanes x 16 bytes
/// x the kernel's tile: 4 KB a round for one or two rows a column), at
/// most 8; with the preload (gemvPreload), at least 2 where a row is a
/// round or more and a column has two or more weights (gate/up on a 4 KB
/// row: the preloaded tile took the warp to 172 registers, one block an
/// SM; session 10: Llama-1B 0.933 -> 0.864 ms; a one-weight row of one
/// round keeps 1 since session 17: Llama-1B 0.8653 -> 0.8578 ms), and
/// half as many where
/// that rule gives more than 2 and each slice is exactly one round, so
/// each warp streams two whole rounds (session 12: Llama-1B's down, 16 KB
/// rows, at 2 rather than 4; 0.890 -> 0.865 ms). Fitted to the Llama-1B,
/// Qwen2.5-0.5B and Llama-3-8B shapes measured (passes/LaunchConfig.cpp
/// says which configurations lost). Halved until S x 16 bytes divides a
/// row.
/// Measured
/// (bench/RESULTS.md, session 7, H200, bf16): S = 4 on the down projection
/// took Llama-1B's step from 1.057 to 1.012 ms and Qwen2.5-0.5B's from
/// 0.720 to 0.651; S = 2 or 4 on every kernel (rows of one round too) was
/// slower on Qwen (0.725, 0.785). The block is 8 warps,
/// so 8 / S columns a block. The CUDA emitter and chooseFusedLaunchDims
/// agree through this function (the grid is a grid-stride loop over
/// columns, correct for any size; S is fixed by the emitted code).
/// With kernel.mma() a warp's share is its 8 rows of a tile, each over 4
/// lanes x 16 bytes a step: the rule is gemvMmaSplit's (the fewest S making
/// a slice one tile of steps, 512 bytes of each row for one or two
/// weights), halved until 32 x S elements divide a row.
int64_t gemvSplitK(const GemvKernel &kernel, mlir::Operation *op);
/// The module attribute (an i64 from 0 to 8; kiln-compile --gemv-stages,
/// for measurement) that stages every one-row GEMV kernel (kiln-gemv's
/// CUDA-core kernels of 16-bit or f32 weights whose prologue, if any, is
/// folded: gemvStages) through shared memory: each warp a ring of N
/// slots, one a column, the column N ahead copied in (cp.async) while it
/// computes one (kiln::gemvStageRows), and the grid only the blocks that
/// fit on kTargetSms SMs at once, each looping over its columns. 0 stages
/// none. Without it: the rule, gemvStagesRule.
inline constexpr llvm::StringLiteral kGemvStagesAttr = "kiln.gemv_stages";
/// The module attribute (an i64 of at least 1; kiln-compile
/// --gemv-stages-min-grid, for measurement) that narrows kGemvStagesAttr to
/// the kernels whose grid without staging is more than that many blocks
/// (those that run in waves rather than all resident at once). Without it:
/// every kernel kGemvStagesAttr allows.
inline constexpr llvm::StringLiteral kGemvStagesMinGridAttr =
    "kiln.gemv_stages_min_grid";
/// Shared memory an SM of kTargetSms has for blocks (228 KB on an H100 or
/// H200), what the driver keeps of it per block, and the most one block may
/// take (227 KB).
constexpr int64_t kSmemPerSm = 233472, kSmemPerBlockReserved = 1024,
                  kSmemPerBlockMax = 232448;
/// The slots of each warp's ring in GEMV kernel `kernel` (`op` inside it):
/// the module's kGemvStagesAttr, lowered until the block's slots
/// (gemvStageBytes) fit in kSmemPerBlockMax less 1 KB (the static
/// partials), or without the attribute gemvStagesRule's; 0 where the
/// kernel is not staged (the attribute 0, or the rule's 0 without it;
/// more than one row; int4 weights; a prologue normalised into shared
/// memory; a grid without staging of at most kGemvStagesMinGridAttr
/// blocks).
int64_t gemvStages(const GemvKernel &kernel, mlir::Operation *op);
/// The staging rule (no kGemvStagesAttr): a one-row GEMV kernel whose grid
/// unstaged is more than kGemvStagedRuleMinGrid blocks (more than 4 an SM:
/// it runs in waves, and only the first wave's rows are loaded before the
/// PDL wait) and whose weights all fit in the SMs' shared memory at once
/// is staged, at the fewest slots a warp that hold every column the warp
/// takes: the whole weight is asked for in one round, none of it behind a
/// block that waits for another to leave.
/// Measured (H200, bench/RESULTS.md session 20, b1 graph steps, each
/// beside the default in one run): Qwen2.5-0.5B's gate/up (608 blocks of
/// 98 registers unstaged, 2.3 waves; 17 MB) staged by the rule, one slot,
/// took the step from 0.5695 to 0.5235-0.5246 ms (2 slots: 0.5405);
/// Llama-1B's (2048 blocks; 64 MB, more than the SMs' shared memory)
/// staged at 2 slots lost (0.8337 -> 0.8453), and so did every product
/// whose grid is one wave (session 19: all staged, 0.9189).
/// A kernel whose weights do not fit at once but whose unstaged grid is
/// more than kGemvStagedRuleManyWavesGrid blocks (the lm heads) is staged
/// at kGemvStagedRuleManyWavesSlots slots: session 20's lm heads alone at
/// 2 slots (`--gemv-stages=2 --gemv-stages-min-grid=2048`), Llama-1B
/// 0.8339 -> 0.8298 ms and Qwen2.5-0.5B 0.5704 -> 0.5675 (before Qwen's
/// gate/up was staged); session 22, beside the rule before it in one call:
/// Llama-1B 0.8337 and 0.8329 -> 0.8318 ms, Qwen2.5-0.5B 0.5235 and 0.5234
/// -> 0.5209. Llama-1B's gate/up (2048 blocks) stays below the edge.
/// 0 (not staged) otherwise.
int64_t gemvStagesRule(const GemvKernel &kernel, mlir::Operation *op);
/// Blocks above which gemvStagesRule may stage: 4 an SM of kTargetSms.
inline constexpr int64_t kGemvStagedRuleMinGrid = 4 * kTargetSms;
/// Blocks above which gemvStagesRule stages a kernel whose weights do not
/// fit in shared memory at once: 32 an SM. Measured on either side: the
/// lm heads (Llama-1B 16032 blocks, Qwen2.5-0.5B 18992) gained, Llama-1B's
/// gate/up (2048) lost; nothing between has been timed.
inline constexpr int64_t kGemvStagedRuleManyWavesGrid = 32 * kTargetSms;
/// Slots of such a kernel's warps (2 measured; 1 on Qwen2.5-0.5B's lm
/// head gained nothing, session 20).
inline constexpr int64_t kGemvStagedRuleManyWavesSlots = 2;
/// Shared memory of a staged GEMV block (8 warps of `stages` slots, each
/// slot the warp's slice of the kernel's most linears a column).
int64_t gemvStageBytes(const GemvKernel &kernel, mlir::Operation *op,
                       int64_t stages);
/// kiln::kGemvTile<L> (kiln_kernels.cuh): a lane's loads of each of the
/// `linears` rows in one tile of a GEMV warp (8, or 4 from 3 rows on).
inline constexpr int64_t gemvTile(int64_t linears) {
  return linears <= 2 ? 8 : 4;
}
/// kiln::gemvMmaSplit<K, L>: gemvSplitK's rule for a tensor-core GEMV of L
/// weights over rows of `k` 16-bit elements (no module attribute); the
/// unfused kiln::gemv's launch.
int64_t gemvMmaSplit(int64_t k, int64_t l);

/// Batch rows up to which kiln-fuse-kv-attention merges a decode layer's
/// rotaries, append and attention. Set from measurements (bench/RESULTS.md,
/// H200, Llama-1B shapes, bf16, graph mode, two calls each): at 1 row the
/// step went 1.154 -> 1.133 / 1.146 ms, at 8 rows 1.529 -> 1.635 / 1.642
/// ms. The fused kernel needs 141 registers against the attention's 80,
/// so at 8 rows its 576 working blocks no longer fit one wave (3 blocks of
/// 128 threads per SM instead of 6); b>1 kept the separate kernels until
/// session 25, when (8 warps x 3 steps at Llama-1B's 8 rows since session
/// 21, the rotaries and append in one kernel since session 16) fusing 8
/// rows measured faster (H200, graph step, beside the default in one run):
/// Llama-1B's batch 8 1.1433 / 1.1422 -> 1.1139 ms, Qwen2.5-0.5B's 0.9509
/// / 0.9487 -> 0.9444; at 32 rows Qwen2.5-0.5B's went 1.4029 / 1.4033 ->
/// 1.4963, so 32 keeps the separate kernels.
constexpr int64_t kFuseKvAttentionMaxBatch = 8;
/// Batch rows up to which kiln-fuse-kv-attention also merges an attention
/// that runs in clusters (kvAttentionSplitShape's cluster): 1. Measured
/// (H200, graph step, session 25): Qwen2.5-0.5B's batch 8 in clusters
/// (128 blocks) 0.9019 / 0.9030 ms unfused against 0.9300 / 0.9314 fused;
/// Llama-1B's batch 8 forced into clusters 1.2082 unfused, 1.2305 fused.
/// Where kFuseKvAttentionMaxBatchAttr is given, it alone decides.
constexpr int64_t kFuseKvAttentionClustersMaxBatch = 1;
/// The module attribute that replaces kFuseKvAttentionMaxBatch
/// (kiln-compile --fuse-kv-attention-max-batch, for measurement): an i64
/// of at least 1.
inline constexpr llvm::StringLiteral kFuseKvAttentionMaxBatchAttr =
    "kiln.fuse_kv_attention_max_batch";
/// Where a rotary's input or a kv_append's key or value is read from, in
/// a kernel body: a kernel argument, dense (row == 0), or kiln-merge-gemms'
/// head split of a merged product's columns (row == N): the body's
/// transpose (0, 2, 1, 3) [B, H, S, D] of a reshape [B, S, H, D] of a
/// slice [B, S, H x D] at column `offset` (steps 1) of argument [B, S, N].
/// Element (b, h, s, d) is then at (b * S + s) * N + offset + h * D + d.
struct HeadSource {
  mlir::BlockArgument arg;
  int64_t offset = 0, row = 0;
};
/// `v`'s HeadSource, or nullopt where it is neither form.
std::optional<HeadSource> headSource(mlir::Value v);
/// The kiln.rotary or kiln.kv_append of a kernel (or fusion) body that is
/// that op and the head splits (HeadSource) of its operands only, at
/// least one of them; null otherwise. Such a body is launched and emitted
/// as its one op, reading the split operands in place.
mlir::Operation *headSplitKernelOp(mlir::Block &body);

/// A rope-and-append kernel (kiln-fuse-kv-attention with
/// kKvRopeAppendAttr, where the attention stays its own kernel): one
/// kiln.kv_append whose key may be a kiln.rotary's result (`keyRotary`),
/// and at most one other kiln.rotary whose result the body yields
/// (`queryRotary`), at least one rotary in all; the rotaries' inputs and
/// the append's key (without keyRotary) and value are kernel arguments or
/// head splits of one (headSource), the tables and positions kernel
/// arguments; every other op belongs to one of those head splits; the body
/// yields the append's two results, then queryRotary's. One thread per
/// element of the larger of q and k: element i of the roped query, and of
/// the roped key written with the value at its slot (kiln::rotaryAt,
/// kiln::kvAppendAt). kiln-schedule, the CUDA emitter and the launch's
/// dims agree through this function.
struct RopeAppendKernel {
  mlir::Operation *append = nullptr;
  mlir::Operation *keyRotary = nullptr;
  mlir::Operation *queryRotary = nullptr;
};
std::optional<RopeAppendKernel> analyzeRopeAppendKernel(mlir::Block &body);
/// The module attribute (kiln-compile --fuse-rope-append[=false], a bool)
/// that says whether kiln-fuse-kv-attention merges a decode layer's
/// rotaries and KV append into one kernel (analyzeRopeAppendKernel) where
/// it leaves the attention its own kernel (more batch rows than
/// kFuseKvAttentionMaxBatch). Without it: kKvRopeAppendDefault (on since
/// session 16: every fixture, precision and generation check right on an
/// H200 with it; Llama-1B's batch-8 step 1.330 -> 1.309 ms, Qwen2.5-0.5B's
/// 0.995 -> 0.959; bench/RESULTS.md).
inline constexpr llvm::StringLiteral kKvRopeAppendAttr =
    "kiln.fuse_rope_append";
inline constexpr bool kKvRopeAppendDefault = true;

/// The module attribute (kiln-compile --kv-attention-steps, for
/// measurement) that makes kvAttentionSplitShape try 8 warps of that many
/// key steps first wherever it does not take the cluster shape: an i64 of
/// at least 1.
inline constexpr llvm::StringLiteral kKvAttentionStepsAttr =
    "kiln.kv_attention_steps";

/// The module attribute (an i64 from 1 to 16; kiln-compile
/// --kv-attention-heads, for measurement) that sets the query heads a
/// block of the decode attention in clusters (batch 1, and more rows where
/// kvAttentionSplitShape puts them there), where it divides the kv head's
/// query heads; elsewhere the rule's (the most that
/// still make 128 blocks, since session 19; 64 before) stands. Session
/// 18's micro had Llama-1B's 2 heads a block ending sooner than 4.
inline constexpr llvm::StringLiteral kKvAttentionHeadsAttr =
    "kiln.kv_attention_heads";

/// The module attribute (an i64 from 1 to 16; kiln-compile
/// --kv-attention-split-heads, for measurement) that sets the query heads a
/// block of the split decode attention wherever it does not take the
/// cluster shape, where it divides the kv head's query heads; elsewhere
/// all of them (the rule), or one for a single query row.
inline constexpr llvm::StringLiteral kKvAttentionSplitHeadsAttr =
    "kiln.kv_attention_split_heads";

/// The module attribute (an i64 from 1 to 64; kiln-compile
/// --kv-attention-cluster-rows, for measurement): the decode attention of
/// up to that many query rows (batch x positions) takes the cluster shape
/// (8 warps x 4 steps, 2 to 8 chunks in a cluster, the most query heads a
/// block that still make 128 blocks over all the rows), whatever its grid.
/// Without it: one row, or more where that grid is at most
/// kKvClusterMaxGrid (132) blocks (passes/LaunchConfig.cpp).
inline constexpr llvm::StringLiteral kKvAttentionClusterRowsAttr =
    "kiln.kv_attention_cluster_rows";

/// The module attribute (a bool; kiln-compile --kv-attention-split-major,
/// for measurement) that numbers the blocks of the split decode attention
/// without clusters split-major: block = split x groups + group, so the
/// first chunks of every group come first. In a decode step the live
/// chunks are the first ones, and with PDL the blocks resident while the
/// launch before runs are the grid's first: group-major, a group's chunks
/// past its live keys take resident slots (they wait, then return) that
/// live chunks further on could have spent loading their keys. The same
/// blocks, the same arithmetic, the same merge order: bit-identical.
/// Without it: kKvAttentionSplitMajorDefault.
inline constexpr llvm::StringLiteral kKvAttentionSplitMajorAttr =
    "kiln.kv_attention_split_major";
inline constexpr bool kKvAttentionSplitMajorDefault = false;

/// The module attribute (an i64 from 1 to 8; kiln-compile
/// --kv-attention-min-blocks, for measurement) that declares every split
/// decode attention kernel (fused or alone) `__launch_bounds__(32 W, N)`:
/// ptxas keeps its registers to N blocks an SM (Llama-1B's batch-1 fused
/// attention: 143 registers, so one block an SM, and none beside three
/// q/k/v GEMV blocks of 62). Without it: no such bound.
inline constexpr llvm::StringLiteral kKvAttentionMinBlocksAttr =
    "kiln.kv_attention_min_blocks";
/// kKvAttentionMinBlocksAttr of the module holding `op`, or 0.
int64_t kvAttentionMinBlocks(mlir::Operation *op);

/// A decode attention kernel (kiln-fuse-kv-attention's fusions, or a lone
/// kiln.kv_attention): a kiln.kv_attention whose split kernel applies
/// (kvAttentionSplits > 0), with, optionally, the kiln.kv_append that wrote
/// the caches it reads (its results are the attention's key and value
/// caches, one new row per batch row at the attention's own positions, one
/// query position), and kiln.rotary ops on the attention's query and on the
/// appended key. Rotary operands are block arguments; a rotary in
/// rotate-half form needs its half dim to fill 16-byte pieces (the kernel
/// pairs pieces). The body yields the append's two results (if any) and then
/// the attention's. The CUDA emitter (kvAttentionSplit with its query and
/// append hooks), kiln-schedule (the append's results are the KV region's
/// views, the attention's result an arena buffer) and the reference backend
/// agree through this function.
struct KvAttentionKernel {
  mlir::Operation *attention = nullptr;
  mlir::Operation *append = nullptr;
  mlir::Operation *queryRotary = nullptr;
  mlir::Operation *keyRotary = nullptr;
};
/// The decode attention kernel of `body` (a fusion's or kernel's block), or
/// nullopt if the body is not one.
std::optional<KvAttentionKernel> analyzeKvAttentionKernel(mlir::Block &body);

/// Whether a shape `in` broadcasts (numpy-style) to exactly `out`: the
/// fused elementwise kernels and the GEMV epilogues index their operands
/// this way (kiln::isBroadcastableTo, the dialect's rule).
bool broadcastsTo(llvm::ArrayRef<int64_t> in, llvm::ArrayRef<int64_t> out);

/// Grid of a grid-stride loop over `n` elements (1..65535 blocks).
int64_t gridForElements(int64_t n);
/// Block of a block-per-row reduction over `n` elements per row: a power of
/// two in [32, 256].
int64_t blockForReduction(int64_t n);

/// True if the kernel computing `op` reduces rows with one block per row,
/// so its block must be a power of two in [32, 1024].
bool isRowKernel(mlir::Operation *op);

/// The launch of the kernel computing the graph-level op `op`.
LaunchDims chooseLaunchDims(mlir::Operation *op);

/// The launch of a fused kernel whose body computes `ops`: for a GEMV
/// kernel (analyzeGemvKernel), one warp per output column of all its
/// groups; otherwise elementwise ops of one index space (kiln-form-fusions'
/// groups), a grid-stride loop over the largest result of any of them.
LaunchDims chooseFusedLaunchDims(llvm::ArrayRef<mlir::Operation *> ops);

/// The launch of a copy kernel over `elements` elements.
LaunchDims copyLaunchDims(int64_t elements);

} // namespace kiln

#endif // KILN_TRANSFORMS_LAUNCHCONFIG_H
