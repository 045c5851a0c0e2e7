//===- ConvertNN.cpp - ONNX linear algebra, norms and attention to kiln ---===//
//
// Converters for MatMul/Gemm (kiln.matmul, kiln.linear), the reductions,
// Softmax, LayerNormalization and RMSNormalization, and the opset-23
// transformer ops Attention and RotaryEmbedding (which also accept the 3-D
// [batch, seq, hidden] layout by reshaping into heads and back).
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "llvm/ADT/SmallSet.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::import;

namespace {

//===----------------------------------------------------------------------===//
// MatMul and Gemm
//===----------------------------------------------------------------------===//

LogicalResult convertMatMul(NodeContext &c) {
  Value a = c.required(0, "A"), bv = c.required(1, "B");
  if (!a || !bv)
    return failure();
  int64_t ra = tensorType(a).getRank(), rb = tensorType(bv).getRank();
  if (ra < 1 || rb < 1) {
    c.emitError() << "operands must have rank >= 1";
    return failure();
  }
  int64_t k = shapeOf(a).back();
  int64_t kb = rb == 1 ? shapeOf(bv)[0] : shapeOf(bv)[rb - 2];
  if (k != kb) {
    c.emitError() << "contraction dims differ: " << shapeString(shapeOf(a))
                  << " x " << shapeString(shapeOf(bv));
    return failure();
  }
  // A 2-D right operand is a dense layer.
  if (rb == 2) {
    SmallVector<int64_t> shape(shapeOf(a));
    shape.back() = shapeOf(bv)[1];
    return c.push(c.create<LinearOp>(withShape(a, shape), a, bv, Value(),
                                      /*transpose_weight=*/false));
  }
  Value a2 = ra == 1 ? c.reshape(a, {1, k}) : a;
  Value b2 = rb == 1 ? c.reshape(bv, {k, 1}) : bv;
  if (!a2 || !b2)
    return failure();
  auto batch = kiln::broadcastShapes(shapeOf(a2).drop_back(2),
                                     shapeOf(b2).drop_back(2));
  if (failed(batch)) {
    c.emitError() << "batch dims of " << shapeString(shapeOf(a)) << " and "
                  << shapeString(shapeOf(bv)) << " are not broadcastable";
    return failure();
  }
  SmallVector<int64_t> shape = *batch;
  int64_t m = shapeOf(a2)[shapeOf(a2).size() - 2], n = shapeOf(b2).back();
  shape.append({m, n});
  Value r = c.create<MatmulOp>(withShape(a2, shape), a2, b2);
  if (!r)
    return failure();
  SmallVector<int64_t> out = *batch;
  if (ra != 1)
    out.push_back(m);
  if (rb != 1)
    out.push_back(n);
  return c.push(c.reshape(r, out));
}

LogicalResult convertGemm(NodeContext &c) {
  Value a = c.required(0, "A"), w = c.required(1, "B"), bias = c.input(2);
  if (!a || !w)
    return failure();
  if (tensorType(a).getRank() != 2 || tensorType(w).getRank() != 2) {
    c.emitError() << "A and B must be 2-D";
    return failure();
  }
  float alpha = c.getFloat("alpha", 1.0f), beta = c.getFloat("beta", 1.0f);
  bool transB = c.getInt("transB", 0) != 0;
  if (c.getInt("transA", 0) && !(a = c.transpose(a, {1, 0})))
    return failure();
  int64_t k = shapeOf(a)[1], m = shapeOf(a)[0];
  int64_t kb = transB ? shapeOf(w)[1] : shapeOf(w)[0];
  int64_t n = transB ? shapeOf(w)[0] : shapeOf(w)[1];
  if (k != kb) {
    c.emitError() << "contraction dims differ: A' is [" << m << "x" << k
                  << "], B' has K = " << kb;
    return failure();
  }
  // A bias of N elements with beta = 1 and alpha = 1 folds into kiln.linear.
  Value linearBias;
  if (bias && alpha == 1.0f && beta == 1.0f &&
      tensorType(bias).getNumElements() == n &&
      (shapeOf(bias) == ArrayRef<int64_t>{n} ||
       shapeOf(bias) == ArrayRef<int64_t>{1, n})) {
    linearBias = c.reshape(bias, {n});
    bias = Value();
  }
  Value y = c.create<LinearOp>(withShape(a, {m, n}), a, w, linearBias, transB);
  if (y && alpha != 1.0f)
    y = c.binary<MulOp>(y, c.scalar(eltOf(y), alpha));
  if (y && bias) {
    Value scaled = beta == 1.0f ? bias
                                : c.binary<MulOp>(bias, c.scalar(eltOf(bias),
                                                                 beta));
    y = scaled ? c.binary<AddOp>(y, scaled) : Value();
  }
  return c.push(y);
}

//===----------------------------------------------------------------------===//
// Reductions, softmax, norms
//===----------------------------------------------------------------------===//

} // namespace

