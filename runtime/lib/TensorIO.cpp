//===- TensorIO.cpp - .pb / .npy tensor files and comparison --------------===//
//
// A minimal protobuf wire-format decoder for ONNX TensorProto (only the
// fields a tensor needs), a .npy reader/writer, and the tolerance comparison
// kiln-run uses for --expect. Every reader checks every length against the
// bytes it has, so a truncated or corrupt file is an error, never a crash.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/TensorIO.h"
#include "kiln/runtime/WireReader.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace kiln::runtime {

//===----------------------------------------------------------------------===//
// DType helpers
//===----------------------------------------------------------------------===//

int64_t dtypeByteWidth(DType dtype) {
  switch (dtype) {
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::I8:
  case DType::U8:
  case DType::Bool:
    return 1;
  }
  return 1;
}

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::F64:
    return "f64";
  case DType::I64:
    return "i64";
  case DType::I32:
    return "i32";
  case DType::I8:
    return "i8";
  case DType::U8:
    return "u8";
  case DType::Bool:
    return "bool";
  }
  return "?";
}

bool parseDType(const std::string &text, DType &dtype) {
  static const DType all[] = {DType::F32, DType::F16, DType::BF16,
                              DType::F64, DType::I64, DType::I32,
                              DType::I8,  DType::U8,  DType::Bool};
  for (DType d : all) {
    if (text == dtypeName(d)) {
      dtype = d;
      return true;
    }
  }
  return false;
}

bool dtypeFromOnnx(int32_t onnxType, DType &dtype) {
  switch (onnxType) {
  case 1:
    dtype = DType::F32;
    return true;
  case 2:
    dtype = DType::U8;
    return true;
  case 3:
    dtype = DType::I8;
    return true;
  case 6:
    dtype = DType::I32;
    return true;
  case 7:
    dtype = DType::I64;
    return true;
  case 9:
    dtype = DType::Bool;
    return true;
  case 10:
    dtype = DType::F16;
    return true;
  case 11:
    dtype = DType::F64;
    return true;
  case 16:
    dtype = DType::BF16;
    return true;
  default:
    return false;
  }
}

int32_t dtypeToOnnx(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return 1;
  case DType::U8:
    return 2;
  case DType::I8:
    return 3;
  case DType::I32:
    return 6;
  case DType::I64:
    return 7;
  case DType::Bool:
    return 9;
  case DType::F16:
    return 10;
  case DType::F64:
    return 11;
  case DType::BF16:
    return 16;
  }
  return 0;
}

std::string formatShape(const std::vector<int64_t> &shape) {
  if (shape.empty())
    return "scalar";
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += 'x';
    s += std::to_string(shape[i]);
  }
  return s;
}

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

static float halfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float value;
  if (exp == 0)
    value = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31)
    value = mant ? std::numeric_limits<float>::quiet_NaN()
                 : std::numeric_limits<float>::infinity();
  else
    value = std::ldexp(static_cast<float>(mant | 0x400), int(exp) - 25);
  return sign ? -value : value;
}

