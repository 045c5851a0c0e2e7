//===- FusionPrep.cpp - rewrites kiln-form-fusions runs before grouping ---===//
//
// kiln::populateFusionPrepPatterns (include/kiln/Transforms/Passes.h): exact
// rewrites that put small index-space ops where the elementwise grouping can
// take their neighbours. They move no float arithmetic and change no value:
//
// - a view (kiln::viewSource: reshape, count-preserving expand, unit-dim
//   transpose) of a scalar map's only use moves onto the map's operands,
//   and one of a norm over its last dim that keeps that dim onto the norm's
//   input (the norm then feeds its product directly: a GEMV prologue);
// - a slice of a scalar map's only use moves onto its operand (a broadcast
//   dim is not sliced; never onto two operands, slices being kernels), a slice of a unit-dim reshape onto the reshape's
//   input, and a slice that reads one operand of a concat reads that operand;
// - a gather whose indices are the constant 0, 1, ..., n-1 of its whole axis
//   is a reshape of its data;
// - and(x, true), or(x, false), x * 1 and an integer x + 0 are x;
// - a product by a weight whose result is only sliced or split into column
//   ranges is one product per range, on those columns of the weight and
//   bias (packed q/k/v split afterwards);
// - a matmul whose contraction has length 1 is the broadcast product of its
//   operands (the K = 1 products of rotary tables, inv_freq x position),
//   and one of a 2-D weight's transpose (or a linear of it) is a linear
//   reading the weight as stored (a tied lm head).
//
// So a rotary table chain position -> cast -> product -> concat -> cos/sin ->
// slice, and a mask chain cast -> gather -> and -> where, become elementwise
// chains over one index space with views between them and their inputs.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/MemoryPlan.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace kiln;

namespace {

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// A scalar map outside any fusion: element i of its one result is a
/// function of its operands' (broadcast) elements at i.
bool isScalarMapOp(Operation *op) {
  return op && isScalarMap(op) &&
         op->getNumResults() == 1 && !op->getParentOfType<FusionOp>();
}

/// `op` (a scalar map) recreated on `operands` with result shape `shape`.
Operation *rebuildScalarMap(PatternRewriter &rewriter, Operation *op,
                            ValueRange operands, ArrayRef<int64_t> shape) {
  Type elt = tensorType(op->getResult(0)).getElementType();
  OperationState state(op->getLoc(), op->getName(), operands,
                       {RankedTensorType::get(shape, elt)}, op->getAttrs());
  return rewriter.create(state);
}

Value reshapeTo(PatternRewriter &rewriter, Location loc, Value v,
                ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, tensorType(v).getElementType());
  if (type == v.getType())
    return v;
  return ReshapeOp::create(rewriter, loc, type, v);
}

/// view(map(x...)) -> map(view'(x)...): each operand of the map has all of
/// its result's elements (reshaped to the view's shape, same row-major
/// order) or one element (broadcast as it is, or as all-unit dims when its
/// rank is above the view's).
struct ViewIntoScalarMap : RewritePattern {
  ViewIntoScalarMap(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (isa<CastOp>(op) || op->getParentOfType<FusionOp>())
      return rewriter.notifyMatchFailure(op, "not a view outside fusions");
    Value source = viewSource(op);
    if (!source || !source.hasOneUse() ||
        !isScalarMapOp(source.getDefiningOp()))
      return rewriter.notifyMatchFailure(op, "not the only view of a map");
    Operation *map = source.getDefiningOp();
    RankedTensorType out = cast<RankedTensorType>(op->getResult(0).getType());
    // Every operand is checked before anything is built.
    for (Value x : map->getOperands()) {
      RankedTensorType t = tensorType(x);
      // Only towards inputs, weights, constants and other maps: a product
      // or a norm keeps its elementwise epilogue right after it.
      if (Operation *def = x.getDefiningOp();
          def && t.getNumElements() > 1 && !isScalarMapOp(def) &&
          !viewSource(def) && !isa<ConstantOp, WeightOp>(def))
        return rewriter.notifyMatchFailure(op, "an operand is computed");
      if (t.getNumElements() != out.getNumElements() &&
          t.getNumElements() != 1)
        return rewriter.notifyMatchFailure(op, "an operand is broadcast");
    }
    SmallVector<Value> operands;
    for (Value x : map->getOperands()) {
      RankedTensorType t = tensorType(x);
      if (t.getNumElements() == out.getNumElements())
        operands.push_back(reshapeTo(rewriter, op->getLoc(), x, out.getShape()));
      else if (t.getRank() <= out.getRank())
        operands.push_back(x);
      else
        operands.push_back(reshapeTo(rewriter, op->getLoc(), x,
                                     SmallVector<int64_t>(out.getRank(), 1)));
    }
    rewriter.replaceOp(
        op, rebuildScalarMap(rewriter, map, operands, out.getShape()));
    return success();
  }
};

