//===- ConvertContrib.cpp - ONNX Runtime contrib ops to kiln --------------===//
//
// Converters for the ops ONNX Runtime's exporters write that are no ONNX
// schema op: the `com.microsoft` ops of ONNX Runtime GenAI's model builder
// (SkipSimplifiedLayerNormalization, SkipLayerNormalization,
// RotaryEmbedding, GroupQueryAttention, MatMulNBits) and the default-domain
// SimplifiedLayerNormalization. Each becomes kiln's own ops (rms_norm,
// layer_norm, rotary, attention, matmul_nbits plus adds, gathers and
// masks), so every later pass sees one form whatever the exporter.
// GroupQueryAttention's per-row past lengths (from `seqlens_k`) are run-time
// values: the new keys are scattered into the present cache at each row's
// length and the causal mask is built from them. docs/importer.md,
// "ONNX Runtime contrib ops", has the semantics and the limits.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <cstdio>
#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::import;

namespace {

/// [B, S, H*D] -> [B, H, S, D].
Value toHeads(NodeContext &c, Value x, int64_t heads) {
  ArrayRef<int64_t> s = shapeOf(x);
  Value r = c.reshape(x, {s[0], s[1], heads, s[2] / heads});
  return r ? c.transpose(r, {0, 2, 1, 3}) : r;
}

/// [B, H, S, D] -> [B, S, H*D].
Value fromHeads(NodeContext &c, Value x) {
  ArrayRef<int64_t> s = shapeOf(x);
  Value t = c.transpose(x, {0, 2, 1, 3});
  return t ? c.reshape(t, {s[0], s[2], s[1] * s[3]}) : t;
}

/// 0, 1, ..., n-1 as i64 laid along dim `axis` of a rank-`rank` shape of
/// ones.
Value iota(NodeContext &c, int64_t n, int64_t axis, int64_t rank) {
  SmallVector<int64_t> values(n), shape(rank, 1);
  for (int64_t i = 0; i < n; ++i)
    values[i] = i;
  shape[axis] = n;
  return c.constI64(values, shape);
}

/// Fails with a located error when a float attribute is not `expected`.
LogicalResult requireFloatAttr(NodeContext &c, StringRef name, float expected,
                               StringRef why) {
  float v = c.getFloat(name, expected);
  if (v == expected)
    return success();
  char text[32];
  std::snprintf(text, sizeof(text), "%g", double(v));
  c.emitError() << name << " = " << text << " is not supported (" << why
                << ")";
  return failure();
}

LogicalResult requireIntAttr(NodeContext &c, StringRef name, int64_t expected,
                             StringRef why) {
  int64_t v = c.getInt(name, expected);
  if (v == expected)
    return success();
  c.emitError() << name << " = " << v << " is not supported (" << why << ")";
  return failure();
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

/// 1 / sqrt(mean(x^2 over [axis, rank)) + eps), the dims kept: the
/// inv_std_var output of the simplified (RMS) norms.
Value rmsInvStd(NodeContext &c, Value x, int64_t axis, float eps) {
  int64_t rank = tensorType(x).getRank();
  SmallVector<int64_t> axes, shape(shapeOf(x).take_front(axis));
  for (int64_t i = axis; i < rank; ++i) {
    axes.push_back(i);
    shape.push_back(1);
  }
  Value sq = c.binary<MulOp>(x, x);
  Value ms = sq ? c.create<ReduceMeanOp>(withShape(x, shape), sq, axes, true)
                : Value();
  Value sum = ms ? c.binary<AddOp>(ms, c.scalar(eltOf(x), eps)) : Value();
  return sum ? c.create<RsqrtOp>(sum.getType(), sum) : Value();
}

/// mean and 1 / sqrt(var + eps) over the last axis, the dims kept: the
/// mean and inv_std_var outputs of SkipLayerNormalization.
std::pair<Value, Value> meanInvStd(NodeContext &c, Value x, float eps) {
  int64_t rank = tensorType(x).getRank();
  SmallVector<int64_t> shape(shapeOf(x));
  shape.back() = 1;
  SmallVector<int64_t> axes = {rank - 1};
  Value mean = c.create<ReduceMeanOp>(withShape(x, shape), x, axes, true);
  Value diff = mean ? c.binary<SubOp>(x, mean) : Value();
  Value sq = diff ? c.binary<MulOp>(diff, diff) : Value();
  Value var = sq ? c.create<ReduceMeanOp>(withShape(x, shape), sq, axes, true)
                 : Value();
  Value sum = var ? c.binary<AddOp>(var, c.scalar(eltOf(x), eps)) : Value();
  Value inv = sum ? c.create<RsqrtOp>(sum.getType(), sum) : Value();
  return {mean, inv};
}

/// SimplifiedLayerNormalization (ONNX Runtime, default domain): RMS norm
/// over [axis, rank); outputs Y and, if used, inv_std_var.
LogicalResult convertSimplifiedLayerNorm(NodeContext &c) {
  Value x = c.required(0, "X"), scale = c.required(1, "scale");
  if (!x || !scale)
    return failure();
  auto axis = c.normAxis(c.getInt("axis", -1), tensorType(x).getRank(), "axis");
  if (!axis)
    return failure();
  float eps = c.getFloat("epsilon", 1e-5f);
  Value y = c.create<RmsNormOp>(x.getType(), x, scale,
                                c.b.getI64IntegerAttr(*axis),
                                c.b.getF32FloatAttr(eps));
  if (failed(c.push(y)))
    return failure();
  if (c.outputUsed(1))
    return c.push(rmsInvStd(c, x, *axis, eps));
  return success();
}

/// SkipSimplifiedLayerNormalization / SkipLayerNormalization (com.microsoft):
/// sum = input + skip (+ bias), normalised over the last axis. Outputs:
/// output, mean, inv_std_var, input_skip_bias_sum.
template <bool Simplified>
LogicalResult convertSkipNorm(NodeContext &c) {
  Value x = c.required(0, "input"), skip = c.required(1, "skip"),
        gamma = c.required(2, "gamma");
  if (!x || !skip || !gamma)
    return failure();
  Value beta = Simplified ? Value() : c.input(3);
  Value bias = c.input(Simplified ? 3 : 4);
  int64_t rank = tensorType(x).getRank();
  if (rank < 2 || shapeOf(skip).empty() ||
      shapeOf(skip).back() != shapeOf(x).back() ||
      !kiln::isBroadcastableTo(shapeOf(skip), shapeOf(x))) {
    c.emitError() << "skip " << shapeString(shapeOf(skip))
                  << " does not broadcast to input "
                  << shapeString(shapeOf(x));
    return failure();
  }
  Value sum = c.binary<AddOp>(x, skip);
  if (sum && bias)
    sum = c.binary<AddOp>(sum, bias);
  if (sum && shapeOf(sum) != shapeOf(x)) {
    c.emitError() << "bias " << shapeString(shapeOf(bias))
                  << " does not broadcast to input " << shapeString(shapeOf(x));
    return failure();
  }
  if (!sum)
    return failure();
  float eps = c.getFloat("epsilon", 1e-12f);
  Value y;
  if (Simplified)
    y = c.create<RmsNormOp>(x.getType(), sum, gamma,
                            c.b.getI64IntegerAttr(rank - 1),
                            c.b.getF32FloatAttr(eps));
  else
    y = c.create<LayerNormOp>(x.getType(), sum, gamma, beta,
                              c.b.getI64IntegerAttr(rank - 1),
                              c.b.getF32FloatAttr(eps));
  if (failed(c.push(y)))
    return failure();
  Value mean, inv;
  if (c.outputUsed(1) && Simplified) {
    c.emitError() << "output 1 (mean) is not defined for the simplified "
                     "(RMS) norm";
    return failure();
  }
  if (c.outputUsed(1) || c.outputUsed(2)) {
    if (Simplified) {
      inv = rmsInvStd(c, sum, rank - 1, eps);
    } else {
      std::tie(mean, inv) = meanInvStd(c, sum, eps);
      if (!mean)
        return failure();
    }
    if (!inv)
      return failure();
  }
  c.results.append({mean, inv, sum});
  return success();
}

//===----------------------------------------------------------------------===//
// Rotary embedding
//===----------------------------------------------------------------------===//

/// cos/sin rows of `cache` ([max_pos, R/2]) at `positions` ([B', S], i64):
/// [B', S, R/2].
Value gatherRows(NodeContext &c, Value cache, Value positions) {
  SmallVector<int64_t> shape(shapeOf(positions));
  shape.push_back(shapeOf(cache)[1]);
  return c.create<GatherOp>(withShape(cache, shape), cache, positions, 0);
}

/// Checks that cos/sin caches are 2-D [max_pos, R/2] of X's element type.
LogicalResult checkCaches(NodeContext &c, Value cosV, Value sinV, Value x) {
  if (tensorType(cosV).getRank() != 2 || shapeOf(cosV) != shapeOf(sinV) ||
      eltOf(cosV) != eltOf(x) || eltOf(sinV) != eltOf(x)) {
    c.emitError() << "cos_cache " << shapeString(shapeOf(cosV))
                  << " and sin_cache " << shapeString(shapeOf(sinV))
                  << " must be the same 2-D [max_position, rotary_dim / 2] "
                     "of the input's element type";
    return failure();
  }
  return success();
}

/// RotaryEmbedding (com.microsoft): input [B, S, H*D] (num_heads, or D from
/// the caches) or [B, H, S, D]; position_ids [B, S], or [1] (an offset:
/// position = offset + s); caches [max_pos, R/2].
LogicalResult convertMsRotary(NodeContext &c) {
  Value x = c.required(0, "input"), pos = c.required(1, "position_ids"),
        cosV = c.required(2, "cos_cache"), sinV = c.required(3, "sin_cache");
  if (!x || !pos || !cosV || !sinV)
    return failure();
  if (failed(requireIntAttr(c, "is_packed_batching", 0,
                            "packed batching is not implemented")) ||
      failed(requireFloatAttr(c, "scale", 1.0f,
                              "ONNX Runtime's kernels do not apply it")) ||
      failed(checkCaches(c, cosV, sinV, x)))
    return failure();
  int64_t rank = tensorType(x).getRank();
  if (rank != 3 && rank != 4) {
    c.emitError() << "input must be 3-D [B, S, hidden] or 4-D [B, H, S, D], "
                     "got rank "
                  << rank;
    return failure();
  }
  int64_t half = shapeOf(cosV)[1];
  int64_t rot = c.getInt("rotary_embedding_dim", 0);
  Value in = x;
  if (rank == 3) {
    int64_t hidden = shapeOf(x)[2], heads = c.getInt("num_heads", 0);
    if (heads == 0 && rot != 0) {
      c.emitError() << "num_heads is required with rotary_embedding_dim "
                    << rot;
      return failure();
    }
    int64_t headSize = heads > 0 ? (hidden % heads ? -1 : hidden / heads)
                                 : 2 * half;
    if (heads < 0 || headSize <= 0 || hidden % headSize != 0) {
      c.emitError() << "hidden size " << hidden
                    << " is not divisible into heads (num_heads = " << heads
                    << ", cache half-width " << half << ")";
      return failure();
    }
    in = toHeads(c, x, hidden / headSize);
    if (!in)
      return failure();
  }
  int64_t b = shapeOf(in)[0], s = shapeOf(in)[2], d = shapeOf(in)[3];
  if (rot == 0)
    rot = d;
  if (2 * half != rot || rot > d) {
    c.emitError() << "rotary dim " << rot << " (head size " << d
                  << ") does not match the caches' half-width " << half;
    return failure();
  }
  if (!isa<IntegerType>(eltOf(pos))) {
    c.emitError() << "position_ids must be integer";
    return failure();
  }
  Value positions = c.cast(pos, c.b.getI64Type());
  if (!positions)
    return failure();
  if (tensorType(positions).getNumElements() == 1 &&
      shapeOf(positions) != ArrayRef<int64_t>{b, s}) {
    positions = c.reshape(positions, {1, 1});
    positions = positions ? c.binary<AddOp>(positions, iota(c, s, 1, 2))
                          : Value();
  } else if (shapeOf(positions) != ArrayRef<int64_t>{b, s}) {
    c.emitError() << "position_ids " << shapeString(shapeOf(pos))
                  << " must be [" << b << ", " << s << "] or [1]";
    return failure();
  }
  Value cg = positions ? gatherRows(c, cosV, positions) : Value();
  Value sg = cg ? gatherRows(c, sinV, positions) : Value();
  Value y = sg ? c.create<RotaryOp>(in.getType(), in, cg, sg,
                                    c.getInt("interleaved", 0) != 0)
               : Value();
  if (y && rank == 3)
    y = fromHeads(c, y);
  return c.push(y);
}

//===----------------------------------------------------------------------===//
// GroupQueryAttention
//===----------------------------------------------------------------------===//

/// `past` ([B, Hkv, P, D], or null) with the new rows `fresh` ([B, Hkv, S,
/// D]) written at each row's past length `pastLen` ([B, 1, 1, 1], i64):
/// rows [0, pastLen) from past, [pastLen, pastLen + S) new, the rest zero,
/// T rows in all (ONNX Runtime's present cache when it does not share the
/// past's buffer).
Value presentCache(NodeContext &c, Value past, Value fresh, Value pastLen,
                   int64_t t) {
  ArrayRef<int64_t> fs = shapeOf(fresh);
  int64_t b = fs[0], h = fs[1], s = fs[2], d = fs[3];
  int64_t p = past ? shapeOf(past)[2] : 0;
  if (p == 0)
    past = Value(); // an empty past contributes no rows
  // Every row starts at 0 and fills the cache: present is the new rows.
  if (!past && t == s && c.constantOf(pastLen) &&
      llvm::all_of(c.constantOf(pastLen).getValues<APInt>(),
                   [](const APInt &v) { return v.isZero(); }))
    return fresh;
  Value base;
  auto zeros = [&](int64_t rows) {
    auto type = RankedTensorType::get({b, h, rows, d}, eltOf(fresh));
    return c.constant(DenseElementsAttr::get(
        type, FloatAttr::get(eltOf(fresh), 0.0).getValue()));
  };
  if (past) {
    base = p < t ? c.concat({past, zeros(t - p)}, 2) : past;
    // Keep only the rows below each row's past length.
    Value keep = base ? c.binary<LessOp>(iota(c, t, 2, 4), pastLen, true)
                      : Value();
    base = keep ? c.create<WhereOp>(base.getType(), keep, base,
                                    c.scalar(eltOf(fresh), 0.0))
                : Value();
  } else {
    base = zeros(t);
  }
  if (!base)
    return {};
  // Indices [B, Hkv, S, 3] = (b, h, pastLen[b] + s).
  SmallVector<int64_t> idx;
  idx.reserve(b * h * s * 3);
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = 0; j < h; ++j)
      for (int64_t k = 0; k < s; ++k)
        idx.append({i, j, k});
  Value offset = c.concat({c.constI64(SmallVector<int64_t>(b * 2, 0),
                                      {b, 1, 1, 2}),
                           pastLen},
                          3);
  Value indices =
      offset ? c.binary<AddOp>(c.constI64(idx, {b, h, s, 3}), offset)
             : Value();
  return indices ? c.create<ScatterNDOp>(base.getType(), base, indices, fresh)
                 : Value();
}

/// Attention with the scores soft-capped before the softmax (kiln.attention
/// has no softcap): scores = cap * tanh(q k^T * scale / cap), keys the
/// boolean `mask` ([B, 1, S, T]) drops get -inf, softmax, times v. The kv
/// heads are repeated to the query heads first (query head h reads kv head
/// h / (H / Hkv)).
Value softcapAttention(NodeContext &c, Value q, Value k, Value v, Value mask,
                       float scale, float cap) {
  ArrayRef<int64_t> qs = shapeOf(q), ks = shapeOf(k);
  int64_t b = qs[0], h = qs[1], s = qs[2], d = qs[3];
  int64_t kvh = ks[1], t = ks[2], group = h / kvh;
  Type elt = eltOf(q);
  auto repeat = [&](Value x) -> Value {
    if (group == 1)
      return x;
    Value r = c.reshape(x, {b, kvh, 1, t, d});
    r = r ? c.expand(r, {b, kvh, group, t, d}) : r;
    return r ? c.reshape(r, {b, h, t, d}) : r;
  };
  Value kr = repeat(k), vr = kr ? repeat(v) : Value();
  Value kt = vr ? c.transpose(kr, {0, 1, 3, 2}) : Value();
  auto scoreType = RankedTensorType::get({b, h, s, t}, elt);
  Value scores = kt ? c.create<MatmulOp>(scoreType, q, kt) : Value();
  scores = scores ? c.binary<MulOp>(scores, c.scalar(elt, scale / cap))
                  : Value();
  scores = scores ? c.create<TanhOp>(scoreType, scores) : Value();
  scores = scores ? c.binary<MulOp>(scores, c.scalar(elt, cap)) : Value();
  scores = scores ? c.create<WhereOp>(
                        scoreType, mask, scores,
                        c.scalar(elt, -std::numeric_limits<double>::infinity()))
                  : Value();
  Value probs = scores ? c.create<SoftmaxOp>(scoreType, scores, 3) : Value();
  return probs ? c.create<MatmulOp>(RankedTensorType::get({b, h, s, d}, elt),
                                    probs, vr)
               : Value();
}

/// GroupQueryAttention in a KV-cache step import (`--max-seq-len`,
/// docs/kv-cache.md): the step that fills the last S slots of a full cache,
/// so present is past ++ new (`kiln.concat` on axis 2, the form
/// kiln-kv-cache maps onto kiln.kv_append) and query s sees keys t <= P + s,
/// kiln.attention's causal rule (kiln.kv_attention's own after the
/// rewrite). The new rows then land at each row's kv_pos, and the rotary
/// positions stay seqlens_k + 1 - S + s, as ONNX Runtime computes them: a
/// generation's mask (1 at slots <= kv_pos) makes the two agree. A local
/// window, softcap or attention_bias has no kiln.kv_attention form: an
/// error here rather than a graph kiln-kv-cache would leave unmapped.
LogicalResult kvStepAttention(NodeContext &c, Value q, Value k, Value v,
                              Value pastK, Value pastV, float scale,
                              int64_t window, float softcap, Value bias) {
  auto refuse = [&](StringRef what) {
    c.emitError() << what
                  << " has no KV-cache form (--max-seq-len); compile without "
                     "--max-seq-len to keep past/present as graph inputs "
                     "and outputs";
    return failure();
  };
  if (!pastK)
    return refuse("a GroupQueryAttention without past_key/past_value");
  if (window > 0)
    return refuse("local_window_size");
  if (softcap > 0.0f)
    return refuse("softcap");
  if (bias)
    return refuse("attention_bias");
  Value presentK = c.concat({pastK, k}, 2);
  Value presentV = presentK ? c.concat({pastV, v}, 2) : Value();
  if (!presentV)
    return failure();
  ArrayRef<int64_t> qs = shapeOf(q);
  auto outType = RankedTensorType::get(qs, eltOf(q));
  Value y = c.create<AttentionOp>(outType, q, presentK, presentV, Value(),
                                  c.b.getF32FloatAttr(scale),
                                  c.b.getBoolAttr(qs[2] > 1));
  y = y ? fromHeads(c, y) : Value();
  if (!y)
    return failure();
  c.results.append({y, presentK, presentV});
  return success();
}

LogicalResult convertGroupQueryAttention(NodeContext &c) {
  Value query = c.required(0, "query");
  Value seqlens = c.required(5, "seqlens_k");
  if (!query || !seqlens || !c.required(6, "total_sequence_length"))
    return failure();
  Value key = c.input(1), value = c.input(2), pastK = c.input(3),
        pastV = c.input(4), cosV = c.input(7), sinV = c.input(8);
  Value positionIds = c.input(9), bias = c.input(10);
  if (c.input(11)) {
    c.emitError() << "input 11 ('head_sink') is not supported";
    return failure();
  }
  if (c.outputUsed(3)) {
    c.emitError() << "output 3 (output_qk) is not supported";
    return failure();
  }
  int64_t window = c.getInt("local_window_size", -1);
  if (window != -1 && window <= 0) {
    c.emitError() << "local_window_size = " << window
                  << " is not supported (expected -1 or a positive window)";
    return failure();
  }
  float softcap = c.getFloat("softcap", 0.0f);
  if (softcap < 0.0f || !std::isfinite(softcap)) {
    c.emitError() << "softcap must be 0 or a positive number";
    return failure();
  }
  if (failed(requireIntAttr(c, "smooth_softmax", 0,
                            "smooth softmax is not implemented")) ||
      failed(requireIntAttr(c, "qk_output", 0,
                            "the QK output is not implemented")))
    return failure();
  int64_t heads = c.getInt("num_heads", 0), kvHeads = c.getInt("kv_num_heads", 0);
  if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
    c.emitError() << "num_heads (" << heads
                  << ") must be a positive multiple of kv_num_heads ("
                  << kvHeads << ")";
    return failure();
  }
  if (!key != !value || !pastK != !pastV) {
    c.emitError() << "key and value (and past_key and past_value) must be "
                     "given together";
    return failure();
  }
  if (tensorType(query).getRank() != 3) {
    c.emitError() << "query must be 3-D [B, S, hidden], got "
                  << shapeString(shapeOf(query));
    return failure();
  }
  int64_t b = shapeOf(query)[0], s = shapeOf(query)[1], qw = shapeOf(query)[2];
  // Packed QKV: query is [B, S, (H + 2 Hkv) * D].
  int64_t parts = key ? heads : heads + 2 * kvHeads;
  if (qw % parts != 0) {
    c.emitError() << "query hidden size " << qw << " is not divisible by "
                  << parts << (key ? " (num_heads)"
                                   : " (num_heads + 2 * kv_num_heads, packed "
                                     "QKV)");
    return failure();
  }
  int64_t d = qw / parts;
  Value q3 = query, k3 = key, v3 = value;
  if (!key) {
    q3 = c.slice(query, {0, 0, 0}, {1, 1, 1}, {b, s, heads * d});
    k3 = q3 ? c.slice(query, {0, 0, heads * d}, {1, 1, 1},
                      {b, s, kvHeads * d})
            : Value();
    v3 = k3 ? c.slice(query, {0, 0, (heads + kvHeads) * d}, {1, 1, 1},
                      {b, s, kvHeads * d})
            : Value();
    if (!v3)
      return failure();
  }
  SmallVector<int64_t> kvShape = {b, s, kvHeads * d};
  if (shapeOf(k3) != ArrayRef<int64_t>(kvShape) ||
      shapeOf(v3) != ArrayRef<int64_t>(kvShape)) {
    c.emitError() << "key " << shapeString(shapeOf(k3)) << " and value "
                  << shapeString(shapeOf(v3)) << " must be "
                  << shapeString(kvShape);
    return failure();
  }
  SmallVector<int64_t> cacheShape;
  if (pastK) {
    int64_t rows = tensorType(pastK).getRank() == 4 ? shapeOf(pastK)[2] : -1;
    cacheShape = {b, kvHeads, rows, d};
    if (rows < 0 || shapeOf(pastK) != ArrayRef<int64_t>(cacheShape) ||
        shapeOf(pastV) != ArrayRef<int64_t>(cacheShape)) {
      c.emitError() << "past_key " << shapeString(shapeOf(pastK))
                    << " and past_value " << shapeString(shapeOf(pastV))
                    << " must be [" << b << ", " << kvHeads << ", past, " << d
                    << "] (BNSH)";
      return failure();
    }
  }
  if (tensorType(seqlens).getNumElements() != b ||
      !isa<IntegerType>(eltOf(seqlens))) {
    c.emitError() << "seqlens_k must be an integer [" << b << "], got "
                  << shapeString(shapeOf(seqlens));
    return failure();
  }
  auto totalV = c.constInts(6, "total_sequence_length");
  if (failed(totalV))
    return failure();
  if (totalV->size() != 1 || (*totalV)[0] < s) {
    c.emitError() << "total_sequence_length must be one value >= the "
                     "sequence length "
                  << s;
    return failure();
  }
  int64_t total = (*totalV)[0];
  int64_t p = pastK ? shapeOf(pastK)[2] : 0;
  int64_t t = std::max(total, p);
  // ONNX Runtime: a first prompt (S == total_sequence_length) starts every
  // row at 0; otherwise row b's past length is seqlens_k[b] + 1 - S.
  bool firstPrompt = s == total;
  if (!firstPrompt && !pastK) {
    c.emitError() << "past_key is required when the sequence length (" << s
                  << ") differs from total_sequence_length (" << total << ")";
    return failure();
  }
  Value pastLen;
  if (firstPrompt) {
    pastLen = c.constI64(SmallVector<int64_t>(b, 0), {b, 1, 1, 1});
  } else {
    Value sk = c.cast(seqlens, c.b.getI64Type());
    sk = sk ? c.reshape(sk, {b, 1, 1, 1}) : Value();
    pastLen = sk ? c.binary<AddOp>(sk, c.constI64({1 - s}, {1, 1, 1, 1}))
                 : Value();
  }
  if (!pastLen)
    return failure();

