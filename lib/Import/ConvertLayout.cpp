//===- ConvertLayout.cpp - ONNX normalisations and layout ops to kiln -----===//
//
// Converters for the normalisations of convolutional and transformer
// exports that are compositions of kiln reductions and elementwise ops
// (BatchNormalization at inference, InstanceNormalization,
// GroupNormalization, LpNormalization, MeanVarianceNormalization,
// GlobalAveragePool, GlobalMaxPool), the block rearrangements DepthToSpace
// and SpaceToDepth (reshape / transpose / reshape), and EyeLike (a constant).
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::import;

namespace {

/// `p` ([C]) reshaped to broadcast along axis 1 of a rank-`rank` tensor.
Value perChannel(NodeContext &c, Value p, int64_t rank, int64_t channels,
                 StringRef what) {
  if (shapeOf(p) != ArrayRef<int64_t>{channels}) {
    c.emitError() << what << " has shape " << shapeString(shapeOf(p))
                  << ", expected [" << channels << "] (one per channel)";
    return {};
  }
  SmallVector<int64_t> shape(rank - 1, 1);
  shape[0] = channels;
  return c.reshape(p, shape);
}

/// Rank >= 2 float input with channels on axis 1.
LogicalResult requireNC(NodeContext &c, Value x) {
  if (tensorType(x).getRank() >= 2 && isa<FloatType>(eltOf(x)))
    return success();
  c.emitError() << "input must be a float tensor of rank >= 2 ([N, C, ...]), "
                   "got "
                << x.getType();
  return failure();
}

/// (x - mean) * rsqrt(var + eps) over `axes` (kept), in x's type.
Value normalise(NodeContext &c, Value x, ArrayRef<int64_t> axes, double eps) {
  SmallVector<int64_t> kept(shapeOf(x));
  for (int64_t a : axes)
    kept[a] = 1;
  Value mean = c.create<ReduceMeanOp>(withShape(x, kept), x, axes, true);
  Value d = mean ? c.binary<SubOp>(x, mean) : Value();
  Value sq = d ? c.binary<MulOp>(d, d) : Value();
  Value var = sq ? c.create<ReduceMeanOp>(withShape(x, kept), sq, axes, true)
                 : Value();
  Value ve = var ? c.binary<AddOp>(var, c.scalar(eltOf(x), eps)) : Value();
  Value r = ve ? c.create<RsqrtOp>(ve.getType(), ve) : Value();
  return r ? c.binary<MulOp>(d, r) : Value();
}

/// y * scale + bias with per-channel scale and bias.
Value affine(NodeContext &c, Value y, Value scale, Value bias) {
  int64_t rank = tensorType(y).getRank(), ch = shapeOf(y)[1];
  Value s = perChannel(c, scale, rank, ch, "scale");
  Value b = s ? perChannel(c, bias, rank, ch, "bias") : Value();
  Value ys = b && y ? c.binary<MulOp>(y, s) : Value();
  return ys ? c.binary<AddOp>(ys, b) : Value();
}

LogicalResult convertBatchNorm(NodeContext &c) {
  Value x = c.required(0, "X"), scale = c.required(1, "scale"),
        bias = c.required(2, "B"), mean = c.required(3, "input_mean"),
        var = c.required(4, "input_var");
  if (!x || !scale || !bias || !mean || !var || failed(requireNC(c, x)))
    return failure();
  if (c.getInt("training_mode", 0) != 0) {
    c.emitError() << "training_mode = 1 (batch statistics and running-mean "
                     "outputs) is not supported; kiln compiles inference";
    return failure();
  }
  int64_t rank = tensorType(x).getRank(), ch = shapeOf(x)[1];
  Value m = perChannel(c, mean, rank, ch, "input_mean");
  Value v = m ? perChannel(c, var, rank, ch, "input_var") : Value();
  if (!v)
    return failure();
  Value d = c.binary<SubOp>(x, m);
  Value ve = c.binary<AddOp>(v, c.scalar(eltOf(x), c.getFloat("epsilon", 1e-5f)));
  Value r = ve ? c.create<RsqrtOp>(ve.getType(), ve) : Value();
  Value y = d && r ? c.binary<MulOp>(d, r) : Value();
  return c.push(y ? affine(c, y, scale, bias) : Value());
}

LogicalResult convertInstanceNorm(NodeContext &c) {
  Value x = c.required(0, "input"), scale = c.required(1, "scale"),
        bias = c.required(2, "B");
  if (!x || !scale || !bias || failed(requireNC(c, x)))
    return failure();
  SmallVector<int64_t> axes;
  for (int64_t d = 2; d < tensorType(x).getRank(); ++d)
    axes.push_back(d);
  Value y = normalise(c, x, axes, c.getFloat("epsilon", 1e-5f));
  return c.push(y ? affine(c, y, scale, bias) : Value());
}

/// GroupNormalization-21: statistics per (n, group), scale and bias per
/// channel.
LogicalResult convertGroupNorm(NodeContext &c) {
  Value x = c.required(0, "X"), scale = c.required(1, "scale"),
        bias = c.required(2, "bias");
  if (!x || !scale || !bias || failed(requireNC(c, x)))
    return failure();
  int64_t groups = c.getInt("num_groups", 0);
  ArrayRef<int64_t> shape = shapeOf(x);
  int64_t n = shape[0], ch = shape[1];
  if (groups <= 0 || ch % groups != 0) {
    c.emitError() << "num_groups = " << groups
                  << " must be positive and divide the " << ch << " channels";
    return failure();
  }
  int64_t rest = 1;
  for (int64_t d : shape.drop_front())
    rest *= d;
  Value g = c.reshape(x, {n, groups, rest / groups});
  Value y = g ? normalise(c, g, {2}, c.getFloat("epsilon", 1e-5f)) : Value();
  y = y ? c.reshape(y, shape) : Value();
  return c.push(y ? affine(c, y, scale, bias) : Value());
}

/// LpNormalization: x / (sum |x|^p)^(1/p) along `axis`, p = 1 or 2; an
/// all-zero slice stays 0.
LogicalResult convertLpNorm(NodeContext &c) {
  Value x = c.required(0, "input");
  if (!x)
    return failure();
  if (!isa<FloatType>(eltOf(x))) {
    c.emitError() << "input must be a float tensor, got " << eltOf(x);
    return failure();
  }
  int64_t p = c.getInt("p", 2);
  if (p != 1 && p != 2) {
    c.emitError() << "p must be 1 or 2, got " << p;
    return failure();
  }
  auto axis = c.normAxis(c.getInt("axis", -1), tensorType(x).getRank(), "axis");
  if (!axis)
    return failure();
  SmallVector<int64_t> kept(shapeOf(x));
  kept[*axis] = 1;
  SmallVector<int64_t> axes = {*axis};
  Value pre = p == 1 ? c.create<AbsOp>(x.getType(), x) : c.binary<MulOp>(x, x);
  Value norm =
      pre ? c.create<ReduceSumOp>(withShape(x, kept), pre, axes, true) : Value();
  if (norm && p == 2)
    norm = c.create<SqrtOp>(norm.getType(), norm);
  // A zero norm (an all-zero slice) divides by 1: the slice stays 0.
  Value zero = norm ? c.binary<EqualOp>(norm, c.scalar(eltOf(x), 0.0), true)
                    : Value();
  norm = zero ? c.create<WhereOp>(norm.getType(), zero,
                                  c.scalar(eltOf(x), 1.0), norm)
              : Value();
  return c.push(norm ? c.binary<DivOp>(x, norm) : Value());
}

/// MeanVarianceNormalization-13: (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9)
/// over `axes` (default [0, 2, 3]), as the ONNX function body computes it.
LogicalResult convertMvn(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x)
    return failure();
  if (!isa<FloatType>(eltOf(x))) {
    c.emitError() << "X must be a float tensor, got " << eltOf(x);
    return failure();
  }
  int64_t rank = tensorType(x).getRank();
  SmallVector<int64_t> axes = c.getInts("axes").value_or(
      SmallVector<int64_t>{0, 2, 3});
  SmallVector<int64_t> kept(shapeOf(x));
  for (int64_t &a : axes) {
    auto n = c.normAxis(a, rank, "axis");
    if (!n)
      return failure();
    a = *n;
    kept[a] = 1;
  }
  llvm::sort(axes);
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) {
    c.emitError() << "axes repeat an axis";
    return failure();
  }
  Value mean = c.create<ReduceMeanOp>(withShape(x, kept), x, axes, true);
  Value sq = c.binary<MulOp>(x, x);
  Value meanSq =
      sq ? c.create<ReduceMeanOp>(withShape(x, kept), sq, axes, true) : Value();
  Value mean2 = mean ? c.binary<MulOp>(mean, mean) : Value();
  Value var = meanSq && mean2 ? c.binary<SubOp>(meanSq, mean2) : Value();
  Value sd = var ? c.create<SqrtOp>(var.getType(), var) : Value();
  Value den = sd ? c.binary<AddOp>(sd, c.scalar(eltOf(x), 1e-9)) : Value();
  Value num = mean ? c.binary<SubOp>(x, mean) : Value();
  return c.push(num && den ? c.binary<DivOp>(num, den) : Value());
}