FailureOr<ReduceSpec> kiln::import::reduceSpec(NodeContext &c, Value x,
                                               int64_t axesInputSince) {
  int64_t rank = tensorType(x).getRank();
  ReduceSpec spec;
  if (c.opset >= axesInputSince) {
    if (c.input(1)) {
      auto a = c.constInts(1, "axes");
      if (failed(a))
        return failure();
      spec.axes = *a;
    }
  } else if (auto a = c.getInts("axes")) {
    spec.axes = *a;
  }
  spec.keepdims = c.getInt("keepdims", 1) != 0;
  if (spec.axes.empty()) {
    if (c.getInt("noop_with_empty_axes", 0)) {
      spec.noop = true;
      return spec;
    }
    for (int64_t i = 0; i < rank; ++i)
      spec.axes.push_back(i);
  }
  llvm::SmallSet<int64_t, 4> set;
  for (int64_t &a : spec.axes) {
    auto axis = c.normAxis(a, rank, "axis");
    if (!axis)
      return failure();
    a = *axis;
    if (!set.insert(a).second) {
      c.emitError() << "axis " << a << " is repeated";
      return failure();
    }
  }
  llvm::sort(spec.axes);
  for (auto [i, d] : llvm::enumerate(shapeOf(x)))
    if (!set.contains(i))
      spec.shape.push_back(d);
    else if (spec.keepdims)
      spec.shape.push_back(1);
  return spec;
}