  Value q = toHeads(c, q3, heads);
  Value k = q ? toHeads(c, k3, kvHeads) : Value();
  Value v = k ? toHeads(c, v3, kvHeads) : Value();
  if (!v)
    return failure();
  if (c.getInt("do_rotary", 0) != 0) {
    if (!cosV || !sinV) {
      c.emitError() << "do_rotary = 1 needs cos_cache and sin_cache";
      return failure();
    }
    if (failed(checkCaches(c, cosV, sinV, q)))
      return failure();
    int64_t half = shapeOf(cosV)[1];
    if (2 * half > d) {
      c.emitError() << "rotary dim " << 2 * half << " exceeds the head size "
                    << d;
      return failure();
    }
    // Position of query s of row b: position_ids[b, s] when given, else
    // pastLen[b] + s.
    Value positions;
    if (positionIds) {
      if (!isa<IntegerType>(eltOf(positionIds)) ||
          tensorType(positionIds).getNumElements() != b * s) {
        c.emitError() << "position_ids " << shapeString(shapeOf(positionIds))
                      << " must be integer [" << b << ", " << s << "]";
        return failure();
      }
      positions = c.cast(positionIds, c.b.getI64Type());
      positions = positions ? c.reshape(positions, {b, s}) : Value();
    } else {
      Value rowStart = c.reshape(pastLen, {b, 1});
      positions =
          rowStart ? c.binary<AddOp>(rowStart, iota(c, s, 1, 2)) : Value();
    }
    Value cg = positions ? gatherRows(c, cosV, positions) : Value();
    Value sg = cg ? gatherRows(c, sinV, positions) : Value();
    bool interleaved = c.getInt("rotary_interleaved", 0) != 0;
    q = sg ? c.create<RotaryOp>(q.getType(), q, cg, sg, interleaved) : Value();
    k = q ? c.create<RotaryOp>(k.getType(), k, cg, sg, interleaved) : Value();
    if (!k)
      return failure();
  }
  float scale = c.getFloat("scale", 0.0f);
  if (scale == 0.0f)
    scale = 1.0f / std::sqrt(float(d));
  if (c.kvStep)
    return kvStepAttention(c, q, k, v, pastK, pastV, scale, window, softcap,
                           bias);
  Value presentK = presentCache(c, pastK, k, pastLen, t);
  Value presentV = presentK ? presentCache(c, pastV, v, pastLen, t) : Value();
  if (!presentV)
    return failure();
  // Query s of row b attends keys t <= pastLen[b] + s, and with a local
  // window W only the last W of them (itself included, as ONNX Runtime's
  // CPU kernel): t > pastLen[b] + s - W.
  Value last = c.binary<AddOp>(pastLen, iota(c, s, 2, 4));
  Value mask = last ? c.binary<LessEqualOp>(iota(c, t, 3, 4), last, true)
                    : Value();
  if (mask && window > 0) {
    Value first =
        c.binary<SubOp>(last, c.constI64({window - 1}, {1, 1, 1, 1}));
    Value inWindow =
        first ? c.binary<GreaterEqualOp>(iota(c, t, 3, 4), first, true)
              : Value();
    mask = inWindow ? c.binary<AndOp>(mask, inWindow) : Value();
  }
  if (!mask)
    return failure();
  // attention_bias is added to the scores of the keys the mask keeps: one
  // additive mask, -inf where the boolean one drops a key.
  if (bias) {
    if (softcap > 0.0f) {
      c.emitError() << "attention_bias with softcap is not supported";
      return failure();
    }
    if (eltOf(bias) != eltOf(q) ||
        !kiln::isBroadcastableTo(shapeOf(bias), {b, heads, s, t})) {
      c.emitError() << "attention_bias " << shapeString(shapeOf(bias))
                    << " must broadcast to " << shapeString({b, heads, s, t})
                    << " with the query's element type";
      return failure();
    }
    auto full = kiln::broadcastShapes(shapeOf(mask), shapeOf(bias));
    mask = c.create<WhereOp>(
        RankedTensorType::get(*full, eltOf(q)), mask, bias,
        c.scalar(eltOf(q), -std::numeric_limits<double>::infinity()));
    if (!mask)
      return failure();
  }
  auto outType = RankedTensorType::get({b, heads, s, d}, eltOf(q));
  Value y = softcap > 0.0f
                ? softcapAttention(c, q, presentK, presentV, mask, scale,
                                   softcap)
                : c.create<AttentionOp>(outType, q, presentK, presentV, mask,
                                        c.b.getF32FloatAttr(scale),
                                        c.b.getBoolAttr(false));
  y = y ? fromHeads(c, y) : Value();
  if (!y)
    return failure();
  c.results.append({y, presentK, presentV});
  return success();
}

