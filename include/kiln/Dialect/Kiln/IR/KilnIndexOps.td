//===- KilnIndexOps.td - kiln math and index ops ------------*- tablegen -*-===//
//
// Included by KilnOps.td: the further elementwise math functions (inverse
// trigonometry, hyperbolic functions, rounding, modulo), two more reductions,
// and the ops that select or accumulate along one axis (gather_elements,
// arg_max / arg_min, cumsum, top_k). They were added for the ONNX ops
// exporters emit around transformer models (docs/reference.md, "ONNX backend
// node tests").
//
//===----------------------------------------------------------------------===//

#ifndef KILN_INDEX_OPS
#define KILN_INDEX_OPS

//===----------------------------------------------------------------------===//
// More elementwise math
//===----------------------------------------------------------------------===//

def Kiln_TanOp : Kiln_UnaryOp<"tan", Kiln_FloatTensor, "Tan", "tangent">;
def Kiln_AsinOp : Kiln_UnaryOp<"asin", Kiln_FloatTensor, "Asin", "arcsine">;
def Kiln_AcosOp : Kiln_UnaryOp<"acos", Kiln_FloatTensor, "Acos", "arccosine">;
def Kiln_AtanOp : Kiln_UnaryOp<"atan", Kiln_FloatTensor, "Atan", "arctangent">;
def Kiln_SinhOp : Kiln_UnaryOp<"sinh", Kiln_FloatTensor, "Sinh", "hyperbolic sine">;
def Kiln_CoshOp : Kiln_UnaryOp<"cosh", Kiln_FloatTensor, "Cosh", "hyperbolic cosine">;
def Kiln_AsinhOp : Kiln_UnaryOp<"asinh", Kiln_FloatTensor, "Asinh", "inverse hyperbolic sine">;
def Kiln_AcoshOp : Kiln_UnaryOp<"acosh", Kiln_FloatTensor, "Acosh", "inverse hyperbolic cosine">;
def Kiln_AtanhOp : Kiln_UnaryOp<"atanh", Kiln_FloatTensor, "Atanh", "inverse hyperbolic tangent">;
def Kiln_FloorOp : Kiln_UnaryOp<"floor", Kiln_FloatTensor, "Floor", "the largest integer <= x">;
def Kiln_CeilOp : Kiln_UnaryOp<"ceil", Kiln_FloatTensor, "Ceil", "the smallest integer >= x">;
def Kiln_RoundOp : Kiln_UnaryOp<"round", Kiln_FloatTensor, "Round",
                                "the nearest integer, halves to even">;
def Kiln_SignOp : Kiln_UnaryOp<"sign", Kiln_NumericTensor, "Sign",
                               "-1, 0 or 1 by the sign of x (NaN stays NaN)">;

def Kiln_ModOp : Kiln_ArithOp<"mod", "Mod",
  "lhs mod rhs, floored: the result has rhs's sign",
  "%r = kiln.mod %a, %b : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>">;
def Kiln_FmodOp : Kiln_ArithOp<"fmod", "Fmod",
  "fmod(lhs, rhs), truncated: the result has lhs's sign",
  "%r = kiln.fmod %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>">;

def Kiln_IntTensor : StaticShapeTensorOf<[I8, I32, I64, UI8]>;

class Kiln_BitwiseOp<string mnemonic, string fn, string desc>
    : Kiln_BinaryOp<mnemonic, Kiln_IntTensor, fn> {
  let summary = "elementwise bitwise " # desc # " of integers, with broadcasting";
  let description = "Bitwise " # desc # " of the two's complement bits after "
    # "broadcasting; both operands have the same integer type.\n\n```mlir\n"
    # "%r = kiln." # mnemonic # " %a, %b : (tensor<4xi32>, tensor<i32>) -> "
    # "tensor<4xi32>\n```";
}
def Kiln_BitAndOp : Kiln_BitwiseOp<"bit_and", "BitAnd", "and">;
def Kiln_BitOrOp : Kiln_BitwiseOp<"bit_or", "BitOr", "or">;
def Kiln_BitXorOp : Kiln_BitwiseOp<"bit_xor", "BitXor", "exclusive or">;
class Kiln_ShiftOp<string mnemonic, string fn, string desc>
    : Kiln_BinaryOp<mnemonic, Kiln_IntTensor, fn> {
  let summary = "elementwise " # desc # " of integers, with broadcasting";
  let description = "`lhs` shifted " # desc # " by `rhs` bits after "
    # "broadcasting (ONNX BitShift-28): a left shift drops the bits moved "
    # "past the width (also for signed types); a right shift of a signed "
    # "type is arithmetic. A shift by a negative amount or by the width or "
    # "more gives 0, and -1 for a right shift of a negative signed value."
    # "\n\n```mlir\n%r = kiln." # mnemonic # " %a, %b : (tensor<4xi32>, "
    # "tensor<i32>) -> tensor<4xi32>\n```";
}
def Kiln_ShiftLeftOp : Kiln_ShiftOp<"shift_left", "ShiftLeft", "left">;
def Kiln_ShiftRightOp : Kiln_ShiftOp<"shift_right", "ShiftRight", "right">;
def Kiln_BitNotOp : Kiln_UnaryOp<"bit_not", Kiln_IntTensor, "BitNot",
                                 "bitwise not (of the integer's bits)">;

