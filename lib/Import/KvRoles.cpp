//===- KvRoles.cpp - find a decoder's KV-cache roles before import --------===//
//
// A KV-cache build (docs/kv-cache.md) imports the decode step of a full
// cache: batch B, one new token, past N - 1, total N. The dims are found by
// their role in the ONNX graph, never by their names:
//   - the token ids: an integer rank-2 input that reaches, through at most a
//     few reshape-like nodes, the indices of a Gather over an initializer
//     (of several, the one whose table has the most rows: the vocabulary);
//     batch = its dim 0, sequence = its dim 1;
//   - positions: another integer [batch, seq] input;
//   - past: the concat axis of every rank-4 float input that a Concat
//     takes as its first operand, or axis 2 of ONNX Runtime
//     GroupQueryAttention's past_key / past_value (all must agree);
//   - total: dim 1 of an integer/bool [batch, x] input whose x is neither
//     the sequence nor the past dim (the attention mask);
//   - a GroupQueryAttention past's named head size (unless --bind gives
//     it): the width of the projection that feeds the node's query (a
//     MatMul by a weight, or MatMulNBits, maybe plus a bias) over its
//     query (and packed key/value) heads.
//
// Import folds shapes, so a constant computed from the past length would be
// frozen at N - 1. The check: import once more with the past one longer and
// compare the constants node by node; any constant that differs must flow
// only, through elementwise ops, into the input of a softmax (an attention
// mask) and be the same at every key position. Otherwise the function gets
// `kiln.kv_unsafe = "<why>"` and kiln-kv-cache leaves it alone.
//
//===----------------------------------------------------------------------===//

#include "KvRoles.h"

#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

using namespace mlir;
using namespace kiln;
using namespace kiln::import;

namespace {

bool isIntegerElem(int t) {
  using TP = onnx::TensorProto;
  return t == TP::INT64 || t == TP::INT32 || t == TP::INT16 || t == TP::INT8 ||
         t == TP::UINT8 || t == TP::BOOL;
}

bool isFloatElem(int t) {
  using TP = onnx::TensorProto;
  return t == TP::FLOAT || t == TP::FLOAT16 || t == TP::BFLOAT16 ||
         t == TP::DOUBLE;
}

/// A dim: its symbolic name, or its value.
struct Dim {
  std::string param;
  int64_t value = -1;
  bool symbolic() const { return !param.empty(); }
  bool operator==(const Dim &o) const {
    return param == o.param && value == o.value;
  }
};

std::vector<Dim> dimsOf(const onnx::ValueInfoProto &in) {
  std::vector<Dim> dims;
  if (!in.type().has_tensor_type() || !in.type().tensor_type().has_shape())
    return dims;
  for (const auto &d : in.type().tensor_type().shape().dim())
    dims.push_back(d.has_dim_param() && !d.has_dim_value()
                       ? Dim{d.dim_param(), -1}
                       : Dim{"", d.has_dim_value() ? d.dim_value() : -1});
  return dims;
}

std::string dimStr(const Dim &d) {
  return d.symbolic() ? "'" + d.param + "'" : std::to_string(d.value);
}

/// The axis along which `node` appends new keys/values to a past input
/// (rank `rank`) that it reads as operand `idx`: a Concat's first operand
/// (its axis, made non-negative), or the past_key / past_value of ONNX
/// Runtime's GroupQueryAttention (BNSH: axis 2). None for any other use.
std::optional<int64_t> pastAxisOf(const onnx::NodeProto &node, int idx,
                                  size_t rank) {
  if (node.op_type() == "Concat" &&
      (node.domain().empty() || node.domain() == "ai.onnx") && idx == 0) {
    int64_t axis = 0;
    for (const auto &a : node.attribute())
      if (a.name() == "axis")
        axis = a.i();
    return axis < 0 ? axis + int64_t(rank) : axis;
  }
  if (node.op_type() == "GroupQueryAttention" &&
      node.domain() == "com.microsoft" && (idx == 3 || idx == 4))
    return 2;
  return std::nullopt;
}

} // namespace

