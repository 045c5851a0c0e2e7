//===- Driver.cpp - shared plumbing of the kiln tools ---------------------===//
//
// Model loading for every input form, diagnostic collection, and the bridge
// between the runtime's host tensors and the reference backend.
//
//===----------------------------------------------------------------------===//

#include "kiln/Driver/Driver.h"

#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/Reference/Evaluator.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace kiln;
using kiln::runtime::DType;
using kiln::runtime::HostTensor;

void kiln::registerKilnDialects(DialectRegistry &registry) {
  registry.insert<KilnDialect, func::FuncDialect>();
}

/// Prints a location the way compilers do: `file:line:col`, with an ONNX
/// node name (a NameLoc) after it.
static void printLocation(llvm::raw_ostream &os, Location loc) {
  if (auto file = dyn_cast<FileLineColLoc>(loc)) {
    os << file.getFilename().getValue();
    if (file.getLine())
      os << ":" << file.getLine() << ":" << file.getColumn();
    return;
  }
  if (auto name = dyn_cast<NameLoc>(loc)) {
    if (!isa<UnknownLoc>(name.getChildLoc())) {
      printLocation(os, name.getChildLoc());
      os << ": ";
    }
    os << "node '" << name.getName().getValue() << "'";
    return;
  }
  if (auto fused = dyn_cast<FusedLoc>(loc)) {
    llvm::interleave(
        fused.getLocations(), os,
        [&](Location l) { printLocation(os, l); }, ", ");
    return;
  }
  os << loc;
}

void kiln::formatDiagnostic(llvm::raw_ostream &os, Diagnostic &diag) {
  printLocation(os, diag.getLocation());
  os << ": ";
  switch (diag.getSeverity()) {
  case DiagnosticSeverity::Error:
    os << "error: ";
    break;
  case DiagnosticSeverity::Warning:
    os << "warning: ";
    break;
  default:
    os << "note: ";
    break;
  }
  os << diag << "\n";
  for (Diagnostic &note : diag.getNotes())
    os << "  note: " << note << "\n";
}

DiagnosticCollector::DiagnosticCollector(MLIRContext &context)
    : context(context) {
  id = context.getDiagEngine().registerHandler([this](Diagnostic &diag) {
    llvm::raw_string_ostream os(collected);
    formatDiagnostic(os, diag);
    return success();
  });
}

DiagnosticPrinter::DiagnosticPrinter(MLIRContext &context) : context(context) {
  id = context.getDiagEngine().registerHandler([](Diagnostic &diag) {
    formatDiagnostic(llvm::errs(), diag);
    return success();
  });
}

DiagnosticPrinter::~DiagnosticPrinter() {
  context.getDiagEngine().eraseHandler(id);
}

DiagnosticCollector::~DiagnosticCollector() {
  context.getDiagEngine().eraseHandler(id);
}

FailureOr<LoadedModel> kiln::loadModel(MLIRContext &context, StringRef path,
                                       const ImportOptions &options,
                                       StringRef function) {
  LoadedModel model;
  SmallString<256> file(path);
  if (llvm::sys::fs::is_directory(path)) {
    llvm::sys::path::append(file, "scheduled.mlir");
    model.weightDir = path.str();
  } else {
    model.weightDir = llvm::sys::path::parent_path(path).str();
  }
  if (StringRef(file).ends_with(".onnx")) {
    auto module = importOnnxFile(context, file, options);
    if (failed(module))
      return failure();
    model.module = std::move(*module);
    // The importer records weight paths as it resolved them.
    model.weightDir.clear();
  } else {
    llvm::SourceMgr sourceMgr;
    std::string includeError;
    auto buf = llvm::MemoryBuffer::getFile(file);
    if (!buf)
      return emitError(FileLineColLoc::get(&context, file, 0, 0))
             << "cannot open: " << buf.getError().message();
    sourceMgr.AddNewSourceBuffer(std::move(*buf), llvm::SMLoc());
    model.module = parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (!model.module)
      return failure();
    if (failed(verify(*model.module)))
      return failure();
  }
  SmallVector<func::FuncOp> funcs;
  for (func::FuncOp f : model.module->getOps<func::FuncOp>())
    if (!f.isDeclaration())
      funcs.push_back(f);
  for (func::FuncOp f : funcs)
    if (f.getSymName() == (function.empty() ? StringRef("main") : function))
      model.entry = f;
  if (!model.entry && function.empty() && funcs.size() == 1)
    model.entry = funcs.front();
  if (model.entry)
    return model;
  InFlightDiagnostic diag = emitError(FileLineColLoc::get(&context, file, 0, 0));
  if (funcs.empty())
    return diag << "no function to run";
  if (function.empty())
    diag << "the module has " << funcs.size()
         << " functions and none is @main (";
  else
    diag << "no function @" << function << " (the module has ";
  llvm::interleave(
      funcs, [&](func::FuncOp f) { diag << "@" << f.getSymName(); },
      [&] { diag << ", "; });
  diag << ")";
  if (function.empty())
    diag << "; pick one with --function";
  return diag;
}

