//===- Artifact.cpp - write the kiln artifact directory -------------------===//
//
// Translates every scheduled function of a module (emitFunction) and merges
// them into one artifact (emitModule): one weight table (the union of the
// functions' weight views by offset), every function's kernels in one
// kernels.cu, the largest arena, the module's KV cache, and one manifest
// `function` record per function with its inputs, outputs, step and roles.
// Then writes weights.bin (the init of every weight view, at the view's
// offset: kiln.weight bytes read from their files, kiln.constant bytes
// serialised from their attributes), kernels.cu, kernels.fatbin (nvcc: SASS
// for the arch plus PTX), scheduled.mlir (the scheduled module, its
// kiln.weight ops re-pointed at weights.bin) and manifest.txt, in the layout
// of docs/artifact.md.
//
//===----------------------------------------------------------------------===//

#include "kiln/Codegen/Artifact.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Dialect/Kiln/IR/WeightFile.h"
#include "kiln/runtime/Hash.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace mlir;
using namespace kiln;
using namespace kiln::codegen;

/// The location of a file the artifact writer reads or writes, for errors
/// about the file itself (`path: error: ...`).
static Location fileLoc(MLIRContext *context, StringRef path) {
  return FileLineColLoc::get(context, path, /*line=*/0, /*column=*/0);
}

/// Appends the little-endian bytes of a constant attribute to `bytes`.
static LogicalResult serialise(Operation *op, ElementsAttr value,
                               std::vector<char> &bytes) {
  auto dense = dyn_cast<DenseElementsAttr>(value);
  if (!dense)
    return op->emitOpError("constant is not a DenseElementsAttr; cannot "
                           "write it to weights.bin");
  Type elt = dense.getElementType();
  auto append = [&](const APInt &v, unsigned width) {
    for (unsigned i = 0; i < width; ++i)
      bytes.push_back(static_cast<char>(v.extractBitsAsZExtValue(8, 8 * i)));
  };
  if (elt.isInteger(1)) {
    for (bool b : dense.getValues<bool>())
      bytes.push_back(b ? 1 : 0);
    return success();
  }
  unsigned width = (elt.getIntOrFloatBitWidth() + 7) / 8;
  if (isa<FloatType>(elt)) {
    for (APFloat f : dense.getValues<APFloat>())
      append(f.bitcastToAPInt(), width);
    return success();
  }
  if (isa<IntegerType>(elt)) {
    for (APInt v : dense.getValues<APInt>())
      append(v, width);
    return success();
  }
  return op->emitOpError("constant of unsupported element type ") << elt;
}

LogicalResult kiln::codegen::writeWeightsFile(MLIRContext *context,
                                              const EmittedFunction &fn,
                                              StringRef weightBaseDir,
                                              StringRef path) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return emitError(fileLoc(context, path))
           << "cannot open for writing: " << ec.message();
  int64_t written = 0;
  std::vector<char> bytes;
  for (const WeightEntry &w : fn.weights) {
    bytes.clear();
    if (auto weight = dyn_cast<WeightOp>(w.op)) {
      auto buffer = readWeightBytes(weight, weightBaseDir);
      if (failed(buffer))
        return failure();
      bytes.assign((*buffer)->getBufferStart(), (*buffer)->getBufferEnd());
    } else {
      auto constant = cast<ConstantOp>(w.op);
      if (failed(serialise(w.op, constant.getValue(), bytes)))
        return failure();
    }
    if (static_cast<int64_t>(bytes.size()) != w.bytes)
      return w.op->emitOpError("has ")
             << bytes.size() << " bytes, its weights.bin slot " << w.bytes;
    os.write_zeros(w.offset - written);
    os.write(bytes.data(), bytes.size());
    written = w.offset + w.bytes;
  }
  os.close();
  if (os.has_error()) {
    std::error_code error = os.error();
    os.clear_error(); // reported here, not again by the stream's destructor
    return emitError(fileLoc(context, path))
           << "write failed: " << error.message();
  }
  return success();
}

