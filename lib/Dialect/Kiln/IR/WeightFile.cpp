//===- WeightFile.cpp - checked access to kiln.weight bytes ---------------===//
//
// The checks every reader of weight bytes goes through (the reference
// backend, codegen's weights.bin writer, and model loading in the tools).
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/WeightFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace kiln;

std::string kiln::weightFilePath(WeightOp weight, StringRef baseDir) {
  StringRef path = weight.getPath();
  if (llvm::sys::path::is_absolute(path) || baseDir.empty())
    return path.str();
  SmallString<256> joined(baseDir);
  llvm::sys::path::append(joined, path);
  return joined.str().str();
}

StringRef kiln::describeFileType(llvm::sys::fs::file_type type) {
  using llvm::sys::fs::file_type;
  switch (type) {
  case file_type::directory_file:
    return "a directory";
  case file_type::fifo_file:
    return "a FIFO";
  case file_type::block_file:
    return "a block device";
  case file_type::character_file:
    return "a character device";
  case file_type::socket_file:
    return "a socket";
  default:
    return "not a regular file";
  }
}

FailureOr<std::string> kiln::checkWeightFile(WeightOp weight,
                                             StringRef baseDir) {
  std::string path = weightFilePath(weight, baseDir);
  auto fail = [&]() {
    return weight.emitOpError("weight '")
           << weight.getName() << "': file '" << path << "' ";
  };
  if (weight.getPath().empty() || weight.getPath().contains('\0'))
    return fail() << "is not a valid path";
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(path, status))
    return fail() << "cannot be opened: " << ec.message();
  if (status.type() != llvm::sys::fs::file_type::regular_file)
    return fail() << "is " << describeFileType(status.type())
                  << ", expected a regular file";
  // The verifier keeps offset and length non-negative and length equal to
  // the tensor's byte size; read them as signed, as it does.
  int64_t offset = weight.getOffset(), length = weight.getLength();
  uint64_t size = status.getSize();
  if (offset < 0 || length < 0 || static_cast<uint64_t>(offset) > size ||
      static_cast<uint64_t>(length) > size - static_cast<uint64_t>(offset))
    return fail() << "is too short: the weight needs bytes [" << offset << ", "
                  << offset << " + " << length << "), the file has " << size;
  return path;
}

LogicalResult kiln::checkWeightFiles(Operation *root, StringRef baseDir) {
  bool ok = true;
  root->walk([&](WeightOp weight) {
    ok &= succeeded(checkWeightFile(weight, baseDir));
  });
  return success(ok);
}

FailureOr<std::unique_ptr<llvm::MemoryBuffer>>
kiln::readWeightBytes(WeightOp weight, StringRef baseDir) {
  auto path = checkWeightFile(weight, baseDir);
  if (failed(path))
    return failure();
  auto buffer = llvm::MemoryBuffer::getFileSlice(
      *path, weight.getLength(), weight.getOffset(), /*IsVolatile=*/true);
  if (!buffer)
    return weight.emitOpError("cannot read weight '")
           << weight.getName() << "' (" << weight.getLength()
           << " bytes at offset " << weight.getOffset() << ") from '" << *path
           << "': " << buffer.getError().message();
  if ((*buffer)->getBufferSize() != weight.getLength())
    return weight.emitOpError("weight '")
           << weight.getName() << "': read " << (*buffer)->getBufferSize()
           << " of " << weight.getLength() << " bytes from '" << *path << "'";
  return std::move(*buffer);
}