template <typename OpTy> LogicalResult convertGlobalPool(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x || failed(requireNC(c, x)))
    return failure();
  SmallVector<int64_t> axes, shape(shapeOf(x));
  for (int64_t d = 2; d < (int64_t)shape.size(); ++d) {
    axes.push_back(d);
    shape[d] = 1;
  }
  if (axes.empty())
    return c.push(x);
  return c.push(c.create<OpTy>(withShape(x, shape), x, axes, true));
}

/// DepthToSpace / SpaceToDepth on [N, C, H, W]: reshape, transpose, reshape.
template <bool ToSpace> LogicalResult convertBlocks(NodeContext &c) {
  Value x = c.required(0, "input");
  if (!x)
    return failure();
  if (tensorType(x).getRank() != 4) {
    c.emitError() << "input must have rank 4 ([N, C, H, W]), got "
                  << shapeString(shapeOf(x));
    return failure();
  }
  int64_t b = c.getInt("blocksize", 0);
  std::string mode = c.getString("mode", "DCR");
  if (mode != "DCR" && mode != "CRD") {
    c.emitError() << "mode must be \"DCR\" or \"CRD\", got \"" << mode << "\"";
    return failure();
  }
  ArrayRef<int64_t> s = shapeOf(x);
  int64_t n = s[0], ch = s[1], h = s[2], w = s[3];
  if (b <= 0 || (ToSpace ? ch % (b * b) : (h % b) + (w % b)) != 0) {
    c.emitError() << "blocksize = " << b << " must be positive and divide "
                  << (ToSpace ? "C by blocksize^2" : "H and W") << " of "
                  << shapeString(s);
    return failure();
  }
  bool dcr = mode == "DCR";
  Value r;
  if (ToSpace) {
    int64_t co = ch / (b * b);
    r = dcr ? c.reshape(x, {n, b, b, co, h, w})
            : c.reshape(x, {n, co, b, b, h, w});
    r = r ? c.transpose(r, dcr ? ArrayRef<int64_t>{0, 3, 4, 1, 5, 2}
                               : ArrayRef<int64_t>{0, 1, 4, 2, 5, 3})
          : Value();
    r = r ? c.reshape(r, {n, co, h * b, w * b}) : Value();
  } else {
    r = c.reshape(x, {n, ch, h / b, b, w / b, b});
    r = r ? c.transpose(r, dcr ? ArrayRef<int64_t>{0, 3, 5, 1, 2, 4}
                               : ArrayRef<int64_t>{0, 1, 3, 5, 2, 4})
          : Value();
    r = r ? c.reshape(r, {n, ch * b * b, h / b, w / b}) : Value();
  }
  return c.push(r);
}