namespace {

/// Shared reduction converter; `axesInputSince` is the first opset with axes
/// as input 1 instead of an attribute.
template <typename OpTy, int64_t AxesInputSince>
LogicalResult convertReduce(NodeContext &c) {
  Value x = c.required(0, "data");
  if (!x)
    return failure();
  auto spec = reduceSpec(c, x, AxesInputSince);
  if (failed(spec))
    return failure();
  if (spec->noop)
    return c.push(x);
  return c.push(
      c.create<OpTy>(withShape(x, spec->shape), x, spec->axes, spec->keepdims));
}

LogicalResult convertSoftmax(NodeContext &c) {
  Value x = c.required(0, "input");
  if (!x)
    return failure();
  auto axis = c.normAxis(c.getInt("axis", -1), tensorType(x).getRank(), "axis");
  if (!axis)
    return failure();
  return c.push(c.create<SoftmaxOp>(x.getType(), x, *axis));
}

LogicalResult convertLayerNorm(NodeContext &c) {
  Value x = c.required(0, "X"), scale = c.required(1, "Scale"),
        bias = c.input(2);
  if (!x || !scale)
    return failure();
  int64_t rank = tensorType(x).getRank();
  auto axis = c.normAxis(c.getInt("axis", -1), rank, "axis");
  if (!axis)
    return failure();
  float eps = c.getFloat("epsilon", 1e-5f);
  Value y = c.create<LayerNormOp>(x.getType(), x, scale, bias,
                                  c.b.getI64IntegerAttr(*axis),
                                  c.b.getF32FloatAttr(eps));
  if (!y)
    return failure();
  c.results.push_back(y);
  if (!c.outputUsed(1) && !c.outputUsed(2))
    return success();
  // Mean and InvStdDev: reduce over [axis, rank) with kept dims.
  SmallVector<int64_t> axes, shape(shapeOf(x).take_front(*axis));
  for (int64_t i = *axis; i < rank; ++i) {
    axes.push_back(i);
    shape.push_back(1);
  }
  Value mean = c.create<ReduceMeanOp>(withShape(x, shape), x, axes, true);
  Value diff = mean ? c.binary<SubOp>(x, mean) : Value();
  Value sq = diff ? c.binary<MulOp>(diff, diff) : Value();
  Value var = sq ? c.create<ReduceMeanOp>(withShape(x, shape), sq, axes, true)
                 : Value();
  Value sum = var ? c.binary<AddOp>(var, c.scalar(eltOf(x), eps)) : Value();
  Value inv = sum ? c.create<RsqrtOp>(sum.getType(), sum) : Value();
  if (!inv)
    return failure();
  c.results.append({mean, inv});
  return success();
}

LogicalResult convertRmsNorm(NodeContext &c) {
  Value x = c.required(0, "X"), scale = c.required(1, "scale");
  if (!x || !scale)
    return failure();
  auto axis = c.normAxis(c.getInt("axis", -1), tensorType(x).getRank(), "axis");
  if (!axis)
    return failure();
  return c.push(c.create<RmsNormOp>(x.getType(), x, scale,
                                     c.b.getI64IntegerAttr(*axis),
                                     c.b.getF32FloatAttr(
                                         c.getFloat("epsilon", 1e-5f))));
}

//===----------------------------------------------------------------------===//
// Attention and rotary embedding
//===----------------------------------------------------------------------===//

/// [B, S, H*D] -> [B, H, S, D].
Value splitHeads(NodeContext &c, Value x, int64_t heads, StringRef what) {
  ArrayRef<int64_t> s = shapeOf(x);
  if (heads <= 0 || s[2] % heads != 0) {
    c.emitError() << what << " hidden size " << s[2]
                  << " is not divisible by the head count " << heads
                  << " (set the num_heads attributes for 3-D inputs)";
    return {};
  }
  Value r = c.reshape(x, {s[0], s[1], heads, s[2] / heads});
  return r ? c.transpose(r, {0, 2, 1, 3}) : r;
}

/// [B, H, S, D] -> [B, S, H*D].
Value mergeHeads(NodeContext &c, Value x) {
  ArrayRef<int64_t> s = shapeOf(x);
  SmallVector<int64_t> out = {s[0], s[2], s[1] * s[3]};
  Value t = c.transpose(x, {0, 2, 1, 3});
  return t ? c.reshape(t, out) : t;
}

LogicalResult convertAttention(NodeContext &c) {
  Value q = c.required(0, "Q"), k = c.required(1, "K"), v = c.required(2, "V");
  if (!q || !k || !v)
    return failure();
  Value mask = c.input(3), pastK = c.input(4), pastV = c.input(5);
  if (c.getFloat("softcap", 0.0f) != 0.0f) {
    c.emitError() << "softcap is not supported";
    return failure();
  }
  if (c.outputUsed(3)) {
    c.emitError() << "output 3 (qk_matmul_output) is not supported";
    return failure();
  }
  if (!pastK != !pastV) {
    c.emitError() << "past_key and past_value must be given together";
    return failure();
  }
  int64_t rank = tensorType(q).getRank();
  if (rank != 3 && rank != 4) {
    c.emitError() << "Q must be 3-D or 4-D, got rank " << rank;
    return failure();
  }
  if (tensorType(k).getRank() != rank || tensorType(v).getRank() != rank) {
    c.emitError() << "Q, K and V must have the same rank";
    return failure();
  }
  if (rank == 3) {
    int64_t qh = c.getInt("q_num_heads", 0), kvh = c.getInt("kv_num_heads", 0);
    q = splitHeads(c, q, qh, "Q");
    k = q ? splitHeads(c, k, kvh, "K") : Value();
    v = k ? splitHeads(c, v, kvh, "V") : Value();
    if (!v)
      return failure();
  }
  if (pastK) {
    k = c.concat({pastK, k}, 2);
    v = k ? c.concat({pastV, v}, 2) : Value();
    if (!v)
      return failure();
  }
  ArrayRef<int64_t> qs = shapeOf(q), ks = shapeOf(k), vs = shapeOf(v);
  if (qs[0] != ks[0] || ks[1] == 0 || qs[1] % ks[1] != 0 || qs[3] != ks[3] ||
      ks[2] != vs[2] || ks[1] != vs[1]) {
    c.emitError() << "incompatible Q " << shapeString(qs) << ", K "
                  << shapeString(ks) << ", V " << shapeString(vs);
    return failure();
  }
  float scale = c.attr("scale") ? c.getFloat("scale", 1.0f)
                                : 1.0f / std::sqrt(float(qs[3]));
  int64_t s = qs[2], t = ks[2];
  bool causal = c.getInt("is_causal", 0) != 0;
  // kiln's causal mask is bottom-right aligned (like ONNX with a past);
  // without a past ONNX aligns top-left, so S != T needs an explicit mask.
  if (causal && !pastK && s != t) {
    auto boolType = RankedTensorType::get({s, t}, c.b.getI1Type());
    Value ones = c.constant(DenseElementsAttr::get(boolType, true));
    Value tri = c.create<TriluOp>(boolType, ones, false, 0);
    if (!tri)
      return failure();
    if (!mask)
      mask = tri;
    else if (eltOf(mask).isInteger(1))
      mask = c.binary<AndOp>(mask, tri);
    else
      mask = c.create<WhereOp>(
          RankedTensorType::get(*kiln::broadcastShapes(shapeOf(mask), {s, t}),
                                eltOf(mask)),
          tri, mask,
          c.scalar(eltOf(mask), -std::numeric_limits<double>::infinity()));
    if (!mask)
      return failure();
    causal = false;
  }
  if (mask && !kiln::isBroadcastableTo(shapeOf(mask), {qs[0], qs[1], s, t})) {
    c.emitError() << "attn_mask " << shapeString(shapeOf(mask))
                  << " does not broadcast to " << shapeString({qs[0], qs[1], s, t});
    return failure();
  }
  auto outType = RankedTensorType::get({qs[0], qs[1], s, vs[3]}, eltOf(q));
  Value y = c.create<AttentionOp>(outType, q, k, v, mask,
                                  c.b.getF32FloatAttr(scale),
                                  c.b.getBoolAttr(causal));
  if (y && rank == 3)
    y = mergeHeads(c, y);
  if (!y)
    return failure();
  c.results.append({y, k, v});
  return success();
}

LogicalResult convertRotary(NodeContext &c) {
  Value x = c.required(0, "X"), cosV = c.required(1, "cos_cache"),
        sinV = c.required(2, "sin_cache"), pos = c.input(3);
  if (!x || !cosV || !sinV)
    return failure();
  int64_t rank = tensorType(x).getRank();
  if (rank != 3 && rank != 4) {
    c.emitError() << "X must be 3-D or 4-D, got rank " << rank;
    return failure();
  }
  Value in = rank == 3 ? splitHeads(c, x, c.getInt("num_heads", 0), "X") : x;
  if (!in)
    return failure();
  if (pos) {
    auto gather = [&](Value cache) -> Value {
      if (tensorType(cache).getRank() != 2) {
        c.emitError() << "with position_ids the caches must be 2-D";
        return {};
      }
      SmallVector<int64_t> shape(shapeOf(pos));
      shape.push_back(shapeOf(cache)[1]);
      return c.create<GatherOp>(withShape(cache, shape), cache, pos, 0);
    };
    cosV = gather(cosV);
    sinV = cosV ? gather(sinV) : Value();
    if (!sinV)
      return failure();
  }
  int64_t d = shapeOf(in)[3];
  int64_t rot = c.getInt("rotary_embedding_dim", 0);
  if (rot == 0)
    rot = d;
  if (tensorType(cosV).getRank() != 3 || shapeOf(cosV).back() * 2 != rot ||
      rot > d || shapeOf(cosV) != shapeOf(sinV)) {
    c.emitError() << "cos/sin " << shapeString(shapeOf(cosV))
                  << " do not match rotary dim " << rot << " of X "
                  << shapeString(shapeOf(in));
    return failure();
  }
  Value y = c.create<RotaryOp>(in.getType(), in, cosV, sinV,
                               c.getInt("interleaved", 0) != 0);
  if (y && rank == 3)
    y = mergeHeads(c, y);
  return c.push(y);
}

/// A sliding window's `strides` and `dilations` (k values, default 1) and
/// `pads` (2k, default 0), or an error naming an attribute of another
/// length.
static LogicalResult windowAttrs(NodeContext &c, int64_t k,
                                 std::optional<SmallVector<int64_t>> &strides,
                                 std::optional<SmallVector<int64_t>> &dilations,
                                 std::optional<SmallVector<int64_t>> &pads) {
  auto ints = [&](StringRef name, int64_t n,
                  int64_t dflt) -> std::optional<SmallVector<int64_t>> {
    std::optional<SmallVector<int64_t>> v = c.getInts(name);
    if (!v)
      return SmallVector<int64_t>(n, dflt);
    if ((int64_t)v->size() != n) {
      c.emitError() << "attribute '" << name << "' must have " << n
                    << " values, got " << v->size();
      return std::nullopt;
    }
    return v;
  };
  strides = ints("strides", k, 1);
  dilations = ints("dilations", k, 1);
  pads = ints("pads", 2 * k, 0);
  return success(strides && dilations && pads);
}

/// The output dims of a sliding window over `spatial` (pooling,
/// convolution), appended to `out`: ONNX's auto_pad resolved into `pads`
/// (k begins then k ends; SAME_UPPER puts the odd pad at the end,
/// SAME_LOWER at the start), floor or ceil mode (a ceil-mode window that
/// would start past the input and its leading padding is dropped).
static LogicalResult windowOutputs(NodeContext &c, ArrayRef<int64_t> spatial,
                                   ArrayRef<int64_t> ks,
                                   ArrayRef<int64_t> strides,
                                   ArrayRef<int64_t> dilations,
                                   SmallVectorImpl<int64_t> &pads, bool ceil,
                                   SmallVectorImpl<int64_t> &out) {
  int64_t k = spatial.size();
  std::string autoPad = c.getString("auto_pad", "NOTSET");
  for (int64_t d = 0; d < k; ++d) {
    int64_t dim = spatial[d], s = strides[d];
    int64_t eff = (ks[d] - 1) * dilations[d] + 1;
    int64_t &pb = pads[d], &pe = pads[k + d];
    int64_t o;
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      o = (dim + s - 1) / s;
      int64_t total = std::max<int64_t>((o - 1) * s + eff - dim, 0);
      int64_t small = total / 2;
      pb = autoPad == "SAME_UPPER" ? small : total - small;
      pe = total - pb;
    } else if (autoPad == "VALID" || autoPad == "NOTSET") {
      if (autoPad == "VALID")
        pb = pe = 0;
      int64_t span = dim + pb + pe - eff;
      if (span < 0) {
        c.emitError() << "spatial dim " << d << ": the window (" << eff
                      << ") is larger than the padded input ("
                      << dim + pb + pe << ")";
        return failure();
      }
      o = (ceil ? (span + s - 1) / s : span / s) + 1;
      if (ceil && (o - 1) * s >= dim + pb)
        --o;
    } else {
      c.emitError() << "attribute 'auto_pad' must be NOTSET, SAME_UPPER, "
                       "SAME_LOWER or VALID, got '"
                    << autoPad << "'";
      return failure();
    }
    out.push_back(o);
  }
  return success();
}

