//===- KilnAttrs.td - kiln enums and attributes -------------*- tablegen -*-===//
//
// Closed sets of choices that kiln ops take, as ODS enums wrapped in dialect
// attributes (model: arith's FastMathFlags). Codegen and the reference
// backend switch over the C++ enum; nothing compares strings.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_ATTRS
#define KILN_ATTRS

include "kiln/Dialect/Kiln/IR/KilnDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// GeluApproximation
//===----------------------------------------------------------------------===//

def Kiln_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "how kiln.gelu computes the Gaussian CDF", [
      I32EnumAttrCase<"None", 0, "none">,
      I32EnumAttrCase<"Tanh", 1, "tanh">
    ]> {
  let cppNamespace = "::kiln";
  // The dialect attribute below wraps it; no IntegerAttr form.
  let genSpecializedAttr = 0;
}

// Prints as `#kiln.approximate<tanh>` on its own; kiln.gelu's format prints
// it as `approximate<tanh>`. No description: the op reference would inline it
// into kiln.gelu's attribute table; the formulas are in kiln.gelu's.
def Kiln_GeluApproximationAttr
    : EnumAttr<Kiln_Dialect, Kiln_GeluApproximation, "approximate"> {
  let summary = "GELU approximation: `none` (erf) or `tanh`";
  let assemblyFormat = "`<` $value `>`";
}

#endif // KILN_ATTRS
