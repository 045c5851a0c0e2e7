//===- RefSession.cpp - a model kept loaded on the reference backend ------===//
//
// Loads a model once and runs its functions step by step on the reference
// backend with one ref::State (the KV caches), converting between the
// runtime's host tensors and the reference backend's tensors.
//
//===----------------------------------------------------------------------===//

#include "kiln/Driver/RefSession.h"

#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace kiln;
using kiln::runtime::DType;
using kiln::runtime::HostTensor;

/// The runtime dtype of an MLIR element type, if it has one.
static std::optional<DType> runtimeDType(Type t) {
  if (t.isF32())
    return DType::F32;
  if (t.isF16())
    return DType::F16;
  if (t.isBF16())
    return DType::BF16;
  if (t.isF64())
    return DType::F64;
  if (t.isInteger(1))
    return DType::Bool;
  if (t.isUnsignedInteger(8))
    return DType::U8;
  if (t.isInteger(8))
    return DType::I8;
  if (t.isInteger(32))
    return DType::I32;
  if (t.isInteger(64))
    return DType::I64;
  return std::nullopt;
}

/// `dtype shape` of a tensor type, as the manifest spells them.
static std::string typeText(RankedTensorType type) {
  std::optional<DType> dt = runtimeDType(type.getElementType());
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  return std::string(dt ? runtime::dtypeName(*dt) : "?") + " " +
         runtime::formatShape(shape);
}

RefSession::RefSession() = default;
RefSession::~RefSession() = default;

std::unique_ptr<RefSession> RefSession::create(const std::string &modelPath,
                                               const std::string &function,
                                               std::string &error,
                                               const ImportOptions &options) {
  std::unique_ptr<RefSession> session(new RefSession());
  DialectRegistry registry;
  registerKilnDialects(registry);
  session->context = std::make_unique<MLIRContext>(registry);
  session->context->loadAllAvailableDialects();
  session->diags = std::make_unique<DiagnosticCollector>(*session->context);
  FailureOr<LoadedModel> model =
      loadModel(*session->context, modelPath, options, function);
  if (failed(model)) {
    error = session->diags->text().empty() ? "cannot load '" + modelPath + "'"
                                           : session->diags->text();
    while (!error.empty() && error.back() == '\n')
      error.pop_back();
    return nullptr;
  }
  session->model = std::move(*model);
  return session;
}

bool RefSession::run(const std::string &function,
                     const std::vector<HostTensor> &inputs,
                     std::vector<HostTensor> &outputs, std::string &error) {
  auto func = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
      *model.module, StringAttr::get(context.get(), function));
  if (!func || func.isDeclaration()) {
    error = "the model has no function @" + function;
    return false;
  }
  ref::Signature sig = ref::getSignature(func);
  if (inputs.size() != sig.inputs.size()) {
    error = "@" + function + " takes " + std::to_string(sig.inputs.size()) +
            " inputs, got " + std::to_string(inputs.size());
    return false;
  }
  std::vector<ref::Tensor> args;
  for (auto [i, binding] : llvm::enumerate(sig.inputs)) {
    const HostTensor &t = inputs[i];
    RankedTensorType type = binding.type;
    std::optional<DType> dt =
        type ? runtimeDType(type.getElementType()) : std::nullopt;
    if (!dt || *dt != t.dtype ||
        ArrayRef<int64_t>(t.shape) != type.getShape() ||
        t.bytes.size() != static_cast<size_t>(t.numElements() *
                                              runtime::dtypeByteWidth(*dt))) {
      error = "@" + function + " input #" + std::to_string(i) +
              (binding.name.empty() ? "" : " '" + binding.name + "'") +
              ": expected " + (type ? typeText(type) : "a ranked tensor") +
              ", got " + runtime::dtypeName(t.dtype) + " " +
              runtime::formatShape(t.shape);
      return false;
    }
    args.push_back(ref::Tensor::fromBytes(type, t.bytes.data()));
  }

  size_t before = diags->text().size();
  FailureOr<std::vector<ref::Tensor>> results =
      ref::runFunction(func, args, model.weightDir, &refState);
  if (failed(results)) {
    error = "the reference backend failed in @" + function;
    std::string text = diags->text().substr(before);
    while (!text.empty() && text.back() == '\n')
      text.pop_back();
    if (!text.empty())
      error += ":\n" + text;
    return false;
  }
  outputs.clear();
  for (auto [i, r] : llvm::enumerate(*results)) {
    std::optional<DType> dt = runtimeDType(r.elementType);
    if (!dt) {
      error = "@" + function + " output #" + std::to_string(i) +
              " has an element type the runtime has no dtype for";
      return false;
    }
    HostTensor out;
    out.name = i < sig.outputs.size() ? sig.outputs[i].name : std::string();
    out.dtype = *dt;
    out.shape.assign(r.shape.begin(), r.shape.end());
    out.bytes.resize(
        static_cast<size_t>(r.numElements() * runtime::dtypeByteWidth(*dt)));
    r.toBytes(out.bytes.data());
    outputs.push_back(std::move(out));
  }
  return true;
}

bool RefSession::run(const runtime::Function &fn,
                     const std::vector<HostTensor> &ordered,
                     std::vector<HostTensor> &outputs, std::string &error) {
  return run(fn.name, ordered, outputs, error);
}

bool RefSession::resetCache(std::string &) {
  refState.kvCaches.clear();
  return true;
}
