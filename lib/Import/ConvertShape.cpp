//===- ConvertShape.cpp - ONNX shape and data-movement ops to kiln --------===//
//
// Converters for constants (Constant, ConstantOfShape, Range, Shape, Size,
// which become kiln.constant directly) and the data-movement ops (Reshape,
// Flatten, Squeeze, Unsqueeze, Expand, Tile, Concat, Gather, Slice, Split,
// Transpose, Trilu, ScatterND). Shape-like inputs (a Reshape's shape, Slice
// bounds, axes, split sizes, repeats) must be constants after folding.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "onnx/onnx_pb.h"

#include "llvm/ADT/SmallSet.h"

#include <cmath>
#include <cstdio>
#include <string>

using namespace mlir;
using namespace kiln;
using namespace kiln::import;

namespace {

int64_t product(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

LogicalResult convertConstant(NodeContext &c) {
  const onnx::AttributeProto *a = nullptr;
  for (const auto &attr : c.node.attribute())
    a = &attr;
  if (c.node.attribute_size() != 1) {
    c.emitError() << "expects exactly one value attribute";
    return failure();
  }
  StringRef name = a->name();
  MLIRContext *ctx = c.getContext();
  if (name == "value") {
    auto attr = tensorProtoToAttr(a->t(), ctx, c.baseDir, c.loc);
    if (failed(attr))
      return failure();
    return c.push(c.constant(*attr));
  }
  if (name == "value_float")
    return c.push(c.scalar(c.b.getF32Type(), a->f()));
  if (name == "value_int")
    return c.push(c.constI64({a->i()}, {}));
  if (name == "value_floats") {
    SmallVector<float> v(a->floats().begin(), a->floats().end());
    auto type = RankedTensorType::get({(int64_t)v.size()}, c.b.getF32Type());
    return c.push(c.constant(DenseElementsAttr::get(type, ArrayRef(v))));
  }
  if (name == "value_ints") {
    SmallVector<int64_t> v(a->ints().begin(), a->ints().end());
    return c.push(c.constI64(v, {(int64_t)v.size()}));
  }
  c.emitError() << "attribute '" << name << "' is not supported (sparse and "
                << "string constants cannot be imported)";
  return failure();
}

LogicalResult convertConstantOfShape(NodeContext &c) {
  auto shape = c.constInts(0, "input");
  if (failed(shape))
    return failure();
  for (int64_t d : *shape)
    if (d < 0) {
      c.emitError() << "shape " << shapeString(*shape) << " has a negative dim";
      return failure();
    }
  DenseElementsAttr value = DenseElementsAttr::get(
      RankedTensorType::get({1}, c.b.getF32Type()), 0.0f);
  if (const auto *a = c.attr("value")) {
    auto attr = tensorProtoToAttr(a->t(), c.getContext(), c.baseDir, c.loc);
    if (failed(attr))
      return failure();
    if (attr->getNumElements() != 1) {
      c.emitError() << "value must hold one element";
      return failure();
    }
    value = *attr;
  }
  auto type = RankedTensorType::get(*shape, value.getElementType());
  return c.push(c.constant(value.resizeSplat(type)));
}

/// A double as printf writes it ("%g" by default: 1, 0.5, inf, nan).
static std::string printNumber(double v, const char *fmt = "%g") {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

LogicalResult convertRange(NodeContext &c) {
  Value startV = c.required(0, "start");
  if (!startV)
    return failure();
  auto start = c.constScalar(0, "start"), limit = c.constScalar(1, "limit"),
       delta = c.constScalar(2, "delta");
  if (failed(start) || failed(limit) || failed(delta))
    return failure();
  if (*delta == 0) {
    c.emitError() << "delta is zero";
    return failure();
  }
  double count = std::ceil((*limit - *start) / *delta);
  if (!std::isfinite(count)) {
    c.emitError() << "range from " << printNumber(*start) << " to "
                  << printNumber(*limit) << " by " << printNumber(*delta)
                  << " has no finite length";
    return failure();
  }
  if (count > double(int64_t(1) << 20)) {
    c.emitError() << "range of " << printNumber(count, "%.0f")
                  << " elements is too large (at most 2^20)";
    return failure();
  }
  int64_t n = std::max<int64_t>(0, static_cast<int64_t>(count));
  Type elt = eltOf(startV);
  // Bounds arrive as doubles; integers beyond 2^53 would not convert exactly.
  constexpr double kExact = double(int64_t(1) << 53);
  if (!isa<FloatType>(elt) &&
      (std::abs(*start) > kExact || std::abs(*limit) > kExact ||
       std::abs(*delta) > kExact)) {
    c.emitError() << "integer range bounds beyond 2^53 are not supported";
    return failure();
  }
  auto type = RankedTensorType::get({n}, elt);
  if (auto ft = dyn_cast<FloatType>(elt)) {
    SmallVector<APFloat> vals;
    for (int64_t i = 0; i < n; ++i) {
      APFloat f(*start + i * *delta);
      bool lost;
      f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      vals.push_back(f);
    }
    return c.push(c.constant(DenseElementsAttr::get(type, vals)));
  }
  SmallVector<APInt> vals;
  int64_t s = static_cast<int64_t>(*start), d = static_cast<int64_t>(*delta);
  for (int64_t i = 0; i < n; ++i)
    vals.push_back(APInt(elt.getIntOrFloatBitWidth(),
                         static_cast<uint64_t>(s + i * d), true, true));
  return c.push(c.constant(DenseElementsAttr::get(type, vals)));
}

LogicalResult convertShape(NodeContext &c) {
  Value x = c.required(0, "data");
  if (!x)
    return failure();
  int64_t rank = tensorType(x).getRank();
  int64_t start = c.getInt("start", 0), end = c.getInt("end", rank);
  auto clampIdx = [&](int64_t i) {
    if (i < 0)
      i += rank;
    return std::clamp<int64_t>(i, 0, rank);
  };
  start = clampIdx(start);
  end = std::max(start, clampIdx(end));
  SmallVector<int64_t> dims(shapeOf(x).slice(start, end - start));
  return c.push(c.constI64(dims, {(int64_t)dims.size()}));
}

LogicalResult convertSize(NodeContext &c) {
  Value x = c.required(0, "data");
  if (!x)
    return failure();
  return c.push(c.constI64({tensorType(x).getNumElements()}, {}));
}

//===----------------------------------------------------------------------===//
// Reshapes
//===----------------------------------------------------------------------===//

LogicalResult convertReshape(NodeContext &c) {
  Value x = c.required(0, "data");
  auto target = c.constInts(1, "shape");
  if (!x || failed(target))
    return failure();
  bool allowZero = c.getInt("allowzero", 0) != 0;
  SmallVector<int64_t> shape;
  int64_t inferred = -1, known = 1;
  for (auto [i, d] : llvm::enumerate(*target)) {
    if (d == 0 && !allowZero) {
      if (i >= shapeOf(x).size()) {
        c.emitError() << "shape entry " << i << " is 0 (copy) but the input "
                      << "has rank " << shapeOf(x).size();
        return failure();
      }
      d = shapeOf(x)[i];
    }
    if (d == -1) {
      if (inferred >= 0) {
        c.emitError() << "shape " << shapeString(*target)
                      << " has more than one -1";
        return failure();
      }
      inferred = i;
      shape.push_back(1);
      continue;
    }
    if (d < 0) {
      c.emitError() << "shape " << shapeString(*target) << " has entry " << d;
      return failure();
    }
    shape.push_back(d);
  }
  // The -1 slot holds 1 here, so this is the product of the known dims.
  std::optional<int64_t> knownCount = checkedNumElements(shape);
  if (!knownCount) {
    c.emitError() << "shape " << shapeString(*target)
                  << " has more than 2^48 elements";
    return failure();
  }
  known = *knownCount;
  int64_t total = tensorType(x).getNumElements();
  if (inferred >= 0) {
    if (known == 0 || total % known != 0) {
      c.emitError() << "cannot infer the -1 of shape " << shapeString(*target)
                    << " for input " << shapeString(shapeOf(x));
      return failure();
    }
    shape[inferred] = total / known;
  } else if (known != total) {
    c.emitError() << "cannot reshape " << shapeString(shapeOf(x)) << " ("
                  << total << " elements) to " << shapeString(shape);
    return failure();
  }
  return c.push(c.reshape(x, shape));
}

LogicalResult convertFlatten(NodeContext &c) {
  Value x = c.required(0, "input");
  if (!x)
    return failure();
  int64_t rank = tensorType(x).getRank();
  int64_t axis = c.getInt("axis", 1);
  if (axis < -rank || axis > rank) {
    c.emitError() << "axis " << axis << " is out of range for rank " << rank;
    return failure();
  }
  if (axis < 0)
    axis += rank;
  ArrayRef<int64_t> s = shapeOf(x);
  return c.push(c.reshape(x, {product(s.take_front(axis)),
                               product(s.drop_front(axis))}));
}

/// Axes of Squeeze/Unsqueeze: an input since opset 13.
FailureOr<SmallVector<int64_t>> axesOf(NodeContext &c, unsigned input,
                                       bool required) {
  if (c.input(input))
    return c.constInts(input, "axes");
  if (auto attr = c.getInts("axes"))
    return *attr;
  if (required) {
    c.emitError() << "missing axes";
    return failure();
  }
  return SmallVector<int64_t>();
}

LogicalResult convertSqueeze(NodeContext &c) {
  Value x = c.required(0, "data");
  auto axes = axesOf(c, 1, /*required=*/false);
  if (!x || failed(axes))
    return failure();
  int64_t rank = tensorType(x).getRank();
  llvm::SmallSet<int64_t, 4> drop;
  for (int64_t a : *axes) {
    auto axis = c.normAxis(a, rank, "axis");
    if (!axis)
      return failure();
    if (shapeOf(x)[*axis] != 1) {
      c.emitError() << "cannot squeeze dim " << *axis << " of size "
                    << shapeOf(x)[*axis];
      return failure();
    }
    drop.insert(*axis);
  }
  SmallVector<int64_t> shape;
  for (auto [i, d] : llvm::enumerate(shapeOf(x)))
    if (axes->empty() ? d != 1 : !drop.contains(i))
      shape.push_back(d);
  return c.push(c.reshape(x, shape));
}

LogicalResult convertUnsqueeze(NodeContext &c) {
  Value x = c.required(0, "data");
  auto axes = axesOf(c, 1, /*required=*/true);
  if (!x || failed(axes))
    return failure();
  int64_t outRank = tensorType(x).getRank() + axes->size();
  llvm::SmallSet<int64_t, 4> add;
  for (int64_t a : *axes) {
    auto axis = c.normAxis(a, outRank, "axis");
    if (!axis)
      return failure();
    if (!add.insert(*axis).second) {
      c.emitError() << "axis " << *axis << " is repeated";
      return failure();
    }
  }
  SmallVector<int64_t> shape;
  ArrayRef<int64_t> in = shapeOf(x);
  for (int64_t i = 0, j = 0; i < outRank; ++i)
    shape.push_back(add.contains(i) ? 1 : in[j++]);
  return c.push(c.reshape(x, shape));
}

LogicalResult convertExpand(NodeContext &c) {
  Value x = c.required(0, "input");
  auto target = c.constInts(1, "shape");
  if (!x || failed(target))
    return failure();
  auto shape = kiln::broadcastShapes(shapeOf(x), *target);
  if (failed(shape)) {
    c.emitError() << "input " << shapeString(shapeOf(x))
                  << " cannot be expanded to " << shapeString(*target);
    return failure();
  }
  return c.push(c.expand(x, *shape));
}

/// Tile: reshape to interleave unit dims, expand them, reshape back.
LogicalResult convertTile(NodeContext &c) {
  Value x = c.required(0, "input");
  auto repeats = c.constInts(1, "repeats");
  if (!x || failed(repeats))
    return failure();
  ArrayRef<int64_t> in = shapeOf(x);
  if (repeats->size() != in.size()) {
    c.emitError() << "repeats has " << repeats->size() << " entries for rank "
                  << in.size();
    return failure();
  }
  SmallVector<int64_t> split, expanded, out;
  for (auto [d, r] : llvm::zip_equal(in, *repeats)) {
    if (r < 0) {
      c.emitError() << "repeat " << r << " is negative";
      return failure();
    }
    if (!checkedNumElements({r, d})) {
      c.emitError() << "repeat " << r << " of a dim of " << d
                    << " gives more than 2^48 elements";
      return failure();
    }
    split.append({1, d});
    expanded.append({r, d});
    out.push_back(r * d);
  }
  Value v = c.reshape(x, split);
  v = v ? c.expand(v, expanded) : v;
  return c.push(v ? c.reshape(v, out) : v);
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult convertConcat(NodeContext &c) {
  SmallVector<Value> inputs;
  for (unsigned i = 0; i < c.numInputs(); ++i) {
    Value v = c.required(i, "inputs");
    if (!v)
      return failure();
    inputs.push_back(v);
  }
  if (inputs.empty() || !c.attr("axis")) {
    c.emitError() << "needs inputs and an axis";
    return failure();
  }
  auto axis = c.normAxis(c.getInt("axis", 0), tensorType(inputs[0]).getRank(),
                         "axis");
  if (!axis)
    return failure();
  for (Value v : inputs)
    for (int64_t d = 0; d < tensorType(v).getRank(); ++d)
      if (tensorType(v).getRank() != tensorType(inputs[0]).getRank() ||
          (d != *axis && shapeOf(v)[d] != shapeOf(inputs[0])[d])) {
        c.emitError() << "input shapes " << shapeString(shapeOf(inputs[0]))
                      << " and " << shapeString(shapeOf(v))
                      << " differ off axis " << *axis;
        return failure();
      }
  return c.push(c.concat(inputs, *axis));
}

LogicalResult convertGather(NodeContext &c) {
  Value data = c.required(0, "data"), idx = c.required(1, "indices");
  if (!data || !idx)
    return failure();
  auto axis =
      c.normAxis(c.getInt("axis", 0), tensorType(data).getRank(), "axis");
  if (!axis)
    return failure();
  SmallVector<int64_t> shape(shapeOf(data).take_front(*axis));
  llvm::append_range(shape, shapeOf(idx));
  llvm::append_range(shape, shapeOf(data).drop_front(*axis + 1));
  return c.push(c.create<GatherOp>(withShape(data, shape), data, idx, *axis));
}

LogicalResult convertSlice(NodeContext &c) {
  Value x = c.required(0, "data");
  if (!x)
    return failure();
  auto starts = c.constInts(1, "starts"), ends = c.constInts(2, "ends");
  if (failed(starts) || failed(ends))
    return failure();
  int64_t rank = tensorType(x).getRank();
  SmallVector<int64_t> axes, steps;
  if (c.input(3)) {
    auto a = c.constInts(3, "axes");
    if (failed(a))
      return failure();
    axes = *a;
  } else {
    for (size_t i = 0; i < starts->size(); ++i)
      axes.push_back(i);
  }
  if (c.input(4)) {
    auto s = c.constInts(4, "steps");
    if (failed(s))
      return failure();
    steps = *s;
  } else {
    steps.assign(starts->size(), 1);
  }
  if (ends->size() != starts->size() || axes.size() != starts->size() ||
      steps.size() != starts->size()) {
    c.emitError() << "starts, ends, axes and steps differ in length";
    return failure();
  }
  SmallVector<int64_t> kStarts(rank, 0), kSteps(rank, 1),
      shape(shapeOf(x).begin(), shapeOf(x).end());
  SmallVector<bool> seen(rank, false);
  for (size_t k = 0; k < starts->size(); ++k) {
    auto axis = c.normAxis(axes[k], rank, "axis");
    if (!axis)
      return failure();
    if (seen[*axis]) {
      c.emitError() << "axis " << *axis << " is repeated";
      return failure();
    }
    seen[*axis] = true;
    int64_t dim = shapeOf(x)[*axis], step = steps[k];
    int64_t start = (*starts)[k], end = (*ends)[k];
    if (step == 0) {
      c.emitError() << "step of axis " << *axis << " is zero";
      return failure();
    }
    if (start < 0)
      start = start < -dim ? -1 : start + dim;
    if (end < 0)
      end = end < -dim ? -1 : end + dim;
    // The span is at most dim + 1 after clamping; the step may be anything
    // down to INT64_MIN, so its magnitude is taken unsigned.
    uint64_t magnitude =
        step > 0 ? uint64_t(step) : uint64_t(-(step + 1)) + 1;
    int64_t span;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      span = end - start;
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      span = start - end;
    }
    int64_t count = span > 0 ? 1 + int64_t(uint64_t(span - 1) / magnitude) : 0;
    kStarts[*axis] = count ? start : 0;
    kSteps[*axis] = step;
    shape[*axis] = count;
  }
  if (ArrayRef<int64_t>(shape) == shapeOf(x) &&
      llvm::all_of(kStarts, [](int64_t s) { return s == 0; }) &&
      llvm::all_of(kSteps, [](int64_t s) { return s == 1; }))
    return c.push(x);
  return c.push(c.slice(x, kStarts, kSteps, shape));
}

LogicalResult convertSplit(NodeContext &c) {
  Value x = c.required(0, "input");
  if (!x)
    return failure();
  auto axis =
      c.normAxis(c.getInt("axis", 0), tensorType(x).getRank(), "axis");
  if (!axis)
    return failure();
  int64_t dim = shapeOf(x)[*axis];
  SmallVector<int64_t> sizes;
  if (c.input(1)) {
    auto s = c.constInts(1, "split");
    if (failed(s))
      return failure();
    sizes = *s;
  } else if (auto s = c.getInts("split")) {
    sizes = *s;
  } else {
    int64_t n = c.attr("num_outputs") ? c.getInt("num_outputs", 1)
                                      : c.numOutputs();
    if (n <= 0 || n != (int64_t)c.numOutputs()) {
      c.emitError() << "num_outputs is " << n << ", but the node has "
                    << c.numOutputs() << " outputs";
      return failure();
    }
    if (!c.attr("num_outputs") && dim % n != 0) {
      c.emitError() << "dim " << dim << " of axis " << *axis
                    << " does not split evenly into " << n << " outputs";
      return failure();
    }
    int64_t chunk = dim / n + (dim % n != 0);
    for (int64_t i = 0, left = dim; i < n; ++i, left -= chunk)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, left)));
  }
  int64_t total = 0;
  for (int64_t s : sizes)
    total += s < 0 || s > dim ? dim + 1 : s; // dim + 1 never matches
  if (total != dim || sizes.size() != c.numOutputs()) {
    c.emitError() << "split sizes " << shapeString(sizes) << " do not cover dim "
                  << dim << " with " << c.numOutputs() << " outputs";
    return failure();
  }
  SmallVector<Type> types;
  for (int64_t s : sizes) {
    SmallVector<int64_t> shape(shapeOf(x));
    shape[*axis] = s;
    types.push_back(withShape(x, shape));
  }
  auto op = SplitOp::create(c.b, c.loc, types, x, *axis);
  return c.finishMulti(op, c.results);
}

