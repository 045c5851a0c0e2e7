//===- TensorIO.h - host tensors, .pb/.npy files, comparison ----*- C++ -*-===//
//
// Host-side tensors for the runtime and kiln-run: reading and writing ONNX
// TensorProto files (`.pb`, through a small hand-written protobuf wire-format
// decoder, no libprotobuf) and NumPy `.npy` files, and comparing two tensors
// with an absolute + relative tolerance. Needs neither CUDA nor LLVM.
//
// Every function reports failure by returning false and setting `error` to a
// message that names the file; none throws, none crashes on malformed input.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TENSORIO_H
#define KILN_RUNTIME_TENSORIO_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::runtime {

/// Element types of the artifact format (docs/artifact.md). Bool is one byte.
enum class DType { F32, F16, BF16, F64, I64, I32, I8, U8, Bool };

/// Bytes per element of `dtype`.
int64_t dtypeByteWidth(DType dtype);
/// The manifest spelling of `dtype` (`f32`, `bf16`, `bool`, ...).
const char *dtypeName(DType dtype);
/// Parses a manifest dtype spelling. Returns false for an unknown one.
bool parseDType(const std::string &text, DType &dtype);
/// Maps an ONNX TensorProto.DataType code to a DType. Returns false for codes
/// the runtime does not support (strings, complex, fp8, int4, ...).
bool dtypeFromOnnx(int32_t onnxType, DType &dtype);
/// The ONNX TensorProto.DataType code of `dtype`.
int32_t dtypeToOnnx(DType dtype);

/// Formats a shape as the manifest does: dims joined by `x`, or `scalar`.
std::string formatShape(const std::vector<int64_t> &shape);

/// A dense, row-major (C order), little-endian tensor in host memory.
struct HostTensor {
  /// Tensor name (from the .pb file, the manifest, or empty when unknown).
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  /// numElements() * dtypeByteWidth(dtype) bytes.
  std::vector<uint8_t> bytes;

  /// Product of the dims (1 for a scalar).
  int64_t numElements() const;
  /// Element `i` converted to double (f16/bf16 decoded, bool as 0/1).
  double elementAsDouble(int64_t i) const;
};

/// Decodes a serialized ONNX TensorProto. Supports dims (packed or not),
/// data_type, float_data, int32_data, int64_data, double_data, name and
/// raw_data. Refuses external data, unknown dtypes and element counts that do
/// not match the dims. `what` names the source in error messages.
bool parseTensorProto(const uint8_t *data, size_t size, const std::string &what,
                      HostTensor &out, std::string &error);
/// Serializes `tensor` as a TensorProto with dims, data_type, name, raw_data.
std::vector<uint8_t> serializeTensorProto(const HostTensor &tensor);

/// Parses a `.npy` file image (format 1.0/2.0/3.0 headers, little-endian or
/// byte-order-free dtypes, C order only).
bool parseNpy(const uint8_t *data, size_t size, const std::string &what,
              HostTensor &out, std::string &error);
/// Serializes `tensor` as a `.npy` (format 1.0, C order). bf16 is refused
/// (NumPy has no bf16) by returning an empty vector.
std::vector<uint8_t> serializeNpy(const HostTensor &tensor);

/// Reads a whole file into `bytes`.
bool readFileBytes(const std::string &path, std::vector<uint8_t> &bytes,
                   std::string &error);
/// Writes `bytes` to `path`, replacing it.
bool writeFileBytes(const std::string &path, const std::vector<uint8_t> &bytes,
                    std::string &error);

/// Reads a `.pb` (TensorProto) or `.npy` file, chosen by extension. A `.npy`
/// tensor gets an empty name.
bool readTensorFile(const std::string &path, HostTensor &out,
                    std::string &error);
/// Writes `tensor` as `.pb` or `.npy`, chosen by the extension of `path`.
bool writeTensorFile(const std::string &path, const HostTensor &tensor,
                     std::string &error);

/// The outcome of compareTensors().
struct CompareResult {
  /// Largest |actual - expected| over all elements (inf if a NaN mismatches).
  double maxAbsErr = 0;
  /// Largest |actual - expected| / |expected| over elements with expected != 0.
  double maxRelErr = 0;
  /// Elements failing |a - b| <= atol + rtol * |b|.
  int64_t numMismatches = 0;
  /// Index of the first failing element, or -1.
  int64_t firstMismatch = -1;
  /// True iff dtype and shape agree and every element passes.
  bool pass = false;
  /// Set when the tensors cannot be compared (dtype or shape differ).
  std::string error;
};

/// Compares `actual` against `expected`: element i passes iff
/// |a - b| <= atol + rtol * |b|. NaN passes only against NaN; infinities only
/// against the same infinity.
CompareResult compareTensors(const HostTensor &actual,
                             const HostTensor &expected, double rtol,
                             double atol);

} // namespace kiln::runtime

#endif // KILN_RUNTIME_TENSORIO_H