/// view(norm(x)) -> norm(view'(x)) for a norm over its last dim that the
/// view keeps last (a [1, 1, C] LayerNorm read as [1, C] by a Conv1D
/// product): normalising each row of C then viewing is viewing then
/// normalising, so the norm's reader is its product and kiln-gemv can take
/// the norm in as the GEMV's prologue.
struct ViewIntoNorm : RewritePattern {
  ViewIntoNorm(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (isa<CastOp>(op) || op->getParentOfType<FusionOp>())
      return rewriter.notifyMatchFailure(op, "not a view outside fusions");
    Value source = viewSource(op);
    Operation *norm = source ? source.getDefiningOp() : nullptr;
    if (!norm || !isa<RmsNormOp, LayerNormOp>(norm) || !source.hasOneUse())
      return rewriter.notifyMatchFailure(op, "not the only view of a norm");
    RankedTensorType in = tensorType(source);
    auto out = cast<RankedTensorType>(op->getResult(0).getType());
    int64_t axis = cast<IntegerAttr>(norm->getAttr("axis")).getInt();
    if (axis != in.getRank() - 1 || out.getRank() == 0 ||
        out.getShape().back() != in.getShape().back())
      return rewriter.notifyMatchFailure(op, "the view moves the norm's dim");
    SmallVector<Value> operands(norm->getOperands());
    operands[0] = reshapeTo(rewriter, op->getLoc(), operands[0], out.getShape());
    OperationState state(norm->getLoc(), norm->getName(), operands, {out},
                         norm->getAttrs());
    state.attributes.set("axis", rewriter.getI64IntegerAttr(out.getRank() - 1));
    rewriter.replaceOp(op, rewriter.create(state)->getResults());
    return success();
  }
};

/// slice(map(x...)) -> map(slice'(x)...), the map's result read by the
/// slice only; an operand dim that broadcasts is not sliced. At most one
/// operand is sliced: slices are kernels, so the launch count stays, and
/// the slice keeps moving up until it meets a concat (where it goes) or
/// an input.
struct SliceIntoScalarMap : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op,
                                PatternRewriter &rewriter) const override {
    Operation *map = op.getInput().getDefiningOp();
    if (!isScalarMapOp(map) || !op.getInput().hasOneUse() ||
        op->getParentOfType<FusionOp>())
      return rewriter.notifyMatchFailure(op, "not the only slice of a map");
    ArrayRef<int64_t> full = tensorType(op.getInput()).getShape();
    ArrayRef<int64_t> out = op.getResult().getType().getShape();
    if (llvm::is_contained(out, 0))
      return rewriter.notifyMatchFailure(op, "empty slice");
    int64_t rank = full.size();
    struct Piece {
      SmallVector<int64_t> starts, steps, shape;
      bool sliced = false;
    };
    SmallVector<Piece> pieces;
    for (Value x : map->getOperands()) {
      ArrayRef<int64_t> xs = tensorType(x).getShape();
      int64_t offset = rank - (int64_t)xs.size();
      Piece &p = pieces.emplace_back();
      for (int64_t d = 0; d < (int64_t)xs.size(); ++d) {
        int64_t od = d + offset;
        bool broadcast = xs[d] == 1 && full[od] != 1;
        p.starts.push_back(broadcast ? 0 : op.getStarts()[od]);
        p.steps.push_back(broadcast ? 1 : op.getSteps()[od]);
        p.shape.push_back(broadcast ? 1 : out[od]);
        p.sliced |= !broadcast && (out[od] != xs[d] ||
                                   op.getStarts()[od] != 0 ||
                                   op.getSteps()[od] != 1);
      }
    }
    if (llvm::count_if(pieces, [](const Piece &p) { return p.sliced; }) > 1)
      return rewriter.notifyMatchFailure(op, "would slice two operands");
    SmallVector<Value> operands;
    for (auto [x, p] : llvm::zip_equal(map->getOperands(), pieces))
      operands.push_back(
          p.sliced ? SliceOp::create(rewriter, op.getLoc(),
                                     RankedTensorType::get(
                                         p.shape,
                                         tensorType(x).getElementType()),
                                     x, p.starts, p.steps)
                         .getResult()
                   : x);
    rewriter.replaceOp(op, rebuildScalarMap(rewriter, map, operands, out));
    return success();
  }
};

