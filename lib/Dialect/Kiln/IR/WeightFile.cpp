//===- WeightFile.cpp - checked access to kiln.weight bytes ---------------===//
//
// The checks every reader of weight bytes goes through (the reference
// backend, codegen's weights.bin writer, and model loading in the tools).
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/WeightFile.h"

#include "llvm/ADT/APFloat.h"
#include <algorithm>
#include <cstring>
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

/// A `transposed` weight's bytes (already in the result's element type):
/// the stored [K, N] matrix becomes the result's [N, K].
static std::unique_ptr<llvm::MemoryBuffer>
transposeIfNeeded(WeightOp weight, std::unique_ptr<llvm::MemoryBuffer> in) {
  if (!weight.getTransposed())
    return in;
  auto type = weight.getResult().getType();
  int64_t n = type.getDimSize(0), k = type.getDimSize(1);
  size_t w = (type.getElementTypeBitWidth() + 7) / 8;
  auto out = llvm::WritableMemoryBuffer::getNewUninitMemBuffer(
      in->getBufferSize(), weight.getName());
  const char *src = in->getBufferStart();
  char *dst = out->getBufferStart();
  // Stored row r of [K, N] becomes column r of [N, K]; 64 x 64 blocks keep
  // both sides in cache (a 1B-parameter model transposes in seconds).
  auto run = [&](auto elt) {
    using E = decltype(elt);
    const E *s = reinterpret_cast<const E *>(src);
    E *d = reinterpret_cast<E *>(dst);
    constexpr int64_t Bk = 64;
    for (int64_t r0 = 0; r0 < k; r0 += Bk)
      for (int64_t c0 = 0; c0 < n; c0 += Bk)
        for (int64_t r = r0; r < std::min(k, r0 + Bk); ++r)
          for (int64_t c = c0; c < std::min(n, c0 + Bk); ++c)
            d[c * k + r] = s[r * n + c];
  };
  if (w == 2)
    run(uint16_t());
  else if (w == 4)
    run(uint32_t());
  else if (w == 8)
    run(uint64_t());
  else
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = 0; c < n; ++c)
        std::memcpy(dst + (c * k + r) * w, src + (r * n + c) * w, w);
  return std::unique_ptr<llvm::MemoryBuffer>(std::move(out));
}

/// A `columns` weight's bytes (already in the result's element type): the
/// stored [K, n] matrix's columns [b, e), [K, e - b] (before any transpose).
static std::unique_ptr<llvm::MemoryBuffer>
selectColumnsIfNeeded(WeightOp weight, std::unique_ptr<llvm::MemoryBuffer> in) {
  std::optional<ArrayRef<int64_t>> cols = weight.getColumns();
  if (!cols)
    return in;
  int64_t b = (*cols)[0], e = (*cols)[1], n = (*cols)[2];
  auto type = weight.getResult().getType();
  size_t w = (type.getElementTypeBitWidth() + 7) / 8;
  int64_t k = type.getDimSize(weight.getTransposed() ? 1 : 0);
  auto out = llvm::WritableMemoryBuffer::getNewUninitMemBuffer(
      size_t(k * (e - b)) * w, weight.getName());
  for (int64_t r = 0; r < k; ++r)
    std::memcpy(out->getBufferStart() + size_t(r * (e - b)) * w,
                in->getBufferStart() + size_t(r * n + b) * w,
                size_t(e - b) * w);
  return std::unique_ptr<llvm::MemoryBuffer>(std::move(out));
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
  if (!weight.getSourceType())
    return transposeIfNeeded(
        weight, selectColumnsIfNeeded(weight, std::move(*buffer)));
  // The verifier allows only f32 stored, read as bf16 or f16.
  Type to = weight.getResult().getType().getElementType();
  size_t n = (*buffer)->getBufferSize() / 4;
  auto converted = llvm::WritableMemoryBuffer::getNewUninitMemBuffer(
      2 * n, weight.getName());
  const char *src = (*buffer)->getBufferStart();
  char *dst = converted->getBufferStart();
  for (size_t k = 0; k < n; ++k) {
    float v;
    std::memcpy(&v, src + 4 * k, 4);
    uint16_t bits;
    if (to.isBF16()) {
      bits = f32ToBF16Bits(v);
    } else {
      APFloat a(v);
      bool lost;
      a.convert(APFloat::IEEEhalf(), APFloat::rmNearestTiesToEven, &lost);
      bits = (uint16_t)a.bitcastToAPInt().getZExtValue();
    }
    std::memcpy(dst + 2 * k, &bits, 2);
  }
  return transposeIfNeeded(
      weight, selectColumnsIfNeeded(weight, std::unique_ptr<llvm::MemoryBuffer>(
                                                std::move(converted))));
}

Attribute kiln::weightKey(WeightOp w) {
  Builder b(w.getContext());
  Attribute none = b.getUnitAttr();
  return b.getArrayAttr(
      {w.getNameAttr(), w.getPathAttr(), w.getOffsetAttr(), w.getLengthAttr(),
       TypeAttr::get(w.getType()), b.getBoolAttr(w.getTransposed()),
       w.getSourceTypeAttr() ? Attribute(w.getSourceTypeAttr()) : none,
       w.getColumnsAttr() ? Attribute(w.getColumnsAttr()) : none});
}

bool kiln::isWeightConcat(Operation *op) {
  auto concat = dyn_cast_or_null<ConcatOp>(op);
  if (!concat || !concat->hasAttr(kWeightConcatAttrName) ||
      concat.getAxis() != 0 || concat.getInputs().size() < 2)
    return false;
  return llvm::all_of(concat.getInputs(), [](Value v) {
    auto w = v.getDefiningOp<WeightOp>();
    return w && w.getType().getRank() == 2;
  });
}

uint16_t kiln::f32ToBF16Bits(float value) {
  uint32_t u;
  std::memcpy(&u, &value, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t)((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

float kiln::roundToElementType(float value, Type elementType) {
  if (elementType.isBF16()) {
    uint32_t u = uint32_t(f32ToBF16Bits(value)) << 16;
    float r;
    std::memcpy(&r, &u, 4);
    return r;
  }
  if (elementType.isF16()) {
    APFloat a(value);
    bool lost;
    a.convert(APFloat::IEEEhalf(), APFloat::rmNearestTiesToEven, &lost);
    return a.convertToFloat();
  }
  return value;
}
