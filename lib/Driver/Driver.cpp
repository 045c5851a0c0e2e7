//===- Driver.cpp - shared plumbing of the kiln tools ---------------------===//
//
// Model loading for every input form, diagnostic collection, and the bridge
// between the runtime's host tensors and the reference backend.
//
//===----------------------------------------------------------------------===//

#include "kiln/Driver/Driver.h"

#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Dialect/Kiln/IR/WeightFile.h"
#include "kiln/Reference/Evaluator.h"
#include "kiln/Transforms/MemoryPlan.h"
#include "kiln/Transforms/Passes.h"
#include "kiln/runtime/Artifact.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringMap.h"
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

/// The runtime dtype of an MLIR element type, if it has one.
static std::optional<DType> dtypeOf(Type t);

/// Whether `type` is the dtype and shape of a manifest record.
static bool sameType(Type type, const runtime::TensorSpec &spec) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  std::optional<DType> dt =
      ranked ? dtypeOf(ranked.getElementType()) : std::nullopt;
  return dt && *dt == spec.dtype &&
         ranked.getShape() == ArrayRef<int64_t>(spec.shape);
}

/// Checks that an artifact's scheduled IR says what its manifest says: the
/// arena size, every input and output (name, dtype, shape, arena offset),
/// and every weight the IR reads (in the artifact's weights file, at the
/// offset and size of a manifest record of that name). The hashes tie each
/// file to the manifest; this ties them to each other, so the reference
/// backend runs what the CUDA backend would.
static LogicalResult checkAgainstManifest(func::FuncOp func,
                                          const runtime::Artifact &artifact) {
  const runtime::Manifest &m = artifact.manifest;
  auto mismatch = [&]() {
    return func.emitError("scheduled.mlir disagrees with ")
           << artifact.manifestPath << ": ";
  };
  auto arena =
      func->getAttrOfType<IntegerAttr>(KilnDialect::getArenaBytesAttrName());
  if (!arena || arena.getInt() < 0 ||
      static_cast<uint64_t>(arena.getInt()) != m.arenaBytes)
    return mismatch() << "arena_bytes " << m.arenaBytes << " vs "
                      << (arena ? std::to_string(arena.getInt()) : "none");
  if (func.getNumArguments() != m.inputs.size() ||
      func.getNumResults() != m.outputs.size())
    return mismatch() << "the IR has " << func.getNumArguments()
                      << " inputs and " << func.getNumResults()
                      << " outputs, the manifest " << m.inputs.size() << " and "
                      << m.outputs.size();
  // The offsets the IR states, read as the plan verifier reads them.
  FailureOr<MemoryPlan> plan = MemoryPlan::fromAttributes(func);
  if (failed(plan))
    return failure();
  // One input or output: its name (unnamed ones are `input_<i>` /
  // `output_<i>` in the manifest, as codegen names them), type and offset.
  auto checkBinding = [&](StringRef kind, unsigned i, Value value,
                          StringAttr name,
                          const runtime::TensorSpec &spec) -> LogicalResult {
    std::string what = (kind + " #" + Twine(i)).str();
    std::string spelled = name ? runtime::manifestName(name.str())
                               : (kind + "_" + Twine(i)).str();
    if (spelled != spec.name)
      return mismatch() << what << " is named '"
                        << (name ? name.getValue() : StringRef(spelled))
                        << "' in the IR and '" << spec.name
                        << "' in the manifest";
    if (!sameType(value.getType(), spec))
      return mismatch() << what << " '" << spec.name << "' is "
                        << value.getType() << " in the IR and "
                        << runtime::dtypeName(spec.dtype) << " "
                        << runtime::formatShape(spec.shape)
                        << " in the manifest";
    std::optional<int64_t> offset = plan->offsetOf(value);
    if (!offset || *offset < 0 ||
        static_cast<uint64_t>(*offset) != spec.offset)
      return mismatch() << what << " '" << spec.name << "' is at arena offset "
                        << spec.offset << " in the manifest and "
                        << (offset ? std::to_string(*offset)
                                   : std::string("nowhere"))
                        << " in the IR";
    return success();
  };
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (failed(checkBinding(
            "input", i, func.getArgument(i),
            func.getArgAttrOfType<StringAttr>(i, KilnDialect::getNameAttrName()),
            m.inputs[i])))
      return failure();
  ValueRange returned = func.getBody().back().getTerminator()->getOperands();
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    if (failed(checkBinding("output", i, returned[i],
                            func.getResultAttrOfType<StringAttr>(
                                i, KilnDialect::getNameAttrName()),
                            m.outputs[i])))
      return failure();
  // Records by name (two names may read the same once whitespace is `_`).
  llvm::StringMap<SmallVector<const runtime::TensorSpec *, 1>> weights;
  for (const runtime::TensorSpec &w : m.weights)
    weights[w.name].push_back(&w);
  WalkResult walk = func.walk([&](WeightOp op) {
    bool found = llvm::any_of(
        weights.lookup(runtime::manifestName(op.getName().str())),
        [&](const runtime::TensorSpec *spec) {
          return spec->offset == op.getOffset() &&
                 spec->bytes == op.getLength() && sameType(op.getType(), *spec);
        });
    if (op.getPath() != m.weightsFile.name || !found) {
      op.emitError("weight '")
          << op.getName() << "' (" << op.getPath() << ", offset "
          << op.getOffset() << ", " << op.getLength()
          << " bytes) has no matching record in " << artifact.manifestPath;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

FailureOr<LoadedModel> kiln::loadModel(MLIRContext &context, StringRef path,
                                       const ImportOptions &options,
                                       StringRef function) {
  LoadedModel model;
  SmallString<256> file(path);
  std::optional<runtime::Artifact> artifact;
  if (llvm::sys::fs::is_directory(path)) {
    // An artifact: the runtime's validation (manifest, file sizes and
    // hashes) before anything reads its files.
    artifact.emplace();
    std::string error;
    if (!runtime::loadArtifact(path.str(), *artifact, error,
                               /*readData=*/false))
      return emitError(FileLineColLoc::get(&context, path, 0, 0)) << error;
    llvm::sys::path::append(file, artifact->manifest.irFile.name);
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
    // Every weight file is checked before anything maps it.
    if (failed(checkWeightFiles(*model.module, model.weightDir)))
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
  if (model.entry && artifact &&
      failed(checkAgainstManifest(model.entry, *artifact)))
    return failure();
  // Scheduled-level IR (an artifact's, or a planned .mlir) runs through one
  // byte arena at its planned offsets: check the plan itself (inside the
  // arena, aligned, no two values live at once overlapping, e.g. an op's
  // output over a still-needed input), or a bad offset would give a wrong
  // answer instead of an error.
  if (model.entry &&
      model.entry->hasAttr(KilnDialect::getArenaBytesAttrName()) &&
      failed(verifyMemoryPlan(model.entry)))
    return failure();
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
  auto attr = result ? func.getResultAttrOfType<StringAttr>(
                           idx, KilnDialect::getNameAttrName())
                     : func.getArgAttrOfType<StringAttr>(
                           idx, KilnDialect::getNameAttrName());
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