/// The dims of `shape` other than 1, in order.
SmallVector<int64_t> nonUnitDims(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> dims;
  for (int64_t d : shape)
    if (d != 1)
      dims.push_back(d);
  return dims;
}

/// slice(reshape(x)) -> reshape(slice'(x)) when the reshape only adds or
/// drops unit dims: the other dims correspond in order.
struct SliceThroughUnitReshape : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op,
                                PatternRewriter &rewriter) const override {
    auto reshape = op.getInput().getDefiningOp<ReshapeOp>();
    if (!reshape || op->getParentOfType<FusionOp>())
      return rewriter.notifyMatchFailure(op, "input is not a reshape");
    ArrayRef<int64_t> in = reshape.getInput().getType().getShape();
    ArrayRef<int64_t> mid = reshape.getResult().getType().getShape();
    ArrayRef<int64_t> out = op.getResult().getType().getShape();
    if (nonUnitDims(in) != nonUnitDims(mid) || llvm::is_contained(out, 0))
      return rewriter.notifyMatchFailure(op, "not a unit-dim reshape");
    SmallVector<int64_t> starts, steps, shape;
    size_t m = 0;
    for (int64_t d : in) {
      if (d == 1) {
        starts.push_back(0);
        steps.push_back(1);
        shape.push_back(1);
        continue;
      }
      while (mid[m] == 1)
        ++m;
      starts.push_back(op.getStarts()[m]);
      steps.push_back(op.getSteps()[m]);
      shape.push_back(out[m]);
      ++m;
    }
    Value slice = SliceOp::create(
        rewriter, op.getLoc(),
        RankedTensorType::get(shape, op.getType().getElementType()),
        reshape.getInput(), starts, steps);
    rewriter.replaceOp(op, reshapeTo(rewriter, op.getLoc(), slice, out));
    return success();
  }
};

/// slice(concat(x0, x1, ...)) -> slice'(xj) when every index the slice reads
/// on the concat's axis lies in operand j.
struct SliceOfConcat : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op,
                                PatternRewriter &rewriter) const override {
    auto concat = op.getInput().getDefiningOp<ConcatOp>();
    if (!concat)
      return rewriter.notifyMatchFailure(op, "input is not a concat");
    int64_t axis = concat.getAxis();
    int64_t count = op.getType().getShape()[axis];
    if (count == 0)
      return rewriter.notifyMatchFailure(op, "empty slice");
    int64_t first = op.getStarts()[axis];
    int64_t last = first + (count - 1) * op.getSteps()[axis];
    int64_t lo = std::min(first, last), hi = std::max(first, last);
    int64_t offset = 0;
    for (Value x : concat.getInputs()) {
      int64_t size = tensorType(x).getShape()[axis];
      if (lo >= offset && hi < offset + size) {
        SmallVector<int64_t> starts(op.getStarts());
        starts[axis] -= offset;
        rewriter.replaceOpWithNewOp<SliceOp>(op, op.getType(), x, starts,
                                             op.getSteps());
        return success();
      }
      offset += size;
    }
    return rewriter.notifyMatchFailure(op, "reads more than one operand");
  }
};