/// EyeLike: a constant of the input's 2-D shape, ones on diagonal `k`.
LogicalResult convertEyeLike(NodeContext &c) {
  Value x = c.required(0, "input");
  if (!x)
    return failure();
  if (tensorType(x).getRank() != 2) {
    c.emitError() << "input must have rank 2, got " << shapeString(shapeOf(x));
    return failure();
  }
  Type elt = eltOf(x);
  if (c.attr("dtype")) {
    int32_t dt = static_cast<int32_t>(c.getInt("dtype", 0));
    elt = onnxElementType(c.getContext(), dt);
    if (!elt) {
      c.emitError() << "dtype " << onnxTypeName(dt) << " is not supported";
      return failure();
    }
  }
  int64_t rows = shapeOf(x)[0], cols = shapeOf(x)[1], k = c.getInt("k", 0);
  if (rows * cols > kMaxFoldElements) {
    c.emitError() << "a " << rows << "x" << cols
                  << " identity is larger than kiln folds at import (2^16)";
    return failure();
  }
  SmallVector<int64_t> ones(rows * cols, 0);
  for (int64_t i = 0; i < rows; ++i)
    if (i + k >= 0 && i + k < cols)
      ones[i * cols + i + k] = 1;
  Value eye = c.constI64(ones, {rows, cols});
  return c.push(eye ? c.cast(eye, elt) : Value());
}

const OpConverter kLayout[] = {
    {"BatchNormalization", 14, 15, convertBatchNorm},
    {"InstanceNormalization", 6, 22, convertInstanceNorm},
    {"GroupNormalization", 21, 21, convertGroupNorm},
    {"LpNormalization", 1, 22, convertLpNorm},
    {"MeanVarianceNormalization", 13, 13, convertMvn},
    {"GlobalAveragePool", 1, 22, convertGlobalPool<ReduceMeanOp>},
    {"GlobalMaxPool", 1, 22, convertGlobalPool<ReduceMaxOp>},
    {"DepthToSpace", 13, 28, convertBlocks<true>},
    {"SpaceToDepth", 13, 28, convertBlocks<false>},
    {"EyeLike", 9, 22, convertEyeLike},
};

} // namespace

ArrayRef<OpConverter> kiln::import::getLayoutConverters() { return kLayout; }