LogicalResult kiln::import::bindKvRoles(const onnx::GraphProto &graph,
                                        Location fileLoc,
                                        const KvStepShape &step,
                                        ImportOptions &options,
                                        KvRoleInfo &info) {
  llvm::StringMap<const onnx::TensorProto *> inits;
  for (const auto &t : graph.initializer())
    inits[t.name()] = &t;
  llvm::StringMap<std::vector<std::pair<const onnx::NodeProto *, int>>> users;
  for (const auto &node : graph.node())
    for (auto [i, in] : llvm::enumerate(node.input()))
      users[in].push_back({&node, int(i)});

  // Rows of the Gather table that `name` indexes, through reshape-like hops.
  std::function<int64_t(const std::string &, int)> gatherRows =
      [&](const std::string &name, int depth) -> int64_t {
    int64_t best = -1;
    for (auto [node, idx] : users.lookup(name)) {
      StringRef op = node->op_type();
      if (op == "Gather" && idx == 1 && node->input_size() > 0) {
        auto it = inits.find(node->input(0));
        if (it != inits.end() && it->second->dims_size() >= 1)
          best = std::max<int64_t>(best, it->second->dims(0));
      } else if (depth < 3 && idx == 0 &&
                 (op == "Reshape" || op == "Cast" || op == "Unsqueeze" ||
                  op == "Squeeze" || op == "Flatten" || op == "Identity") &&
                 node->output_size() > 0) {
        best = std::max(best, gatherRows(node->output(0), depth + 1));
      }
    }
    return best;
  };

  // The last dim of `name` when it is a projection of a weight
  // initializer: a MatMul by a 2-D weight ([K, N]), ONNX Runtime's
  // MatMulNBits (its N attribute), or either with a bias Add after it.
  llvm::StringMap<const onnx::NodeProto *> producer;
  for (const auto &node : graph.node())
    for (const std::string &out : node.output())
      producer[out] = &node;
  std::function<int64_t(const std::string &, int)> projectedWidth =
      [&](const std::string &name, int depth) -> int64_t {
    const onnx::NodeProto *node = producer.lookup(name);
    if (!node || depth > 2 || node->input_size() < 2)
      return -1;
    StringRef op = node->op_type();
    if (op == "MatMul") {
      auto it = inits.find(node->input(1));
      return it != inits.end() && it->second->dims_size() == 2
                 ? it->second->dims(1)
                 : -1;
    }
    if (op == "MatMulNBits" && node->domain() == "com.microsoft") {
      for (const auto &a : node->attribute())
        if (a.name() == "N")
          return a.i();
      return -1;
    }
    if (op == "Add")
      return std::max(projectedWidth(node->input(0), depth + 1),
                      projectedWidth(node->input(1), depth + 1));
    return -1;
  };

  const onnx::ValueInfoProto *tokens = nullptr;
  std::vector<const onnx::ValueInfoProto *> ints2, past;
  for (const auto &in : graph.input()) {
    if (inits.count(in.name()) || !in.type().has_tensor_type())
      continue;
    int elem = in.type().tensor_type().elem_type();
    std::vector<Dim> dims = dimsOf(in);
    if (dims.size() == 2 && isIntegerElem(elem)) {
      ints2.push_back(&in);
      // The first such input in the graph's input order: a table size does
      // not tell tokens from positions (a character-level model's vocabulary
      // is smaller than its position table).
      int64_t rows = gatherRows(in.name(), 0);
      if (!tokens && rows > 0)
        tokens = &in;
    }
    if (dims.size() == 4 && isFloatElem(elem))
      for (auto [node, idx] : users.lookup(in.name()))
        if (pastAxisOf(*node, idx, dims.size())) {
          past.push_back(&in);
          break;
        }
  }
  if (!tokens)
    return emitError(fileLoc)
           << "--max-seq-len: no token ids input found (an integer [batch, "
              "seq] input that indexes an embedding table through Gather)";
  if (past.empty())
    return emitError(fileLoc)
           << "--max-seq-len: no past key/value inputs found (rank-4 float "
              "inputs concatenated with the new keys/values, or the "
              "past_key/past_value of ONNX Runtime's GroupQueryAttention); "
              "the model has no KV cache to rewrite";

  std::vector<Dim> tdims = dimsOf(*tokens);
  Dim batch = tdims[0], seq = tdims[1];
  // The past dim: the concat axis of every past input.
  Dim pastDim;
  for (const onnx::ValueInfoProto *in : past) {
    std::vector<Dim> dims = dimsOf(*in);
    const onnx::NodeProto *user = nullptr;
    int64_t axis = 0;
    for (auto [node, idx] : users.lookup(in->name()))
      if (auto a = pastAxisOf(*node, idx, dims.size())) {
        user = node;
        axis = *a;
      }
    if (axis < 0 || axis >= int64_t(dims.size()))
      return emitError(fileLoc) << "--max-seq-len: node '" << user->name()
                                << "' concatenates past input '" << in->name()
                                << "' on an invalid axis";
    Dim d = dims[axis];
    if (!d.symbolic())
      return emitError(fileLoc)
             << "--max-seq-len: past input '" << in->name() << "' has a fixed "
             << "length " << d.value << " on its concat axis " << axis
             << "; a KV-cache build needs it symbolic (export with a dynamic "
                "past length)";
    if (!pastDim.symbolic())
      pastDim = d;
    else if (!(pastDim == d))
      return emitError(fileLoc)
             << "--max-seq-len: past inputs disagree on the past dim ("
             << dimStr(pastDim) << " and " << dimStr(d) << " of '"
             << in->name() << "')";
    info.past.push_back(in->name());
  }
  // Positions and the mask among the other integer rank-2 inputs.
  Dim total;
  for (const onnx::ValueInfoProto *in : ints2) {
    if (in == tokens)
      continue;
    std::vector<Dim> dims = dimsOf(*in);
    if (!(dims[0] == batch))
      continue;
    if (dims[1] == seq) {
      if (info.positions.empty())
        info.positions = in->name();
    } else if (dims[1].symbolic() && !(dims[1] == pastDim) &&
               info.mask.empty()) {
      info.mask = in->name();
      total = dims[1];
    }
  }
  info.tokens = tokens->name();
  // A learned position table bounds the positions the model can address.
  if (!info.positions.empty()) {
    int64_t rows = gatherRows(info.positions, 0);
    if (rows > 0 && step.maxSeq > rows)
      return emitError(fileLoc)
             << "--max-seq-len " << step.maxSeq << " is beyond what the model "
             << "can address: its positions ('" << info.positions
             << "') index a learned table of " << rows << " rows";
  }

  // The binds, each role's dim to its value; a dim that two roles share, or
  // a fixed dim that disagrees with the step, is an error.
  auto bind = [&](const Dim &d, int64_t value, StringRef role) -> bool {
    if (!d.symbolic()) {
      if (d.value == value)
        return true;
      emitError(fileLoc) << "--max-seq-len: the model's " << role
                         << " dim is fixed at " << d.value
                         << ", the step needs " << value
                         << (role == "batch" ? " (a batch bucket larger than "
                                               "the model's static batch)"
                                             : "");
      return false;
    }
    auto [it, inserted] = options.binds.try_emplace(d.param, value);
    if (!inserted && it->second != value) {
      emitError(fileLoc) << "--max-seq-len: dim '" << d.param
                         << "' is the model's " << role
                         << " dim and is bound to " << it->second
                         << " elsewhere (another role or --bind)";
      return false;
    }
    return true;
  };
  if (step.maxSeq <= step.seq)
    return emitError(fileLoc) << "--max-seq-len " << step.maxSeq
                              << " leaves no room for a past (the step has "
                              << step.seq << " new tokens)";
  if (!bind(batch, step.batch, "batch") || !bind(seq, step.seq, "sequence") ||
      !bind(pastDim, step.maxSeq - step.seq, "past") ||
      (total.symbolic() && !bind(total, step.maxSeq, "total")))
    return failure();
  // A GroupQueryAttention past's head size may be named too (the GenAI
  // builder's 'kv_cache_dim'): unless --bind gives it, it is the width of
  // the node's projected query over its head count.
  for (const auto &node : graph.node()) {
    if (node.op_type() != "GroupQueryAttention" ||
        node.domain() != "com.microsoft" || node.input_size() < 5)
      continue;
    auto it = llvm::find_if(graph.input(), [&](const auto &in) {
      return in.name() == node.input(3);
    });
    if (it == graph.input().end())
      continue;
    std::vector<Dim> dims = dimsOf(*it);
    if (dims.size() != 4 || !dims[3].symbolic() ||
        options.binds.count(dims[3].param))
      continue;
    int64_t heads = 0, kvHeads = 0;
    for (const auto &a : node.attribute()) {
      if (a.name() == "num_heads")
        heads = a.i();
      if (a.name() == "kv_num_heads")
        kvHeads = a.i();
    }
    bool packed = node.input_size() < 2 || node.input(1).empty();
    int64_t parts = packed ? heads + 2 * kvHeads : heads;
    int64_t width = projectedWidth(node.input(0), 0);
    if (parts > 0 && width > 0 && width % parts == 0 &&
        !bind(dims[3], width / parts, "head size"))
      return failure();
  }
  info.pastParam = pastDim.param;
  info.totalParam = total.param;
  return success();
}

