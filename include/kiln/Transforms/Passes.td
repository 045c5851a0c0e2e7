//===- Passes.td - kiln pass definitions --------------------*- tablegen -*-===//
//
// Every kiln pass. Arguments are prefixed `kiln-`.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TRANSFORMS_PASSES
#define KILN_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def KilnSimplify : Pass<"kiln-simplify"> {
  let summary = "Fold and canonicalise kiln graph-level ops";
  let description = [{
    Applies the kiln ops' folders and canonicalisation patterns greedily:
    constant operands fold through reshape, cast-to-same-type, identity
    transpose/slice/expand disappear, chains of reshapes and of transposes
    compose into one op, and dead ops are erased.

    ```
    %1 = kiln.reshape %0 : tensor<2x8xf32> -> tensor<16xf32>
    %2 = kiln.reshape %1 : tensor<16xf32> -> tensor<4x4xf32>
    // becomes
    %2 = kiln.reshape %0 : tensor<2x8xf32> -> tensor<4x4xf32>
    ```
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
  let options = [
    Option<"maxIterations", "max-iterations", "int64_t", /*default=*/"10",
           "Greedy rewrite iterations before giving up">,
  ];
}

def KilnRecognize : Pass<"kiln-recognize"> {
  let summary = "Rewrite exporter idioms into kiln's high-level ops";
  let description = [{
    Recognises what the ONNX exporters write for the layers of a decoder and
    rewrites it into the dialect's high-level ops, structurally (op kinds,
    shapes, constant values), never by tensor or node names: RMSNorm and
    LayerNorm, SiLU and GELU, rotary embedding (rotate-half and GPT-J's
    interleaved rotate_every_two), attention. A graph that
    almost matches is left as it is (correct, unrewritten); with `remarks`
    (kiln-compile --kiln-remarks) each such near miss - the idiom's
    structure matched, a condition that makes the rewrite exact did not -
    is a remark at the op saying why (`remark: kiln-recognize: not
    rewritten: rotary: the halves of cos/sin are not provably equal ...`),
    once per op and reason.
    Patterns: include/kiln/Transforms/Recognize.h.
  }];
  let options = [
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Report near misses as remarks at the op">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnKvCache : Pass<"kiln-kv-cache", "::mlir::ModuleOp"> {
  let summary = "Rewrite past/present concats into ops on a persistent KV cache";
  let description = [{
    For every function whose arguments carry `kiln.role = "past"` (set by a
    KV-cache import, `kiln-import --max-seq-len` / `kiln-compile
    --max-seq-len`), matches per layer `present = kiln.concat(past, new,
    axis 2)` feeding the key and value of one `kiln.attention` and returned,
    and rewrites each pair into `kiln.kv_append` on the module's
    `kiln.kv_cache` plus a `kiln.kv_attention` (docs/kv-cache.md). Past
    arguments and present results leave the signature, an argument
    `kv_pos : tensor<Bxi64>` is added, and the function gets `kiln.step`
    and role attributes. A function that does not match completely (or is
    marked `kiln.kv_unsafe` by the importer) is left as it is, with a remark
    saying why.

    ```mlir
    %k = kiln.concat %past_k, %new_k {axis = 2 : i64} : ...
    %v = kiln.concat %past_v, %new_v {axis = 2 : i64} : ...
    %o = kiln.attention %q, %k, %v, %mask {scale = 0.25 : f32} : ...
    // becomes
    %kc, %vc = kiln.kv_append @kv[0] %new_k, %new_v at %kv_pos : ...
    %o = kiln.kv_attention %q, %kc, %vc at %kv_pos mask %mask {scale = 0.25 : f32} : ...
    ```
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
  let options = [
    Option<"cacheName", "cache-name", "std::string", /*default=*/"\"kv\"",
           "Symbol of the kiln.kv_cache to declare">,
    Option<"maxBatch", "max-batch", "int64_t", /*default=*/"0",
           "Rows of the cache (0: the function's batch; kiln-compile sets "
           "the largest bucket)">,
  ];
}

def KilnFormFusions : Pass<"kiln-form-fusions", "::mlir::func::FuncOp"> {
  let summary = "Lower the graph level to the fused level, fusing elementwise chains";
  let description = [{
    Forms the fused level (docs/dialect.md). First come exact rewrites
    that line small index-space ops up for the grouping
    (`kiln::populateFusionPrepPatterns`, passes/FusionPrep.cpp), with the
    ops' folders: a view or a slice of a scalar map's only use moves onto
    the map's operands (a view only towards inputs, weights, constants and
    other maps; a slice onto at most one operand, slices being kernels); a
    slice inside one operand of a concat reads that operand; a gather of
    the constant 0..n-1 over its whole axis is a reshape; `and(x, true)`,
    `or(x, false)` and `x * 1` are x; a matmul contracting one element is a
    broadcast `kiln.mul`. A rotary table (position, cast, inv_freq x
    position, concat, cos, sin, the half slices) and a decoder mask (cast,
    gather, and, where) so become elementwise chains. Next, every compute op that
    codegen sends to cuBLASLt becomes a `kiln.gemm` (an f32 `kiln.matmul`
    whose operands' batch dims are the result's or all 1; an f32
    `kiln.linear` whose input has rank >= 2, its bias becoming the gemm's
    bias epilogue and `transpose_weight` its `transpose_b`). Next, a
    `kiln.add` of such a gemm's result (its only use, either operand order)
    and a residual of exactly the add's f32 type (no broadcast) becomes the
    gemm's `residual` (cuBLASLt's C with beta = 1) when the gemm has no
    residual or activation yet: the attention output and MLP down
    projections with their residual adds are one library call each. In the
    same run (top-down, so a chain folds whole), a `kiln.gelu
    approximate<tanh>` or a `kiln.max` with a splat 0 of such a result
    becomes the gemm's `activation` (`gelu_tanh`, `relu`; cuBLASLt's GELU
    and RELU epilogues) when it has none, and a `kiln.mul` by a splat f32
    constant (a `kiln.div` by a power of two) its `scale` (cuBLASLt's
    alpha) when it has no bias, residual, activation or scale yet: GPT-2's
    MLP up projection and its GELU are one library call. Then
    every other compute op is put in a `kiln.fusion`, one kernel each, by this
    rule: walking the body from the end, an op heads a group; if it is
    elementwise (`ElementwiseOpInterface`, `kiln.cast`, `kiln.where`), each
    elementwise producer of a group member joins the group when

    - its result has the head's shape, or it is small (it and its operands
      have at most 4096 elements) and broadcasts to the head's shape (it is
      then computed per element from its broadcast operands), and
    - all of its users are taken members of the group (it is computed once
      and the fusion has one result, the head's), or else it is small and
      every user is an elementwise op: the group computes a copy, and the
      original goes once the copies leave it no reader (the angles of a
      rotary table, read by its cos and by its sin). No large tensor is
      read more often than before. Producers join by the first rule to a
      fixed point before any is copied.

    Chains and trees of elementwise ops (a residual add chain,
    `silu(gate) * up`, a decomposed norm's scale and shift) so become one
    fusion; any other op is a fusion of its own. The group's external
    operands are the fusion's operands, in order of first use.

    ```
    %0 = kiln.mul %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %1 = kiln.exp %0 : tensor<4xf32>
    // becomes
    %1 = kiln.fusion %a : (tensor<4xf32>) -> tensor<4xf32> {
    ^bb0(%x: tensor<4xf32>):
      %0 = kiln.mul %x, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
      %1 = kiln.exp %0 : tensor<4xf32>
      kiln.yield %1 : tensor<4xf32>
    }
    ```

    `kiln.weight` and `kiln.constant` stay outside (operands of the fusions
    that read them), as do ops of other dialects and ops already at the
    fused level, so the pass is idempotent. Views of contiguous data
    (`kiln::viewSource`: reshapes, count-preserving expands, unit-dim
    transposes, identity casts) stay outside too: they are not kernels but
    candidate aliases, which the memory planner places on their operand's
    bytes. Matching is structural (op classes, types), never by names.
    Beyond the rewrites above nothing is folded or reordered; like every
    greedy-driver pass it erases
    dead (unused, pure) ops. With `library-calls=false` no op becomes a
    `kiln.gemm` (every matmul is a generated kernel, every residual add an
    elementwise one); with `max-ops=1`
    every op is a fusion of its own (the one-kernel-per-op policy, for
    debugging and bisecting).
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
  let options = [
    Option<"libraryCalls", "library-calls", "bool", /*default=*/"true",
           "Turn cuBLASLt-shaped matmul/linear into kiln.gemm">,
    Option<"maxOps", "max-ops", "unsigned", /*default=*/"0",
           "Most ops in one fusion (0: no limit; 1: one kernel per op)">,
  ];
}

def KilnLowerPrecision : Pass<"kiln-lower-precision", "::mlir::ModuleOp"> {
  let summary = "Store float tensors between kernels as bf16 or f16, compute in f32";
  let description = [{
    Runs on the fused level (after `kiln-form-fusions`, before
    `kiln-plan-memory`). With `precision=bf16` (or `f16`) every f32 tensor
    that crosses a kernel boundary becomes that type: weights (read with
    `source_type = f32`, converted when their bytes are read), constants
    (rounded), the KV cache, fusion and gemm results and the views of them.
    Elementwise fusion bodies widen their 16-bit arguments to f32 and narrow
    their results with `kiln.cast`, so they compute in f32 and round once per
    output; any other fusion body is retyped, its op accumulating in f32 and
    rounding its result once. The function's signature stays as it was: an
    f32 argument feeding a gemm or a structured kernel is narrowed, and a
    returned value is widened to f32, each by one conversion kernel.
    `precision=f32` (the default) changes nothing. docs/precision.md.
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"f32\"",
           "Storage type of float tensors: f32 (no change), bf16 or f16">,
  ];
}

def KilnGemv : Pass<"kiln-gemv", "::mlir::func::FuncOp"> {
  let summary = "Run skinny decode products as kiln's own GEMV instead of cuBLASLt";
  let description = [{
    On the fused level (after `kiln-lower-precision`, before
    `kiln-plan-memory`): a `kiln.gemm` with at most kGemvMaxRows rows (1,
    from measurements), a `[K, N]` `kiln.weight` as B that nothing else
    reads (a bias [N] becomes the linear's; the epilogue's scale, residual
    and activation become a `kiln.mul`, a `kiln.add` and a `kiln.gelu` or
    `kiln.max` after the product, in the same kernel, the scale and the
    activation in f32; a scale only without a bias, and with a residual
    only in f32), f32
    or bf16 with K a multiple of the 16-byte vector, becomes a kernel of one
    `kiln.linear` with `transpose_weight` on the weight read transposed
    (`kiln.weight {transposed}`, done when the bytes are read - for an
    artifact once, at compile time). A gemm with `transpose_b` on an
    `[N, K]` weight (a tied lm head reading the embedding table) becomes the
    same linear on the weight as it is stored, whatever else reads it. Codegen emits it as `kiln::gemv` (one warp streams one
    contiguous weight row per output column). The product is the same up to
    summation order.
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnFuseKvAttention : Pass<"kiln-fuse-kv-attention", "::mlir::func::FuncOp"> {
  let summary = "Merge a decode step's rotaries, kv_append and kv_attention into one kernel";
  let description = [{
    On the fused level (after `kiln-kv-cache` and `kiln-form-fusions`): a
    fusion of one `kiln.kv_attention` with one query position and at most
    kFuseKvAttentionMaxBatch (1, from measurements) batch rows whose caches
    are the results of a fusion of one `kiln.kv_append` (one new row per
    batch row at the same positions) that nothing else reads, and the
    fusions of one `kiln.rotary` that compute the attention's query and the
    append's key (if nothing else reads them), become one fusion yielding
    the caches and the attention. Codegen emits it as the grouped-query
    split attention kernel (`kiln::kvAttentionSplit`) in which every block
    ropes its query heads and the block whose chunk holds a new slot ropes
    and writes the new key and value row before reading its chunk: four
    launches per layer become one. Kept only where
    `kiln::analyzeKvAttentionKernel` accepts the merged body (the split
    kernel applies, a rotate-half rotary pairs whole 16-byte pieces). The
    values are those of the unfused kernels.
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnMergeGemms : Pass<"kiln-merge-gemms", "::mlir::ModuleOp"> {
  let summary = "Merge sibling cuBLASLt gemms into one on weights stored back to back";
  let description = [{
    On the fused level, after `kiln-gemv` (whose gemms left read [N, K]
    weights with `transpose_b`): two or more `kiln.gemm`s of one block
    reading the same `a`, with no epilogue, each on a single-use
    `kiln.weight` of one element type and K whose bytes are a multiple of
    the weights layout's alignment, and whose results are read only by
    elementwise fusions, become one gemm on `kiln.concat` of the weights
    (axis 0) - a weight concatenation that copies no bytes: kiln-schedule
    stores the parts back to back and views them as one - and each
    consumer fusion reads its columns through a `kiln.slice` of the merged
    result in its body. Groups are decided over the whole module: a weight
    in two different groups is merged in neither. The steps of more rows
    than kiln-gemv takes (prefill, batch 32; f32 steps of two rows or
    more) then run gate/up (and any siblings whose consumers are
    elementwise) as one cuBLASLt call. On by default in kiln-compile and
    kiln-fused-pipeline (`merge-gemms`; kiln-compile --merge-gemms=false
    turns it off): on an H200 every fixture matched the reference with it,
    and Llama-1B's batch-32 step went 2.044 -> 1.928 ms (session 14).

    ```
    %g = kiln.gemm %x, %wg transpose_b   %u = kiln.gemm %x, %wu transpose_b
    %h = kiln.fusion %g, %u { silu(g) * u }
    // becomes
    %w = kiln.concat %wg, %wu {axis = 0 : i64}
    %y = kiln.gemm %x, %w transpose_b
    %h = kiln.fusion %y { g = slice(y)[.., 0:N]; u = slice(y)[.., N:2N]; silu(g) * u }
    ```

    With `head-split` (the pipelines' merge-qkv-gemms, on by default;
    kiln-compile --merge-qkv-gemms=false turns it off) a product may also be
    read through the exporters'
    split into heads - `kiln.reshape` [B, S, N] -> [B, S, H, D], then
    `kiln.transpose` (0, 2, 1, 3) - by fusions whose body is one
    `kiln.rotary` (its input) or `kiln.kv_append` (its key or value): the
    q/k/v of Llama-style attention. The slice, reshape and transpose then
    move into the consumer's body, whose kernel reads the merged result in
    place (kiln::headSource; the rotary's XRow, the append's KRow / VRow).
  }];
  let options = [
    Option<"headSplit", "head-split", "bool", /*default=*/"false",
           "Also merge products read through a head split by a rotary or "
           "KV append (q/k/v)">,
  ];
}

def KilnMergeSiblings : Pass<"kiln-merge-siblings", "::mlir::func::FuncOp"> {
  let summary = "Merge sibling elementwise fusions, and small independent ones, into one kernel";
  let description = [{
    On the fused level, last of its passes (after `kiln-gemv` has taken the
    elementwise epilogues it wants): two fusions of one block whose bodies
    hold only scalar maps (`ElementwiseOpInterface`, `kiln.cast`,
    `kiln.where`) and whose yielded values all have one shape, the same for
    both, become one fusion yielding the results of both, when they read at
    least one common value and every input of the later one is defined
    before the earlier one (neither reads the other; the merged fusion
    stands where the earlier one stood). Repeated until no pair is left: a
    rotary table's cos and sin, computed from the same positions and
    inv_freq, are one launch. Each output is computed as before.

    ```
    %c = kiln.fusion %x : (tensor<8xf32>) -> tensor<8xf32> { cos }
    %s = kiln.fusion %x : (tensor<8xf32>) -> tensor<8xf32> { sin }
    // becomes
    %cs:2 = kiln.fusion %x : (tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) { cos, sin }
    ```

    Then, with `independent` (on by default), small independent launches:
    two fusions whose bodies hold scalar maps and gathers or slices of
    their block arguments, every yielded value of at most
    `kMergeIndependentMaxElements` (LaunchConfig.h) elements, in any
    shapes, with or without a common input, under the same placement
    condition. Codegen gives such a fusion one grid-stride loop per yielded
    shape. A decode step's rotary table, mask and embedding row become one
    launch instead of three (docs/codegen.md, "Fused elementwise kernels").
  }];
  let options = [
    Option<"independent", "independent", "bool", /*default=*/"true",
           "Also merge small independent elementwise launches of any "
           "shapes (kiln-compile --merge-small-launches)">,
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnPlanMemory : Pass<"kiln-plan-memory", "::mlir::func::FuncOp"> {
  let summary = "Place every intermediate value at a static offset in one arena";
  let description = [{
    Lowers a function to the scheduled level (docs/scheduled-ir.md). Computes
    program-order liveness (a value is live from its defining op to its last
    use; arguments for the whole function; returned values to the end) and
    places every value at an aligned byte offset, so that values live at the
    same time never share bytes: greedy by size (largest first, each at the
    tightest free gap) and a few other orders are tried and the smallest
    arena is kept (docs/memory-plan.md). Writes `kiln.arena =
    array<i64: ...>` (one offset per result) on every op, `kiln.arena = N`
    on every argument and `kiln.arena_bytes = N` on the function.
    `kiln.weight` and `kiln.constant` results are not planned: their bytes go
    to the artifact's weights.bin.

    A function that returns an argument, a weight or a constant directly is
    rejected with an error at the return.

    Views are aliased (no bytes, no kernel). With `in-place` (the default),
    a result whose kernel reads element i of an operand before writing
    element i of the result (elementwise ops over an operand of the result's
    shape and byte width, scatter_nd over its data; kiln::mayWriteInPlace)
    takes that operand's offset when the operand's storage is dead after the
    op and is neither an input nor returned.

    ```
    func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
      %0 = kiln.exp %a : tensor<4xf32>
      return %0 : tensor<4xf32>
    }
    // becomes
    func.func @f(%a: tensor<4xf32> {kiln.arena = 0 : i64}) -> tensor<4xf32>
        attributes {kiln.arena_bytes = 512 : i64} {
      %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<4xf32>
      return %0 : tensor<4xf32>
    }
    ```
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"256",
           "Byte alignment of every arena offset (a power of two)">,
    Option<"inPlace", "in-place", "bool", /*default=*/"true",
           "Let an elementwise result take the bytes of an operand that is "
           "dead after its op (kiln::mayWriteInPlace; docs/memory-plan.md)">,
  ];
}

def KilnSchedule : Pass<"kiln-schedule", "::mlir::ModuleOp"> {
  let summary = "Lower planned fused-level functions to the explicit scheduled level";
  let description = [{
    Rewrites every planned function (`kiln.arena_bytes`, after
    `kiln-plan-memory`) into the scheduled level of docs/scheduled-ir.md,
    taking every decision the artifact holds into the IR:

    - `kiln.arena` (size = the plan's) and `kiln.weights` (weights and
      constants laid out in program order at 256-byte-aligned offsets);
    - a root `kiln.view` per planned value at its planned offset; inputs
      bound by name (argument order); a view the planner aliased onto its
      operand becomes a view of that operand's view; an elementwise result
      the planner put on its dead operand's bytes (in place) reuses that
      operand's buffer; returned values get `output` views (result order);
    - each `kiln.fusion` (and each compute op outside one) becomes a
      `kiln.kernel` symbol and a `kiln.launch` with the grid and block of
      include/kiln/Transforms/LaunchConfig.h; `kiln.scatter_nd` becomes a
      copy launch and an in-place scatter launch; `kiln.gemm` takes its
      buffer form;
    - the launches are wrapped in `kiln.graph`, whose verifier checks
      capture safety and the memory plan.

    The function loses its arguments, results and plan attributes: what it
    binds is in its views.
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnPrefetchWeights : Pass<"kiln-prefetch-weights", "::mlir::ModuleOp"> {
  let summary = "Let DRAM stream the next weights while a quiet launch runs";
  let description = [{
    On the scheduled level (after `kiln-schedule`): a decode step alternates
    launches that stream weights from DRAM (the GEMV kernels and cuBLASLt
    gemms) with quiet launches that hardly touch DRAM (attention over the
    KV cache, rotary, small elementwise kernels), during which the memory
    system idles. For each quiet launch, the first streaming launch after
    it (a kernel: a gemm takes no list) gets a `prefetch` list: the weights
    that the streaming launches after that one read whole (a GEMV kernel's
    weight rows, a gemm's B and bias), in launch order, up to `budget-kb`
    KiB, stopping at the next quiet launch. Where a launch's weights do not
    all fit, each gets the same fraction, from its start (a GEMV reads its
    weights' rows side by side, column by column). The kernel asks L2 for
    those bytes before it waits for the launch before it
    (kiln::prefetchL2Grid); its blocks start while the quiet launch runs
    (programmatic dependent launch), so the requests go out then, and the
    streaming launches after it find their first bytes in L2.

    Why not the quiet launch itself, before its wait: its blocks start
    while the streaming launch before it still runs, so its requests
    competed with that launch's stream and queued ahead of the quiet
    launch's own loads (measured slower, bench/RESULTS.md).

    With `at-quiet`, the quiet launch itself gets the list instead - the
    weights of the streaming launches after it, the first one's included -
    and asks for them after its wait for the launch before it: once the
    stream before it has finished, while it runs on what it has loaded.
    A quiet launch followed by another quiet launch gets no list.

    A prefetch is a hint: it changes no result. Every launch of a kernel
    must prefetch the same bytes (they are kernel parameters); a kernel
    whose launches would differ is cloned, one clone per distinct list.
    `budget-kb=0` does nothing.
  }];
  let options = [
    Option<"budgetKb", "budget-kb", "int64_t", /*default=*/"0",
           "KiB of weights a launch may prefetch (0: none)">,
    Option<"atQuiet", "at-quiet", "bool", /*default=*/"false",
           "The quiet launch asks, after its wait, for the weights of the "
           "streaming launches after it (false: the first streaming launch "
           "after it asks, before its wait, for those of the launches after "
           "that one)">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnVerifyPlan : Pass<"kiln-verify-plan", "::mlir::func::FuncOp"> {
  let summary = "Check a planned function's arena offsets";
  let description = [{
    Re-derives liveness and checks the plan written by `kiln-plan-memory` (or
    by hand): every argument and every non-weight, non-constant op result has
    an arena offset; offsets are non-negative and aligned; every value fits
    in `kiln.arena_bytes`; no two values live at the same time share bytes,
    except a view at its operand's offset (an alias) and a result written in
    place at an operand's offset where `kiln-plan-memory` could have put it
    (kiln::mayWriteInPlace holds and the operand's storage is dead after the
    op); no output shares bytes with an input or another output; weights and
    constants carry no offset. Each violation is reported at the
    op (or function) concerned and the pass fails.
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"256",
           "Alignment every offset must have">,
  ];
}

def KilnTestPrintPlan : Pass<"kiln-test-print-plan", "::mlir::func::FuncOp"> {
  let summary = "Print the memory plan analysis for FileCheck (test only)";
  let description = [{
    Runs the kiln::MemoryPlan analysis on each function and prints, to
    stdout, one line per arena value in the form
    `<value>: offset = O, size = S, live = [first, last]`, after a header
    `plan @name: arena_bytes = N, lower_bound = L[, strategy = S]` (the
    lower bound of any placement; the placement strategy that won, when the
    plan is computed rather than read back). Program points are op indices
    in the entry block. Leaves the IR unchanged.
  }];
  let options = [
    Option<"fromAttributes", "from-attributes", "bool", /*default=*/"false",
           "Print the offsets stored in kiln.arena attributes instead of "
           "computing a new plan">,
    Option<"inPlace", "in-place", "bool", /*default=*/"true",
           "When computing a plan, write results in place over dead "
           "operands where the kernel allows it">,
  ];
}

#endif // KILN_TRANSFORMS_PASSES