def Kiln_ReduceMinOp : Kiln_ReduceOp<"reduce_min", "minimum">;
def Kiln_ReduceProdOp : Kiln_ReduceOp<"reduce_prod", "product">;

//===----------------------------------------------------------------------===//
// Selection and accumulation along one axis
//===----------------------------------------------------------------------===//

def Kiln_GatherElementsOp : Kiln_Op<"gather_elements", [InferTypeOpAdaptor]> {
  let summary = "gather single elements along one axis (take_along_axis)";
  let description = [{
    `result[i0, ..., ik, ...] = data[i0, ..., indices[i0, ..., ik, ...], ...]`
    with the index replacing coordinate `axis`. `indices` has the data's
    rank and no dim larger than the data's; the result has the indices'
    shape. Negative indices count from the end of the axis; an index out of
    `[-n, n)` is a run-time error.

    ```mlir
    %r = kiln.gather_elements %data, %idx {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_IndexTensor:$indices,
                   I64Attr:$axis);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$data `,` $indices attr-dict `:` functional-type(operands, results)";
}

class Kiln_ArgReduceOp<string mnemonic, string which>
    : Kiln_Op<mnemonic, [InferTypeOpAdaptor]> {
  let summary = "index of the " # which # " along one axis (i64)";
  let description = "The index along `axis` of the " # which # " element; "
    # "ties give the first index, or the last with `select_last_index`; a NaN "
    # "counts as the " # which # " (numpy's rule). The axis is kept as "
    # "size 1 when `keepdims`.\n\n```mlir\n%r = kiln." # mnemonic
    # " %x {axis = 1 : i64, keepdims = true, select_last_index = false} : "
    # "(tensor<2x3xf32>) -> tensor<2x1xi64>\n```";
  let arguments = (ins Kiln_NumericTensor:$input, I64Attr:$axis,
                   DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                   DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs StaticShapeTensorOf<[I64]>:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_ArgMaxOp : Kiln_ArgReduceOp<"arg_max", "maximum">;
def Kiln_ArgMinOp : Kiln_ArgReduceOp<"arg_min", "minimum">;

class Kiln_CumOp<string mnemonic, string what, string ex>
    : Kiln_Op<mnemonic, [SameOperandsAndResultType, InferTypeOpInterface]> {
  let summary = "running " # what # " along one axis";
  let description = "`result[..., j, ...]` is the " # what # " of "
    # "`input[..., i, ...]` for `i <= j` (`i < j` with `exclusive`, whose "
    # "first element is the identity; `i >= j`, or `i > j`, with `reverse`). "
    # "Floats accumulate in double, integers in int64 (wrapping).\n\n"
    # "```mlir\n%r = kiln." # mnemonic # " %x {axis = 0 : i64, exclusive = "
    # "false, reverse = false} : tensor<5xf32>\n```" # ex;
  let arguments = (ins Kiln_NumericTensor:$input, I64Attr:$axis,
                   DefaultValuedAttr<BoolAttr, "false">:$exclusive,
                   DefaultValuedAttr<BoolAttr, "false">:$reverse);
  let results = (outs Kiln_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Kiln_CumsumOp : Kiln_CumOp<"cumsum", "sum", "">;
def Kiln_CumprodOp : Kiln_CumOp<"cumprod", "product", "">;

def Kiln_TopKOp : Kiln_Op<"top_k", [InferTypeOpAdaptor]> {
  let summary = "the k largest (or smallest) elements along one axis";
  let description = [{
    `values` and `indices` (i64) hold the `k` largest elements along `axis`
    (the smallest when `largest = false`), in descending (ascending) order;
    equal elements keep the order of their indices, and NaN counts as
    larger than any number. `k` is in `[0, dim]`.

    ```mlir
    %v, %i = kiln.top_k %x {axis = 1 : i64, k = 2 : i64, largest = true} : (tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
    ```
  }];
  let arguments = (ins Kiln_NumericTensor:$input, I64Attr:$k, I64Attr:$axis,
                   DefaultValuedAttr<BoolAttr, "true">:$largest);
  let results = (outs Kiln_NumericTensor:$values,
                  StaticShapeTensorOf<[I64]>:$indices);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_ScatterElementsOp : Kiln_Op<"scatter_elements", [InferTypeOpAdaptor]> {
  let summary = "copy of data with single elements replaced along one axis";
  let description = [{
    ONNX ScatterElements: the result is `data` with, for every position
    `p` of `indices`, the element at `p` with coordinate `axis` replaced by
    `indices[p]` set to `updates[p]` (or combined with it by `reduction`:
    `add`, `mul`, `max`, `min`), in row-major order of `p`. `indices` and
    `updates` have one shape, of the data's rank and no dim larger than the
    data's; negative indices count from the end of the axis; an index out
    of `[-n, n)` is a run-time error.

    ```mlir
    %r = kiln.scatter_elements %data, %idx, %upd {axis = 1 : i64, reduction = #kiln.reduction<add>} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_IndexTensor:$indices,
                   Kiln_Tensor:$updates, I64Attr:$axis,
                   DefaultValuedAttr<Kiln_ScatterReductionAttr,
                                     "::kiln::ScatterReduction::None">:$reduction);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$data `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)";
}

#endif // KILN_INDEX_OPS