double HostTensor::elementAsDouble(int64_t i) const {
  const uint8_t *p = bytes.data() + i * dtypeByteWidth(dtype);
  switch (dtype) {
  case DType::F32: {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case DType::F64: {
    double v;
    std::memcpy(&v, p, 8);
    return v;
  }
  case DType::F16: {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return halfToFloat(v);
  }
  case DType::BF16: {
    uint16_t v;
    std::memcpy(&v, p, 2);
    uint32_t bits = uint32_t(v) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  case DType::I64: {
    int64_t v;
    std::memcpy(&v, p, 8);
    return static_cast<double>(v);
  }
  case DType::I32: {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case DType::I8:
    return static_cast<int8_t>(*p);
  case DType::U8:
  case DType::Bool:
    return *p;
  }
  return 0;
}

/// Element count of `shape`, or -1 when a dim is negative or the byte size
/// would overflow.
static int64_t checkedNumElements(const std::vector<int64_t> &shape,
                                  int64_t width) {
  int64_t n = 1;
  const int64_t limit = std::numeric_limits<int64_t>::max() / 16;
  for (int64_t d : shape) {
    if (d < 0)
      return -1;
    if (d != 0 && n > limit / d)
      return -1;
    n *= d;
  }
  if (n > limit / width)
    return -1;
  return n;
}

//===----------------------------------------------------------------------===//
// TensorProto (protobuf wire format)
//===----------------------------------------------------------------------===//

namespace {

/// Appends the values of a repeated varint field (packed or not).
bool readVarints(WireReader &r, uint32_t wireType, std::vector<int64_t> &out) {
  if (wireType == 0) {
    uint64_t v;
    if (!r.varint(v))
      return false;
    out.push_back(int64_t(v));
    return true;
  }
  if (wireType != 2)
    return false;
  const uint8_t *d;
  size_t n;
  if (!r.bytes(d, n))
    return false;
  WireReader sub{d, d + n};
  while (!sub.atEnd()) {
    uint64_t v;
    if (!sub.varint(v))
      return false;
    out.push_back(int64_t(v));
  }
  return true;
}

/// Appends the values of a repeated fixed-width field (packed or not).
template <typename T>
bool readFixed(WireReader &r, uint32_t wireType, uint32_t unpackedWire,
               std::vector<T> &out) {
  if (wireType == unpackedWire) {
    T v;
    if (!r.fixed(&v, sizeof(T)))
      return false;
    out.push_back(v);
    return true;
  }
  if (wireType != 2)
    return false;
  const uint8_t *d;
  size_t n;
  if (!r.bytes(d, n) || n % sizeof(T))
    return false;
  size_t old = out.size();
  out.resize(old + n / sizeof(T));
  std::memcpy(out.data() + old, d, n);
  return true;
}
} // namespace

bool parseTensorProto(const uint8_t *data, size_t size, const std::string &what,
                      HostTensor &out, std::string &error) {
  WireReader r{data, data + size};
  std::vector<int64_t> dims, int32Data, int64Data;
  std::vector<float> floatData;
  std::vector<double> doubleData;
  const uint8_t *raw = nullptr;
  size_t rawSize = 0;
  bool hasRaw = false;
  int64_t dataType = 0;
  std::string name;
  auto fail = [&](const std::string &msg) {
    error = what + ": " + msg;
    return false;
  };

  while (!r.atEnd()) {
    uint64_t field;
    uint32_t wire;
    if (!r.key(field, wire))
      return fail("malformed TensorProto (truncated field key)");
    bool ok = true;
    switch (field) {
    case 1:
      ok = readVarints(r, wire, dims);
      break;
    case 2: {
      uint64_t v;
      ok = wire == 0 && r.varint(v);
      dataType = int64_t(v);
      break;
    }
    case 4:
      ok = readFixed<float>(r, wire, 5, floatData);
      break;
    case 5:
      ok = readVarints(r, wire, int32Data);
      break;
    case 7:
      ok = readVarints(r, wire, int64Data);
      break;
    case 8: {
      const uint8_t *d;
      size_t n;
      ok = wire == 2 && r.bytes(d, n);
      if (ok)
        name.assign(reinterpret_cast<const char *>(d), n);
      break;
    }
    case 9:
      ok = wire == 2 && r.bytes(raw, rawSize);
      hasRaw = ok;
      break;
    case 10:
      ok = readFixed<double>(r, wire, 1, doubleData);
      break;
    case 13:
      return fail("tensor uses external data, which kiln-run does not read; "
                  "save it with its data inline");
    case 14: {
      uint64_t v;
      ok = wire == 0 && r.varint(v);
      if (ok && v == 1)
        return fail("tensor uses external data (data_location = EXTERNAL), "
                    "which kiln-run does not read");
      break;
    }
    default:
      ok = r.skip(wire);
      break;
    }
    if (!ok)
      return fail("malformed TensorProto (field " + std::to_string(field) +
                  ", wire type " + std::to_string(wire) +
                  ": truncated or wrong encoding)");
  }

  if (dataType == 0)
    return fail("TensorProto has no data_type");
  DType dtype;
  if (!dtypeFromOnnx(int32_t(dataType), dtype))
    return fail("unsupported TensorProto data_type " +
                std::to_string(dataType) +
                " (supported: float, float16, bfloat16, double, int64, int32, "
                "int8, uint8, bool)");
  int64_t width = dtypeByteWidth(dtype);
  int64_t n = checkedNumElements(dims, width);
  if (n < 0)
    return fail("invalid dims " + formatShape(dims));

  HostTensor t;
  t.name = name;
  t.dtype = dtype;
  t.shape = dims;
  if (hasRaw) {
    if (int64_t(rawSize) != n * width)
      return fail("raw_data has " + std::to_string(rawSize) +
                  " bytes, expected " + std::to_string(n * width) + " for " +
                  dtypeName(dtype) + " " + formatShape(dims));
    t.bytes.assign(raw, raw + rawSize);
    out = std::move(t);
    return true;
  }

  auto countError = [&](const char *field, size_t have) {
    return fail(std::string(field) + " has " + std::to_string(have) +
                " values, expected " + std::to_string(n) + " for shape " +
                formatShape(dims));
  };
  t.bytes.resize(size_t(n * width));
  uint8_t *dst = t.bytes.data();
  switch (dtype) {
  case DType::F32:
    if (int64_t(floatData.size()) != n)
      return countError("float_data", floatData.size());
    std::memcpy(dst, floatData.data(), size_t(n * 4));
    break;
  case DType::F64:
    if (int64_t(doubleData.size()) != n)
      return countError("double_data", doubleData.size());
    std::memcpy(dst, doubleData.data(), size_t(n * 8));
    break;
  case DType::I64:
    if (int64_t(int64Data.size()) != n)
      return countError("int64_data", int64Data.size());
    std::memcpy(dst, int64Data.data(), size_t(n * 8));
    break;
  default:
    // int32_data carries i32, i8, u8, bool, and the bits of f16/bf16.
    if (int64_t(int32Data.size()) != n)
      return countError("int32_data", int32Data.size());
    for (int64_t i = 0; i < n; ++i) {
      uint32_t v = uint32_t(int32Data[size_t(i)]);
      std::memcpy(dst + i * width, &v, size_t(width)); // little-endian host
    }
    break;
  }
  out = std::move(t);
  return true;
}

static void putVarint(std::vector<uint8_t> &out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(uint8_t(v | 0x80));
    v >>= 7;
  }
  out.push_back(uint8_t(v));
}

std::vector<uint8_t> serializeTensorProto(const HostTensor &tensor) {
  std::vector<uint8_t> out;
  for (int64_t d : tensor.shape) {
    putVarint(out, (1 << 3) | 0);
    putVarint(out, uint64_t(d));
  }
  putVarint(out, (2 << 3) | 0);
  putVarint(out, uint64_t(dtypeToOnnx(tensor.dtype)));
  if (!tensor.name.empty()) {
    putVarint(out, (8 << 3) | 2);
    putVarint(out, tensor.name.size());
    out.insert(out.end(), tensor.name.begin(), tensor.name.end());
  }
  putVarint(out, (9 << 3) | 2);
  putVarint(out, tensor.bytes.size());
  out.insert(out.end(), tensor.bytes.begin(), tensor.bytes.end());
  return out;
}

} // namespace kiln::runtime
