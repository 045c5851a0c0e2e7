//===- GraphImporter.cpp - ONNX graph walk into a kiln func ---------------===//
//
// The driver of an import: checks the model's opsets, scans every node for
// unsupported ops (all are reported in one run), checks that the graph is
// well formed (every input produced, no cycle) and sorts it topologically,
// binds symbolic input dims, then converts node by node into one func.func
// while keeping the value table ONNX name -> mlir::Value. Initializers turn
// into kiln.constant (small) or kiln.weight references (large) the first time
// a node reads them.
//
//===----------------------------------------------------------------------===//

#include "DimBinding.h"
#include "Importer.h"
#include "KvRoles.h"
#include "OnnxModel.h"

#include "kiln/Import/OnnxImporter.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <functional>
#include <queue>
#include <map>
#include <tuple>

using namespace mlir;
using namespace kiln;
using namespace kiln::import;

namespace kiln::import {

/// Converts the graph of one loaded model into a module with one function.
class GraphImporter {
public:
  GraphImporter(MLIRContext &ctx, StringRef path, const ImportOptions &options,
                LoadedModel &model)
      : ctx(ctx), builder(&ctx), path(path.str()), options(options),
        model(model), graph(model.proto->graph()) {
    baseDir = llvm::sys::path::parent_path(path).str();
    fileLoc = FileLineColLoc::get(&ctx, path, 0, 0);
  }

  FailureOr<OwningOpRef<ModuleOp>> run();

private:
  LogicalResult checkOpsets();
  LogicalResult scanNodes();
  LogicalResult sortNodes();
  FailureOr<func::FuncOp> createFunction(ModuleOp module);
  LogicalResult convertNode(const onnx::NodeProto &node, size_t index);
  Value lookup(StringRef name, Location loc);
  Value materializeInitializer(const onnx::TensorProto &tensor);
  Location nodeLoc(const onnx::NodeProto &node, size_t index);

  MLIRContext &ctx;
  OpBuilder builder;
  std::string path, baseDir;
  const ImportOptions &options;
  LoadedModel &model;
  const onnx::GraphProto &graph;
  Location fileLoc = UnknownLoc::get(&ctx);

  int64_t opset = 0;
  std::map<std::string, int64_t> domainOpsets;
  llvm::StringMap<const onnx::TensorProto *> initializers;
  llvm::StringSet<> graphInputs;
  llvm::StringMap<Value> values;
  /// Node indices in topological order.
  std::vector<size_t> order;
};

} // namespace kiln::import

Location GraphImporter::nodeLoc(const onnx::NodeProto &node, size_t index) {
  std::string name = node.name();
  if (name.empty())
    name = node.op_type() + "#" + std::to_string(index);
  return NameLoc::get(StringAttr::get(&ctx, name), fileLoc);
}

static bool isDefaultDomain(StringRef domain) {
  return domain.empty() || domain == "ai.onnx";
}

LogicalResult GraphImporter::checkOpsets() {
  for (const auto &imp : model.proto->opset_import()) {
    std::string domain = isDefaultDomain(imp.domain()) ? "" : imp.domain();
    domainOpsets[domain] = imp.version();
  }
  auto it = domainOpsets.find("");
  if (it == domainOpsets.end()) {
    emitError(fileLoc) << "model imports no opset of the default ONNX domain";
    return failure();
  }
  opset = it->second;
  return success();
}

