//===- WeightFile.h - checked access to kiln.weight bytes -------*- C++ -*-===//
//
// A `kiln.weight` names bytes in a file by path, offset and length. Models
// and artifacts come from elsewhere, so nothing in kiln maps or reads those
// bytes before the file has been checked: it exists, is a regular file
// (symbolic links followed) and holds [offset, offset + length). Reading a
// short file through a memory map gives zeros inside the last page and
// SIGBUS past it; these functions are the one way in.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_KILN_IR_WEIGHTFILE_H
#define KILN_DIALECT_KILN_IR_WEIGHTFILE_H

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>

namespace kiln {

/// The file a weight's `path` names: as written when absolute or when
/// `baseDir` is empty, else joined to `baseDir`.
std::string weightFilePath(WeightOp weight, llvm::StringRef baseDir);

/// "a directory", "a FIFO", ... for messages about a path that is not a
/// regular file.
llvm::StringRef describeFileType(llvm::sys::fs::file_type type);

/// Checks the file behind `weight` (see the file comment) and returns its
/// path; a failure is a located error on the op naming the weight and file.
mlir::FailureOr<std::string> checkWeightFile(WeightOp weight,
                                             llvm::StringRef baseDir);

/// Checks every `kiln.weight` under `root`, reporting each bad one (not only
/// the first).
mlir::LogicalResult checkWeightFiles(mlir::Operation *root,
                                     llvm::StringRef baseDir);

/// f32 to bf16 bits, round to nearest even (NaN stays a quiet NaN).
uint16_t f32ToBF16Bits(float value);
/// `value` rounded to the 16-bit float type `elementType` (bf16 or f16,
/// round to nearest even) and widened back to f32; any other type: `value`.
/// What storing an f32 result in a tensor of that type does, on the
/// reference backend as on the GPU.
float roundToElementType(float value, mlir::Type elementType);

/// Reads a weight's bytes after checkWeightFile, with read(2) rather than a
/// memory map, so a file truncated later cannot raise SIGBUS. With
/// `source_type` the stored f32 elements come back converted to the
/// result's element type (half the bytes).
mlir::FailureOr<std::unique_ptr<llvm::MemoryBuffer>>
readWeightBytes(WeightOp weight, llvm::StringRef baseDir);

/// What names the bytes readWeightBytes returns for `weight`: its file range
/// (name, path, offset, length), its result type, and how the range is read
/// (transposed, source_type, columns). Two weights with equal keys hold the
/// same bytes; kiln-schedule's weights layout and the artifact writer's
/// layout check both compare weights by it.
mlir::Attribute weightKey(WeightOp weight);

/// The unit attribute kiln-merge-gemms puts on the concatenations it makes
/// (isWeightConcat): a kiln.concat of weights written by a model or another
/// pass stays an ordinary concat (an arena buffer and a copy kernel).
inline constexpr llvm::StringLiteral kWeightConcatAttrName =
    "kiln.weight_concat";

/// True if `op` is a weight concatenation (kiln-merge-gemms): a kiln.concat
/// marked kWeightConcatAttrName, on axis 0 of two or more kiln.weight
/// results of rank 2. It copies no bytes: kiln-schedule stores its parts
/// back to back in the weights layout and views them as one buffer.
bool isWeightConcat(mlir::Operation *op);

} // namespace kiln

#endif // KILN_DIALECT_KILN_IR_WEIGHTFILE_H