LogicalResult convertTranspose(NodeContext &c) {
  Value x = c.required(0, "data");
  if (!x)
    return failure();
  int64_t rank = tensorType(x).getRank();
  SmallVector<int64_t> perm;
  if (auto p = c.getInts("perm"))
    perm = *p;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  SmallVector<bool> seen(rank, false);
  if (static_cast<int64_t>(perm.size()) != rank ||
      llvm::any_of(perm, [&](int64_t p) {
        return p < 0 || p >= rank || std::exchange(seen[p], true);
      })) {
    c.emitError() << "perm " << shapeString(perm)
                  << " is not a permutation of rank " << rank;
    return failure();
  }
  return c.push(c.transpose(x, perm));
}

LogicalResult convertTrilu(NodeContext &c) {
  Value x = c.required(0, "input");
  if (!x)
    return failure();
  int64_t k = 0;
  if (c.input(1)) {
    auto kv = c.constInts(1, "k");
    if (failed(kv) || kv->size() != 1)
      return failure();
    k = (*kv)[0];
  }
  if (tensorType(x).getRank() < 2) {
    c.emitError() << "input must have rank >= 2";
    return failure();
  }
  return c.push(c.create<TriluOp>(x.getType(), x,
                                   c.getInt("upper", 1) != 0, k));
}