/// The runtime dtype of an MLIR element type, if it has one.
static std::optional<DType> dtypeOf(Type t) {
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

static std::string nameOf(func::FuncOp func, unsigned idx, bool result) {
  auto attr = result ? func.getResultAttrOfType<StringAttr>(idx, "kiln.name")
                     : func.getArgAttrOfType<StringAttr>(idx, "kiln.name");
  return attr ? attr.str() : std::string();
}

LogicalResult kiln::runReference(func::FuncOp func, StringRef weightDir,
                                 const std::vector<HostTensor> &inputs,
                                 std::vector<HostTensor> &outputs,
                                 std::string &error) {
  unsigned n = func.getNumArguments();
  if (inputs.size() != n) {
    error = "model '" + func.getSymName().str() + "' takes " +
            std::to_string(n) + " inputs, got " + std::to_string(inputs.size());
    return failure();
  }
  // Bind by name when every input is named and every name is an argument.
  std::vector<const HostTensor *> bound(n, nullptr);
  bool byName = true;
  for (const HostTensor &t : inputs) {
    bool found = false;
    for (unsigned a = 0; a < n && !t.name.empty(); ++a)
      if (nameOf(func, a, false) == t.name && !bound[a]) {
        bound[a] = &t;
        found = true;
        break;
      }
    byName &= found;
  }
  if (!byName)
    for (unsigned a = 0; a < n; ++a)
      bound[a] = &inputs[a];

  std::vector<ref::Tensor> args;
  for (unsigned a = 0; a < n; ++a) {
    auto type = cast<RankedTensorType>(func.getArgument(a).getType());
    const HostTensor &t = *bound[a];
    std::string argName = nameOf(func, a, false);
    std::string what = "input #" + std::to_string(a) +
                       (argName.empty() ? "" : " '" + argName + "'");
    auto dt = dtypeOf(type.getElementType());
    if (!dt || *dt != t.dtype) {
      error = what + ": expected element type " +
              (dt ? runtime::dtypeName(*dt) : "?") + ", got " +
              runtime::dtypeName(t.dtype);
      return failure();
    }
    if (ArrayRef<int64_t>(t.shape) != type.getShape()) {
      std::vector<int64_t> want(type.getShape().begin(), type.getShape().end());
      error = what + ": expected shape " + runtime::formatShape(want) +
              ", got " + runtime::formatShape(t.shape);
      return failure();
    }
    args.push_back(ref::Tensor::fromBytes(type, t.bytes.data()));
  }

  auto results = ref::runFunction(func, args, weightDir);
  if (failed(results)) {
    error = "reference backend failed";
    return failure();
  }
  outputs.clear();
  for (auto [i, r] : llvm::enumerate(*results)) {
    HostTensor out;
    out.name = nameOf(func, i, true);
    auto dt = dtypeOf(r.elementType);
    if (!dt) {
      error = "output #" + std::to_string(i) + " has an unsupported type";
      return failure();
    }
    out.dtype = *dt;
    out.shape.assign(r.shape.begin(), r.shape.end());
    out.bytes.resize(r.numElements() * runtime::dtypeByteWidth(*dt));
    r.toBytes(out.bytes.data());
    outputs.push_back(std::move(out));
  }
  return success();
}
