//===- NodeContext.cpp - per-node helpers of the ONNX importer ------------===//
//
// What every converter uses: attribute access, diagnostics prefixed with the
// node's op type and opset, constant inputs, and op building with result
// types computed here, per-op verification and import-time constant folding
// through the reference evaluator. Also the ONNX dtype mapping and the
// TensorProto -> DenseElementsAttr conversion for small tensors.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "kiln/Dialect/Kiln/IR/WeightFile.h"
#include "kiln/Reference/Evaluator.h"

#include "onnx/onnx_pb.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <optional>

using namespace mlir;
using namespace kiln;
using namespace kiln::import;

std::string kiln::import::shapeString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? "x" : "") + std::to_string(d);
  return s + "]";
}

NodeContext::NodeContext(GraphImporter &importer, OpBuilder &b,
                         const onnx::NodeProto &node, int64_t opset,
                         Location loc, SmallVector<Value> inputs)
    : importer(importer), b(b), node(node), opset(opset), loc(loc),
      inputs(std::move(inputs)) {}

StringRef NodeContext::opType() const { return node.op_type(); }

unsigned NodeContext::numOutputs() const { return node.output_size(); }

bool NodeContext::outputUsed(unsigned i) const {
  return i < static_cast<unsigned>(node.output_size()) &&
         !node.output(i).empty();
}

Value NodeContext::required(unsigned i, StringRef what) {
  if (Value v = input(i))
    return v;
  emitError() << "missing required input " << i << " ('" << what << "')";
  return {};
}

