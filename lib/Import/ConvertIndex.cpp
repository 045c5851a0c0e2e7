//===- ConvertIndex.cpp - ONNX selection, accumulation and losses ---------===//
//
// Converters for the ops that select or accumulate along an axis
// (GatherElements, ScatterElements, GatherND, ArgMax, ArgMin, CumSum, TopK,
// Hardmax), the losses built on them (NegativeLogLikelihoodLoss,
// SoftmaxCrossEntropyLoss), Einsum in the forms exporters emit (contractions
// with batch, free and summed labels, lowered to transpose / reshape /
// matmul / reduce_sum) and Pad.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::import;

namespace {

LogicalResult convertGatherElements(NodeContext &c) {
  Value data = c.required(0, "data"), idx = c.required(1, "indices");
  if (!data || !idx)
    return failure();
  int64_t rank = tensorType(data).getRank();
  auto axis = c.normAxis(c.getInt("axis", 0), rank, "axis");
  if (!axis)
    return failure();
  if (tensorType(idx).getRank() != rank) {
    c.emitError() << "indices have rank " << tensorType(idx).getRank()
                  << ", expected the data's rank " << rank;
    return failure();
  }
  return c.push(c.create<GatherElementsOp>(
      RankedTensorType::get(shapeOf(idx), eltOf(data)), data, idx,
      c.b.getI64IntegerAttr(*axis)));
}

/// ScatterElements-18 (reduction none/add/mul from 16, max/min from 18), and
/// the deprecated Scatter-9/11 (the same op without a reduction).
LogicalResult convertScatterElements(NodeContext &c) {
  Value data = c.required(0, "data"), idx = c.required(1, "indices"),
        upd = c.required(2, "updates");
  if (!data || !idx || !upd)
    return failure();
  auto axis =
      c.normAxis(c.getInt("axis", 0), tensorType(data).getRank(), "axis");
  if (!axis)
    return failure();
  std::string text = c.getString("reduction", "none");
  std::optional<ScatterReduction> red = symbolizeScatterReduction(text);
  bool known = red && (c.opset >= 18 || *red == ScatterReduction::None ||
                       (c.opset >= 16 && (*red == ScatterReduction::Add ||
                                          *red == ScatterReduction::Mul)));
  if (!known) {
    c.emitError() << "reduction must be "
                  << (c.opset >= 18   ? "\"none\", \"add\", \"mul\", \"max\" or \"min\""
                      : c.opset >= 16 ? "\"none\", \"add\" or \"mul\""
                                      : "\"none\"")
                  << ", got \"" << text << "\"";
    return failure();
  }
  return c.push(c.create<ScatterElementsOp>(
      data.getType(), data, idx, upd, c.b.getI64IntegerAttr(*axis),
      ScatterReductionAttr::get(c.getContext(), *red)));
}

/// ReverseSequence-10: along `time_axis`, the first sequence_lens[b] steps
/// of each batch entry b reversed, the rest kept. Decomposed: the source
/// step of (t, b) is `t < len[b] ? len[b] - 1 - t : t` (`where` over an iota
/// and the lengths, which may be computed at run time), `expand`ed to the
/// input's shape and read with `gather_elements` along the time axis.
LogicalResult convertReverseSequence(NodeContext &c) {
  Value x = c.required(0, "input"), lens = c.required(1, "sequence_lens");
  if (!x || !lens)
    return failure();
  ArrayRef<int64_t> shape = shapeOf(x);
  int64_t rank = shape.size();
  int64_t timeAxis = c.getInt("time_axis", 0), batchAxis = c.getInt("batch_axis", 1);
  if (rank < 2 || !((timeAxis == 0 && batchAxis == 1) ||
                    (timeAxis == 1 && batchAxis == 0))) {
    c.emitError() << "time_axis and batch_axis must be 0 and 1 (either way) "
                     "on an input of rank >= 2, got "
                  << timeAxis << " and " << batchAxis << " on rank " << rank;
    return failure();
  }
  int64_t steps = shape[timeAxis], batch = shape[batchAxis];
  if (shapeOf(lens) != ArrayRef<int64_t>{batch} ||
      !eltOf(lens).isInteger(64)) {
    c.emitError() << "sequence_lens must be int64 [" << batch << "]";
    return failure();
  }
  // [T, B] or [B, T] views of the iota and the lengths.
  SmallVector<int64_t> tShape(2, 1), bShape(2, 1);
  tShape[timeAxis] = steps;
  bShape[batchAxis] = batch;
  SmallVector<int64_t> iota(steps);
  for (int64_t t = 0; t < steps; ++t)
    iota[t] = t;
  Value t = c.constI64(iota, tShape);
  Value len = c.reshape(lens, bShape);
  Value one = c.constI64({1}, {1, 1});
  Value rev = c.binary<SubOp>(c.binary<SubOp>(len, one), t);
  Value inside = c.binary<LessOp>(t, len, /*isCompare=*/true);
  if (!rev || !inside)
    return failure();
  SmallVector<int64_t> twoD(2);
  twoD[timeAxis] = steps;
  twoD[batchAxis] = batch;
  Value tFull = c.expand(t, twoD);
  Value src = c.create<WhereOp>(RankedTensorType::get(twoD, c.b.getI64Type()),
                                inside, rev, tFull);
  if (!src)
    return failure();
  SmallVector<int64_t> lifted(twoD);
  lifted.append(rank - 2, 1);
  Value idx = c.expand(c.reshape(src, lifted), shape);
  if (!idx)
    return failure();
  return c.push(c.create<GatherElementsOp>(
      RankedTensorType::get(shape, eltOf(x)), x, idx,
      c.b.getI64IntegerAttr(timeAxis)));
}

/// GatherND-13 with batch_dims = 0: the first q = indices.shape[-1] data
/// dims are flattened into one, each index tuple becomes a linear index
/// (components made non-negative against their dim, times the row-major
/// strides, summed), and one kiln.gather along axis 0 reads the slices.
LogicalResult convertGatherND(NodeContext &c) {
  Value data = c.required(0, "data"), idx = c.required(1, "indices");
  if (!data || !idx)
    return failure();
  if (c.getInt("batch_dims", 0) != 0) {
    c.emitError() << "batch_dims = " << c.getInt("batch_dims", 0)
                  << " is not supported (only 0)";
    return failure();
  }
  ArrayRef<int64_t> ds = shapeOf(data), is = shapeOf(idx);
  if (is.empty() || is.back() < 1 || is.back() > (int64_t)ds.size()) {
    c.emitError() << "indices shape " << shapeString(is)
                  << " must end in a depth in [1, " << ds.size()
                  << "] (the data's rank)";
    return failure();
  }
  int64_t q = is.back();
  SmallVector<int64_t> batch(is.drop_back());
  Value linear;
  int64_t stride = 1;
  for (int64_t j = q - 1; j >= 0; --j) {
    SmallVector<int64_t> starts(is.size(), 0), steps(is.size(), 1),
        one(is);
    starts.back() = j;
    one.back() = 1;
    Value comp = c.slice(idx, starts, steps, one);
    comp = comp ? c.reshape(comp, batch) : Value();
    if (!comp)
      return failure();
    Type it = eltOf(comp);
    Value neg = c.binary<LessOp>(comp, c.scalar(it, 0), true);
    Value wrapped = c.binary<AddOp>(comp, c.scalar(it, (double)ds[j]));
    comp = neg && wrapped ? c.create<WhereOp>(comp.getType(), neg, wrapped,
                                              comp)
                          : Value();
    if (comp && stride != 1)
      comp = c.binary<MulOp>(comp, c.scalar(it, (double)stride));
    linear = !comp ? Value() : linear ? c.binary<AddOp>(linear, comp) : comp;
    if (!linear)
      return failure();
    stride *= ds[j];
  }
  SmallVector<int64_t> flat = {stride};
  llvm::append_range(flat, ds.drop_front(q));
  Value d = c.reshape(data, flat);
  SmallVector<int64_t> outShape(batch);
  llvm::append_range(outShape, ds.drop_front(q));
  return c.push(d ? c.create<GatherOp>(withShape(data, outShape), d, linear,
                                       c.b.getI64IntegerAttr(0))
                  : Value());
}

/// The result shape of reducing `axis` of `shape` (kept as 1 or dropped).
SmallVector<int64_t> reducedShape(ArrayRef<int64_t> shape, int64_t axis,
                                  bool keep) {
  SmallVector<int64_t> out;
  for (auto [d, n] : llvm::enumerate(shape))
    if ((int64_t)d != axis)
      out.push_back(n);
    else if (keep)
      out.push_back(1);
  return out;
}

template <typename OpTy> LogicalResult convertArgReduce(NodeContext &c) {
  Value x = c.required(0, "data");
  if (!x)
    return failure();
  auto axis = c.normAxis(c.getInt("axis", 0), tensorType(x).getRank(), "axis");
  if (!axis)
    return failure();
  bool keep = c.getInt("keepdims", 1) != 0;
  bool last = c.getInt("select_last_index", 0) != 0;
  auto type = RankedTensorType::get(reducedShape(shapeOf(x), *axis, keep),
                                    c.b.getI64Type());
  return c.push(c.create<OpTy>(type, x, c.b.getI64IntegerAttr(*axis),
                               c.b.getBoolAttr(keep), c.b.getBoolAttr(last)));
}

template <typename OpTy> LogicalResult convertCumulative(NodeContext &c) {
  Value x = c.required(0, "x");
  if (!x)
    return failure();
  auto axisIn = c.constInts(1, "axis");
  if (failed(axisIn))
    return failure();
  if (axisIn->size() != 1) {
    c.emitError() << "input 1 ('axis') must hold one value, got "
                  << axisIn->size();
    return failure();
  }
  auto axis = c.normAxis((*axisIn)[0], tensorType(x).getRank(), "axis");
  if (!axis)
    return failure();
  return c.push(c.create<OpTy>(
      x.getType(), x, c.b.getI64IntegerAttr(*axis),
      c.b.getBoolAttr(c.getInt("exclusive", 0) != 0),
      c.b.getBoolAttr(c.getInt("reverse", 0) != 0)));
}

LogicalResult convertTopK(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x)
    return failure();
  auto kIn = c.constInts(1, "K");
  if (failed(kIn))
    return failure();
  if (kIn->size() != 1) {
    c.emitError() << "input 1 ('K') must hold one value, got " << kIn->size();
    return failure();
  }
  auto axis = c.normAxis(c.getInt("axis", -1), tensorType(x).getRank(), "axis");
  if (!axis)
    return failure();
  int64_t k = (*kIn)[0], n = shapeOf(x)[*axis];
  if (k < 0 || k > n) {
    c.emitError() << "K = " << k << " is out of range [0, " << n
                  << "] (the size of axis " << *axis << ")";
    return failure();
  }
  SmallVector<int64_t> shape(shapeOf(x));
  shape[*axis] = k;
  auto op = TopKOp::create(
      c.b, c.loc, TypeRange{withShape(x, shape),
                            RankedTensorType::get(shape, c.b.getI64Type())},
      x, c.b.getI64IntegerAttr(k), c.b.getI64IntegerAttr(*axis),
      c.b.getBoolAttr(c.getInt("largest", 1) != 0));
  return c.finishMulti(op, c.results);
}

