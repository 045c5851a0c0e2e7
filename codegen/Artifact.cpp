//===- Artifact.cpp - write the kiln artifact directory -------------------===//
//
// Writes weights.bin (the init of every weight view, at the view's offset:
// kiln.weight bytes read from their files, kiln.constant bytes serialised
// from their attributes), kernels.cu, kernels.fatbin (nvcc: SASS for the
// arch plus PTX), scheduled.mlir (the scheduled module, its kiln.weight ops
// re-pointed at weights.bin) and manifest.txt, in the layout of
// docs/artifact.md.
//
//===----------------------------------------------------------------------===//

#include "kiln/Codegen/Artifact.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Dialect/Kiln/IR/WeightFile.h"
#include "kiln/runtime/Hash.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

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

LogicalResult kiln::codegen::compileFatbin(StringRef cuPath,
                                           StringRef fatbinPath,
                                           const ArtifactOptions &options,
                                           Location loc) {
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
  std::string gencode = "arch=compute_" + number + ",code=[sm_" + number +
                        ",compute_" + number + "]";
  std::string include = "-I" + options.kernelsDir;
  SmallVector<StringRef> args = {*nvcc,     "-fatbin",  "-std=c++17",
                                 "-O3",     "-gencode", gencode,
                                 include,   "-o",       fatbinPath,
                                 cuPath};
  SmallString<128> errPath;
  if (llvm::sys::fs::createTemporaryFile("kiln-nvcc", "txt", errPath))
    return emitError(loc) << "cannot create a temporary file for nvcc output";
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(errPath),
                                          StringRef(errPath)};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*nvcc, args, std::nullopt, redirects,
                                     /*SecondsToWait=*/0, /*MemoryLimit=*/0,
                                     &message);
  auto output = llvm::MemoryBuffer::getFile(errPath);
  std::string log = output ? (*output)->getBuffer().str() : "";
  llvm::sys::fs::remove(errPath);
  if (rc != 0) {
    std::string command;
    for (StringRef a : args)
      command += a.str() + " ";
    return emitError(loc) << "nvcc failed (exit " << rc << ")"
                          << (message.empty() ? "" : ": " + message)
                          << "\ncommand: " << command << "\n"
                          << log;
  }
  return success();
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
  }
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

LogicalResult kiln::codegen::writeArtifact(ModuleOp module, func::FuncOp func,
                                           const EmittedFunction &fn,
                                           StringRef dir,
                                           const ArtifactOptions &options) {
  MLIRContext *context = func.getContext();
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return emitError(fileLoc(context, dir))
           << "cannot create the artifact directory: " << ec.message();
  auto file = [&](StringRef name) {
    SmallString<256> p(dir);
    llvm::sys::path::append(p, name);
    return std::string(p);
  };
  std::string weights = file("weights.bin"), cu = file("kernels.cu"),
              fatbin = file("kernels.fatbin");
  if (failed(writeWeightsFile(context, fn, options.weightBaseDir, weights)) ||
      failed(writeText(context, cu, fn.source)) ||
      failed(compileFatbin(cu, fatbin, options, func.getLoc())))
    return failure();

  redirectWeights(func, fn);
  std::string ir;
  llvm::raw_string_ostream irOs(ir);
  module.print(irOs);
  if (failed(writeText(context, file("scheduled.mlir"), ir)))
    return failure();

  // The manifest records what was written, read back from disk.
  runtime::DataFile records[3];
  const char *names[3] = {"weights.bin", "kernels.fatbin", "scheduled.mlir"};
  for (int i = 0; i < 3; ++i) {
    records[i].name = names[i];
    std::string error;
    if (!runtime::hashFile(file(names[i]), records[i].bytes, records[i].hash,
                           error))
      return emitError(func.getLoc()) << "cannot read back " << error;
  }
  return writeText(
      context, file("manifest.txt"),
      printManifest(fn, options.arch, records[0], records[1], records[2]));
}
