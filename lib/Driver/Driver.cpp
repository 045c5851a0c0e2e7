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
#include "kiln/Transforms/Passes.h"
#include "kiln/runtime/Artifact.h"

#include "mlir/IR/DialectRegistry.h"
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
  case DiagnosticSeverity::Remark:
    os << "remark: ";
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

/// The manifest pointer of a buffer: `a:<region offset>` in the arena,
/// `k:<region offset>` in the KV cache region, `w:<id>` for a whole weight;
/// anything else matches no pointer.
static std::optional<runtime::PointerRef>
pointerOf(Value buffer, const DenseMap<Operation *, uint64_t> &weightIds) {
  auto view = buffer.getDefiningOp<ViewOp>();
  if (!view)
    return std::nullopt;
  if (isa_and_present<KvRegionOp>(view.getRoot().getBase().getDefiningOp()))
    return runtime::PointerRef::kv(view.getRegionOffset());
  if (isa_and_present<ArenaOp>(view.getRegion()))
    return runtime::PointerRef::arena(view.getRegionOffset());
  auto it = weightIds.find(view.getRoot());
  if (it == weightIds.end() || view.getRegionOffset() !=
                                   view.getRoot().getRegionOffset())
    return std::nullopt;
  return runtime::PointerRef::weight(it->second);
}

/// The error prefix for a disagreement between scheduled.mlir and the
/// manifest, at `at`.
static InFlightDiagnostic mismatchAt(Operation *at,
                                     const runtime::Artifact &artifact) {
  return at->emitError("scheduled.mlir disagrees with ")
         << artifact.manifestPath << ": ";
}

/// Checks that kiln.graph of `func` is the launch list of its manifest
/// function `fn`: the same number of launches in the same order, each
/// kernel launch naming the same kernel with the same grid, block, shared
/// memory and buffers (every pointer it passes is one of its ins or outs,
/// and each of those is passed), each gemm reading and writing the same
/// buffers (residual included). A scheduled.mlir whose buffers were moved
/// (an alias shifted inside its root, say) would otherwise run on the CPU
/// as the GPU never would.
static LogicalResult
checkLaunches(func::FuncOp func, const runtime::Function &fn,
              const runtime::Artifact &artifact,
              const DenseMap<Operation *, uint64_t> &weightIds) {
  auto mismatch = [&](Operation *at) { return mismatchAt(at, artifact); };
  SmallVector<Operation *> ops;
  for (GraphOp graph : func.getBody().front().getOps<GraphOp>())
    for (Operation &op : graph.getBody().front())
      if (!isa<ViewOp>(op))
        ops.push_back(&op);
  if (ops.size() != fn.launches.size())
    return mismatch(func) << "kiln.graph has " << ops.size()
                          << " launches, function '" << fn.name << "' "
                          << fn.launches.size();
  auto same = [&](Value v, const runtime::PointerRef &p) {
    std::optional<runtime::PointerRef> q = pointerOf(v, weightIds);
    return q ? q->kind == p.kind && q->value == p.value
             : p.kind == runtime::PointerRef::Kind::None;
  };
  for (auto [i, op] : llvm::enumerate(ops)) {
    const runtime::Launch &l = fn.launches[i];
    auto differs = [&, i = i, op = op]() {
      return mismatch(op) << "launch " << i << " is not the manifest's ("
                          << artifact.manifestPath << ":" << l.line << ", "
                          << l.label() << ")";
    };
    if (auto launch = dyn_cast<LaunchOp>(op)) {
      if (l.kind != runtime::Launch::Kind::Kernel)
        return differs();
      const runtime::KernelLaunch &k = l.kernel;
      // The kernel's parameter list is codegen's (an operand the body uses
      // twice may be passed twice), so the pointers are compared as sets.
      SmallVector<Value> buffers(launch.getInputs());
      llvm::append_range(buffers, launch.getOutputs());
      bool ok =
          k.name == launch.getKernel() && k.smemBytes == launch.getSmem();
      for (unsigned d = 0; ok && d < 3; ++d)
        ok = k.grid[d] == launch.getGrid()[d] &&
             k.block[d] == launch.getBlock()[d];
      for (Value v : buffers)
        ok = ok && llvm::any_of(k.args, [&](const runtime::PointerRef &p) {
               return same(v, p);
             });
      for (const runtime::PointerRef &p : k.args)
        ok = ok && llvm::any_of(buffers, [&](Value v) { return same(v, p); });
      if (!ok)
        return differs();
      continue;
    }
    auto gemm = dyn_cast<GemmOp>(op);
    if (!gemm || l.kind != runtime::Launch::Kind::Gemm)
      return differs();
    const runtime::GemmLaunch &g = l.gemm;
    // B a weight concatenation: the manifest spans one record per part.
    int64_t parts = 1;
    if (auto bv = gemm.getB().getDefiningOp<ViewOp>())
      if (Value init = bv.getRoot().getInit())
        if (auto concat = init.getDefiningOp<ConcatOp>())
          parts = static_cast<int64_t>(concat.getInputs().size());
    if (g.bRecords != parts || !same(gemm.getA(), g.a) ||
        !same(gemm.getB(), g.b) ||
        !same(gemm.getOut(), g.c) ||
        (gemm.getBias() ? !same(gemm.getBias(), g.bias)
                        : g.bias.kind != runtime::PointerRef::Kind::None) ||
        (gemm.getResidual()
             ? !same(gemm.getResidual(), g.residual)
             : g.residual.kind != runtime::PointerRef::Kind::None) ||
        g.transB != gemm.getTransposeB() ||
        g.alpha != (gemm.getScale() ? gemm.getScale()->convertToFloat()
                                    : 1.0f) ||
        StringRef(runtime::gemmActivationName(g.activation)) !=
            stringifyGemmActivation(gemm.getActivation()))
      return differs();
  }
  return success();
}

