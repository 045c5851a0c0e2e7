//===- NpyIO.cpp - .npy files and tensor file dispatch --------------------===//
//
// Reads and writes NumPy `.npy` files (format 1.0 to 3.0, little-endian,
// C order) and dispatches readTensorFile/writeTensorFile on the extension.
// The header is a Python dict literal; this parses just the three keys NumPy
// writes ('descr', 'fortran_order', 'shape').
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/TensorIO.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <sys/stat.h>

namespace kiln::runtime {

namespace {
/// Maps a NumPy descr ('<f4', '|u1', ...) to a DType.
bool dtypeFromDescr(const std::string &descr, DType &dtype) {
  if (descr.size() < 3)
    return false;
  char order = descr[0];
  std::string kind = descr.substr(1);
  bool oneByte = kind == "i1" || kind == "u1" || kind == "b1";
  if (order != '<' && order != '=' && !(order == '|' && oneByte) &&
      !(order == '>' && oneByte))
    return false;
  if (kind == "f4")
    dtype = DType::F32;
  else if (kind == "f2")
    dtype = DType::F16;
  else if (kind == "f8")
    dtype = DType::F64;
  else if (kind == "i8")
    dtype = DType::I64;
  else if (kind == "i4")
    dtype = DType::I32;
  else if (kind == "i1")
    dtype = DType::I8;
  else if (kind == "u1")
    dtype = DType::U8;
  else if (kind == "b1")
    dtype = DType::Bool;
  else
    return false;
  return true;
}

const char *descrOf(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "<f4";
  case DType::F16:
    return "<f2";
  case DType::F64:
    return "<f8";
  case DType::I64:
    return "<i8";
  case DType::I32:
    return "<i4";
  case DType::I8:
    return "|i1";
  case DType::U8:
    return "|u1";
  case DType::Bool:
    return "|b1";
  case DType::BF16:
    return nullptr;
  }
  return nullptr;
}

/// Finds `'key':` in the header dict and returns the index after the colon,
/// or npos.
size_t findKey(const std::string &header, const char *key) {
  for (char quote : {'\'', '"'}) {
    std::string pat = std::string(1, quote) + key + quote;
    size_t at = header.find(pat);
    if (at == std::string::npos)
      continue;
    size_t colon = header.find(':', at + pat.size());
    if (colon != std::string::npos)
      return colon + 1;
  }
  return std::string::npos;
}

size_t skipSpaces(const std::string &s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
    ++i;
  return i;
}
} // namespace

bool parseNpy(const uint8_t *data, size_t size, const std::string &what,
              HostTensor &out, std::string &error) {
  auto fail = [&](const std::string &msg) {
    error = what + ": " + msg;
    return false;
  };
  static const char magic[] = "\x93NUMPY";
  if (size < 10 || std::memcmp(data, magic, 6) != 0)
    return fail("not a .npy file (bad magic)");
  uint8_t major = data[6];
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = size_t(data[8]) | (size_t(data[9]) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12)
      return fail("truncated .npy header");
    headerLen = size_t(data[8]) | (size_t(data[9]) << 8) |
                (size_t(data[10]) << 16) | (size_t(data[11]) << 24);
    headerStart = 12;
  } else {
    return fail("unsupported .npy format version " + std::to_string(major));
  }
  if (headerLen > size - headerStart)
    return fail("truncated .npy header");
  std::string header(reinterpret_cast<const char *>(data) + headerStart,
                     headerLen);

  // 'descr': '<f4'
  size_t i = findKey(header, "descr");
  if (i == std::string::npos)
    return fail(".npy header has no 'descr'");
  i = skipSpaces(header, i);
  if (i >= header.size() || (header[i] != '\'' && header[i] != '"'))
    return fail(".npy header: 'descr' is not a simple type string (structured "
                "arrays are not supported)");
  size_t close = header.find(header[i], i + 1);
  if (close == std::string::npos)
    return fail("malformed .npy header");
  std::string descr = header.substr(i + 1, close - i - 1);
  DType dtype;
  if (!dtypeFromDescr(descr, dtype))
    return fail("unsupported .npy dtype '" + descr +
                "' (supported: little-endian f4 f2 f8 i8 i4 i1 u1 b1)");

  // 'fortran_order': False
  i = findKey(header, "fortran_order");
  if (i == std::string::npos)
    return fail(".npy header has no 'fortran_order'");
  i = skipSpaces(header, i);
  if (header.compare(i, 4, "True") == 0)
    return fail("Fortran-order .npy arrays are not supported");
  if (header.compare(i, 5, "False") != 0)
    return fail("malformed .npy header ('fortran_order')");

  // 'shape': (2, 3)
  i = findKey(header, "shape");
  if (i == std::string::npos)
    return fail(".npy header has no 'shape'");
  i = skipSpaces(header, i);
  if (i >= header.size() || header[i] != '(')
    return fail("malformed .npy header ('shape')");
  close = header.find(')', i);
  if (close == std::string::npos)
    return fail("malformed .npy header ('shape')");
  std::vector<int64_t> shape;
  std::string dims = header.substr(i + 1, close - i - 1);
  size_t pos = 0;
  while (true) {
    pos = skipSpaces(dims, pos);
    if (pos >= dims.size())
      break;
    size_t start = pos;
    while (pos < dims.size() && dims[pos] >= '0' && dims[pos] <= '9')
      ++pos;
    if (pos == start || pos - start > 15)
      return fail("malformed .npy header ('shape')");
    shape.push_back(std::stoll(dims.substr(start, pos - start)));
    pos = skipSpaces(dims, pos);
    if (pos < dims.size() && dims[pos] == ',')
      ++pos;
    else if (pos < dims.size())
      return fail("malformed .npy header ('shape')");
  }

  HostTensor t;
  t.dtype = dtype;
  t.shape = shape;
  int64_t width = dtypeByteWidth(dtype);
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d != 0 && n > (int64_t(1) << 40) / d)
      return fail("tensor too large");
    n *= d;
  }
  size_t dataStart = headerStart + headerLen;
  uint64_t want = uint64_t(n) * uint64_t(width);
  if (size - dataStart != want)
    return fail(".npy data has " + std::to_string(size - dataStart) +
                " bytes, expected " + std::to_string(want) + " for " + descr +
                " " + formatShape(shape));
  t.bytes.assign(data + dataStart, data + size);
  out = std::move(t);
  return true;
}