LogicalResult GraphImporter::scanNodes() {
  // (domain, op type, opset) -> (first node index, count, why).
  std::map<std::tuple<std::string, std::string, int64_t>,
           std::tuple<size_t, int, std::string>>
      unsupported;
  for (auto [i, node] : llvm::enumerate(graph.node())) {
    std::string domain = isDefaultDomain(node.domain()) ? "" : node.domain();
    auto dIt = domainOpsets.find(domain);
    int64_t version = dIt == domainOpsets.end() ? -1 : dIt->second;
    std::string why;
    if (const ContribConverter *contrib =
            lookupContribConverter(domain, node.op_type())) {
      // Contrib ops (ConvertContrib.cpp) have one version per domain opset.
      if (version > contrib->maxVersion)
        why = "domain opset " + std::to_string(version) +
              " is newer than the version " +
              std::to_string(contrib->maxVersion) + " kiln implements";
    } else if (domain == "com.microsoft") {
      why = "no converter for this ONNX Runtime contrib op";
    } else if (!domain.empty()) {
      why = "kiln imports only the default ONNX domain";
    } else if (const OpConverter *conv = lookupConverter(node.op_type())) {
      int64_t opVersion = resolveOpVersion(node.op_type(), version);
      if (version > schemaOpset())
        why = "model opset is newer than the ONNX schema kiln knows (opset " +
              std::to_string(schemaOpset()) + ")";
      else if (opVersion < 0)
        why = "the op is not defined at opset " + std::to_string(version);
      else if (opVersion < resolveOpVersion(node.op_type(), conv->minOpset))
        why = "opset " + std::to_string(version) + " selects " +
              node.op_type() + "-" + std::to_string(opVersion) +
              ", older than the definition kiln implements (opset " +
              std::to_string(conv->minOpset) + " and later)";
      else if (opVersion > conv->maxOpset)
        why = "opset " + std::to_string(version) + " selects " +
              node.op_type() + "-" + std::to_string(opVersion) +
              ", newer than the " + node.op_type() + "-" +
              std::to_string(conv->maxOpset) + " kiln implements";
    } else {
      why = "no converter for this op";
    }
    if (why.empty())
      continue;
    auto key = std::make_tuple(domain, node.op_type(), version);
    auto [it, inserted] =
        unsupported.try_emplace(key, std::make_tuple(i, 0, why));
    ++std::get<1>(it->second);
  }
  for (auto &[key, info] : unsupported) {
    auto &[domain, opType, version] = key;
    auto &[index, count, why] = info;
    auto diag = emitError(nodeLoc(graph.node(index), index))
                << "unsupported op '" << opType << "' (domain '"
                << (domain.empty() ? "ai.onnx" : domain) << "', opset "
                << (version < 0 ? std::string("not imported")
                                : std::to_string(version))
                << "): " << why << "; " << count << " node"
                << (count == 1 ? "" : "s") << " in the model";
  }
  return success(unsupported.empty());
}

LogicalResult GraphImporter::sortNodes() {
  bool ok = true;
  llvm::StringMap<size_t> producer;
  for (auto [i, node] : llvm::enumerate(graph.node()))
    for (const std::string &out : node.output()) {
      if (out.empty())
        continue;
      if (graphInputs.contains(out) || initializers.count(out) ||
          !producer.try_emplace(out, i).second) {
        emitError(nodeLoc(node, i))
            << node.op_type() << ": value '" << out
            << "' is produced more than once";
        ok = false;
      }
    }
  size_t n = graph.node_size();
  std::vector<int> pending(n, 0);
  std::vector<std::vector<size_t>> users(n);
  for (auto [i, node] : llvm::enumerate(graph.node()))
    for (const std::string &in : node.input()) {
      if (in.empty() || graphInputs.contains(in) || initializers.count(in))
        continue;
      auto it = producer.find(in);
      if (it == producer.end()) {
        emitError(nodeLoc(node, i))
            << node.op_type() << ": input '" << in
            << "' is not a graph input, an initializer or any node's output";
        ok = false;
        continue;
      }
      ++pending[i];
      users[it->second].push_back(i);
    }
  for (const auto &out : graph.output())
    if (!graphInputs.contains(out.name()) &&
        !initializers.count(out.name()) && !producer.count(out.name())) {
      emitError(fileLoc) << "graph output '" << out.name()
                         << "' is not produced by any node";
      ok = false;
    }
  if (!ok)
    return failure();
  // Kahn's algorithm, lowest node index first: a graph that is already
  // sorted keeps its order.
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  for (size_t i = 0; i < n; ++i)
    if (!pending[i])
      ready.push(i);
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    for (size_t u : users[i])
      if (--pending[u] == 0)
        ready.push(u);
  }
  if (order.size() == n)
    return success();
  auto diag = emitError(fileLoc)
              << "the graph has a cycle; " << n - order.size()
              << " nodes are on or behind it:";
  int listed = 0;
  for (size_t i = 0; i < n && listed < 8; ++i)
    if (pending[i]) {
      const auto &node = graph.node(i);
      diag << " '" << (node.name().empty() ? node.op_type() : node.name())
           << "'";
      ++listed;
    }
  return failure();
}