/// MaxPool, AveragePool and LpPool as kiln.pool: the window attributes,
/// auto_pad resolved into explicit pads, and the output dims in floor or
/// ceil mode (a last window that would start past the input and its
/// leading padding is dropped, as ONNX does).
LogicalResult convertPool(NodeContext &c, StringRef kind) {
  Value x = c.required(0, "X");
  if (!x)
    return failure();
  if (kind == "max" && c.outputUsed(1)) {
    c.emitError() << "output 1 ('Indices') is not supported";
    return failure();
  }
  ArrayRef<int64_t> in = shapeOf(x);
  int64_t rank = in.size(), k = rank - 2;
  if (rank < 3) {
    c.emitError() << "input must be [N, C, spatial...], got rank " << rank;
    return failure();
  }
  std::optional<SmallVector<int64_t>> ks = c.getInts("kernel_shape");
  if (!ks || (int64_t)ks->size() != k) {
    c.emitError() << "attribute 'kernel_shape' must have " << k << " values";
    return failure();
  }
  std::optional<SmallVector<int64_t>> strides, dilations, pads;
  if (failed(windowAttrs(c, k, strides, dilations, pads)))
    return failure();
  for (int64_t d = 0; d < k; ++d)
    if ((*ks)[d] < 1 || (*strides)[d] < 1 || (*dilations)[d] < 1) {
      c.emitError() << "kernel_shape, strides and dilations must be >= 1";
      return failure();
    }
  SmallVector<int64_t> outShape = {in[0], in[1]};
  if (failed(windowOutputs(c, in.drop_front(2), *ks, *strides, *dilations,
                           *pads, c.getInt("ceil_mode", 0) != 0, outShape)))
    return failure();
  auto type = RankedTensorType::get(outShape, eltOf(x));
  return c.push(c.create<PoolOp>(
      type, x, c.b.getStringAttr(kind), c.b.getDenseI64ArrayAttr(*ks),
      c.b.getDenseI64ArrayAttr(*strides), c.b.getDenseI64ArrayAttr(*pads),
      c.b.getDenseI64ArrayAttr(*dilations),
      c.b.getBoolAttr(c.getInt("count_include_pad", 0) != 0),
      c.b.getI64IntegerAttr(c.getInt("p", 2))));
}