/// gather(data, [0, 1, ..., n-1]) over the whole axis (n = its length) ->
/// reshape(data): the result holds data's elements in row-major order.
struct GatherOfIota : OpRewritePattern<GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherOp op,
                                PatternRewriter &rewriter) const override {
    DenseIntElementsAttr indices;
    if (!matchPattern(op.getIndices(), m_Constant(&indices)))
      return rewriter.notifyMatchFailure(op, "indices are not constant");
    RankedTensorType data = op.getData().getType();
    int64_t axis = op.getAxis() < 0 ? op.getAxis() + data.getRank()
                                    : op.getAxis();
    if (axis < 0 || axis >= data.getRank())
      return rewriter.notifyMatchFailure(op, "axis out of range");
    int64_t n = data.getShape()[axis];
    if (indices.getNumElements() != n)
      return rewriter.notifyMatchFailure(op, "not the whole axis");
    int64_t expected = 0;
    for (const APInt &index : indices.getValues<APInt>()) {
      int64_t i = index.getSExtValue();
      if (i < 0)
        i += n;
      if (i != expected++)
        return rewriter.notifyMatchFailure(op, "indices are not 0..n-1");
    }
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), op.getData());
    return success();
  }
};

/// Whether `v` is a constant whose every element is `value` (true = 1).
bool isSplatOf(Value v, double value) {
  DenseElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || !attr.isSplat())
    return false;
  Type elt = attr.getElementType();
  if (isa<FloatType>(elt))
    return attr.getSplatValue<APFloat>().convertToDouble() == value;
  if (auto i = dyn_cast<IntegerType>(elt))
    return i.getWidth() == 1
               ? attr.getSplatValue<bool>() == (value != 0)
               : attr.getSplatValue<APInt>().getSExtValue() == (int64_t)value;
  return false;
}

/// op(x, c) -> x (either order) when c is the constant `identity` and x
/// already has the result's type (no broadcast to undo).
template <typename OpT>
struct DropIdentityOperand : OpRewritePattern<OpT> {
  DropIdentityOperand(MLIRContext *ctx, double identity,
                      bool integersOnly = false)
      : OpRewritePattern<OpT>(ctx), identity(identity),
        integersOnly(integersOnly) {}
  LogicalResult matchAndRewrite(OpT op,
                                PatternRewriter &rewriter) const override {
    if (integersOnly && !isa<IntegerType>(op.getType().getElementType()))
      return rewriter.notifyMatchFailure(op, "not an integer op");
    for (auto [x, c] : {std::pair(op.getLhs(), op.getRhs()),
                        std::pair(op.getRhs(), op.getLhs())})
      if (x.getType() == op.getType() && isSplatOf(c, identity)) {
        rewriter.replaceOp(op, x);
        return success();
      }
    return rewriter.notifyMatchFailure(op, "no identity operand");
  }
  double identity;
  /// x + 0 is x exactly only for integers (-0.0 + 0.0 is +0.0).
  bool integersOnly;
};