//===----------------------------------------------------------------------===//
// MatMulNBits
//===----------------------------------------------------------------------===//

/// `v` reshaped to 1-D when it has `count` elements; else a located error.
Value flatInput(NodeContext &c, Value v, int64_t count, StringRef what,
                StringRef expected) {
  if (tensorType(v).getNumElements() != count) {
    c.emitError() << what << " " << shapeString(shapeOf(v)) << " must have "
                  << count << " elements (" << expected << ")";
    return {};
  }
  return c.reshape(v, {count});
}

LogicalResult convertMatMulNBits(NodeContext &c) {
  Value a = c.required(0, "A"), w = c.required(1, "B"),
        scales = c.required(2, "scales");
  if (!a || !w || !scales)
    return failure();
  Value zp = c.input(3), bias = c.input(5);
  if (c.input(4)) {
    c.emitError() << "input 4 ('g_idx') is not supported";
    return failure();
  }
  int64_t k = c.getInt("K", 0), n = c.getInt("N", 0);
  int64_t bits = c.getInt("bits", 4), block = c.getInt("block_size", 0);
  if (k <= 0 || n <= 0) {
    c.emitError() << "K and N must be positive, got K = " << k << ", N = " << n;
    return failure();
  }
  if (bits != 4 && bits != 8) {
    c.emitError() << "bits = " << bits << " is not supported (expected 4 or 8)";
    return failure();
  }
  if (block < 16 || !llvm::isPowerOf2_64(block) || k % block != 0) {
    c.emitError() << "block_size = " << block
                  << " must be a power of two >= 16 that divides K = " << k;
    return failure();
  }
  if (!isa<FloatType>(eltOf(a)) || shapeOf(a).empty() ||
      shapeOf(a).back() != k) {
    c.emitError() << "A " << shapeString(shapeOf(a))
                  << " must be a float tensor ending in K = " << k;
    return failure();
  }
  int64_t blocks = k / block;
  SmallVector<int64_t> wShape = {n, blocks, block * bits / 8};
  if (!eltOf(w).isUnsignedInteger(8) ||
      shapeOf(w) != ArrayRef<int64_t>(wShape)) {
    c.emitError() << "B " << shapeString(shapeOf(w)) << " must be uint8 "
                  << shapeString(wShape)
                  << " (N, K / block_size, block_size * bits / 8)";
    return failure();
  }
  if (eltOf(scales) != eltOf(a)) {
    c.emitError() << "scales must have A's element type";
    return failure();
  }
  scales = flatInput(c, scales, n * blocks, "scales", "N * K / block_size");
  if (!scales)
    return failure();
  if (zp) {
    if (eltOf(zp).isUnsignedInteger(8))
      zp = flatInput(c, zp, n * ((blocks * bits + 7) / 8),
                     "packed zero_points", "N * ceil(n_blocks * bits / 8) bytes");
    else if (eltOf(zp) == eltOf(a))
      zp = flatInput(c, zp, n * blocks, "float zero_points",
                     "N * K / block_size");
    else {
      c.emitError() << "zero_points must be uint8 or A's element type";
      return failure();
    }
    if (!zp)
      return failure();
  }
  if (bias && (eltOf(bias) != eltOf(a) ||
               shapeOf(bias) != ArrayRef<int64_t>{n})) {
    c.emitError() << "bias " << shapeString(shapeOf(bias)) << " must be [" << n
                  << "] of A's element type";
    return failure();
  }
  SmallVector<int64_t> shape(shapeOf(a));
  shape.back() = n;
  auto i64 = [&](int64_t v) { return c.b.getI64IntegerAttr(v); };
  return c.push(c.create<MatmulNBitsOp>(withShape(a, shape), a, w, scales, zp,
                                        bias, i64(k), i64(n), i64(bits),
                                        i64(block)));
}

constexpr int64_t kAnyVersion = std::numeric_limits<int64_t>::max();

const ContribConverter kContrib[] = {
    // ONNX Runtime registers it in the default domain at every opset.
    {"", "SimplifiedLayerNormalization", kAnyVersion,
     convertSimplifiedLayerNorm},
    {"com.microsoft", "SkipSimplifiedLayerNormalization", 1,
     convertSkipNorm<true>},
    {"com.microsoft", "SkipLayerNormalization", 1, convertSkipNorm<false>},
    {"com.microsoft", "RotaryEmbedding", 1, convertMsRotary},
    {"com.microsoft", "GroupQueryAttention", 1, convertGroupQueryAttention},
    {"com.microsoft", "MatMulNBits", 1, convertMatMulNBits},
};

} // namespace

const ContribConverter *kiln::import::lookupContribConverter(StringRef domain,
                                                             StringRef opType) {
  for (const ContribConverter &conv : kContrib)
    if (conv.domain == domain && conv.opType == opType)
      return &conv;
  return nullptr;
}