/// Conv as kiln.conv: the kernel shape from the weight (an attribute must
/// agree), auto_pad resolved into pads, the output dims in floor mode.
LogicalResult convertConv(NodeContext &c) {
  Value x = c.required(0, "X"), w = c.required(1, "W"), b = c.input(2);
  if (!x || !w)
    return failure();
  ArrayRef<int64_t> in = shapeOf(x), ws = shapeOf(w);
  int64_t rank = in.size(), k = rank - 2;
  if (rank < 3 || (int64_t)ws.size() != rank) {
    c.emitError() << "X must be [N, C, spatial...] and W [M, C / group, "
                     "kernel...] of one rank >= 3, got ranks "
                  << rank << " and " << ws.size();
    return failure();
  }
  SmallVector<int64_t> ks(ws.drop_front(2));
  if (std::optional<SmallVector<int64_t>> attr = c.getInts("kernel_shape"))
    if (*attr != ks) {
      c.emitError() << "attribute 'kernel_shape' does not match W's shape";
      return failure();
    }
  std::optional<SmallVector<int64_t>> strides, dilations, pads;
  if (failed(windowAttrs(c, k, strides, dilations, pads)))
    return failure();
  for (int64_t d = 0; d < k; ++d)
    if ((*strides)[d] < 1 || (*dilations)[d] < 1) {
      c.emitError() << "strides and dilations must be >= 1";
      return failure();
    }
  int64_t group = c.getInt("group", 1);
  if (group < 1 || in[1] % group || ws[0] % group || ws[1] * group != in[1]) {
    c.emitError() << "group " << group << " must divide X's " << in[1]
                  << " channels and W's " << ws[0] << " filters, each reading "
                  << ws[1] << " channels";
    return failure();
  }
  SmallVector<int64_t> outShape = {in[0], ws[0]};
  if (failed(windowOutputs(c, in.drop_front(2), ks, *strides, *dilations,
                           *pads, /*ceil=*/false, outShape)))
    return failure();
  auto type = RankedTensorType::get(outShape, eltOf(x));
  return c.push(c.create<ConvOp>(type, x, w, b,
                                 c.b.getDenseI64ArrayAttr(*strides),
                                 c.b.getDenseI64ArrayAttr(*pads),
                                 c.b.getDenseI64ArrayAttr(*dilations),
                                 c.b.getI64IntegerAttr(group)));
}

