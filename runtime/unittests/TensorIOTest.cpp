//===- TensorIOTest.cpp - tests of .pb/.npy tensor files and compare ------===//
//
// Hand-built TensorProto bytes (every data field, packed and unpacked),
// round trips through the writers, malformed files, and the tolerance rule of
// compareTensors().
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/TensorIO.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <unistd.h>

using namespace kiln::runtime;

namespace {

/// Builds protobuf wire bytes by hand.
struct Wire {
  std::vector<uint8_t> bytes;
  Wire &varint(uint64_t v) {
    while (v >= 0x80) {
      bytes.push_back(uint8_t(v | 0x80));
      v >>= 7;
    }
    bytes.push_back(uint8_t(v));
    return *this;
  }
  Wire &key(uint32_t field, uint32_t wire) { return varint(field << 3 | wire); }
  Wire &raw(const void *p, size_t n) {
    auto *b = static_cast<const uint8_t *>(p);
    bytes.insert(bytes.end(), b, b + n);
    return *this;
  }
  Wire &lenDelimited(uint32_t field, const std::vector<uint8_t> &payload) {
    key(field, 2).varint(payload.size());
    return raw(payload.data(), payload.size());
  }
  Wire &name(const std::string &s) {
    return lenDelimited(8, std::vector<uint8_t>(s.begin(), s.end()));
  }
  Wire &dataType(int t) { return key(2, 0).varint(uint64_t(t)); }
  Wire &dim(int64_t d) { return key(1, 0).varint(uint64_t(d)); }
};

template <typename T> std::vector<T> values(const HostTensor &t) {
  std::vector<T> v(t.bytes.size() / sizeof(T));
  std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
  return v;
}

bool parse(const Wire &w, HostTensor &t, std::string &error) {
  return parseTensorProto(w.bytes.data(), w.bytes.size(), "t.pb", t, error);
}

HostTensor makeF32(std::vector<int64_t> shape, std::vector<float> data,
                   std::string name = "") {
  HostTensor t;
  t.name = std::move(name);
  t.dtype = DType::F32;
  t.shape = std::move(shape);
  t.bytes.resize(data.size() * 4);
  std::memcpy(t.bytes.data(), data.data(), t.bytes.size());
  return t;
}

std::string tempPath(const std::string &suffix) {
  static int counter = 0;
  return ::testing::TempDir() + "kiln-rt-" + std::to_string(getpid()) + "-" +
         std::to_string(counter++) + suffix;
}

//===----------------------------------------------------------------------===//
// TensorProto
//===----------------------------------------------------------------------===//

TEST(TensorProto, FloatDataPacked) {
  float data[6] = {1, -2, 3.5f, 0, 1e-3f, -7};
  std::vector<uint8_t> payload(24);
  std::memcpy(payload.data(), data, 24);
  Wire w;
  w.dim(2).dim(3).dataType(1).lenDelimited(4, payload).name("input_ids");
  HostTensor t;
  std::string error;
  ASSERT_TRUE(parse(w, t, error)) << error;
  EXPECT_EQ(t.name, "input_ids");
  EXPECT_EQ(t.dtype, DType::F32);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(values<float>(t), (std::vector<float>(data, data + 6)));
}

TEST(TensorProto, FloatDataUnpackedAndPackedDims) {
  Wire w;
  w.lenDelimited(1, {2, 2}).dataType(1);
  for (float f : {1.f, 2.f, 3.f, 4.f})
    w.key(4, 5).raw(&f, 4);
  HostTensor t;
  std::string error;
  ASSERT_TRUE(parse(w, t, error)) << error;
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(values<float>(t), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(t.name, "");
}

TEST(TensorProto, Int64DataPackedAndUnpacked) {
  Wire packed;
  Wire payload;
  payload.varint(uint64_t(int64_t(-5))).varint(7).varint(uint64_t(1) << 40);
  packed.dim(3).dataType(7).lenDelimited(7, payload.bytes);
  HostTensor t;
  std::string error;
  ASSERT_TRUE(parse(packed, t, error)) << error;
  EXPECT_EQ(t.dtype, DType::I64);
  EXPECT_EQ(values<int64_t>(t),
            (std::vector<int64_t>{-5, 7, int64_t(1) << 40}));

  Wire unpacked;
  unpacked.dim(2).dataType(7);
  unpacked.key(7, 0).varint(uint64_t(int64_t(-1)));
  unpacked.key(7, 0).varint(42);
  ASSERT_TRUE(parse(unpacked, t, error)) << error;
  EXPECT_EQ(values<int64_t>(t), (std::vector<int64_t>{-1, 42}));
}

TEST(TensorProto, Int32DataCarriesSmallTypes) {
  // int8 with a negative value (sign-extended 10-byte varint).
  Wire i8;
  i8.dim(2)
      .dataType(3)
      .key(5, 0)
      .varint(uint64_t(int64_t(-3)))
      .key(5, 0)
      .varint(100);
  HostTensor t;
  std::string error;
  ASSERT_TRUE(parse(i8, t, error)) << error;
  EXPECT_EQ(t.dtype, DType::I8);
  EXPECT_EQ(values<int8_t>(t), (std::vector<int8_t>{-3, 100}));

  // float16 bits: 1.0 = 0x3C00, -2.0 = 0xC000.
  Wire f16;
  Wire bits;
  bits.varint(0x3C00).varint(0xC000);
  f16.dim(2).dataType(10).lenDelimited(5, bits.bytes);
  ASSERT_TRUE(parse(f16, t, error)) << error;
  EXPECT_EQ(t.dtype, DType::F16);
  EXPECT_EQ(t.elementAsDouble(0), 1.0);
  EXPECT_EQ(t.elementAsDouble(1), -2.0);

  // bool, scalar (no dims).
  Wire b;
  b.dataType(9).key(5, 0).varint(1);
  ASSERT_TRUE(parse(b, t, error)) << error;
  EXPECT_EQ(t.dtype, DType::Bool);
  EXPECT_TRUE(t.shape.empty());
  EXPECT_EQ(t.numElements(), 1);
  EXPECT_EQ(t.bytes, (std::vector<uint8_t>{1}));

  // int32.
  Wire i32;
  i32.dim(1).dataType(6).key(5, 0).varint(uint64_t(int64_t(-70000)));
  ASSERT_TRUE(parse(i32, t, error)) << error;
  EXPECT_EQ(values<int32_t>(t), (std::vector<int32_t>{-70000}));
}

TEST(TensorProto, DoubleData) {
  double d[2] = {0.25, -1e300};
  std::vector<uint8_t> payload(16);
  std::memcpy(payload.data(), d, 16);
  Wire w;
  w.dim(2).dataType(11).lenDelimited(10, payload);
  HostTensor t;
  std::string error;
  ASSERT_TRUE(parse(w, t, error)) << error;
  EXPECT_EQ(t.dtype, DType::F64);
  EXPECT_EQ(values<double>(t), (std::vector<double>{0.25, -1e300}));
}

TEST(TensorProto, RawDataAndUnknownFieldsSkipped) {
  float data[3] = {9, 8, 7};
  std::vector<uint8_t> raw(12);
  std::memcpy(raw.data(), data, 12);
  Wire w;
  w.lenDelimited(12, {'d', 'o', 'c'});       // doc_string: skipped
  w.key(3, 2).varint(2).varint(8).varint(0); // segment message: skipped
  w.dim(3).dataType(1).name("w").lenDelimited(9, raw);
  w.key(99, 1).raw("12345678", 8); // unknown fixed64 field: skipped
  HostTensor t;
  std::string error;
  ASSERT_TRUE(parse(w, t, error)) << error;
  EXPECT_EQ(values<float>(t), (std::vector<float>{9, 8, 7}));
}

TEST(TensorProto, RoundTripEveryDType) {
  for (DType d : {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I64,
                  DType::I32, DType::I8, DType::U8, DType::Bool}) {
    HostTensor t;
    t.name = std::string("t_") + dtypeName(d);
    t.dtype = d;
    t.shape = {2, 1, 3};
    t.bytes.resize(size_t(6 * dtypeByteWidth(d)));
    for (size_t i = 0; i < t.bytes.size(); ++i)
      t.bytes[i] = uint8_t(d == DType::Bool ? i % 2 : i * 37 + 1);
    std::vector<uint8_t> bytes = serializeTensorProto(t);
    HostTensor back;
    std::string error;
    ASSERT_TRUE(
        parseTensorProto(bytes.data(), bytes.size(), "rt.pb", back, error))
        << error;
    EXPECT_EQ(back.name, t.name);
    EXPECT_EQ(back.dtype, t.dtype);
    EXPECT_EQ(back.shape, t.shape);
    EXPECT_EQ(back.bytes, t.bytes);
  }
}

/// Expects parsing `w` to fail with a message naming the file and holding
/// `needle`.
void expectError(const Wire &w, const std::string &needle) {
  HostTensor t;
  std::string error;
  EXPECT_FALSE(parse(w, t, error));
  EXPECT_EQ(error.rfind("t.pb: ", 0), 0u) << error;
  EXPECT_NE(error.find(needle), std::string::npos)
      << "message: " << error << "\nexpected to contain: " << needle;
}

TEST(TensorProto, Malformed) {
  float f = 1;
  Wire ok;
  ok.dim(1).dataType(1).key(4, 5).raw(&f, 4);

  Wire truncated = ok;
  truncated.bytes.pop_back();
  expectError(truncated, "malformed TensorProto (field 4");

  Wire badLen;
  badLen.dim(1).dataType(1).key(9, 2).varint(100).raw(&f, 4);
  expectError(badLen, "malformed TensorProto (field 9");

  Wire rawSize;
  rawSize.dim(2).dataType(1).lenDelimited(9, {0, 0, 0, 0});
  expectError(rawSize, "raw_data has 4 bytes, expected 8");

  Wire count;
  count.dim(2).dataType(1).key(4, 5).raw(&f, 4);
  expectError(count, "float_data has 1 values, expected 2");

  Wire noData;
  noData.dim(2).dataType(7);
  expectError(noData, "int64_data has 0 values, expected 2");

  Wire stringType;
  stringType.dim(1).dataType(8);
  expectError(stringType, "unsupported TensorProto data_type 8");

  Wire noType;
  noType.dim(1).key(4, 5).raw(&f, 4);
  expectError(noType, "no data_type");

  Wire external;
  external.dim(1).dataType(1).lenDelimited(13, {0x0a, 0x01, 'k'});
  expectError(external, "external data");

  Wire location;
  location.dim(1).dataType(1).key(14, 0).varint(1);
  expectError(location, "external data");

  Wire group;
  group.key(3, 3);
  expectError(group, "wire type 3");

  Wire negative;
  negative.dim(uint64_t(int64_t(-2))).dataType(1);
  expectError(negative, "invalid dims");

  Wire wrongWire;
  wrongWire.key(2, 2).varint(0);
  expectError(wrongWire, "field 2, wire type 2");

  Wire badVarint;
  for (int i = 0; i < 11; ++i)
    badVarint.bytes.push_back(0xff);
  expectError(badVarint, "truncated field key");
}

TEST(TensorProto, NeverCrashesOnCorruptBytes) {
  HostTensor t = makeF32({2, 3}, {1, 2, 3, 4, 5, 6}, "x");
  std::vector<uint8_t> good = serializeTensorProto(t);
  std::mt19937 rng(5);
  for (size_t len = 0; len <= good.size(); ++len) {
    HostTensor out;
    std::string error;
    parseTensorProto(good.data(), len, "cut.pb", out, error);
  }
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<uint8_t> bad = good;
    bad[rng() % bad.size()] = uint8_t(rng());
    HostTensor out;
    std::string error;
    if (!parseTensorProto(bad.data(), bad.size(), "flip.pb", out, error))
      EXPECT_EQ(error.rfind("flip.pb: ", 0), 0u);
    else
      EXPECT_EQ(int64_t(out.bytes.size()),
                out.numElements() * dtypeByteWidth(out.dtype));
  }
}

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

std::vector<uint8_t> npyBytes(int major, const std::string &header,
                              const std::vector<uint8_t> &data) {
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(major), 0};
  size_t n = header.size();
  out.push_back(uint8_t(n));
  out.push_back(uint8_t(n >> 8));
  if (major >= 2) {
    out.push_back(uint8_t(n >> 16));
    out.push_back(uint8_t(n >> 24));
  }
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

TEST(Npy, RoundTripEveryNumpyDType) {
  for (DType d : {DType::F32, DType::F16, DType::F64, DType::I64, DType::I32,
                  DType::I8, DType::U8, DType::Bool}) {
    for (std::vector<int64_t> shape :
         {std::vector<int64_t>{}, {5}, {2, 3}, {1, 0, 4}}) {
      HostTensor t;
      t.dtype = d;
      t.shape = shape;
      t.bytes.resize(size_t(t.numElements() * dtypeByteWidth(d)));
      for (size_t i = 0; i < t.bytes.size(); ++i)
        t.bytes[i] = uint8_t(d == DType::Bool ? 1 : i * 13);
      std::vector<uint8_t> bytes = serializeNpy(t);
      ASSERT_FALSE(bytes.empty());
      EXPECT_EQ((bytes[8] | bytes[9] << 8) % 64, (64 - 10) % 64);
      HostTensor back;
      std::string error;
      ASSERT_TRUE(parseNpy(bytes.data(), bytes.size(), "rt.npy", back, error))
          << error;
      EXPECT_EQ(back.dtype, d);
      EXPECT_EQ(back.shape, shape);
      EXPECT_EQ(back.bytes, t.bytes);
    }
  }
  HostTensor bf;
  bf.dtype = DType::BF16;
  EXPECT_TRUE(serializeNpy(bf).empty());
}

TEST(Npy, VersionTwoHeaderAndNumpySpelling) {
  std::vector<uint8_t> data(8, 0);
  std::vector<uint8_t> bytes = npyBytes(
      2, "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (1,2), }\n",
      data);
  HostTensor t;
  std::string error;
  ASSERT_TRUE(parseNpy(bytes.data(), bytes.size(), "v2.npy", t, error))
      << error;
  EXPECT_EQ(t.dtype, DType::I32);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{1, 2}));
}