/// The role kiln.roles gives binding `name` of `func`, or "".
static std::string roleOf(func::FuncOp func, StringRef name) {
  auto roles = func->getAttrOfType<DictionaryAttr>("kiln.roles");
  if (!roles)
    return "";
  std::string want = runtime::manifestName(name.str());
  for (NamedAttribute entry : roles)
    if (runtime::manifestName(entry.getName().str()) == want)
      if (auto role = dyn_cast<StringAttr>(entry.getValue()))
        return role.str();
  return "";
}

/// Checks one scheduled function against its manifest function record:
/// its arena fits arena_bytes, its KV region is the kv_cache record's, its
/// step and every input and output (the bound view's name, dtype, shape,
/// arena offset and role, in order) are the record's, every weight view
/// with init is the manifest weight at its offset, and its launch list.
static LogicalResult checkFunction(func::FuncOp func,
                                   const runtime::Function &fn,
                                   const runtime::Artifact &artifact) {
  const runtime::Manifest &m = artifact.manifest;
  auto mismatch = [&](Operation *at) { return mismatchAt(at, artifact); };
  if (!ref::isExplicitlyScheduled(func))
    return func.emitError("scheduled.mlir is not in the scheduled form (no "
                          "kiln.graph in @")
           << func.getSymName() << ")";
  Block &body = func.getBody().front();
  auto arenas = body.getOps<ArenaOp>();
  if (arenas.empty())
    return mismatch(func) << "@" << func.getSymName()
                          << " declares no kiln.arena";
  ArenaOp arena = *arenas.begin();
  int64_t arenaBytes = arena.getType().getNumElements();
  if (static_cast<uint64_t>(arenaBytes) > m.arenaBytes)
    return mismatch(arena) << "arena_bytes " << m.arenaBytes
                           << " is less than @" << func.getSymName()
                           << "'s arena of " << arenaBytes;
  for (KvRegionOp kv : body.getOps<KvRegionOp>())
    if (static_cast<uint64_t>(kv.getType().getNumElements()) != m.kvCache.bytes)
      return mismatch(kv) << "the KV cache region of @" << func.getSymName()
                          << " has " << kv.getType().getNumElements()
                          << " bytes, the manifest's kv_cache "
                          << m.kvCache.bytes;
  int64_t batch = 0, seq = 0;
  if (auto step = func->getAttrOfType<DictionaryAttr>("kiln.step")) {
    if (auto b = step.getAs<IntegerAttr>("batch"))
      batch = b.getInt();
    if (auto s = step.getAs<IntegerAttr>("seq"))
      seq = s.getInt();
  }
  if (batch != fn.stepBatch || seq != fn.stepSeq)
    return mismatch(func) << "@" << func.getSymName() << " has step " << batch
                          << " " << seq << " in the IR and " << fn.stepBatch
                          << " " << fn.stepSeq << " in the manifest";
  ref::Signature sig = ref::getSignature(func);
  if (sig.inputs.size() != fn.inputs.size() ||
      sig.outputs.size() != fn.outputs.size())
    return mismatch(func) << "@" << func.getSymName() << " binds "
                          << sig.inputs.size() << " inputs and "
                          << sig.outputs.size() << " outputs, function '"
                          << fn.name << "' of the manifest " << fn.inputs.size()
                          << " and " << fn.outputs.size();
  // One input or output: its name, type, arena offset and role.
  auto checkBinding = [&](StringRef kind, unsigned i,
                          const ref::Binding &binding,
                          const runtime::TensorSpec &spec) -> LogicalResult {
    auto view = binding.value.getDefiningOp<ViewOp>();
    if (runtime::manifestName(binding.name) != spec.name)
      return mismatch(view) << kind << " #" << i << " is named '"
                            << binding.name << "' in the IR and '" << spec.name
                            << "' in the manifest";
    if (!sameType(binding.type, spec))
      return mismatch(view) << kind << " #" << i << " '" << spec.name
                            << "' is " << binding.type << " in the IR and "
                            << runtime::dtypeName(spec.dtype) << " "
                            << runtime::formatShape(spec.shape)
                            << " in the manifest";
    if (static_cast<uint64_t>(view.getRegionOffset()) != spec.offset)
      return mismatch(view) << kind << " #" << i << " '" << spec.name
                            << "' is at arena offset " << spec.offset
                            << " in the manifest and "
                            << view.getRegionOffset() << " in the IR";
    std::string role = roleOf(func, binding.name);
    if (role != spec.role)
      return mismatch(view)
             << kind << " #" << i << " '" << spec.name << "' has role '" << role
             << "' in the IR and '" << spec.role << "' in the manifest";
    return success();
  };
  for (auto [i, b] : llvm::enumerate(sig.inputs))
    if (failed(checkBinding("input", i, b, fn.inputs[i])))
      return failure();
  for (auto [i, b] : llvm::enumerate(sig.outputs))
    if (failed(checkBinding("output", i, b, fn.outputs[i])))
      return failure();
  // Weights: each init view is the manifest's weight at its offset (the
  // weight table is the union of every function's).
  DenseMap<Operation *, uint64_t> weightIds;
  for (ViewOp view : body.getOps<ViewOp>()) {
    if (!view.getInit())
      continue;
    uint64_t offset = view.getRegionOffset();
    auto it = llvm::find_if(m.weights, [&](const runtime::TensorSpec &w) {
      return w.offset == offset;
    });
    if (it == m.weights.end())
      return mismatch(view) << "@" << func.getSymName()
                            << " initialises a weight buffer at offset "
                            << offset << ", where the manifest has no weight";
    uint64_t id = static_cast<uint64_t>(it - m.weights.begin());
    const runtime::TensorSpec &spec = *it;
    // A weight concatenation (kiln-merge-gemms) has no record: its parts,
    // stored back to back, have theirs, and a pointer to it is its first
    // part's.
    if (isa_and_present<ConcatOp>(view.getInit().getDefiningOp())) {
      weightIds[view] = id;
      continue;
    }
    auto weight = view.getInit().getDefiningOp<WeightOp>();
    std::string name = weight ? runtime::manifestName(weight.getName().str())
                              : "constant_" + std::to_string(id);
    auto type = RankedTensorType::get(view.getType().getShape(),
                                      view.getType().getElementType());
    std::optional<int64_t> bytes = shapedByteSize(type);
    if (name != spec.name || !sameType(type, spec) || !bytes ||
        static_cast<uint64_t>(*bytes) != spec.bytes)
      return mismatch(view)
             << "weight #" << id << " is '" << name << "' " << type
             << " at offset " << offset << " in @" << func.getSymName()
             << " and '" << spec.name << "' " << runtime::dtypeName(spec.dtype)
             << " " << runtime::formatShape(spec.shape) << " at offset "
             << spec.offset << " in the manifest";
    weightIds[view] = id;
    // What the reference backend reads for it must be those bytes of the
    // artifact's weights file.
    if (weight && (weight.getPath() != m.weightsFile.name ||
                   static_cast<uint64_t>(weight.getOffset()) != spec.offset ||
                   static_cast<uint64_t>(weight.getLength()) != spec.bytes))
      return weight.emitError("weight '")
             << weight.getName() << "' (" << weight.getPath() << ", offset "
             << weight.getOffset() << ", " << weight.getLength()
             << " bytes) is not record " << id << " of "
             << artifact.manifestPath << " (" << m.weightsFile.name
             << ", offset " << spec.offset << ", " << spec.bytes << " bytes)";
  }
  return checkLaunches(func, fn, artifact, weightIds);
}