void kiln::import::tagKvRoles(func::FuncOp func, const KvRoleInfo &info) {
  auto *ctx = func.getContext();
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto name = func.getArgAttrOfType<StringAttr>(
        i, KilnDialect::getNameAttrName());
    if (!name)
      continue;
    StringRef role;
    if (name.getValue() == info.tokens)
      role = "tokens";
    else if (name.getValue() == info.positions)
      role = "positions";
    else if (name.getValue() == info.mask)
      role = "mask";
    else if (llvm::is_contained(info.past, name.getValue().str()))
      role = "past";
    if (!role.empty())
      func.setArgAttr(i, "kiln.role", StringAttr::get(ctx, role));
  }
}

namespace {

/// Where a constant comes from: its op's location, printed.
std::string locKey(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  op->getLoc().print(os);
  return s;
}

/// The extent of the key axis of a mask-like shape: its last dim that is
/// not 1 (trailing unit dims are layout, not keys); 1 if there is none.
int64_t keyExtent(RankedTensorType type) {
  for (int64_t d : llvm::reverse(type.getShape()))
    if (d != 1)
      return d;
  return 1;
}

/// Whether `c` treats every key slot a query may see alike: for one new
/// token, the same value at every position of its key axis (the innermost
/// non-unit axis); for `seq` > 1 new tokens whose query axis (the next
/// non-unit axis out) has extent `seq`, row q only needs the same value at
/// keys t <= keys - seq + q: the slots a query of a full cache may see, which
/// kiln.kv_attention's own causal rule (t <= kv_pos + q) never exceeds.
bool uniformOverKeys(DenseElementsAttr c, int64_t seq) {
  auto type = cast<RankedTensorType>(c.getType());
  ArrayRef<int64_t> shape = type.getShape();
  int64_t keys = keyExtent(type);
  if (keys <= 1 || c.isSplat())
    return true;
  // Strides of the key axis and of the query axis (if it has extent seq).
  int64_t rank = shape.size(), keyAxis = rank - 1;
  while (shape[keyAxis] == 1)
    --keyAxis;
  int64_t keyStride = 1, queryStride = 0, queryAxis = keyAxis - 1;
  for (int64_t d = rank - 1; d > keyAxis; --d)
    keyStride *= shape[d];
  while (queryAxis >= 0 && shape[queryAxis] == 1)
    --queryAxis;
  if (seq > 1 && queryAxis >= 0 && shape[queryAxis] == seq)
    queryStride = keyStride * keys; // the unit dims between carry no stride
  auto vals = llvm::to_vector(c.getValues<Attribute>());
  for (int64_t i = 0; i < int64_t(vals.size()); ++i) {
    int64_t key = (i / keyStride) % keys;
    int64_t limit = keys - 1;
    if (queryStride)
      limit = keys - seq + (i / queryStride) % seq;
    if (key <= limit && vals[i] != vals[i - key * keyStride])
      return false;
  }
  return true;
}

/// Whether `c` is `base + k` at position k of its key axis (integer).
bool stepOneOverLastAxis(DenseElementsAttr c) {
  auto type = cast<RankedTensorType>(c.getType());
  if (!type.getElementType().isInteger() || type.getRank() == 0)
    return false;
  int64_t inner = keyExtent(type);
  auto vals = llvm::to_vector(c.getValues<APInt>());
  for (size_t i = 0; i < vals.size(); ++i)
    if (vals[i].getSExtValue() !=
        vals[i - i % inner].getSExtValue() + int64_t(i % inner))
      return false;
  return true;
}

/// Whether every use of `v` is as the indices of a gather (axis 0) whose
/// data is a function argument only reshaped or cast: a lookup into a mask
/// input (Hugging Face's vmapped padding mask).
bool isMaskLookup(Value v) {
  if (v.use_empty())
    return false;
  for (OpOperand &use : v.getUses()) {
    auto gather = dyn_cast<GatherOp>(use.getOwner());
    if (!gather || use.getOperandNumber() != 1 || gather.getAxis() != 0)
      return false;
    Value data = gather.getOperand(0);
    while (Operation *def = data.getDefiningOp()) {
      if (!isa<ReshapeOp, CastOp>(def))
        return false;
      data = def->getOperand(0);
    }
  }
  return true;
}

/// Why the forward slice of `v` is not only an attention mask (empty: it is):
/// every path must reach a softmax's input through ops that keep the key
/// position of every element: elementwise ops, where, cast and expand, and
/// reshapes that keep the innermost non-unit extent a multiple of the key
/// extent (flattening rows into it keeps key = index mod keys); the softmax
/// input's innermost extent must be the key extent.
std::string maskOnlyViolation(Value v) {
  int64_t keys = keyExtent(cast<RankedTensorType>(v.getType()));
  SmallVector<Value> work = {v};
  llvm::DenseSet<Value> seen;
  while (!work.empty()) {
    Value cur = work.pop_back_val();
    if (!seen.insert(cur).second)
      continue;
    for (OpOperand &use : cur.getUses()) {
      Operation *user = use.getOwner();
      auto where = [&] {
        std::string s;
        llvm::raw_string_ostream os(s);
        os << "'" << user->getName() << "' at " << locKey(user);
        return s;
      };
      if (isa<SoftmaxOp>(user)) {
        if (keyExtent(cast<RankedTensorType>(cur.getType())) != keys)
          return "reaches " + where() + " on a different axis than its keys";
        continue;
      }
      if (!isa<ElementwiseOpInterface, WhereOp, CastOp, ExpandOp, ReshapeOp>(
              user))
        return "reaches " + where();
      int64_t inner =
          keyExtent(cast<RankedTensorType>(user->getResult(0).getType()));
      if (keys > 1 && inner % keys != 0)
        return "reaches " + where() + ", which moves its key axis";
      for (Value r : user->getResults())
        work.push_back(r);
    }
  }
  return "";
}

} // namespace