TEST(Npy, Malformed) {
  auto expectNpyError = [](const std::vector<uint8_t> &bytes,
                           const std::string &needle) {
    HostTensor t;
    std::string error;
    EXPECT_FALSE(parseNpy(bytes.data(), bytes.size(), "bad.npy", t, error));
    EXPECT_EQ(error.rfind("bad.npy: ", 0), 0u) << error;
    EXPECT_NE(error.find(needle), std::string::npos) << error;
  };
  std::vector<uint8_t> four(4, 0);
  std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
  expectNpyError({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0}, "bad magic");
  expectNpyError(npyBytes(9, h, four), "format version 9");
  expectNpyError(npyBytes(1, h, {0, 0}), "data has 2 bytes, expected 4");
  std::vector<uint8_t> cut = npyBytes(1, h, four);
  cut.resize(20);
  expectNpyError(cut, "truncated .npy header");
  expectNpyError(npyBytes(1,
                          "{'descr': '>f4', 'fortran_order': False, "
                          "'shape': (1,), }",
                          four),
                 "unsupported .npy dtype '>f4'");
  expectNpyError(npyBytes(1,
                          "{'descr': '<c8', 'fortran_order': False, "
                          "'shape': (1,), }",
                          four),
                 "unsupported .npy dtype");
  expectNpyError(npyBytes(1,
                          "{'descr': '<f4', 'fortran_order': True, "
                          "'shape': (1,), }",
                          four),
                 "Fortran-order");
  expectNpyError(npyBytes(1,
                          "{'descr': '<f4', 'fortran_order': False, "
                          "'shape': (a,), }",
                          four),
                 "'shape'");
  expectNpyError(npyBytes(1, "{'fortran_order': False, 'shape': (1,), }", four),
                 "no 'descr'");
  expectNpyError(npyBytes(1,
                          "{'descr': [('a', '<f4')], 'fortran_order': "
                          "False, 'shape': (1,), }",
                          four),
                 "structured");
}