const OpConverter kNN[] = {
    {"MatMul", 13, 23, convertMatMul},
    {"Gemm", 13, 23, convertGemm},
    {"ReduceSum", 13, 23, convertReduce<ReduceSumOp, 13>},
    {"ReduceMean", 13, 23, convertReduce<ReduceMeanOp, 18>},
    {"ReduceMax", 13, 23, convertReduce<ReduceMaxOp, 18>},
    {"ReduceMin", 13, 20, convertReduce<ReduceMinOp, 18>},
    {"ReduceProd", 13, 18, convertReduce<ReduceProdOp, 18>},
    {"Softmax", 13, 23, convertSoftmax},
    {"LayerNormalization", 17, 23, convertLayerNorm},
    {"RMSNormalization", 23, 23, convertRmsNorm},
    {"Attention", 23, 23, convertAttention},
    {"RotaryEmbedding", 23, 23, convertRotary},
    {"MaxPool", 11, 23, [](NodeContext &c) { return convertPool(c, "max"); }},
    {"AveragePool", 11, 23,
     [](NodeContext &c) { return convertPool(c, "avg"); }},
    {"LpPool", 11, 23, [](NodeContext &c) { return convertPool(c, "lp"); }},
    {"Conv", 11, 23, convertConv},
    {"Det", 11, 22, [](NodeContext &c) -> LogicalResult {
       Value x = c.required(0, "X");
       if (!x)
         return failure();
       ArrayRef<int64_t> s = shapeOf(x);
       if (s.size() < 2 || s.back() != s[s.size() - 2]) {
         c.emitError() << "X must be [..., M, M]";
         return failure();
       }
       return c.push(c.create<DetOp>(
           RankedTensorType::get(s.drop_back(2), eltOf(x)), x));
     }},
};

} // namespace

ArrayRef<OpConverter> kiln::import::getNNConverters() { return kNN; }