/// `sm_90a` -> `90a`; empty if `arch` is not of the form sm_<digits>[a-z].
static std::string archNumber(StringRef arch) {
  if (!arch.consume_front("sm_") || arch.empty() ||
      !std::isdigit(static_cast<unsigned char>(arch.front())))
    return "";
  for (char c : arch)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      return "";
  return arch.str();
}

FailureOr<kiln::codegen::NvccRun>
kiln::codegen::startFatbin(StringRef cuPath, StringRef fatbinPath,
                           const ArtifactOptions &options, Location loc) {
  std::string number = archNumber(options.arch);
  if (number.empty())
    return emitError(loc) << "unknown --arch '" << options.arch
                          << "'; expected sm_<NN>[a], e.g. sm_80 or sm_90a";
  llvm::ErrorOr<std::string> nvcc =
      llvm::sys::path::is_absolute(options.nvcc) ||
              StringRef(options.nvcc).contains('/')
          ? llvm::ErrorOr<std::string>(options.nvcc)
          : llvm::sys::findProgramByName(options.nvcc);
  if (!nvcc || !llvm::sys::fs::can_execute(*nvcc))
    return emitError(loc) << "cannot find nvcc ('" << options.nvcc
                          << "'); install the CUDA toolkit or pass --nvcc "
                             "PATH";
  NvccRun run{llvm::sys::ProcessInfo(), {}, {}, loc};
  std::string gencode = "arch=compute_" + number + ",code=[sm_" + number +
                        ",compute_" + number + "]";
  run.args = {*nvcc,   "-fatbin",          "-std=c++17", "-O3",
              "-gencode", gencode,          "-I" + options.kernelsDir,
              "-o",    fatbinPath.str(),   cuPath.str()};
  if (llvm::sys::fs::createTemporaryFile("kiln-nvcc", "txt", run.errPath))
    return emitError(loc) << "cannot create a temporary file for nvcc output";
  SmallVector<StringRef> args(run.args.begin(), run.args.end());
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(run.errPath),
                                          StringRef(run.errPath)};
  std::string message;
  bool failedToStart = false;
  run.process = llvm::sys::ExecuteNoWait(args.front(), args, std::nullopt,
                                         redirects, /*MemoryLimit=*/0,
                                         &message, &failedToStart);
  if (failedToStart) {
    llvm::sys::fs::remove(run.errPath);
    return emitError(loc) << "cannot run nvcc: " << message;
  }
  return run;
}

LogicalResult kiln::codegen::finishFatbin(NvccRun &run) {
  std::string message;
  llvm::sys::ProcessInfo done =
      llvm::sys::Wait(run.process, /*SecondsToWait=*/std::nullopt, &message);
  auto output = llvm::MemoryBuffer::getFile(run.errPath);
  std::string log = output ? (*output)->getBuffer().str() : "";
  llvm::sys::fs::remove(run.errPath);
  if (done.ReturnCode != 0) {
    std::string command;
    for (const std::string &a : run.args)
      command += a + " ";
    return emitError(run.loc) << "nvcc failed (exit " << done.ReturnCode << ")"
                              << (message.empty() ? "" : ": " + message)
                              << "\ncommand: " << command << "\n"
                              << log;
  }
  return success();
}

LogicalResult kiln::codegen::compileFatbin(StringRef cuPath,
                                           StringRef fatbinPath,
                                           const ArtifactOptions &options,
                                           Location loc) {
  FailureOr<NvccRun> run = startFatbin(cuPath, fatbinPath, options, loc);
  if (failed(run))
    return failure();
  return finishFatbin(*run);
}

void kiln::codegen::redirectWeights(func::FuncOp func,
                                    const EmittedFunction &fn) {
  Builder b(func.getContext());
  for (const WeightEntry &w : fn.weights) {
    auto weight = dyn_cast<WeightOp>(w.op);
    if (!weight)
      continue;
    weight.setPathAttr(b.getStringAttr("weights.bin"));
    weight.setOffsetAttr(b.getI64IntegerAttr(w.offset));
    // weights.bin holds the converted, transposed elements
    // (readWeightBytes).
    weight.removeTransposedAttr();
    if (weight.getSourceType() || weight.getColumns()) {
      auto type = weight.getResult().getType();
      int64_t width = (type.getElementTypeBitWidth() + 7) / 8;
      weight.removeSourceTypeAttr();
      weight.removeColumnsAttr();
      weight.setLengthAttr(
          b.getI64IntegerAttr(type.getNumElements() * width));
    }
  }
}