TEST(TensorFile, ReadWriteByExtension) {
  HostTensor t = makeF32({2, 2}, {1, 2, 3, 4}, "named");
  std::string error;
  for (const char *ext : {".pb", ".npy"}) {
    std::string path = tempPath(ext);
    ASSERT_TRUE(writeTensorFile(path, t, error)) << error;
    HostTensor back;
    ASSERT_TRUE(readTensorFile(path, back, error)) << error;
    EXPECT_EQ(back.bytes, t.bytes);
    EXPECT_EQ(back.shape, t.shape);
    EXPECT_EQ(back.name, std::string(ext) == ".pb" ? "named" : "");
    std::remove(path.c_str());
  }
  HostTensor out;
  EXPECT_FALSE(readTensorFile("/nonexistent/x.pb", out, error));
  EXPECT_EQ(error, "/nonexistent/x.pb: cannot open file");
  EXPECT_FALSE(readTensorFile("x.txt", out, error));
  EXPECT_NE(error.find("unknown tensor file type"), std::string::npos);
}

//===----------------------------------------------------------------------===//
// compareTensors
//===----------------------------------------------------------------------===//

TEST(Compare, ToleranceRule) {
  HostTensor expected = makeF32({4}, {1, -2, 100, 0});
  CompareResult r = compareTensors(expected, expected, 0, 0);
  EXPECT_TRUE(r.pass);
  EXPECT_EQ(r.maxAbsErr, 0);
  EXPECT_EQ(r.maxRelErr, 0);

  // |a - b| <= atol + rtol * |b|: 100 -> 101 passes with rtol 0.01.
  HostTensor actual = makeF32({4}, {1, -2, 101, 0});
  r = compareTensors(actual, expected, 0.01, 0);
  EXPECT_TRUE(r.pass);
  EXPECT_DOUBLE_EQ(r.maxAbsErr, 1);
  EXPECT_DOUBLE_EQ(r.maxRelErr, 0.01);
  r = compareTensors(actual, expected, 0.009, 0);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.numMismatches, 1);
  EXPECT_EQ(r.firstMismatch, 2);
  // atol alone covers it too; and 0 vs 1e-6 needs atol.
  EXPECT_TRUE(compareTensors(actual, expected, 0, 1).pass);
  HostTensor tiny = makeF32({4}, {1, -2, 100, 1e-6f});
  EXPECT_FALSE(compareTensors(tiny, expected, 1, 0).pass);
  EXPECT_TRUE(compareTensors(tiny, expected, 0, 1e-5).pass);
}