void kiln::import::checkKvSoundness(func::FuncOp func, func::FuncOp longer,
                                    int64_t seq) {
  // Constants of each node, in order, in both imports.
  auto collect = [](func::FuncOp f) {
    std::map<std::string, SmallVector<ConstantOp>> byLoc;
    f.walk([&](ConstantOp c) { byLoc[locKey(c)].push_back(c); });
    return byLoc;
  };
  auto a = collect(func), b = collect(longer);
  std::string why;
  for (auto &[loc, consts] : a) {
    auto it = b.find(loc);
    bool same = it != b.end() && it->second.size() == consts.size();
    for (size_t i = 0; same && i < consts.size(); ++i)
      same = consts[i].getValue() == it->second[i].getValue();
    if (same)
      continue;
    for (ConstantOp c : consts) {
      if (c->use_empty())
        continue;
      auto value = cast<DenseElementsAttr>(c.getValue());
      std::string violation;
      if (isMaskLookup(c.getResult())) {
        // Indices into a flattened mask input: sound when each key position
        // reads its own mask element.
        if (!stepOneOverLastAxis(value))
          violation = "indexes a mask but not one element per key position";
        for (Operation *user : c->getUsers())
          if (violation.empty())
            violation = maskOnlyViolation(user->getResult(0));
      } else {
        violation = maskOnlyViolation(c.getResult());
        if (violation.empty() && !uniformOverKeys(value, seq))
          violation = seq > 1 ? "is not the same at every key position a "
                                "query may attend"
                              : "is not the same at every key position";
      }
      if (!violation.empty()) {
        why = "the constant at " + loc +
              " is computed from the past length and " + violation +
              " (it would be frozen at the cache's last slot)";
        break;
      }
    }
    if (!why.empty())
      break;
  }
  if (!why.empty())
    func->setAttr("kiln.kv_unsafe", StringAttr::get(func.getContext(), why));
}