//===----------------------------------------------------------------------===//
// emitModule
//===----------------------------------------------------------------------===//

/// A manifest tensor record for a weight or an input/output binding.
static runtime::TensorSpec specOf(StringRef name, Type elementType,
                                  ArrayRef<int64_t> shape, int64_t offset,
                                  int64_t bytes) {
  runtime::TensorSpec t;
  t.name = name.str();
  // emitFunction checked every element type with dtypeToken.
  if (std::optional<StringRef> token = dtypeToken(elementType))
    (void)runtime::parseDType(token->str(), t.dtype);
  t.shape.assign(shape.begin(), shape.end());
  t.offset = static_cast<uint64_t>(offset);
  t.bytes = static_cast<uint64_t>(bytes);
  return t;
}

/// True if two weight entries store the same bytes: the same type, size and
/// init (one kiln.weight of the same file range, or equal constants).
static bool sameWeight(const WeightEntry &a, const WeightEntry &b) {
  if (a.elementType != b.elementType || a.shape != b.shape ||
      a.bytes != b.bytes)
    return false;
  if (a.op == b.op)
    return true;
  if (a.op->getResult(0).getType() != b.op->getResult(0).getType())
    return false;
  if (auto wa = dyn_cast<WeightOp>(a.op)) {
    auto wb = dyn_cast<WeightOp>(b.op);
    // How the bytes are read is part of the identity (kiln-schedule's
    // layout key): a square weight read transposed, or two column ranges of
    // equal width, have one type but other bytes.
    return wb && weightKey(wa) == weightKey(wb);
  }
  auto ca = dyn_cast<ConstantOp>(a.op), cb = dyn_cast<ConstantOp>(b.op);
  return ca && cb && ca.getValue() == cb.getValue();
}

/// Re-numbers the `w:` pointer `p` through `ids` (old id -> new id).
static void renumber(KernelArg &p, ArrayRef<int64_t> ids) {
  if (p.kind == KernelArg::Kind::Weight)
    p.value = static_cast<uint64_t>(ids[p.value]);
}

/// Reads `kiln.step = {batch = B : i64, seq = S : i64}` into `f`.
static LogicalResult readStep(func::FuncOp func, runtime::Function &f) {
  Attribute attr = func->getAttr("kiln.step");
  if (!attr)
    return success();
  auto dict = dyn_cast<DictionaryAttr>(attr);
  auto batch = dict ? dict.getAs<IntegerAttr>("batch") : nullptr;
  auto seq = dict ? dict.getAs<IntegerAttr>("seq") : nullptr;
  if (!batch || !seq || batch.getInt() < 1 || seq.getInt() < 1 ||
      dict.size() != 2)
    return func.emitOpError("has kiln.step = ")
           << attr
           << "; expected {batch = B : i64, seq = S : i64} with B, S >= 1";
  f.stepBatch = batch.getInt();
  f.stepSeq = seq.getInt();
  return success();
}