/// linear(x, W (+ bias)) whose result is only cut into column ranges -> one
/// linear per range on those columns of W (and of the bias): a fused q/k/v
/// or gate/up projection split afterwards (ONNX Runtime GenAI's packed
/// qkv_proj, GPT-2's c_attn, Phi-3) becomes the products kiln-gemv merges
/// as siblings into one kernel with a result each, and the slice or split
/// kernel goes. The cuts: slices of the last dim (step 1, all of every
/// other dim), or a split on the last axis, either maybe after a reshape
/// that keeps the last dim. W must be a 2-D kiln.weight read as stored
/// ([K, N]; its `columns` compose); the bias a constant or a kiln.weight
/// of [N] (its range is a contiguous byte range). Every column is computed
/// as before, by the same dot product and the same bias element.
struct SplitSlicedProduct : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  /// One range of columns and the value that holds it now.
  struct Cut {
    Value old;
    int64_t begin, width;
  };

  /// The column ranges `v` ([..., N]) is cut into by its users, or failure.
  static LogicalResult cutsOf(Value v, SmallVectorImpl<Cut> &cuts) {
    auto type = cast<RankedTensorType>(v.getType());
    int64_t rank = type.getRank();
    for (Operation *user : v.getUsers()) {
      if (auto slice = dyn_cast<SliceOp>(user)) {
        ArrayRef<int64_t> out = slice.getType().getShape();
        for (int64_t d = 0; d < rank; ++d)
          if (slice.getSteps()[d] != 1 ||
              (d + 1 < rank && (slice.getStarts()[d] != 0 ||
                                out[d] != type.getDimSize(d))))
            return failure();
        cuts.push_back({slice.getResult(), slice.getStarts().back(),
                        out.back()});
      } else if (auto split = dyn_cast<SplitOp>(user)) {
        if (split.getAxis() != rank - 1)
          return failure();
        int64_t begin = 0;
        for (Value r : split.getResults()) {
          int64_t width = cast<RankedTensorType>(r.getType()).getShape().back();
          cuts.push_back({r, begin, width});
          begin += width;
        }
      } else {
        return failure();
      }
    }
    return success(!cuts.empty());
  }

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    auto w = op.getWeight().getDefiningOp<WeightOp>();
    if (!w || op.getTransposeWeight() || w.getTransposed() ||
        w.getType().getRank() != 2)
      return rewriter.notifyMatchFailure(op, "not a product by a weight");
    Value bias = op.getBias();
    auto biasWeight = bias ? bias.getDefiningOp<WeightOp>() : WeightOp();
    DenseElementsAttr biasValue;
    if (bias && !(biasWeight && !biasWeight.getSourceType() &&
                  !biasWeight.getColumns() && !biasWeight.getTransposed() &&
                  biasWeight.getType().getRank() == 1) &&
        !(matchPattern(bias, m_Constant(&biasValue)) &&
          cast<ShapedType>(biasValue.getType()).getRank() == 1))
      return rewriter.notifyMatchFailure(op, "a bias that cannot be cut");
    // The cuts, of the product or of its only user, a reshape that keeps
    // the last dim.
    Value cut = op.getResult();
    ReshapeOp reshape;
    if (op->hasOneUse())
      if ((reshape = dyn_cast<ReshapeOp>(*op->getUsers().begin())) &&
          reshape.getType().getShape().back() !=
              op.getType().getShape().back())
        reshape = ReshapeOp();
    if (reshape)
      cut = reshape.getResult();
    SmallVector<Cut> cuts;
    if (failed(cutsOf(cut, cuts)))
      return rewriter.notifyMatchFailure(op, "not cut into columns");
    int64_t k = w.getType().getDimSize(0), n = w.getType().getDimSize(1);
    int64_t base = 0, stored = n;
    if (std::optional<ArrayRef<int64_t>> cols = w.getColumns()) {
      base = (*cols)[0];
      stored = (*cols)[2];
    }
    Type elt = w.getType().getElementType();
    auto productType = cast<RankedTensorType>(op.getType());
    for (const Cut &c : cuts) {
      rewriter.setInsertionPoint(w);
      auto part = cast<WeightOp>(rewriter.clone(*w));
      part.getResult().setType(RankedTensorType::get({k, c.width}, elt));
      part.setColumns(ArrayRef<int64_t>{base + c.begin,
                                        base + c.begin + c.width, stored});
      Value partBias;
      if (biasWeight) {
        rewriter.setInsertionPoint(biasWeight);
        auto pb = cast<WeightOp>(rewriter.clone(*biasWeight));
        Type be = biasWeight.getType().getElementType();
        int64_t bytes = (be.getIntOrFloatBitWidth() + 7) / 8;
        pb.getResult().setType(RankedTensorType::get({c.width}, be));
        pb.setOffset(biasWeight.getOffset() + c.begin * bytes);
        pb.setLength(c.width * bytes);
        partBias = pb.getResult();
      } else if (biasValue) {
        auto all = llvm::to_vector(biasValue.getValues<Attribute>());
        auto type = RankedTensorType::get({c.width},
                                          biasValue.getElementType());
        rewriter.setInsertionPoint(op);
        partBias = ConstantOp::create(
            rewriter, bias.getLoc(), type,
            DenseElementsAttr::get(
                type, ArrayRef<Attribute>(all).slice(c.begin, c.width)));
      }
      SmallVector<int64_t> shape(productType.getShape());
      shape.back() = c.width;
      rewriter.setInsertionPointAfterValue(c.old);
      Value product = LinearOp::create(
          rewriter, op.getLoc(),
          RankedTensorType::get(shape, productType.getElementType()),
          op.getInput(), part.getResult(), partBias, false);
      if (product.getType() != c.old.getType())
        product = ReshapeOp::create(rewriter, op.getLoc(), c.old.getType(),
                                    product);
      rewriter.replaceAllUsesWith(c.old, product);
    }
    // The slices or the split, the reshape and the product are dead now.
    for (Operation *user : llvm::make_early_inc_range(cut.getUsers()))
      rewriter.eraseOp(user);
    if (reshape)
      rewriter.eraseOp(reshape);
    rewriter.eraseOp(op);
    if (w->use_empty())
      rewriter.eraseOp(w);
    if (biasWeight && biasWeight->use_empty())
      rewriter.eraseOp(biasWeight);
    return success();
  }
};