/// Hardmax-13: 1 at the first maximum along `axis`, 0 elsewhere.
LogicalResult convertHardmax(NodeContext &c) {
  Value x = c.required(0, "input");
  if (!x)
    return failure();
  int64_t rank = tensorType(x).getRank();
  auto axis = c.normAxis(c.getInt("axis", -1), rank, "axis");
  if (!axis)
    return failure();
  if (shapeOf(x)[*axis] == 0)
    return c.push(x);
  auto idxType = RankedTensorType::get(reducedShape(shapeOf(x), *axis, true),
                                       c.b.getI64Type());
  Value arg = c.create<ArgMaxOp>(idxType, x, c.b.getI64IntegerAttr(*axis),
                                 c.b.getBoolAttr(true), c.b.getBoolAttr(false));
  // iota along the axis, shaped to broadcast against the arg max.
  int64_t n = shapeOf(x)[*axis];
  SmallVector<int64_t> iota(n), iotaShape(rank, 1);
  for (int64_t i = 0; i < n; ++i)
    iota[i] = i;
  iotaShape[*axis] = n;
  Value hot = arg ? c.binary<EqualOp>(c.constI64(iota, iotaShape), arg, true)
                  : Value();
  return c.push(hot ? c.cast(hot, eltOf(x)) : Value());
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// NegativeLogLikelihoodLoss on `logp` [N, C, d...] and `target` [N, d...]:
/// loss = -logp[n, target, d...] * weight[target], 0 where target equals
/// ignore_index; reduced by `reduction` (mean divides by the summed weights).
Value nllLoss(NodeContext &c, Value logp, Value target, Value weight) {
  std::string reduction = c.getString("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean") {
    c.emitError() << "reduction must be \"none\", \"sum\" or \"mean\", got \""
                  << reduction << "\"";
    return {};
  }
  ArrayRef<int64_t> ls = shapeOf(logp), ts = shapeOf(target);
  if (ls.size() < 2 || ts.size() != ls.size() - 1 || ts[0] != ls[0] ||
      ts.drop_front() != ls.drop_front(2)) {
    c.emitError() << "target shape " << shapeString(ts)
                  << " does not match input shape " << shapeString(ls)
                  << " (expected [N, d1, ...] for input [N, C, d1, ...])";
    return {};
  }
  if (weight && shapeOf(weight) != ArrayRef<int64_t>{ls[1]}) {
    c.emitError() << "weight shape " << shapeString(shapeOf(weight))
                  << " is not [C] = [" << ls[1] << "]";
    return {};
  }
  Type elt = eltOf(logp);
  Value ignored;
  Value safe = target;
  if (c.attr("ignore_index")) {
    Value ii = c.scalar(eltOf(target), c.getInt("ignore_index", 0));
    ignored = c.binary<EqualOp>(target, ii, true);
    safe = ignored ? c.create<WhereOp>(target.getType(), ignored,
                                      c.scalar(eltOf(target), 0), target)
                   : Value();
    if (!safe)
      return {};
  }
  SmallVector<int64_t> idxShape(ts);
  idxShape.insert(idxShape.begin() + 1, 1);
  Value idx = c.reshape(safe, idxShape);
  Value picked = idx ? c.create<GatherElementsOp>(
                           RankedTensorType::get(idxShape, elt), logp, idx,
                           c.b.getI64IntegerAttr(1))
                     : Value();
  picked = picked ? c.reshape(picked, ts) : Value();
  Value loss = picked ? c.create<NegOp>(picked.getType(), picked) : Value();
  Value w;
  if (weight)
    w = c.create<GatherOp>(RankedTensorType::get(ts, elt), weight, safe,
                           c.b.getI64IntegerAttr(0));
  else
    w = c.expand(c.scalar(elt, 1.0), ts);
  if (!loss || !w)
    return {};
  if (ignored)
    w = c.create<WhereOp>(w.getType(), ignored, c.scalar(elt, 0.0), w);
  loss = w ? c.binary<MulOp>(loss, w) : Value();
  if (!loss || reduction == "none")
    return loss;
  SmallVector<int64_t> all;
  for (int64_t d = 0; d < (int64_t)ts.size(); ++d)
    all.push_back(d);
  auto scalarType = RankedTensorType::get({}, elt);
  Value sum = c.create<ReduceSumOp>(scalarType, loss, all, false);
  if (!sum || reduction == "sum")
    return sum;
  Value wsum = c.create<ReduceSumOp>(scalarType, w, all, false);
  return wsum ? c.binary<DivOp>(sum, wsum) : Value();
}

LogicalResult convertNllLoss(NodeContext &c) {
  Value logp = c.required(0, "input"), target = c.required(1, "target");
  if (!logp || !target)
    return failure();
  return c.push(nllLoss(c, logp, target, c.input(2)));
}

/// SoftmaxCrossEntropyLoss: NLL of the log-softmax over axis 1; output 1 is
/// the log-softmax itself.
LogicalResult convertSoftmaxCrossEntropy(NodeContext &c) {
  Value scores = c.required(0, "scores"), labels = c.required(1, "labels");
  if (!scores || !labels)
    return failure();
  if (tensorType(scores).getRank() < 2) {
    c.emitError() << "scores must have rank >= 2, got "
                  << shapeString(shapeOf(scores));
    return failure();
  }
  SmallVector<int64_t> kept(shapeOf(scores));
  kept[1] = 1;
  SmallVector<int64_t> axes = {1};
  Value mx = c.create<ReduceMaxOp>(withShape(scores, kept), scores, axes, true);
  Value shifted = mx ? c.binary<SubOp>(scores, mx) : Value();
  Value e = shifted ? c.create<ExpOp>(scores.getType(), shifted) : Value();
  Value s = e ? c.create<ReduceSumOp>(withShape(scores, kept), e, axes, true)
              : Value();
  Value l = s ? c.create<LogOp>(s.getType(), s) : Value();
  Value logp = l ? c.binary<SubOp>(shifted, l) : Value();
  if (!logp)
    return failure();
  if (failed(c.push(nllLoss(c, logp, labels, c.input(2)))))
    return failure();
  if (c.numOutputs() > 1)
    c.results.push_back(logp);
  return success();
}

//===----------------------------------------------------------------------===//
// Einsum
//===----------------------------------------------------------------------===//

/// One operand's labels, '...' expanded to upper-case placeholders.
FailureOr<std::string> expandTerm(NodeContext &c, StringRef term,
                                  int64_t rank, int64_t &ellipsisRank) {
  std::string out;
  size_t dots = term.find("...");
  StringRef before = term, after;
  if (dots != StringRef::npos) {
    before = term.take_front(dots);
    after = term.drop_front(dots + 3);
  }
  for (StringRef part : {before, after})
    for (char ch : part)
      if (!llvm::isAlpha(ch) || llvm::isUpper(ch)) {
        c.emitError() << "equation label '" << ch
                      << "' is not a lower-case letter (kiln supports a-z "
                         "and one '...')";
        return failure();
      }
  int64_t named = (int64_t)(before.size() + after.size());
  if (dots == StringRef::npos) {
    if (named != rank) {
      c.emitError() << "equation term '" << term << "' has " << named
                    << " labels for an operand of rank " << rank;
      return failure();
    }
    return term.str();
  }
  int64_t er = rank - named;
  if (er < 0 || (ellipsisRank >= 0 && ellipsisRank != er)) {
    c.emitError() << "equation term '" << term
                  << "': '...' stands for a different number of dims in "
                     "different operands";
    return failure();
  }
  ellipsisRank = er;
  out = before.str();
  for (int64_t i = 0; i < er; ++i)
    out += char('A' + i);
  out += after.str();
  return out;
}

LogicalResult convertEinsum(NodeContext &c) {
  std::string eq = c.getString("equation", "");
  eq.erase(llvm::remove_if(eq, [](char ch) { return ch == ' '; }), eq.end());
  StringRef eqRef(eq);
  auto [lhs, rhs] = eqRef.split("->");
  bool explicitOut = eqRef.contains("->");
  SmallVector<StringRef> terms;
  lhs.split(terms, ',');
  if (terms.size() != c.numInputs() || terms.empty() || terms.size() > 2) {
    c.emitError() << "equation '" << eq << "' has " << terms.size()
                  << " operand terms for " << c.numInputs()
                  << " inputs; kiln supports one or two operands";
    return failure();
  }
  int64_t ellipsisRank = -1;
  SmallVector<Value> ops;
  SmallVector<std::string> labels;
  llvm::DenseMap<char, int64_t> size;
  for (auto [i, term] : llvm::enumerate(terms)) {
    Value v = c.required(i, "Inputs");
    if (!v)
      return failure();
    auto l = expandTerm(c, term, tensorType(v).getRank(), ellipsisRank);
    if (failed(l))
      return failure();
    llvm::SmallSet<char, 8> seen;
    for (auto [d, ch] : llvm::enumerate(*l)) {
      if (!seen.insert(ch).second) {
        c.emitError() << "equation term '" << term.str() << "' repeats label '"
                      << ch << "' (a diagonal), which kiln does not support";
        return failure();
      }
      auto [it, fresh] = size.try_emplace(ch, shapeOf(v)[d]);
      if (!fresh && it->second != shapeOf(v)[d]) {
        c.emitError() << "label '" << ch << "' has size " << it->second
                      << " and " << shapeOf(v)[d]
                      << " (kiln's Einsum does not broadcast)";
        return failure();
      }
    }
    ops.push_back(v);
    labels.push_back(*l);
  }
  std::string out;
  if (explicitOut) {
    bool dots = rhs.contains("...");
    int64_t outRank = (int64_t)rhs.size() -
                      (dots ? 3 - std::max<int64_t>(ellipsisRank, 0) : 0);
    auto o = expandTerm(c, rhs, outRank, ellipsisRank);
    if (failed(o))
      return failure();
    out = *o;
  } else {
    // Implicit: the ellipsis dims, then the labels used once, sorted.
    for (int64_t i = 0; i < std::max<int64_t>(ellipsisRank, 0); ++i)
      out += char('A' + i);
    std::string once;
    for (auto [ch, n] : size)
      if (llvm::isLower(ch)) {
        int count = 0;
        for (const std::string &l : labels)
          count += llvm::count(l, ch);
        if (count == 1)
          once += ch;
      }
    llvm::sort(once);
    out += once;
  }
  for (char ch : out)
    if (!size.count(ch)) {
      c.emitError() << "output label '" << ch
                    << "' appears in no operand term";
      return failure();
    }
  auto in = [](const std::string &s, char ch) {
    return s.find(ch) != std::string::npos;
  };
  // Sum away the labels only one operand has and the output does not.
  for (auto [v, l] : llvm::zip_equal(ops, labels)) {
    SmallVector<int64_t> axes;
    std::string keep;
    for (auto [d, ch] : llvm::enumerate(l)) {
      bool elsewhere = in(out, ch);
      for (const std::string &other : labels)
        if (&other != &l && in(other, ch))
          elsewhere = true;
      if (elsewhere)
        keep += ch;
      else
        axes.push_back(d);
    }
    if (axes.empty())
      continue;
    SmallVector<int64_t> shape;
    for (char ch : keep)
      shape.push_back(size[ch]);
    v = c.create<ReduceSumOp>(withShape(v, shape), v, axes, false);
    if (!v)
      return failure();
    l = keep;
  }
  auto permuteTo = [&](Value v, const std::string &from,
                       const std::string &to) -> Value {
    if (from == to)
      return v;
    SmallVector<int64_t> perm;
    for (char ch : to)
      perm.push_back(from.find(ch));
    return c.transpose(v, perm);
  };
  auto sizesOf = [&](const std::string &s) {
    SmallVector<int64_t> shape;
    for (char ch : s)
      shape.push_back(size[ch]);
    return shape;
  };
  auto product = [&](const std::string &s) {
    int64_t n = 1;
    for (char ch : s)
      n *= size[ch];
    return n;
  };
  if (ops.size() == 1)
    return c.push(permuteTo(ops[0], labels[0], out));
  const std::string &la = labels[0], &lb = labels[1];
  std::string batch, freeA, freeB, contract;
  for (char ch : la) {
    if (in(lb, ch))
      (in(out, ch) ? batch : contract) += ch;
    else
      freeA += ch;
  }
  for (char ch : lb)
    if (!in(la, ch))
      freeB += ch;
  int64_t nb = product(batch), m = product(freeA), n = product(freeB),
          k = product(contract);
  Value a = permuteTo(ops[0], la, batch + freeA + contract);
  Value b = permuteTo(ops[1], lb, batch + contract + freeB);
  a = a ? c.reshape(a, {nb, m, k}) : Value();
  b = b ? c.reshape(b, {nb, k, n}) : Value();
  if (!a || !b)
    return failure();
  if (!isa<FloatType>(eltOf(a))) {
    c.emitError() << "a contraction of " << eltOf(a)
                  << " operands is not supported (kiln.matmul is float-only)";
    return failure();
  }
  Value r = c.create<MatmulOp>(withShape(a, {nb, m, n}), a, b);
  std::string have = batch + freeA + freeB;
  r = r ? c.reshape(r, sizesOf(have)) : Value();
  return c.push(r ? permuteTo(r, have, out) : Value());
}


//===----------------------------------------------------------------------===//
// Pad
//===----------------------------------------------------------------------===//

/// Pad-13 to Pad-25 with constant pads (and axes, from 18): per padded axis,
/// negative pads crop (a slice), positive pads concatenate a splat of
/// constant_value (`constant`), copies of the border element (`edge`), the
/// mirrored interior (`reflect`) or the other end (`wrap`, from 19).
LogicalResult convertPad(NodeContext &c) {
  Value x = c.required(0, "data");
  if (!x)
    return failure();
  int64_t rank = tensorType(x).getRank();
  std::string mode = c.getString("mode", "constant");
  if (mode != "constant" && mode != "edge" && mode != "reflect" &&
      !(mode == "wrap" && c.opset >= 19)) {
    c.emitError() << "mode must be \"constant\", \"reflect\""
                  << (c.opset >= 19 ? ", \"edge\" or \"wrap\"" : " or \"edge\"")
                  << ", got \""
                  << mode << "\"";
    return failure();
  }
  auto pads = c.constInts(1, "pads");
  if (failed(pads))
    return failure();
  SmallVector<int64_t> axes;
  if (c.input(3)) {
    auto a = c.constInts(3, "axes");
    if (failed(a))
      return failure();
    for (int64_t ax : *a) {
      auto n = c.normAxis(ax, rank, "axis");
      if (!n)
        return failure();
      axes.push_back(*n);
    }
  } else {
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  if ((int64_t)pads->size() != 2 * (int64_t)axes.size()) {
    c.emitError() << "input 1 ('pads') has " << pads->size()
                  << " values, expected " << 2 * axes.size()
                  << " (a begin and an end per padded axis)";
    return failure();
  }
  double fill = 0.0;
  if (mode == "constant" && c.input(2) &&
      tensorType(c.input(2)).getNumElements() != 0) {
    auto v = c.constScalar(2, "constant_value");
    if (failed(v))
      return failure();
    fill = *v;
  }
  Value r = x;
  for (size_t i = 0; i < axes.size(); ++i) {
    // A plain variable, not a structured binding: lambdas below capture it
    // (clang-14, the fuzz build, cannot capture bindings).
    int64_t axis = axes[i];
    int64_t lo = (*pads)[i], hi = (*pads)[i + axes.size()];
    int64_t n = shapeOf(r)[axis];
    // Crop first: a negative pad removes elements.
    if (lo < 0 || hi < 0) {
      int64_t cutLo = std::max<int64_t>(-lo, 0), cutHi = std::max<int64_t>(-hi, 0);
      if (cutLo + cutHi > n) {
        c.emitError() << "pads crop " << cutLo + cutHi << " elements of axis "
                      << axis << ", which has " << n;
        return failure();
      }
      SmallVector<int64_t> starts(rank, 0), steps(rank, 1),
          shape(shapeOf(r));
      starts[axis] = cutLo;
      shape[axis] = n - cutLo - cutHi;
      r = c.slice(r, starts, steps, shape);
      if (!r)
        return failure();
      n = shape[axis];
      lo = std::max<int64_t>(lo, 0);
      hi = std::max<int64_t>(hi, 0);
    }
    if (lo == 0 && hi == 0)
      continue;
    if (mode != "constant" && n == 0) {
      c.emitError() << "mode \"" << mode << "\" cannot pad the empty axis "
                    << axis;
      return failure();
    }
    if ((mode == "reflect" && (lo > n - 1 || hi > n - 1)) ||
        (mode == "wrap" && (lo > n || hi > n))) {
      c.emitError() << "mode \"" << mode << "\" pads " << lo << " and " << hi
                    << " elements on axis " << axis << " of size " << n
                    << "; at most " << (mode == "reflect" ? n - 1 : n);
      return failure();
    }
    // The piece of `count` elements from `start` by `step` along the axis.
    auto piece = [&](int64_t start, int64_t step, int64_t count) -> Value {
      SmallVector<int64_t> starts(rank, 0), steps(rank, 1), shape(shapeOf(r));
      shape[axis] = count;
      if (mode == "constant")
        return c.expand(c.scalar(eltOf(r), fill), shape);
      if (mode == "edge") {
        SmallVector<int64_t> one(shapeOf(r));
        one[axis] = 1;
        starts[axis] = start;
        Value e = c.slice(r, starts, steps, one);
        return e ? c.expand(e, shape) : Value();
      }
      starts[axis] = start;
      steps[axis] = step;
      return c.slice(r, starts, steps, shape);
    };
    SmallVector<Value> parts;
    if (lo > 0)
      parts.push_back(mode == "reflect" ? piece(lo, -1, lo)
                      : mode == "wrap"  ? piece(n - lo, 1, lo)
                                        : piece(0, 1, lo));
    parts.push_back(r);
    if (hi > 0)
      parts.push_back(mode == "reflect" ? piece(n - 2, -1, hi)
                      : mode == "wrap"  ? piece(0, 1, hi)
                                        : piece(n - 1, 1, hi));
    if (llvm::any_of(parts, [](Value v) { return !v; }))
      return failure();
    r = c.concat(parts, axis);
    if (!r)
      return failure();
  }
  return c.push(r);
}

const OpConverter kIndex[] = {
    {"Pad", 13, 25, convertPad},
    {"GatherElements", 13, 23, convertGatherElements},
    {"ScatterElements", 11, 18, convertScatterElements},
    {"ReverseSequence", 10, 28, convertReverseSequence},
    // Scatter-9/11, deprecated: ScatterElements without a reduction.
    {"Scatter", 9, 11, convertScatterElements},
    {"GatherND", 13, 23, convertGatherND},
    {"ArgMax", 13, 23, convertArgReduce<ArgMaxOp>},
    {"ArgMin", 13, 23, convertArgReduce<ArgMinOp>},
    {"CumSum", 14, 23, convertCumulative<CumsumOp>},
    {"CumProd", 26, 28, convertCumulative<CumprodOp>},
    {"TopK", 11, 24, convertTopK},
    {"Hardmax", 13, 23, convertHardmax},
    {"NegativeLogLikelihoodLoss", 13, 22, convertNllLoss},
    {"SoftmaxCrossEntropyLoss", 13, 23, convertSoftmaxCrossEntropy},
    {"Einsum", 12, 28, convertEinsum},
};

} // namespace

ArrayRef<OpConverter> kiln::import::getIndexConverters() { return kIndex; }