/// Reads `kiln.roles = {<binding name> = "<role>", ...}` onto `f`'s inputs
/// and outputs.
static LogicalResult readRoles(func::FuncOp func, runtime::Function &f) {
  Attribute attr = func->getAttr("kiln.roles");
  if (!attr)
    return success();
  auto dict = dyn_cast<DictionaryAttr>(attr);
  if (!dict)
    return func.emitOpError("has kiln.roles = ")
           << attr << "; expected a dictionary from binding name to role";
  for (NamedAttribute entry : dict) {
    auto role = dyn_cast<StringAttr>(entry.getValue());
    std::string name = runtime::manifestName(entry.getName().str());
    if (!role)
      return func.emitOpError("has kiln.roles entry '")
             << entry.getName().getValue() << "' = " << entry.getValue()
             << "; expected a role string";
    bool isInput = runtime::isInputRole(role.str());
    if (!isInput && !runtime::isOutputRole(role.str()))
      return func.emitOpError("gives '")
             << entry.getName().getValue() << "' the unknown role '"
             << role.getValue()
             << "' (inputs: tokens, positions, mask, kv_pos; outputs: "
                "logits)";
    std::vector<runtime::TensorSpec> &list = isInput ? f.inputs : f.outputs;
    auto it = llvm::find_if(
        list, [&](const runtime::TensorSpec &t) { return t.name == name; });
    if (it == list.end())
      return func.emitOpError("gives role '")
             << role.getValue() << "' to '" << entry.getName().getValue()
             << "', which is no " << (isInput ? "input" : "output")
             << " of the function";
    it->role = role.str();
  }
  return success();
}