FailureOr<func::FuncOp> GraphImporter::createFunction(ModuleOp module) {
  SmallVector<Type> argTypes;
  SmallVector<const onnx::ValueInfoProto *> args;
  struct UnboundDim {
    int inputs = 0;
    std::string firstInput;
    int64_t firstDim = 0;
    const onnx::ValueInfoProto *lastInput = nullptr;
  };
  llvm::StringMap<UnboundDim> unbound;
  SmallVector<std::string> unboundOrder;
  InputDims dims = resolveInputDims(
      graph, [&](StringRef name) { return initializers.count(name) != 0; },
      options.binds, fileLoc);
  bool ok = dims.ok;
  for (const auto &in : graph.input()) {
    if (initializers.count(in.name()))
      continue; // IR < 4: initializers are also listed as inputs
    args.push_back(&in);
    Location inLoc = fileLoc;
    if (!in.type().has_tensor_type()) {
      emitError(inLoc) << "graph input '" << in.name()
                       << "' is not a tensor";
      ok = false;
      argTypes.push_back(Type());
      continue;
    }
    const auto &tt = in.type().tensor_type();
    Type elt = onnxElementType(&ctx, tt.elem_type());
    if (!elt) {
      emitError(inLoc) << "graph input '" << in.name() << "' has unsupported "
                       << onnxTypeName(tt.elem_type());
      ok = false;
    }
    if (!tt.has_shape()) {
      emitError(inLoc) << "graph input '" << in.name()
                       << "' has no shape (rank unknown)";
      ok = false;
    }
    SmallVector<int64_t> shape;
    for (auto [d, dim] : llvm::enumerate(tt.shape().dim())) {
      if (dim.has_dim_value() && dim.dim_value() >= 0) {
        shape.push_back(dim.dim_value());
        continue;
      }
      auto bound = dim.has_dim_param() ? dims.values.find(dim.dim_param())
                                       : dims.values.end();
      if (bound != dims.values.end()) {
        shape.push_back(bound->second);
        continue;
      }
      if (dim.has_dim_param() && dims.reported.count(dim.dim_param())) {
        ok = false; // an expression already reported
        continue;
      }
      if (dim.has_dim_param()) {
        // Said once per name after the loop, however many inputs use it.
        UnboundDim &u = unbound[dim.dim_param()];
        if (u.inputs == 0) {
          u.firstInput = in.name();
          u.firstDim = d;
          unboundOrder.push_back(dim.dim_param());
        }
        if (u.lastInput != &in) {
          ++u.inputs;
          u.lastInput = &in;
        }
      } else {
        emitError(inLoc) << "dynamic dim (dim " << d << " of graph input '"
                         << in.name() << "') has no name and is not bound";
      }
      ok = false;
    }
    if (ok && !checkedNumElements(shape)) {
      emitError(inLoc) << "graph input '" << in.name() << "' has shape "
                       << shapeString(shape) << ": more than 2^48 elements";
      ok = false;
    }
    argTypes.push_back(ok ? RankedTensorType::get(shape, elt) : Type());
  }
  for (const std::string &name : unboundOrder) {
    const UnboundDim &u = unbound[name];
    auto diag = emitError(fileLoc)
                << "dynamic dim '" << name << "' is not bound (";
    if (u.inputs == 1)
      diag << "dim " << u.firstDim << " of graph input '" << u.firstInput
           << "'";
    else
      diag << "used by " << u.inputs << " inputs, e.g. '" << u.firstInput
           << "'";
    diag << "); pass --bind " << name << "=N";
  }
  if (!ok)
    return failure();
  builder.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(builder, fileLoc, options.functionName,
                                   builder.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (auto [i, in] : llvm::enumerate(args)) {
    func.setArgAttr(i, KilnDialect::getNameAttrName(),
                    builder.getStringAttr(in->name()));
    values[in->name()] = entry->getArgument(i);
  }
  builder.setInsertionPointToEnd(entry);
  return func;
}

Value GraphImporter::materializeInitializer(const onnx::TensorProto &tensor) {
  Location loc = fileLoc;
  Type elt = onnxElementType(&ctx, tensor.data_type());
  if (!elt) {
    emitError(loc) << "initializer '" << tensor.name() << "' has unsupported "
                   << onnxTypeName(tensor.data_type());
    return {};
  }
  int64_t n = 1;
  SmallVector<int64_t> shape;
  for (int64_t d : tensor.dims()) {
    if (d < 0 || (d > 0 && n > (int64_t(1) << 40) / d)) {
      emitError(loc) << "initializer '" << tensor.name()
                     << "' has invalid dims";
      return {};
    }
    n *= d;
    shape.push_back(d);
  }
  bool isFloat = isa<FloatType>(elt);
  auto makeConstant = [&]() -> Value {
    auto attr = tensorProtoToAttr(tensor, &ctx, baseDir, loc);
    if (failed(attr))
      return {};
    return ConstantOp::create(builder, loc, *attr);
  };
  constexpr int64_t kMaxIntConstant = int64_t(1) << 20;
  if ((!isFloat && n <= kMaxIntConstant) || n <= 1024)
    return makeConstant();

  auto type = RankedTensorType::get(shape, elt);
  int64_t bytes = n * ((elt.getIntOrFloatBitWidth() + 7) / 8);
  std::string file;
  int64_t offset = 0, length = -1;
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    auto ref = resolveExternalData(tensor, baseDir, loc, bytes);
    if (failed(ref))
      return {};
    file = ref->path;
    offset = ref->offset;
    length = ref->length;
  } else if (tensor.has_raw_data()) {
    auto it = model.rawData.find(tensor.name());
    if (it == model.rawData.end()) {
      emitError(loc) << "raw_data of initializer '" << tensor.name()
                     << "' was not found in the model bytes";
      return {};
    }
    file = path;
    offset = it->second.offset;
    length = it->second.length;
  } else {
    if (n <= kMaxFoldElements)
      return makeConstant();
    emitError(loc) << "initializer '" << tensor.name() << "' has " << n
                   << " elements stored in typed fields; large weights must "
                      "be stored as raw_data or external data";
    return {};
  }
  // Recorded absolute: the IR may be written to and run from any directory
  // (a relative path would be read against the .mlir file's).
  SmallString<256> absolute(file);
  if (!llvm::sys::fs::make_absolute(absolute))
    file = absolute.str().str();
  if (length != bytes) {
    emitError(loc) << "initializer '" << tensor.name() << "' has " << length
                   << " data bytes, expected " << bytes << " for "
                   << shapeString(shape) << " "
                   << onnxTypeName(tensor.data_type());
    return {};
  }
  return WeightOp::create(builder, loc, type, tensor.name(), file, offset,
                          length);
}