/// matmul(a [..., M, 1], b [..., 1, N]) -> a * b: one product per element,
/// the batch dims broadcast as the matmul broadcasts them.
struct MatmulOfOne : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType a = op.getLhs().getType(), b = op.getRhs().getType();
    if (a.getRank() < 2 || b.getRank() < 2 || a.getShape().back() != 1 ||
        b.getShape()[b.getRank() - 2] != 1 ||
        a.getElementType() != op.getType().getElementType() ||
        b.getElementType() != op.getType().getElementType())
      return rewriter.notifyMatchFailure(op, "contraction is not of length 1");
    rewriter.replaceOpWithNewOp<MulOp>(op, op.getType(), op.getLhs(),
                                       op.getRhs());
    return success();
  }
};

/// The 2-D weight or constant `v` is the transpose of ([1, 0]), or null.
Value transposedWeight(Value v) {
  auto transpose = v.getDefiningOp<TransposeOp>();
  if (!transpose || transpose.getPerm().size() != 2 ||
      transpose.getPerm()[0] != 1)
    return {};
  Value w = transpose.getInput();
  return isa_and_nonnull<WeightOp, ConstantOp>(w.getDefiningOp()) ? w
                                                                   : Value();
}

/// matmul(x, transpose(w)) -> linear(x, w) {transpose_weight}: a product
/// with a 2-D weight or constant read transposed (a tied lm head, x times
/// the embedding table's transpose) reads the weight as stored, rows of K,
/// instead of a transpose kernel writing [K, N] every step.
struct MatmulOfTransposedWeight : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    Value w = transposedWeight(op.getRhs());
    if (!w || op.getLhs().getType().getRank() < 1 ||
        op->getParentOfType<FusionOp>())
      return rewriter.notifyMatchFailure(op, "rhs is not a weight's "
                                             "2-D transpose");
    rewriter.replaceOpWithNewOp<LinearOp>(op, op.getType(), op.getLhs(), w,
                                          /*bias=*/Value(),
                                          rewriter.getBoolAttr(true));
    return success();
  }
};

/// linear(x, transpose(w)) -> linear(x, w) with transpose_weight flipped,
/// for the same reason (a weight-tied head written as Linear).
struct LinearOfTransposedWeight : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Value w = transposedWeight(op.getWeight());
    if (!w || op->getParentOfType<FusionOp>())
      return rewriter.notifyMatchFailure(op, "weight is not a weight's "
                                             "2-D transpose");
    rewriter.modifyOpInPlace(op, [&] {
      op.getWeightMutable().assign(w);
      op.setTransposeWeight(!op.getTransposeWeight());
    });
    return success();
  }
};

} // namespace

void kiln::populateFusionPrepPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ViewIntoScalarMap, ViewIntoNorm, SliceIntoScalarMap, SliceThroughUnitReshape,
               SliceOfConcat, GatherOfIota, MatmulOfOne,
               MatmulOfTransposedWeight, LinearOfTransposedWeight>(ctx);
  patterns.add<DropIdentityOperand<AndOp>>(ctx, 1.0);
  patterns.add<DropIdentityOperand<OrOp>>(ctx, 0.0);
  patterns.add<DropIdentityOperand<MulOp>>(ctx, 1.0);
  patterns.add<DropIdentityOperand<AddOp>>(ctx, 0.0, /*integersOnly=*/true);
  patterns.add<SplitSlicedProduct>(ctx);
  ReshapeOp::getCanonicalizationPatterns(patterns, ctx);
  TransposeOp::getCanonicalizationPatterns(patterns, ctx);
}