FailureOr<EmittedModule>
kiln::codegen::emitModule(ModuleOp module, func::FuncOp knownFunc,
                          const EmittedFunction *known) {
  EmittedModule out;
  bool ok = true;
  for (func::FuncOp func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    if (func == knownFunc && known) {
      out.functions.emplace_back(func, *known);
      continue;
    }
    FailureOr<EmittedFunction> emitted = emitFunction(func);
    if (failed(emitted)) {
      ok = false;
      continue;
    }
    out.functions.emplace_back(func, std::move(*emitted));
  }
  if (!ok)
    return failure();
  if (out.functions.empty())
    return module.emitError("has no function to compile");

  runtime::Manifest &m = out.manifest;
  m.version = runtime::kArtifactFormatVersion;

  // The KV cache: the module's one kiln.kv_cache; every function's
  // kiln.kv_region is all of it.
  KvCacheOp cache;
  for (KvCacheOp c : module.getOps<KvCacheOp>()) {
    if (cache)
      return c.emitOpError("is the second kiln.kv_cache of the module; an "
                           "artifact holds one KV cache");
    cache = c;
  }
  if (cache) {
    runtime::KvCacheSpec &kv = m.kvCache;
    std::optional<StringRef> token = dtypeToken(cache.getElementType());
    if (!token || !runtime::parseDType(token->str(), kv.dtype))
      return cache.emitOpError("has an element type the artifact cannot "
                               "store: ")
             << cache.getElementType();
    kv.layers = cache.getLayers();
    kv.kvHeads = cache.getKvHeads();
    kv.headDim = cache.getHeadDim();
    kv.maxBatch = cache.getMaxBatch();
    kv.maxSeq = cache.getMaxSeq();
    kv.bytes = kv.expectedBytes();
    if (!kv.bytes)
      return cache.emitOpError("is too large for the artifact format");
  }
  for (auto &[func, fn] : out.functions) {
    KvRegionOp region;
    for (KvRegionOp r : func.getBody().front().getOps<KvRegionOp>()) {
      if (region)
        return r.emitOpError("is the second kiln.kv_region of @")
               << func.getSymName() << "; a scheduled function has one";
      region = r;
      int64_t bytes = r.getType().getNumElements();
      if (!cache)
        return r.emitOpError("declares the KV cache region, but the module "
                             "has no kiln.kv_cache");
      if (static_cast<uint64_t>(bytes) != m.kvCache.bytes)
        return r.emitOpError("has ")
               << bytes << " bytes but kiln.kv_cache @" << cache.getSymName()
               << " needs " << m.kvCache.bytes << " (layers x 2 x max_batch "
               << "x kv_heads x max_seq x head_dim x element bytes)";
    }
  }

  // One weight table: the union of the functions' weight views by offset.
  // The scheduler gives a weight the same offset in every function, so an
  // offset names one weight; two functions may not disagree about it.
  std::map<int64_t, std::pair<const WeightEntry *, func::FuncOp>> byOffset;
  for (auto &[func, fn] : out.functions)
    for (const WeightEntry &w : fn.weights) {
      auto [it, inserted] = byOffset.try_emplace(w.offset, &w, func);
      if (inserted || sameWeight(*it->second.first, w))
        continue;
      InFlightDiagnostic diag =
          w.op->emitOpError("is stored at weights offset ")
          << w.offset << " in @" << func.getSymName() << ", where @"
          << it->second.second.getSymName()
          << " stores a different weight; functions of one module share "
             "one weights layout (kiln-schedule)";
      diag.attachNote(it->second.first->op->getLoc()) << "the other weight";
      return failure();
    }
  EmittedFunction &merged = out.merged;
  std::map<int64_t, int64_t> idOfOffset;
  for (auto &[offset, entry] : byOffset) {
    const WeightEntry &w = *entry.first;
    if (offset < merged.weightsBytes)
      return w.op->emitOpError("is stored at weights offset ")
             << offset << ", inside the previous weight (which ends at "
             << merged.weightsBytes << ", in @" << entry.second.getSymName()
             << "'s layout or another's)";
    idOfOffset[offset] = static_cast<int64_t>(merged.weights.size());
    WeightEntry copy = w;
    if (isa<ConstantOp>(w.op))
      copy.name = "constant_" + std::to_string(merged.weights.size());
    merged.weightsBytes = offset + w.bytes;
    merged.weights.push_back(std::move(copy));
  }
  for (const WeightEntry &w : merged.weights)
    m.weights.push_back(
        specOf(w.name, w.elementType, w.shape, w.offset, w.bytes));

  // Kernels: every function's, in one source, each symbol once (kiln-schedule
  // gives identical kernels one symbol, which several functions may launch).
  llvm::StringSet<> emittedKernels;
  for (auto &[func, fn] : out.functions) {
    merged.arenaBytes = std::max(merged.arenaBytes, fn.arenaBytes);
    if (out.functions.size() == 1) {
      merged.source = fn.source;
      break;
    }
    if (merged.source.empty())
      merged.source =
          "// Generated by kiln-compile from the module's scheduled IR: one "
          "function per kiln.kernel\n// (shared by the step functions that "
          "launch it), named by its symbol. Every shape is\n// baked in; "
          "arguments are arena, weight or KV-cache pointers (see "
          "manifest.txt).\n#include \"kiln_kernels.cuh\"\n";
    for (auto &[name, text] : fn.kernels)
      if (emittedKernels.insert(name).second)
        merged.source += text;
  }
  m.arenaBytes = static_cast<uint64_t>(merged.arenaBytes);

  // One function record each: inputs, outputs, step, roles, launches.
  for (auto &[func, fn] : out.functions) {
    runtime::Function f;
    f.name = func.getSymName().str();
    for (const TensorBinding &b : fn.inputs)
      f.inputs.push_back(
          specOf(b.name, b.elementType, b.shape, b.arenaOffset, b.bytes));
    for (const TensorBinding &b : fn.outputs)
      f.outputs.push_back(
          specOf(b.name, b.elementType, b.shape, b.arenaOffset, b.bytes));
    if (failed(readStep(func, f)) || failed(readRoles(func, f)))
      return failure();
    SmallVector<int64_t> ids;
    for (const WeightEntry &w : fn.weights)
      ids.push_back(idOfOffset[w.offset]);
    f.launches = fn.launches;
    for (Launch &l : f.launches) {
      if (l.kind == Launch::Kind::Kernel) {
        for (KernelArg &a : l.kernel.args)
          renumber(a, ids);
        continue;
      }
      for (KernelArg *a :
           {&l.gemm.a, &l.gemm.b, &l.gemm.c, &l.gemm.bias, &l.gemm.residual})
        renumber(*a, ids);
    }
    m.functions.push_back(std::move(f));
  }

  // What the runtime will check, checked now: a module it would refuse
  // (a role whose shape disagrees with the step, a k: pointer past the
  // region, ...) is an error here, not at load time.
  runtime::Manifest probe = m;
  probe.arch = "sm_90a";
  probe.weightsFile = {"weights.bin",
                       static_cast<uint64_t>(merged.weightsBytes), 0, 0};
  probe.kernelsFile = {"kernels.fatbin", 0, 0, 0};
  probe.irFile = {"scheduled.mlir", 0, 0, 0};
  runtime::Manifest parsed;
  std::string error;
  std::string text = runtime::formatManifest(probe);
  if (!runtime::parseManifest(text, "manifest.txt", parsed, error))
    return module.emitError("the runtime would refuse this module's "
                            "manifest: ")
           << error;
  return out;
}