/// Checks that an artifact's scheduled IR (the explicit scheduled form,
/// every function `funcs` with a body) says what its manifest says: one
/// manifest function per IR function, of the same name (checkFunction),
/// arena_bytes the largest function's arena, the kv_cache record the
/// module's kiln.kv_cache, and every manifest weight initialised by some
/// function. The hashes tie each file to the manifest; this ties them to
/// each other, so the reference backend runs what the CUDA backend would.
static LogicalResult checkAgainstManifest(ModuleOp module,
                                          ArrayRef<func::FuncOp> funcs,
                                          const runtime::Artifact &artifact) {
  const runtime::Manifest &m = artifact.manifest;
  auto mismatch = [&](Operation *at) { return mismatchAt(at, artifact); };
  if (funcs.size() != m.functions.size())
    return mismatch(module)
           << "the IR has " << funcs.size() << " functions, the manifest "
           << m.functions.size();
  uint64_t largestArena = 0;
  std::vector<bool> weightSeen(m.weights.size(), false);
  for (func::FuncOp func : funcs) {
    const runtime::Function *fn = m.findFunction(func.getSymName().str());
    if (!fn)
      return mismatch(func)
             << "it has no function '" << func.getSymName() << "'";
    if (failed(checkFunction(func, *fn, artifact)))
      return failure();
    for (ArenaOp arena : func.getBody().front().getOps<ArenaOp>())
      largestArena =
          std::max(largestArena,
                   static_cast<uint64_t>(arena.getType().getNumElements()));
    for (ViewOp view : func.getBody().front().getOps<ViewOp>())
      if (view.getInit())
        for (auto [i, w] : llvm::enumerate(m.weights))
          if (w.offset == static_cast<uint64_t>(view.getRegionOffset()))
            weightSeen[i] = true;
  }
  if (largestArena != m.arenaBytes)
    return mismatch(module)
           << "arena_bytes " << m.arenaBytes
           << " vs the largest function arena " << largestArena;
  for (auto [i, seen] : llvm::enumerate(weightSeen))
    if (!seen)
      return mismatch(module)
             << "weight #" << i << " '" << m.weights[i].name << "' ("
             << artifact.manifestPath << ":" << m.weights[i].line
             << ") is initialised by no function of the IR";
  KvCacheOp cache;
  for (KvCacheOp c : module.getOps<KvCacheOp>())
    cache = c;
  const runtime::KvCacheSpec &kv = m.kvCache;
  if (!cache != !kv.present())
    return mismatch(cache ? cache.getOperation() : module.getOperation())
           << (cache ? "the IR declares a kiln.kv_cache, the manifest none"
                     : "the manifest has a kv_cache record, the IR no "
                       "kiln.kv_cache");
  if (cache) {
    std::optional<DType> dt = dtypeOf(cache.getElementType());
    auto dim = [](uint64_t d) { return static_cast<int64_t>(d); };
    if (dim(cache.getLayers()) != kv.layers ||
        dim(cache.getKvHeads()) != kv.kvHeads ||
        dim(cache.getHeadDim()) != kv.headDim ||
        dim(cache.getMaxBatch()) != kv.maxBatch ||
        dim(cache.getMaxSeq()) != kv.maxSeq || !dt || *dt != kv.dtype)
      return mismatch(cache)
             << "kiln.kv_cache @" << cache.getSymName()
             << " is not the kv_cache record of line " << kv.line;
  }
  return success();
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
    // Parsing runs every verifier (kiln.graph's checks the memory plan of
    // the explicit scheduled form); once is enough.
    model.module = parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (!model.module)
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
  // Every function of an artifact's IR is checked, not only the entry: the
  // CUDA backend may run any of them.
  if (artifact && failed(checkAgainstManifest(*model.module, funcs, *artifact)))
    return failure();
  // Attribute-planned IR (a .mlir after kiln-plan-memory) runs through one
  // byte arena at its planned offsets: check the plan itself (inside the
  // arena, aligned, no two values live at once overlapping, e.g. an op's
  // output over a still-needed input), or a bad offset would give a wrong
  // answer instead of an error. The explicit scheduled form states its plan
  // as ops, and kiln.graph's verifier checked it when the IR was parsed.
  if (model.entry && !ref::isExplicitlyScheduled(model.entry) &&
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

LogicalResult kiln::runReference(func::FuncOp func, StringRef weightDir,
                                 const std::vector<HostTensor> &inputs,
                                 std::vector<HostTensor> &outputs,
                                 std::string &error, ref::State *state) {
  // Arguments and results, or, in the explicit scheduled form, the `input`
  // and `output` views: the same binding either way.
  ref::Signature sig = ref::getSignature(func);
  unsigned n = sig.inputs.size();
  auto listInputs = [&] {
    std::string list;
    for (auto [a, b] : llvm::enumerate(sig.inputs))
      list += "\n  input " + std::to_string(a) + ": " +
              (b.name.empty() ? std::string("(unnamed)") : b.name);
    return list;
  };
  if (inputs.size() != n) {
    error = "model '" + func.getSymName().str() + "' takes " +
            std::to_string(n) + " inputs, got " +
            std::to_string(inputs.size()) + listInputs();
    return failure();
  }
  // Bind by name when every input is named and every name is an input.
  std::vector<const HostTensor *> bound(n, nullptr);
  bool byName = true;
  for (const HostTensor &t : inputs) {
    bool found = false;
    for (unsigned a = 0; a < n && !t.name.empty(); ++a)
      if (sig.inputs[a].name == t.name && !bound[a]) {
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
    RankedTensorType type = sig.inputs[a].type;
    const HostTensor &t = *bound[a];
    const std::string &argName = sig.inputs[a].name;
    std::string what = "input #" + std::to_string(a) +
                       (argName.empty() ? "" : " '" + argName + "'");
    auto dt = type ? dtypeOf(type.getElementType()) : std::nullopt;
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
    if (t.bytes.size() !=
        static_cast<size_t>(t.numElements() * runtime::dtypeByteWidth(*dt))) {
      error = what + ": holds " + std::to_string(t.bytes.size()) +
              " bytes, expected " +
              std::to_string(t.numElements() * runtime::dtypeByteWidth(*dt));
      return failure();
    }
    args.push_back(ref::Tensor::fromBytes(type, t.bytes.data()));
  }

  auto results = ref::runFunction(func, args, weightDir, state);
  if (failed(results)) {
    error = "reference backend failed";
    return failure();
  }
  outputs.clear();
  for (auto [i, r] : llvm::enumerate(*results)) {
    HostTensor out;
    out.name = i < sig.outputs.size() ? sig.outputs[i].name : std::string();
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