LogicalResult convertScatterND(NodeContext &c) {
  Value data = c.required(0, "data"), idx = c.required(1, "indices"),
        upd = c.required(2, "updates");
  if (!data || !idx || !upd)
    return failure();
  // reduction none/add/mul from ScatterND-16, max/min from 18.
  std::string text = c.getString("reduction", "none");
  std::optional<ScatterReduction> red = symbolizeScatterReduction(text);
  bool known = red && (c.opset >= 18 || *red == ScatterReduction::None ||
                       (c.opset >= 16 && (*red == ScatterReduction::Add ||
                                          *red == ScatterReduction::Mul)));
  if (!known) {
    c.emitError() << "reduction '" << text << "' is not supported";
    return failure();
  }
  return c.push(c.create<ScatterNDOp>(
      data.getType(), data, idx, upd,
      ScatterReductionAttr::get(c.getContext(), *red)));
}

const OpConverter kShape[] = {
    {"Constant", 13, 25, convertConstant},
    {"ConstantOfShape", 13, 25, convertConstantOfShape},
    {"Range", 13, 27, convertRange},
    {"Shape", 13, 25, convertShape},
    {"Size", 13, 25, convertSize},
    {"Reshape", 13, 25, convertReshape},
    {"Flatten", 13, 25, convertFlatten},
    {"Squeeze", 13, 25, convertSqueeze},
    {"Unsqueeze", 13, 25, convertUnsqueeze},
    {"Expand", 13, 23, convertExpand},
    {"Tile", 13, 23, convertTile},
    {"Concat", 13, 23, convertConcat},
    {"Gather", 13, 23, convertGather},
    {"Slice", 13, 23, convertSlice},
    {"Split", 13, 23, convertSplit},
    {"Transpose", 13, 25, convertTranspose},
    {"Trilu", 14, 23, convertTrilu},
    {"ScatterND", 13, 23, convertScatterND},
};

} // namespace

ArrayRef<OpConverter> kiln::import::getShapeConverters() { return kShape; }