/// Writes `text` to `path`; errors are located at the file.
static LogicalResult writeText(MLIRContext *context, StringRef path,
                               StringRef text) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return emitError(fileLoc(context, path))
           << "cannot open for writing: " << ec.message();
  os << text;
  os.close();
  if (os.has_error()) {
    std::error_code error = os.error();
    os.clear_error();
    return emitError(fileLoc(context, path))
           << "write failed: " << error.message();
  }
  return success();
}

/// Writes the artifact of `emitted` (the translation of `module`).
static LogicalResult writeEmitted(ModuleOp module, EmittedModule &emitted,
                                  StringRef dir,
                                  const ArtifactOptions &options) {
  MLIRContext *context = module.getContext();
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return emitError(fileLoc(context, dir))
           << "cannot create the artifact directory: " << ec.message();
  auto file = [&](StringRef name) {
    SmallString<256> p(dir);
    llvm::sys::path::append(p, name);
    return std::string(p);
  };
  Location loc = emitted.functions.front().first.getLoc();
  std::string weights = file("weights.bin"), cu = file("kernels.cu"),
              fatbin = file("kernels.fatbin");
  // nvcc (one process, most of a large model's compile) runs while this
  // process converts and writes the weights: two cores overlap them. The
  // files are the ones a sequential write gives.
  if (failed(writeText(context, cu, emitted.merged.source)))
    return failure();
  FailureOr<kiln::codegen::NvccRun> nvcc =
      kiln::codegen::startFatbin(cu, fatbin, options, loc);
  if (failed(nvcc))
    return failure();
  LogicalResult wrote = writeWeightsFile(context, emitted.merged,
                                         options.weightBaseDir, weights);
  // Waited for either way, so no nvcc outlives a failed compile.
  if (failed(kiln::codegen::finishFatbin(*nvcc)) || failed(wrote))
    return failure();

  for (auto &[func, fn] : emitted.functions)
    redirectWeights(func, fn);
  std::string ir;
  llvm::raw_string_ostream irOs(ir);
  module.print(irOs);
  if (failed(writeText(context, file("scheduled.mlir"), ir)))
    return failure();

  // The manifest records what was written, read back from disk.
  runtime::Manifest &m = emitted.manifest;
  m.arch = options.arch;
  m.dependentLaunch = kernelsWaitForDependencies(options.arch);
  runtime::DataFile *records[3] = {&m.weightsFile, &m.kernelsFile, &m.irFile};
  const char *names[3] = {"weights.bin", "kernels.fatbin", "scheduled.mlir"};
  for (int i = 0; i < 3; ++i) {
    records[i]->name = names[i];
    std::string error;
    if (!runtime::hashFile(file(names[i]), records[i]->bytes, records[i]->hash,
                           error))
      return emitError(loc) << "cannot read back " << error;
  }
  return writeText(context, file("manifest.txt"), runtime::formatManifest(m));
}

LogicalResult kiln::codegen::writeArtifact(ModuleOp module, StringRef dir,
                                           const ArtifactOptions &options) {
  FailureOr<EmittedModule> emitted = emitModule(module);
  if (failed(emitted))
    return failure();
  return writeEmitted(module, *emitted, dir, options);
}

LogicalResult kiln::codegen::writeArtifact(ModuleOp module, func::FuncOp func,
                                           const EmittedFunction &fn,
                                           StringRef dir,
                                           const ArtifactOptions &options) {
  FailureOr<EmittedModule> emitted = emitModule(module, func, &fn);
  if (failed(emitted))
    return failure();
  return writeEmitted(module, *emitted, dir, options);
}