InFlightDiagnostic NodeContext::emitError() {
  auto diag = mlir::emitError(loc);
  diag << node.op_type() << " (opset " << opset << "): ";
  return diag;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *NodeContext::attr(StringRef name) const {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t NodeContext::getInt(StringRef name, int64_t dflt) const {
  const auto *a = attr(name);
  return a ? a->i() : dflt;
}

float NodeContext::getFloat(StringRef name, float dflt) const {
  const auto *a = attr(name);
  return a ? a->f() : dflt;
}

std::string NodeContext::getString(StringRef name, StringRef dflt) const {
  const auto *a = attr(name);
  return a ? a->s() : dflt.str();
}

std::optional<SmallVector<int64_t>>
NodeContext::getInts(StringRef name) const {
  const auto *a = attr(name);
  if (!a)
    return std::nullopt;
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

std::optional<int64_t> NodeContext::normAxis(int64_t axis, int64_t rank,
                                             StringRef what) {
  if (axis < -rank || axis >= rank) {
    emitError() << what << " " << axis << " is out of range [" << -rank
                << ", " << rank << ")";
    return std::nullopt;
  }
  return axis < 0 ? axis + rank : axis;
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

DenseElementsAttr NodeContext::constantOf(Value v) const {
  if (!v)
    return {};
  if (auto cst = v.getDefiningOp<ConstantOp>())
    return dyn_cast<DenseElementsAttr>(cst.getValue());
  return {};
}

FailureOr<SmallVector<int64_t>> NodeContext::constInts(unsigned i,
                                                       StringRef what) {
  Value v = input(i);
  if (!v) {
    emitError() << "missing input " << i << " ('" << what << "')";
    return failure();
  }
  DenseElementsAttr attr = constantOf(v);
  if (!attr || !isa<IntegerType>(attr.getElementType())) {
    emitError() << "input " << i << " ('" << what
                << "') must be an integer constant after import-time "
                   "folding, but it is computed at run time";
    return failure();
  }
  SmallVector<int64_t> out;
  for (const APInt &x : attr.getValues<APInt>())
    out.push_back(attr.getElementType().isInteger(1) ? x.getZExtValue()
                                                     : x.getSExtValue());
  return out;
}

FailureOr<double> NodeContext::constScalar(unsigned i, StringRef what) {
  Value v = input(i);
  DenseElementsAttr attr = constantOf(v);
  if (!attr || attr.getNumElements() != 1) {
    emitError() << "input " << i << " ('" << what
                << "') must be a one-element constant after import-time "
                   "folding";
    return failure();
  }
  if (isa<FloatType>(attr.getElementType()))
    return (*attr.getValues<APFloat>().begin()).convertToDouble();
  return static_cast<double>((*attr.getValues<APInt>().begin()).getSExtValue());
}

//===----------------------------------------------------------------------===//
// Building and folding
//===----------------------------------------------------------------------===//

/// Evaluates `op` with the reference backend if all operands are constants
/// and the results are small; returns the folded values or nothing.
static std::optional<SmallVector<DenseElementsAttr>> tryFold(Operation *op) {
  if (isa<ConstantOp, WeightOp>(op) || op->getNumOperands() == 0)
    return std::nullopt;
  // Every size is checked before anything is materialised: a splat operand
  // (ConstantOfShape, a broadcast scalar) can name billions of elements in a
  // few bytes of attribute, and expanding it would exhaust memory.
  SmallVector<DenseElementsAttr> operands;
  for (Value operand : op->getOperands()) {
    auto cst = operand.getDefiningOp<ConstantOp>();
    if (!cst)
      return std::nullopt;
    auto dense = dyn_cast<DenseElementsAttr>(cst.getValue());
    if (!dense)
      return std::nullopt;
    std::optional<int64_t> n = checkedNumElements(dense.getType().getShape());
    if (!n || *n > kMaxFoldElements)
      return std::nullopt;
    operands.push_back(dense);
  }
  for (Type t : op->getResultTypes()) {
    std::optional<int64_t> n =
        checkedNumElements(cast<RankedTensorType>(t).getShape());
    if (!n || *n > kMaxFoldElements)
      return std::nullopt;
  }
  SmallVector<ref::Tensor> args;
  for (DenseElementsAttr dense : operands)
    args.push_back(ref::Tensor::fromAttr(dense));
  // A fold that fails (e.g. an op the evaluator rejects) keeps the op; its
  // diagnostics are swallowed so the import does not report them.
  ScopedDiagnosticHandler silence(op->getContext(),
                                  [](Diagnostic &) { return success(); });
  auto results = ref::evalOp(op, args);
  if (failed(results) || results->size() != op->getNumResults())
    return std::nullopt;
  SmallVector<DenseElementsAttr> out;
  for (auto [t, r] : llvm::zip_equal(op->getResultTypes(), *results))
    out.push_back(r.toAttr(cast<RankedTensorType>(t)));
  return out;
}

LogicalResult NodeContext::finishMulti(Operation *op,
                                       SmallVectorImpl<Value> &out) {
  if (failed(mlir::verify(op))) {
    op->erase();
    return failure();
  }
  if (auto folded = tryFold(op)) {
    for (DenseElementsAttr attr : *folded)
      out.push_back(ConstantOp::create(b, loc, attr));
    op->erase();
    return success();
  }
  llvm::append_range(out, op->getResults());
  return success();
}

Value NodeContext::finish(Operation *op) {
  SmallVector<Value, 1> out;
  if (failed(finishMulti(op, out)))
    return {};
  return out.front();
}

Value NodeContext::constant(DenseElementsAttr value) {
  return ConstantOp::create(b, loc, value);
}

Value NodeContext::constI64(ArrayRef<int64_t> values, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, b.getI64Type());
  return constant(DenseElementsAttr::get(type, values));
}

Value NodeContext::scalar(Type elt, double value) {
  auto type = RankedTensorType::get({}, elt);
  if (auto ft = dyn_cast<FloatType>(elt)) {
    APFloat f(value);
    bool lost;
    f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    return constant(DenseElementsAttr::get(type, f));
  }
  unsigned width = elt.getIntOrFloatBitWidth();
  return constant(DenseElementsAttr::get(
      type, APInt(width, static_cast<uint64_t>(static_cast<int64_t>(value)),
                  /*isSigned=*/true, /*implicitTrunc=*/true)));
}

Value NodeContext::reshape(Value v, ArrayRef<int64_t> shape) {
  if (shapeOf(v) == shape)
    return v;
  return create<ReshapeOp>(withShape(v, shape), v);
}

Value NodeContext::transpose(Value v, ArrayRef<int64_t> perm) {
  SmallVector<int64_t> shape;
  bool identity = true;
  for (auto [i, p] : llvm::enumerate(perm)) {
    if (p < 0 || p >= tensorType(v).getRank()) {
      emitError() << "permutation entry " << p << " is out of range for rank "
                  << tensorType(v).getRank();
      return {};
    }
    identity &= static_cast<int64_t>(i) == p;
    shape.push_back(shapeOf(v)[p]);
  }
  if (identity && static_cast<int64_t>(perm.size()) == tensorType(v).getRank())
    return v;
  return create<TransposeOp>(withShape(v, shape), v, perm);
}

Value NodeContext::cast(Value v, Type elt) {
  if (eltOf(v) == elt)
    return v;
  return create<CastOp>(RankedTensorType::get(shapeOf(v), elt), v);
}

Value NodeContext::expand(Value v, ArrayRef<int64_t> shape) {
  if (shapeOf(v) == shape)
    return v;
  return create<ExpandOp>(withShape(v, shape), v);
}

Value NodeContext::slice(Value v, ArrayRef<int64_t> starts,
                         ArrayRef<int64_t> steps, ArrayRef<int64_t> shape) {
  return create<SliceOp>(withShape(v, shape), v, starts, steps);
}

Value NodeContext::concat(ValueRange vs, int64_t axis) {
  if (vs.size() == 1)
    return vs.front();
  SmallVector<int64_t> shape(shapeOf(vs.front()));
  if (axis < 0 || axis >= static_cast<int64_t>(shape.size())) {
    emitError() << "cannot concatenate rank-" << shape.size()
                << " inputs on axis " << axis;
    return {};
  }
  shape[axis] = 0;
  for (Value v : vs) {
    if (tensorType(v).getRank() != static_cast<int64_t>(shape.size()) ||
        eltOf(v) != eltOf(vs.front())) {
      emitError() << "inputs differ in rank or element type";
      return {};
    }
    shape[axis] += shapeOf(v)[axis];
  }
  return create<ConcatOp>(withShape(vs.front(), shape), vs, axis);
}

Type NodeContext::broadcastType(Value lhs, Value rhs, bool isCompare) {
  auto shape = kiln::broadcastShapes(shapeOf(lhs), shapeOf(rhs));
  if (failed(shape)) {
    emitError() << "operand shapes " << shapeString(shapeOf(lhs)) << " and "
                << shapeString(shapeOf(rhs)) << " are not broadcastable";
    return {};
  }
  if (eltOf(lhs) != eltOf(rhs)) {
    emitError() << "operand element types differ: " << eltOf(lhs) << " vs "
                << eltOf(rhs);
    return {};
  }
  Type elt = isCompare ? b.getI1Type() : eltOf(lhs);
  return RankedTensorType::get(*shape, elt);
}

//===----------------------------------------------------------------------===//
// Data types and tensors
//===----------------------------------------------------------------------===//

Type kiln::import::onnxElementType(MLIRContext *ctx, int32_t dataType) {
  Builder b(ctx);
  switch (dataType) {
  case onnx::TensorProto::FLOAT:
    return b.getF32Type();
  case onnx::TensorProto::UINT8:
    return IntegerType::get(ctx, 8, IntegerType::Unsigned);
  case onnx::TensorProto::INT8:
    return b.getI8Type();
  case onnx::TensorProto::INT32:
    return b.getI32Type();
  case onnx::TensorProto::INT64:
    return b.getI64Type();
  case onnx::TensorProto::BOOL:
    return b.getI1Type();
  case onnx::TensorProto::FLOAT16:
    return b.getF16Type();
  case onnx::TensorProto::DOUBLE:
    return b.getF64Type();
  case onnx::TensorProto::BFLOAT16:
    return b.getBF16Type();
  default:
    return {};
  }
}

std::string kiln::import::onnxTypeName(int32_t dataType) {
  if (onnx::TensorProto_DataType_IsValid(dataType))
    return onnx::TensorProto_DataType_Name(
        static_cast<onnx::TensorProto_DataType>(dataType));
  return "data type " + std::to_string(dataType);
}

/// Why an external-data location may not be read, or nothing when it may:
/// it must be relative, and no `..` may climb above the model's directory
/// (ONNX refuses the same paths; CVE-2024-27318). Symbolic links inside the
/// directory are followed later, as onnxruntime does.
static std::optional<std::string> externalLocationProblem(StringRef location) {
  if (location.contains('\0'))
    return std::string("contains a NUL byte");
  if (llvm::sys::path::is_absolute(location) || location.starts_with("/") ||
      llvm::sys::path::has_root_name(location))
    return std::string("is an absolute path");
  int depth = 0;
  for (StringRef part : llvm::make_range(llvm::sys::path::begin(location),
                                         llvm::sys::path::end(location))) {
    if (part == "..") {
      if (--depth < 0)
        return std::string("leaves the model's directory through '..'");
    } else if (part != "." && !part.empty()) {
      ++depth;
    }
  }
  if (depth == 0)
    return std::string("names the model's directory itself");
  return std::nullopt;
}

FailureOr<ExternalData>
kiln::import::resolveExternalData(const onnx::TensorProto &tensor,
                                  StringRef baseDir, Location loc,
                                  int64_t expected) {
  std::string location;
  ExternalData ref;
  bool hasLength = false;
  for (const auto &kv : tensor.external_data()) {
    int64_t *field = kv.key() == "offset"   ? &ref.offset
                     : kv.key() == "length" ? &ref.length
                                            : nullptr;
    if (kv.key() == "location")
      location = kv.value();
    if (!field)
      continue;
    hasLength |= field == &ref.length;
    if (StringRef(kv.value()).getAsInteger(10, *field) || *field < 0) {
      emitError(loc) << "tensor '" << tensor.name() << "' has external data "
                     << kv.key() << " '" << kv.value()
                     << "', expected a non-negative integer";
      return failure();
    }
  }
  if (location.empty()) {
    emitError(loc) << "tensor '" << tensor.name()
                   << "' has external data without a location";
    return failure();
  }
  if (auto problem = externalLocationProblem(location)) {
    emitError(loc) << "tensor '" << tensor.name() << "' has external data "
                   << "location '" << location << "', which " << *problem
                   << "; external data must be a relative path inside the "
                      "model's directory";
    return failure();
  }
  if (!hasLength)
    ref.length = expected;
  if (ref.length != expected) {
    emitError(loc) << "tensor '" << tensor.name() << "' external data length "
                   << ref.length << " does not match its " << expected
                   << " bytes";
    return failure();
  }
  llvm::SmallString<256> path(baseDir);
  llvm::sys::path::append(path, location);
  ref.path = path.str().str();
  // Follows symbolic links: a Hugging Face cache holds every file of a
  // snapshot as a link into ../../blobs/, and such models must load.
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(path, status)) {
    emitError(loc) << "external-data file '" << path << "' of tensor '"
                   << tensor.name() << "' cannot be opened: " << ec.message();
    return failure();
  }
  if (status.type() != llvm::sys::fs::file_type::regular_file) {
    emitError(loc) << "external-data file '" << path << "' of tensor '"
                   << tensor.name() << "' is "
                   << kiln::describeFileType(status.type())
                   << ", expected a regular file";
    return failure();
  }
  uint64_t size = status.getSize();
  if (ref.offset > INT64_MAX - ref.length) {
    emitError(loc) << "tensor '" << tensor.name() << "' external data offset "
                   << ref.offset << " + length " << ref.length << " overflows";
    return failure();
  }
  if (static_cast<uint64_t>(ref.offset + ref.length) > size) {
    emitError(loc) << "external-data file '" << path << "' is too short: "
                   << "tensor '" << tensor.name() << "' needs bytes ["
                   << ref.offset << ", " << ref.offset + ref.length
                   << "), file has " << size;
    return failure();
  }
  return ref;
}

/// Reads the bytes of a tensor held in an external-data file.
static FailureOr<std::unique_ptr<llvm::MemoryBuffer>>
readExternal(const onnx::TensorProto &tensor, StringRef baseDir, Location loc,
             int64_t expected) {
  auto ref = resolveExternalData(tensor, baseDir, loc, expected);
  if (failed(ref))
    return failure();
  auto buf = llvm::MemoryBuffer::getFileSlice(ref->path, ref->length,
                                              ref->offset,
                                              /*IsVolatile=*/false);
  if (!buf || static_cast<int64_t>((*buf)->getBufferSize()) != ref->length) {
    emitError(loc) << "cannot read " << ref->length << " bytes at offset "
                   << ref->offset << " of external-data file '" << ref->path
                   << "' for tensor '" << tensor.name() << "'"
                   << (buf ? "" : ": " + buf.getError().message());
    return failure();
  }
  return std::move(*buf);
}

FailureOr<DenseElementsAttr>
kiln::import::tensorProtoToAttr(const onnx::TensorProto &tensor,
                                MLIRContext *ctx, StringRef baseDir,
                                Location loc) {
  Type elt = onnxElementType(ctx, tensor.data_type());
  if (!elt) {
    emitError(loc) << "tensor '" << tensor.name() << "' has unsupported "
                   << onnxTypeName(tensor.data_type());
    return failure();
  }
  SmallVector<int64_t> shape;
  int64_t n = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0 || (d > 0 && n > (int64_t(1) << 40) / d)) {
      emitError(loc) << "tensor '" << tensor.name() << "' has invalid dims";
      return failure();
    }
    shape.push_back(d);
    n *= d;
  }
  auto type = RankedTensorType::get(shape, elt);
  int64_t width = (elt.getIntOrFloatBitWidth() + 7) / 8;
  int64_t bytes = n * width;

  // Collect little-endian bytes from wherever the data lives.
  std::vector<char> raw;
  std::unique_ptr<llvm::MemoryBuffer> external;
  StringRef source;
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    auto buf = readExternal(tensor, baseDir, loc, bytes);
    if (failed(buf))
      return failure();
    external = std::move(*buf);
    source = external->getBuffer();
  } else if (tensor.has_raw_data()) {
    source = tensor.raw_data();
  } else {
    int64_t stored = elt.isF32()           ? tensor.float_data_size()
                     : elt.isF64()         ? tensor.double_data_size()
                     : elt.isInteger(64)   ? tensor.int64_data_size()
                                           : tensor.int32_data_size();
    if (stored != n) {
      emitError(loc) << "tensor '" << tensor.name() << "' holds " << stored
                     << " typed values for its " << n << " elements";
      return failure();
    }
    raw.resize(bytes);
    auto fill = [&](auto &field, auto convert) -> bool {
      if (field.size() != n)
        return false;
      for (int64_t i = 0; i < n; ++i)
        convert(field.Get(i), raw.data() + i * width);
      return true;
    };
    bool ok = false;
    if (elt.isF32())
      ok = fill(tensor.float_data(),
                [](float x, char *p) { std::memcpy(p, &x, 4); });
    else if (elt.isF64())
      ok = fill(tensor.double_data(),
                [](double x, char *p) { std::memcpy(p, &x, 8); });
    else if (elt.isInteger(64))
      ok = fill(tensor.int64_data(),
                [](int64_t x, char *p) { std::memcpy(p, &x, 8); });
    else
      ok = fill(tensor.int32_data(), [width](int32_t x, char *p) {
        std::memcpy(p, &x, width); // little endian: the low bytes
      });
    if (!ok) {
      emitError(loc) << "tensor '" << tensor.name() << "' holds the wrong "
                     << "number of typed values for its " << n
                     << " elements";
      return failure();
    }
    source = StringRef(raw.data(), raw.size());
  }
  if (static_cast<int64_t>(source.size()) != bytes) {
    emitError(loc) << "tensor '" << tensor.name() << "' has "
                   << source.size() << " data bytes, expected " << bytes
                   << " for " << shapeString(shape) << " "
                   << onnxTypeName(tensor.data_type());
    return failure();
  }
  if (elt.isInteger(1)) {
    SmallVector<bool> values;
    for (char c : source)
      values.push_back(c != 0);
    return DenseElementsAttr::get(type, values);
  }
  return DenseElementsAttr::getFromRawBuffer(
      type, ArrayRef<char>(source.data(), source.size()));
}
