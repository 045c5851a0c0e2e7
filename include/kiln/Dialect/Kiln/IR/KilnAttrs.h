//===- KilnAttrs.h - kiln enums and attributes ------------------*- C++ -*-===//
//
// Declares the kiln enums (GeluApproximation, with symbolize/stringify
// helpers) and the dialect attributes that wrap them, generated from
// KilnAttrs.td.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_KILN_IR_KILNATTRS_H
#define KILN_DIALECT_KILN_IR_KILNATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "kiln/Dialect/Kiln/IR/KilnEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnAttrs.h.inc"

#endif // KILN_DIALECT_KILN_IR_KILNATTRS_H
