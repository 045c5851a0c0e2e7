//===- Tensor.cpp - host tensors of the reference backend -----------------===//
//
// Conversions between reference-backend tensors and MLIR attributes and raw
// little-endian bytes (weights, arena slots). Every float width is held as
// float32, every integer width as int64, i1 as 0/1.
//
//===----------------------------------------------------------------------===//

#include "kiln/Reference/Evaluator.h"
#include "kiln/Dialect/Kiln/IR/WeightFile.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/Support/ErrorHandling.h"

#include <cstring>

using namespace mlir;
using namespace kiln::ref;

static Kind kindOf(Type elt) {
  if (isa<FloatType>(elt))
    return Kind::F32;
  if (elt.isInteger(1))
    return Kind::Bool;
  return Kind::I64;
}

int64_t kiln::ref::byteWidth(Type elt) {
  if (elt.isInteger(1))
    return 1;
  return (elt.getIntOrFloatBitWidth() + 7) / 8;
}

int64_t Tensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Tensor Tensor::zeros(RankedTensorType type) {
  Tensor t;
  t.elementType = type.getElementType();
  t.kind = kindOf(t.elementType);
  t.shape.assign(type.getShape().begin(), type.getShape().end());
  if (t.kind == Kind::F32)
    t.f.assign(t.numElements(), 0.0f);
  else
    t.i.assign(t.numElements(), 0);
  return t;
}

Tensor Tensor::fromAttr(DenseElementsAttr attr) {
  auto type = cast<RankedTensorType>(attr.getType());
  Tensor t = zeros(type);
  if (t.kind == Kind::F32) {
    if (attr.isSplat()) {
      float v = attr.getSplatValue<APFloat>().convertToDouble();
      std::fill(t.f.begin(), t.f.end(), v);
    } else {
      int64_t k = 0;
      for (APFloat v : attr.getValues<APFloat>()) {
        bool lost;
        v.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &lost);
        t.f[k++] = v.convertToFloat();
      }
    }
    return t;
  }
  bool isUnsigned = t.elementType.isUnsignedInteger();
  auto get = [&](const APInt &v) -> int64_t {
    if (t.kind == Kind::Bool)
      return v.isZero() ? 0 : 1;
    return isUnsigned ? (int64_t)v.getZExtValue() : v.getSExtValue();
  };
  if (attr.isSplat()) {
    std::fill(t.i.begin(), t.i.end(), get(attr.getSplatValue<APInt>()));
  } else {
    int64_t k = 0;
    for (const APInt &v : attr.getValues<APInt>())
      t.i[k++] = get(v);
  }
  return t;
}

DenseElementsAttr Tensor::toAttr(RankedTensorType type) const {
  Type elt = type.getElementType();
  if (auto ft = dyn_cast<FloatType>(elt)) {
    SmallVector<APFloat> vals;
    vals.reserve(f.size());
    for (float v : f) {
      APFloat a(v);
      bool lost;
      a.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      vals.push_back(a);
    }
    return DenseElementsAttr::get(type, vals);
  }
  unsigned bits = elt.getIntOrFloatBitWidth();
  SmallVector<APInt> vals;
  vals.reserve(i.size());
  for (int64_t v : i)
    vals.push_back(APInt(bits, (uint64_t)v, /*isSigned=*/bits > 1,
                         /*implicitTrunc=*/true));
  return DenseElementsAttr::get(type, vals);
}

Tensor Tensor::fromBytes(RankedTensorType type, const void *data) {
  Tensor t = zeros(type);
  Type elt = t.elementType;
  const auto *p = static_cast<const uint8_t *>(data);
  int64_t n = t.numElements();
  if (elt.isF32()) {
    std::memcpy(t.f.data(), p, n * 4);
  } else if (elt.isF64()) {
    for (int64_t k = 0; k < n; ++k) {
      double v;
      std::memcpy(&v, p + 8 * k, 8);
      t.f[k] = (float)v;
    }
  } else if (elt.isF16() || elt.isBF16()) {
    const llvm::fltSemantics &sem =
        elt.isF16() ? APFloat::IEEEhalf() : APFloat::BFloat();
    for (int64_t k = 0; k < n; ++k) {
      uint16_t bits;
      std::memcpy(&bits, p + 2 * k, 2);
      t.f[k] = APFloat(sem, APInt(16, bits)).convertToFloat();
    }
  } else if (elt.isInteger(1)) {
    for (int64_t k = 0; k < n; ++k)
      t.i[k] = p[k] ? 1 : 0;
  } else {
    unsigned w = byteWidth(elt);
    bool isUnsigned = elt.isUnsignedInteger();
    for (int64_t k = 0; k < n; ++k) {
      uint64_t raw = 0;
      std::memcpy(&raw, p + w * k, w);
      int64_t v = (int64_t)raw;
      if (!isUnsigned && w < 8) {
        unsigned shift = 64 - 8 * w;
        v = (int64_t)(raw << shift) >> shift;
      }
      t.i[k] = v;
    }
  }
  return t;
}

void Tensor::toBytes(void *data) const {
  auto *p = static_cast<uint8_t *>(data);
  Type elt = elementType;
  int64_t n = numElements();
  if (elt.isF32()) {
    std::memcpy(p, f.data(), n * 4);
  } else if (elt.isF64()) {
    for (int64_t k = 0; k < n; ++k) {
      double v = f[k];
      std::memcpy(p + 8 * k, &v, 8);
    }
  } else if (elt.isBF16()) {
    for (int64_t k = 0; k < n; ++k) {
      uint16_t bits = f32ToBF16Bits(f[k]);
      std::memcpy(p + 2 * k, &bits, 2);
    }
  } else if (elt.isF16()) {
    const llvm::fltSemantics &sem = APFloat::IEEEhalf();
    for (int64_t k = 0; k < n; ++k) {
      APFloat a(f[k]);
      bool lost;
      a.convert(sem, APFloat::rmNearestTiesToEven, &lost);
      uint16_t bits = (uint16_t)a.bitcastToAPInt().getZExtValue();
      std::memcpy(p + 2 * k, &bits, 2);
    }
  } else if (elt.isInteger(1)) {
    for (int64_t k = 0; k < n; ++k)
      p[k] = i[k] ? 1 : 0;
  } else {
    unsigned w = byteWidth(elt);
    for (int64_t k = 0; k < n; ++k) {
      uint64_t raw = (uint64_t)i[k];
      std::memcpy(p + w * k, &raw, w);
    }
  }
}