Value GraphImporter::lookup(StringRef name, Location loc) {
  auto it = values.find(name);
  if (it != values.end())
    return it->second;
  auto init = initializers.find(name);
  if (init == initializers.end()) {
    emitError(loc) << "value '" << name << "' is not defined";
    return {};
  }
  Value v = materializeInitializer(*init->second);
  if (v)
    values[name] = v;
  return v;
}

LogicalResult GraphImporter::convertNode(const onnx::NodeProto &node,
                                         size_t index) {
  Location loc = nodeLoc(node, index);
  SmallVector<Value> inputs;
  for (const std::string &in : node.input()) {
    if (in.empty()) {
      inputs.push_back(Value());
      continue;
    }
    Value v = lookup(in, loc);
    if (!v)
      return failure();
    inputs.push_back(v);
  }
  std::string domain = isDefaultDomain(node.domain()) ? "" : node.domain();
  const ContribConverter *contrib =
      lookupContribConverter(domain, node.op_type());
  ConvertFn convert = contrib ? contrib->convert
                              : lookupConverter(node.op_type())->convert;
  int64_t nodeOpset = opset;
  if (contrib)
    nodeOpset = domainOpsets.count(domain) ? domainOpsets[domain] : 1;
  NodeContext nc(*this, builder, node, nodeOpset, loc, std::move(inputs));
  nc.baseDir = baseDir;
  nc.kvStep = options.kvStep.has_value();
  if (failed(convert(nc)))
    return failure();
  for (auto [i, name] : llvm::enumerate(node.output())) {
    if (name.empty())
      continue;
    if (i >= nc.results.size() || !nc.results[i]) {
      nc.emitError() << "output " << i << " ('" << name
                     << "') is not supported by the converter";
      return failure();
    }
    // Shapes come from the model's data (ConstantOfShape, Reshape, Expand,
    // Range, ...); one that cannot exist is refused here, before any later
    // fold or pass multiplies it out.
    auto type = dyn_cast<RankedTensorType>(nc.results[i].getType());
    if (type && !checkedNumElements(type.getShape())) {
      nc.emitError() << "output " << i << " ('" << name << "') would have shape "
                     << shapeString(type.getShape())
                     << ": more than 2^48 elements";
      return failure();
    }
    values[name] = nc.results[i];
  }
  return success();
}