std::vector<uint8_t> serializeNpy(const HostTensor &tensor) {
  const char *descr = descrOf(tensor.dtype);
  if (!descr)
    return {};
  std::string header = "{'descr': '" + std::string(descr) +
                       "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < tensor.shape.size(); ++i)
    header += std::to_string(tensor.shape[i]) + ", ";
  if (tensor.shape.size() > 1)
    header.resize(header.size() - 2);
  else if (tensor.shape.size() == 1)
    header.resize(header.size() - 1); // keep the comma: "(5,)"
  header += "), }";
  // Pad with spaces so that the data starts at a multiple of 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.push_back(uint8_t(header.size() & 0xff));
  out.push_back(uint8_t(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), tensor.bytes.begin(), tensor.bytes.end());
  return out;
}

bool readFileBytes(const std::string &path, std::vector<uint8_t> &bytes,
                   std::string &error) {
  // Only regular files: a FIFO would block, a directory reads as empty.
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open file";
    return false;
  }
  bytes.assign(std::istreambuf_iterator<char>(in),
               std::istreambuf_iterator<char>());
  if (in.bad()) {
    error = path + ": read error";
    return false;
  }
  return true;
}

bool writeFileBytes(const std::string &path, const std::vector<uint8_t> &bytes,
                    std::string &error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    error = path + ": cannot open file for writing";
    return false;
  }
  out.write(reinterpret_cast<const char *>(bytes.data()),
            std::streamsize(bytes.size()));
  if (!out) {
    error = path + ": write error";
    return false;
  }
  return true;
}

static bool endsWith(const std::string &s, const char *suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

bool readTensorFile(const std::string &path, HostTensor &out,
                    std::string &error) {
  bool npy = endsWith(path, ".npy");
  if (!npy && !endsWith(path, ".pb")) {
    error = path + ": unknown tensor file type (expected .pb or .npy)";
    return false;
  }
  std::vector<uint8_t> bytes;
  if (!readFileBytes(path, bytes, error))
    return false;
  if (npy)
    return parseNpy(bytes.data(), bytes.size(), path, out, error);
  return parseTensorProto(bytes.data(), bytes.size(), path, out, error);
}

bool writeTensorFile(const std::string &path, const HostTensor &tensor,
                     std::string &error) {
  if (endsWith(path, ".npy")) {
    std::vector<uint8_t> bytes = serializeNpy(tensor);
    if (bytes.empty()) {
      error = path + ": NumPy has no " + dtypeName(tensor.dtype) + " dtype";
      return false;
    }
    return writeFileBytes(path, bytes, error);
  }
  return writeFileBytes(path, serializeTensorProto(tensor), error);
}

//===----------------------------------------------------------------------===//
// Comparison
//===----------------------------------------------------------------------===//

CompareResult compareTensors(const HostTensor &actual,
                             const HostTensor &expected, double rtol,
                             double atol) {
  CompareResult result;
  if (actual.shape != expected.shape) {
    result.error = "shape mismatch: got " + formatShape(actual.shape) +
                   ", expected " + formatShape(expected.shape);
    return result;
  }
  bool actualFloat = actual.dtype == DType::F32 || actual.dtype == DType::F16 ||
                     actual.dtype == DType::BF16 || actual.dtype == DType::F64;
  bool expectedFloat =
      expected.dtype == DType::F32 || expected.dtype == DType::F16 ||
      expected.dtype == DType::BF16 || expected.dtype == DType::F64;
  if (actualFloat != expectedFloat) {
    result.error = std::string("dtype mismatch: got ") +
                   dtypeName(actual.dtype) + ", expected " +
                   dtypeName(expected.dtype);
    return result;
  }
  int64_t n = actual.numElements();
  if (int64_t(actual.bytes.size()) != n * dtypeByteWidth(actual.dtype) ||
      int64_t(expected.bytes.size()) != n * dtypeByteWidth(expected.dtype)) {
    result.error = "tensor byte size does not match its shape";
    return result;
  }
  const double inf = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    double a = actual.elementAsDouble(i), b = expected.elementAsDouble(i);
    bool ok;
    double diff;
    if (std::isnan(a) || std::isnan(b)) {
      ok = std::isnan(a) && std::isnan(b);
      diff = ok ? 0 : inf;
    } else if (std::isinf(a) || std::isinf(b)) {
      ok = a == b;
      diff = ok ? 0 : inf;
    } else {
      diff = std::fabs(a - b);
      ok = diff <= atol + rtol * std::fabs(b);
    }
    if (diff > result.maxAbsErr)
      result.maxAbsErr = diff;
    if (b != 0 && !std::isnan(b)) {
      double rel = diff / std::fabs(b);
      if (rel > result.maxRelErr)
        result.maxRelErr = rel;
    } else if (!ok) {
      result.maxRelErr = inf;
    }
    if (!ok) {
      if (result.firstMismatch < 0)
        result.firstMismatch = i;
      ++result.numMismatches;
    }
  }
  result.pass = result.numMismatches == 0;
  return result;
}

} // namespace kiln::runtime