TEST(Compare, NaNAndInf) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  HostTensor a = makeF32({3}, {nan, inf, -inf});
  EXPECT_TRUE(compareTensors(a, a, 0, 0).pass);
  HostTensor b = makeF32({3}, {1, inf, -inf});
  CompareResult r = compareTensors(a, b, 1, 1);
  EXPECT_FALSE(r.pass);
  EXPECT_TRUE(std::isinf(r.maxAbsErr));
  EXPECT_FALSE(compareTensors(b, a, 1, 1).pass);
  HostTensor c = makeF32({3}, {nan, -inf, -inf});
  EXPECT_FALSE(compareTensors(a, c, 1, 1).pass);
}

TEST(Compare, ShapeDTypeAndIntegers) {
  HostTensor a = makeF32({2, 2}, {1, 2, 3, 4});
  HostTensor b = makeF32({4}, {1, 2, 3, 4});
  CompareResult r = compareTensors(a, b, 1, 1);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.error, "shape mismatch: got 2x2, expected 4");

  HostTensor i;
  i.dtype = DType::I64;
  i.shape = {2};
  int64_t iv[2] = {3, -4};
  i.bytes.resize(16);
  std::memcpy(i.bytes.data(), iv, 16);
  EXPECT_TRUE(compareTensors(i, i, 0, 0).pass);
  HostTensor f = makeF32({2}, {3, -4});
  EXPECT_NE(compareTensors(f, i, 0, 0).error.find("dtype mismatch"),
            std::string::npos);
}

TEST(DType, Names) {
  DType d;
  EXPECT_TRUE(parseDType("bf16", d));
  EXPECT_EQ(d, DType::BF16);
  EXPECT_FALSE(parseDType("f8", d));
  EXPECT_EQ(formatShape({}), "scalar");
  EXPECT_EQ(formatShape({1, 8, 512}), "1x8x512");
  for (int code : {1, 2, 3, 6, 7, 9, 10, 11, 16}) {
    ASSERT_TRUE(dtypeFromOnnx(code, d));
    EXPECT_EQ(dtypeToOnnx(d), code);
  }
  EXPECT_FALSE(dtypeFromOnnx(8, d));
}

} // namespace