FailureOr<OwningOpRef<ModuleOp>> GraphImporter::run() {
  if (!model.proto->has_graph()) {
    emitError(fileLoc) << "model has no graph";
    return failure();
  }
  for (const auto &init : graph.initializer())
    if (!initializers.try_emplace(init.name(), &init).second) {
      emitError(fileLoc) << "initializer '" << init.name()
                         << "' is defined twice";
      return failure();
    }
  for (const auto &in : graph.input())
    if (!initializers.count(in.name()))
      graphInputs.insert(in.name());
  if (failed(checkOpsets()))
    return failure();
  // Report every structural problem and unsupported op in one run.
  bool scanOk = succeeded(scanNodes());
  bool sortOk = succeeded(sortNodes());
  if (!scanOk || !sortOk)
    return failure();

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  auto func = createFunction(*module);
  if (failed(func))
    return failure();
  for (size_t i : order)
    if (failed(convertNode(graph.node(i), i)))
      return failure();

  SmallVector<Value> results;
  for (const auto &out : graph.output()) {
    Value v = lookup(out.name(), fileLoc);
    if (!v)
      return failure();
    results.push_back(v);
  }
  func::ReturnOp::create(builder, fileLoc, results);
  func->setType(builder.getFunctionType(func->getArgumentTypes(),
                                        ValueRange(results).getTypes()));
  // Folding leaves constants (and the ops of dead ONNX branches) unused;
  // every kiln op is pure, so drop them, last first.
  Block &body = func->getBody().front();
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
    if (op.use_empty() && isMemoryEffectFree(&op) &&
        !op.hasTrait<OpTrait::IsTerminator>())
      op.erase();
  for (auto [i, out] : llvm::enumerate(graph.output()))
    func->setResultAttr(i, KilnDialect::getNameAttrName(),
                        builder.getStringAttr(out.name()));
  if (failed(mlir::verify(*module)))
    return failure();
  return module;
}

//===----------------------------------------------------------------------===//
// Public API
//===----------------------------------------------------------------------===//

FailureOr<OwningOpRef<ModuleOp>>
kiln::importOnnxBytes(MLIRContext &context, StringRef bytes, StringRef path,
                      const ImportOptions &options) {
  context.getOrLoadDialect<KilnDialect>();
  context.getOrLoadDialect<func::FuncDialect>();
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  LoadedModel model;
  std::string error;
  if (!parseModelProto(bytes, model, error) ||
      !findRawDataOffsets(bytes, model.rawData, error)) {
    emitError(fileLoc) << error;
    return failure();
  }
  // Errors and warnings at a node's NameLoc get the node's name in the
  // message, so printers that only show the file location still name it.
  bool reentrant = false;
  ScopedDiagnosticHandler nameNodes(&context, [&](Diagnostic &diag) {
    auto nameLoc = dyn_cast<NameLoc>(diag.getLocation());
    bool isError = diag.getSeverity() == DiagnosticSeverity::Error;
    if (reentrant || !nameLoc ||
        (!isError && diag.getSeverity() != DiagnosticSeverity::Warning))
      return failure(); // let the next handler print it
    reentrant = true;
    Location at = nameLoc.getChildLoc();
    InFlightDiagnostic named =
        (isError ? mlir::emitError(at, "node '") : mlir::emitWarning(at, "node '"))
        << nameLoc.getName().getValue() << "': " << diag.str();
    for (Diagnostic &note : diag.getNotes())
      named.attachNote(note.getLocation()) << note.str();
    named.report();
    reentrant = false;
    return success();
  });
  if (!options.kvStep) {
    GraphImporter importer(context, path, options, model);
    return importer.run();
  }
  // A KV-cache step: bind the dims by role, import, and import once more
  // with the past one longer to find what depends on the past length.
  ImportOptions step = options;
  KvRoleInfo roles;
  if (!model.proto->has_graph() ||
      failed(bindKvRoles(model.proto->graph(), fileLoc, *options.kvStep, step,
                         roles)))
    return failure();
  GraphImporter importer(context, path, step, model);
  auto module = importer.run();
  if (failed(module))
    return failure();
  ImportOptions longer = step;
  longer.binds[roles.pastParam] += 1;
  if (!roles.totalParam.empty())
    longer.binds[roles.totalParam] += 1;
  GraphImporter longerImporter(context, path, longer, model);
  auto longerModule = longerImporter.run();
  auto mainOf = [&](ModuleOp m) {
    return m.lookupSymbol<func::FuncOp>(options.functionName);
  };
  func::FuncOp func = mainOf(**module);
  if (failed(longerModule))
    func->setAttr("kiln.kv_unsafe",
                  StringAttr::get(&context, "the model does not import with a "
                                            "longer past"));
  else
    checkKvSoundness(func, mainOf(**longerModule), options.kvStep->seq);
  tagKvRoles(func, roles);
  return module;
}

FailureOr<OwningOpRef<ModuleOp>>
kiln::importOnnxFile(MLIRContext &context, StringRef path,
                     const ImportOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(FileLineColLoc::get(&context, path, 0, 0))
        << "cannot read ONNX model: " << buffer.getError().message();
    return failure();
  }
  return importOnnxBytes(context, (*buffer)->getBuffer(), path, options);
}

bool kiln::addBind(ImportOptions &options, StringRef nameEqualsValue) {
  auto [name, value] = nameEqualsValue.split('=');
  int64_t n;
  if (name.empty() || value.getAsInteger(10, n) || n < 0)
    return false;
  options.binds[name.str()] = n;
  return true;
}
