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

//===----------------------------------------------------------------------===//
// GemmActivation
//===----------------------------------------------------------------------===//

// The activations cuBLASLt applies in a GEMM epilogue
// (CUBLASLT_EPILOGUE_RELU[_BIAS], CUBLASLT_EPILOGUE_GELU[_BIAS]; cuBLASLt's
// GELU is the tanh approximation).
def Kiln_GemmActivation : I32EnumAttr<"GemmActivation",
    "the activation of a kiln.gemm epilogue", [
      I32EnumAttrCase<"None", 0, "none">,
      I32EnumAttrCase<"Relu", 1, "relu">,
      I32EnumAttrCase<"GeluTanh", 2, "gelu_tanh">
    ]> {
  let cppNamespace = "::kiln";
  let genSpecializedAttr = 0;
}

// Prints as `#kiln.activation<relu>` on its own; kiln.gemm's format prints it
// as `activation<relu>`. The semantics are in kiln.gemm's description.
def Kiln_GemmActivationAttr
    : EnumAttr<Kiln_Dialect, Kiln_GemmActivation, "activation"> {
  let summary = "GEMM epilogue activation: `none`, `relu` or `gelu_tanh`";
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// ScatterReduction
//===----------------------------------------------------------------------===//

// How kiln.scatter_elements combines an update with the element it lands on
// (ONNX ScatterElements' `reduction`).
def Kiln_ScatterReduction : I32EnumAttr<"ScatterReduction",
    "how a scatter combines an update with the element it replaces", [
      I32EnumAttrCase<"None", 0, "none">,
      I32EnumAttrCase<"Add", 1, "add">,
      I32EnumAttrCase<"Mul", 2, "mul">,
      I32EnumAttrCase<"Max", 3, "max">,
      I32EnumAttrCase<"Min", 4, "min">
    ]> {
  let cppNamespace = "::kiln";
  let genSpecializedAttr = 0;
}

// Prints as `#kiln.reduction<add>`.
def Kiln_ScatterReductionAttr
    : EnumAttr<Kiln_Dialect, Kiln_ScatterReduction, "reduction"> {
  let summary = "scatter reduction: `none`, `add`, `mul`, `max` or `min`";
  let assemblyFormat = "`<` $value `>`";
}

#endif // KILN_ATTRS
