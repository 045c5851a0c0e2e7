//===- KilnOps.td - kiln graph-level ops --------------------*- tablegen -*-===//
//
// Ops of the kiln dialect. Every op works on statically shaped ranked tensors;
// result types are inferred wherever they follow from the operands and
// attributes, and given explicitly only where they carry information (reshape,
// expand, slice, split, cast, weight).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_OPS
#define KILN_OPS

include "kiln/Dialect/Kiln/IR/KilnAttrs.td"
include "kiln/Dialect/Kiln/IR/KilnDialect.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/FunctionInterfaces.td"
include "mlir/Interfaces/CallInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/OpAsmInterface.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Kiln_FloatElt : AnyTypeOf<[F16, BF16, F32, F64]>;
def Kiln_IntElt : AnyTypeOf<[I8, I32, I64, UI8]>;
def Kiln_Tensor
    : StaticShapeTensorOf<[F16, BF16, F32, F64, I1, I8, I32, I64, UI8]>;
def Kiln_FloatTensor : StaticShapeTensorOf<[F16, BF16, F32, F64]>;
def Kiln_NumericTensor
    : StaticShapeTensorOf<[F16, BF16, F32, F64, I8, I32, I64, UI8]>;
def Kiln_BoolTensor : StaticShapeTensorOf<[I1]>;
def Kiln_IndexTensor : StaticShapeTensorOf<[I32, I64]>;

// Scheduled level: a buffer is a statically shaped memref with the identity
// layout in the default memory space; the bytes it names are fixed by the
// kiln.view that defines it.
def Kiln_Buffer : Type<
    And<[AnyStaticShapeMemRef.predicate,
         CPred<"::llvm::cast<::mlir::MemRefType>($_self).getLayout().isIdentity()">,
         CPred<"!::llvm::cast<::mlir::MemRefType>($_self).getMemorySpace()">]>,
    "statically shaped memref with identity layout",
    "::mlir::MemRefType">;
def Kiln_FloatBuffer : Type<
    And<[Kiln_Buffer.predicate,
         CPred<"::llvm::isa<::mlir::FloatType>(::llvm::cast<::mlir::MemRefType>($_self).getElementType())">]>,
    "statically shaped float memref with identity layout",
    "::mlir::MemRefType">;
// A memory region (the arena, the weights): a 1-D buffer of bytes.
def Kiln_ByteBuffer : Type<
    And<[Kiln_Buffer.predicate,
         CPred<"::llvm::cast<::mlir::MemRefType>($_self).getRank() == 1">,
         CPred<"::llvm::cast<::mlir::MemRefType>($_self).getElementType().isInteger(8)">]>,
    "1-D memref of i8 (a memory region)",
    "::mlir::MemRefType">;

// The memory every scheduled-level op reads or writes (the arena and the
// weights): ops declare their effects on it, so no generic pass reorders or
// drops a launch.
def Kiln_BufferResource : Resource<"::kiln::BufferResource">;

//===----------------------------------------------------------------------===//
// Interfaces
//===----------------------------------------------------------------------===//

def Kiln_ElementwiseOpInterface : OpInterface<"ElementwiseOpInterface"> {
  let cppNamespace = "::kiln";
  let description = [{
    An op that applies one scalar function to every element (after
    broadcasting, for binary ops). The function is named by a
    `kiln::ElementwiseFn`, the one table every backend reads: the reference
    backend evaluates it, codegen spells it as a `kiln::op::` device function,
    and the planner may write its result in place over an operand of the
    result's shape (`kiln::mayWriteInPlace`). A backend switches over the
    enum, so a new function is a compile-time warning (`-Wswitch`) wherever
    it is not handled yet.
  }];
  let methods = [
    InterfaceMethod<"The scalar function applied to every element.",
                    "::kiln::ElementwiseFn", "getElementwiseFn">,
  ];
}

//===----------------------------------------------------------------------===//
// Base classes
//===----------------------------------------------------------------------===//

class Kiln_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kiln_Dialect, mnemonic, !listconcat(traits, [Pure])>;

// Elementwise binary op with numpy-style broadcasting. Operands share the
// element type; the result shape is the broadcast of the operand shapes.
class Kiln_BinaryOp<string mnemonic, TypeConstraint operandType, string fn,
                    list<Trait> traits = []>
    : Kiln_Op<mnemonic, !listconcat(traits, [InferTypeOpAdaptor,
                                             Kiln_ElementwiseOpInterface])> {
  let arguments = (ins operandType:$lhs, operandType:$rhs);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    /// The element type of the result given the operands' element type.
    static ::mlir::Type resultElementType(::mlir::Type operandElt);
    /// ElementwiseOpInterface.
    ::kiln::ElementwiseFn getElementwiseFn() {
      return ::kiln::ElementwiseFn::}] # fn # [{;
    }
  }];
}

class Kiln_ArithOp<string mnemonic, string fn, string desc, string example>
    : Kiln_BinaryOp<mnemonic, Kiln_NumericTensor, fn> {
  let summary = "elementwise " # desc # " with broadcasting";
  let description = "Computes `" # desc # "` elementwise after numpy-style "
    # "broadcasting of both operands to a common shape. Both operands have "
    # "the same element type.\n\n```mlir\n" # example # "\n```";
}

class Kiln_CompareOp<string mnemonic, string fn, string desc>
    : Kiln_BinaryOp<mnemonic, Kiln_NumericTensor, fn> {
  let summary = "elementwise " # desc # " comparison, producing i1";
  let description = "Compares elementwise after broadcasting and yields an "
    # "`i1` tensor.\n\n```mlir\n%r = kiln." # mnemonic # " %a, %b : "
    # "(tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>\n```";
}

class Kiln_LogicOp<string mnemonic, string fn, string desc>
    : Kiln_BinaryOp<mnemonic, Kiln_BoolTensor, fn> {
  let summary = "elementwise logical " # desc # " on i1 tensors";
  let description = "Logical " # desc # " with broadcasting.\n\n```mlir\n"
    # "%r = kiln." # mnemonic # " %a, %b : (tensor<4xi1>, tensor<4xi1>) -> "
    # "tensor<4xi1>\n```";
}

// Elementwise unary op: result type equals operand type.
class Kiln_UnaryOp<string mnemonic, TypeConstraint operandType, string fn,
                   string desc, list<Trait> traits = []>
    : Kiln_Op<mnemonic, !listconcat(traits, [SameOperandsAndResultType,
                                             InferTypeOpInterface,
                                             Kiln_ElementwiseOpInterface])> {
  let summary = "elementwise " # desc;
  let description = "Computes " # desc # " of every element.\n\n```mlir\n"
    # "%r = kiln." # mnemonic # " %x : tensor<2x8xf32>\n```";
  let arguments = (ins operandType:$input);
  let results = (outs operandType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let extraClassDeclaration = [{
    /// ElementwiseOpInterface.
    ::kiln::ElementwiseFn getElementwiseFn() {
      return ::kiln::ElementwiseFn::}] # fn # [{;
    }
  }];
}

//===----------------------------------------------------------------------===//
// Elementwise binary
//===----------------------------------------------------------------------===//

def Kiln_AddOp : Kiln_ArithOp<"add", "Add", "lhs + rhs",
  "%r = kiln.add %a, %b : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>">;
def Kiln_SubOp : Kiln_ArithOp<"sub", "Sub", "lhs - rhs",
  "%r = kiln.sub %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>">;
def Kiln_MulOp : Kiln_ArithOp<"mul", "Mul", "lhs * rhs",
  "%r = kiln.mul %a, %b : (tensor<2x1xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>">;
def Kiln_DivOp : Kiln_ArithOp<"div", "Div", "lhs / rhs (integer division truncates)",
  "%r = kiln.div %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>">;
def Kiln_PowOp : Kiln_ArithOp<"pow", "Pow", "lhs ** rhs",
  "%r = kiln.pow %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>">;
def Kiln_MaxOp : Kiln_ArithOp<"max", "Max", "max(lhs, rhs)",
  "%r = kiln.max %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>">;
def Kiln_MinOp : Kiln_ArithOp<"min", "Min", "min(lhs, rhs)",
  "%r = kiln.min %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>">;

def Kiln_EqualOp : Kiln_CompareOp<"equal", "Equal", "lhs == rhs">;
def Kiln_GreaterOp : Kiln_CompareOp<"greater", "Greater", "lhs > rhs">;
def Kiln_GreaterEqualOp : Kiln_CompareOp<"greater_equal", "GreaterEqual", "lhs >= rhs">;
def Kiln_LessOp : Kiln_CompareOp<"less", "Less", "lhs < rhs">;
def Kiln_LessEqualOp : Kiln_CompareOp<"less_equal", "LessEqual", "lhs <= rhs">;

def Kiln_AndOp : Kiln_LogicOp<"and", "And", "and">;
def Kiln_OrOp : Kiln_LogicOp<"or", "Or", "or">;
def Kiln_XorOp : Kiln_LogicOp<"xor", "Xor", "xor">;

//===----------------------------------------------------------------------===//
// Elementwise unary
//===----------------------------------------------------------------------===//

def Kiln_NegOp : Kiln_UnaryOp<"neg", Kiln_NumericTensor, "Neg", "negation">;
def Kiln_AbsOp : Kiln_UnaryOp<"abs", Kiln_NumericTensor, "Abs", "absolute value">;
def Kiln_SqrtOp : Kiln_UnaryOp<"sqrt", Kiln_FloatTensor, "Sqrt", "square root">;
def Kiln_RsqrtOp : Kiln_UnaryOp<"rsqrt", Kiln_FloatTensor, "Rsqrt", "1 / sqrt(x)">;
def Kiln_ReciprocalOp : Kiln_UnaryOp<"reciprocal", Kiln_FloatTensor, "Reciprocal", "1 / x">;
def Kiln_ExpOp : Kiln_UnaryOp<"exp", Kiln_FloatTensor, "Exp", "e ** x">;
def Kiln_LogOp : Kiln_UnaryOp<"log", Kiln_FloatTensor, "Log", "natural logarithm">;
def Kiln_TanhOp : Kiln_UnaryOp<"tanh", Kiln_FloatTensor, "Tanh", "hyperbolic tangent">;
def Kiln_ErfOp : Kiln_UnaryOp<"erf", Kiln_FloatTensor, "Erf", "the error function">;
def Kiln_SinOp : Kiln_UnaryOp<"sin", Kiln_FloatTensor, "Sin", "sine">;
def Kiln_CosOp : Kiln_UnaryOp<"cos", Kiln_FloatTensor, "Cos", "cosine">;
def Kiln_SigmoidOp
    : Kiln_UnaryOp<"sigmoid", Kiln_FloatTensor, "Sigmoid", "1 / (1 + exp(-x))">;
def Kiln_SiluOp : Kiln_UnaryOp<"silu", Kiln_FloatTensor, "Silu", "x * sigmoid(x)">;
def Kiln_SoftplusOp
    : Kiln_UnaryOp<"softplus", Kiln_FloatTensor, "Softplus", "log(1 + exp(x))">;
def Kiln_NotOp : Kiln_UnaryOp<"not", Kiln_BoolTensor, "Not", "logical not">;

def Kiln_GeluOp : Kiln_Op<"gelu", [SameOperandsAndResultType,
                                   InferTypeOpInterface,
                                   Kiln_ElementwiseOpInterface]> {
  let summary = "elementwise GELU, exact (erf) or tanh-approximated";
  let description = [{
    `approximate` is a `#kiln.approximate` enum, written after the operand
    and elided when it is the default, `none`: `none` computes
    `0.5 * x * (1 + erf(x / sqrt(2)))`; `approximate<tanh>` computes
    `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))`.

    ```mlir
    %e = kiln.gelu %x : tensor<1x8x256xf32>
    %r = kiln.gelu %x approximate<tanh> : tensor<1x8x256xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                   DefaultValuedAttr<Kiln_GeluApproximationAttr,
                                     "::kiln::GeluApproximation::None">:$approximate);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$input (`approximate` `` $approximate^)? attr-dict `:` type($input)";
  let extraClassDeclaration = [{
    /// ElementwiseOpInterface: GeluErf or GeluTanh, by `approximate`.
    ::kiln::ElementwiseFn getElementwiseFn() {
      return getApproximate() == ::kiln::GeluApproximation::Tanh
                 ? ::kiln::ElementwiseFn::GeluTanh
                 : ::kiln::ElementwiseFn::GeluErf;
    }
  }];
}

def Kiln_CastOp : Kiln_Op<"cast"> {
  let summary = "elementwise conversion to another element type";
  let description = [{
    Converts every element to the result's element type (float to int
    truncates toward zero; anything to `i1` is `x != 0`). Shapes must match.

    ```mlir
    %r = kiln.cast %x : tensor<1x8xi64> -> tensor<1x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_WhereOp : Kiln_Op<"where", [InferTypeOpAdaptor]> {
  let summary = "elementwise select with broadcasting";
  let description = [{
    `result = condition ? on_true : on_false`, after broadcasting all three
    operands to a common shape.

    ```mlir
    %r = kiln.where %c, %a, %b : (tensor<1x1x8x8xi1>, tensor<f32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_BoolTensor:$condition, Kiln_Tensor:$on_true,
                   Kiln_Tensor:$on_false);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat =
      "$condition `,` $on_true `,` $on_false attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def Kiln_MatmulOp : Kiln_Op<"matmul", [InferTypeOpAdaptor]> {
  let summary = "batched matrix multiply with broadcasting batch dims";
  let description = [{
    `lhs[..., M, K] x rhs[..., K, N] -> result[..., M, N]`; both operands have
    rank >= 2 and leading (batch) dims broadcast numpy-style.

    ```mlir
    %r = kiln.matmul %q, %kt : (tensor<1x4x8x16xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$lhs, Kiln_FloatTensor:$rhs);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Kiln_LinearOp : Kiln_Op<"linear", [InferTypeOpAdaptor]> {
  let summary = "x @ W (+ bias): a dense layer";
  let description = [{
    `input[..., K]` times a 2-D `weight` (`[K, N]`, or `[N, K]` with
    `transpose_weight`), plus an optional `bias[N]`: `result[..., N]`.

    ```mlir
    %r = kiln.linear %x, %w, %b {transpose_weight = false} : (tensor<1x8x64xf32>, tensor<64x192xf32>, tensor<192xf32>) -> tensor<1x8x192xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$weight,
                   Optional<Kiln_FloatTensor>:$bias,
                   DefaultValuedAttr<BoolAttr, "false">:$transpose_weight);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Reductions and normalisation
//===----------------------------------------------------------------------===//

class Kiln_ReduceOp<string mnemonic, string desc>
    : Kiln_Op<mnemonic, [InferTypeOpAdaptor]> {
  let summary = desc # " over the given axes";
  let description = "Reduces `input` with " # desc # " over `axes` (distinct, "
    # "in `[0, rank)`); reduced dims are kept as size 1 when `keepdims`.\n\n"
    # "```mlir\n%r = kiln." # mnemonic # " %x {axes = array<i64: 2>, "
    # "keepdims = true} : (tensor<1x8x64xf32>) -> tensor<1x8x1xf32>\n```";
  let arguments = (ins Kiln_NumericTensor:$input, DenseI64ArrayAttr:$axes,
                   DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs Kiln_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_ReduceSumOp : Kiln_ReduceOp<"reduce_sum", "sum">;
def Kiln_ReduceMeanOp : Kiln_ReduceOp<"reduce_mean", "arithmetic mean">;
def Kiln_ReduceMaxOp : Kiln_ReduceOp<"reduce_max", "maximum">;

def Kiln_SoftmaxOp : Kiln_Op<"softmax", [SameOperandsAndResultType, InferTypeOpInterface]> {
  let summary = "softmax along one axis";
  let description = [{
    `exp(x - max) / sum(exp(x - max))` along `axis` (in `[0, rank)`).

    ```mlir
    %r = kiln.softmax %s {axis = 3 : i64} : tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Kiln_PoolOp : Kiln_Op<"pool"> {
  let summary = "max, average or Lp pooling over the spatial dims";
  let description = [{
    `input[N, C, D1..Dk]` to `result[N, C, O1..Ok]`: output position `o`
    of spatial dim `d` reads the window `o * strides[d] - pads[d] +
    j * dilations[d]` for `j` in `[0, kernel_shape[d])`; window positions
    outside the input are padding. `kind` is `max` (padding ignored),
    `avg` (the sum over the positions inside the input, divided by their
    count, or with `count_include_pad` by the count of positions inside the
    padded extent `[-pads_begin, D + pads_end)`) or `lp` (`(sum |x|^p)^(1/p)`,
    padding 0). `pads` holds the k begins then the k ends. The output dims
    are the importer's (floor or ceil mode, ONNX's auto_pad); the verifier
    checks that each is the floor or the ceil count and that its last window
    starts inside the input or the leading padding. The reference backend
    accumulates in double; there is no CUDA kernel yet.

    ```mlir
    %r = kiln.pool %x {kind = "max", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
    ```
  }];
  let arguments = (ins Kiln_NumericTensor:$input, StrAttr:$kind,
                   DenseI64ArrayAttr:$kernel_shape,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DefaultValuedAttr<BoolAttr, "false">:$count_include_pad,
                   DefaultValuedAttr<I64Attr, "2">:$p);
  let results = (outs Kiln_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_DetOp : Kiln_Op<"det"> {
  let summary = "determinant of square matrices";
  let description = [{
    `input[..., M, M]` to `result[...]`: the determinant of each matrix, by
    Gaussian elimination with partial pivoting in double on the reference
    backend. There is no CUDA kernel yet.

    ```mlir
    %r = kiln.det %x : (tensor<2x3x3xf32>) -> tensor<2xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_ConvOp : Kiln_Op<"conv"> {
  let summary = "N-D convolution (cross-correlation) with groups";
  let description = [{
    `input[N, C, D1..Dk]`, `weight[M, C / group, K1..Kk]`, optional
    `bias[M]`: `result[n, m, o...] = bias[m] + sum over c in m's group and
    the window of input[n, c, o * strides - pads_begin + j * dilations] *
    weight[m, c, j]`, positions outside the input contributing 0. `pads`
    holds the k begins then the k ends; the output dims are
    `(D + pads_begin + pads_end - (K - 1) * dilation - 1) / stride + 1`
    (floor). The reference backend accumulates in double; there is no CUDA
    kernel yet.

    ```mlir
    %r = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$weight,
                   Optional<Kiln_FloatTensor>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_LayerNormOp : Kiln_Op<"layer_norm", [InferTypeOpAdaptor]> {
  let summary = "layer normalisation over the trailing dims from axis";
  let description = [{
    Normalises over dims `[axis, rank)`: `(x - mean) / sqrt(var + epsilon) *
    scale (+ bias)`. `scale` and `bias` have the normalised dims' shape.

    ```mlir
    %r = kiln.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$scale,
                   Optional<Kiln_FloatTensor>:$bias, I64Attr:$axis,
                   F32Attr:$epsilon);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input `,` $scale (`,` $bias^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_RmsNormOp : Kiln_Op<"rms_norm", [InferTypeOpAdaptor]> {
  let summary = "RMS normalisation over the trailing dims from axis";
  let description = [{
    `x / sqrt(mean(x^2 over [axis, rank)) + epsilon) * scale`, computed in
    f32 (or wider) and rounded once to the result's element type.

    With `round_normalized` the normalised row `x / sqrt(...)` is rounded
    to the result's element type first, then multiplied by the scale and
    rounded again: Hugging Face's `weight * x.to(input_dtype)` in a bf16 or
    f16 export (kiln-recognize makes it from the norm computed in f32
    between two casts). On an f32 result it changes nothing.

    ```mlir
    %r = kiln.rms_norm %x, %g {axis = 2 : i64, epsilon = 1.0e-06 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
    %h = kiln.rms_norm %xb, %gb {axis = 2 : i64, epsilon = 1.0e-06 : f32, round_normalized} : (tensor<1x8x64xbf16>, tensor<64xbf16>) -> tensor<1x8x64xbf16>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$scale,
                   I64Attr:$axis, F32Attr:$epsilon,
                   UnitAttr:$round_normalized);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input `,` $scale attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Kiln_GatherOp : Kiln_Op<"gather", [InferTypeOpAdaptor]> {
  let summary = "gather slices along one axis (embedding lookup)";
  let description = [{
    `result = data.shape[:axis] + indices.shape + data.shape[axis+1:]`;
    negative indices count from the end of the axis.

    ```mlir
    %e = kiln.gather %table, %ids {axis = 0 : i64} : (tensor<512x64xf32>, tensor<1x8xi64>) -> tensor<1x8x64xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_IndexTensor:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$data `,` $indices attr-dict `:` functional-type(operands, results)";
}

def Kiln_ReshapeOp : Kiln_Op<"reshape"> {
  let summary = "reinterpret a tensor with another static shape";
  let description = [{
    Same elements in row-major order, new shape; element counts must match.

    ```mlir
    %r = kiln.reshape %x : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_TransposeOp : Kiln_Op<"transpose", [InferTypeOpAdaptor]> {
  let summary = "permute dimensions";
  let description = [{
    `result.shape[i] = input.shape[perm[i]]`.

    ```mlir
    %r = kiln.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x8x4x16xf32>) -> tensor<1x4x8x16xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_SliceOp : Kiln_Op<"slice"> {
  let summary = "strided slice with static starts and steps";
  let description = [{
    `result[i...] = input[starts + i * steps]` per dim; `starts` are in
    `[0, dim)`, `steps` are non-zero (negative steps walk backwards), and the
    result shape gives the count per dim. Every index read must be in bounds.

    ```mlir
    %r = kiln.slice %x {starts = array<i64: 0, 0, 8>, steps = array<i64: 1, 1, 1>} : tensor<1x8x16xf32> -> tensor<1x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$starts,
                   DenseI64ArrayAttr:$steps);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_ConcatOp : Kiln_Op<"concat", [InferTypeOpAdaptor]> {
  let summary = "concatenate tensors along one axis";
  let description = [{
    All inputs share the element type and every dim but `axis`.

    ```mlir
    %r = kiln.concat %past, %new {axis = 2 : i64} : (tensor<1x2x7x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x2x8x16xf32>
    ```
  }];
  let arguments = (ins Variadic<Kiln_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
}

def Kiln_SplitOp : Kiln_Op<"split"> {
  let summary = "split a tensor into consecutive pieces along one axis";
  let description = [{
    The results' sizes along `axis` add up to the input's; other dims match.

    ```mlir
    %q, %k, %v = kiln.split %qkv {axis = 2 : i64} : tensor<1x8x192xf32> -> tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis);
  let results = (outs Variadic<Kiln_Tensor>:$results);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($results)";
  let hasVerifier = 1;
}

def Kiln_ExpandOp : Kiln_Op<"expand"> {
  let summary = "broadcast a tensor to a larger static shape";
  let description = [{
    Numpy-style broadcast of `input` to the result shape (which has at least
    the input's rank).

    ```mlir
    %r = kiln.expand %x : tensor<1x2x1x8x16xf32> -> tensor<1x2x2x8x16xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_TriluOp : Kiln_Op<"trilu", [SameOperandsAndResultType, InferTypeOpInterface]> {
  let summary = "keep the upper or lower triangle of the last two dims";
  let description = [{
    Zeroes elements below (`upper = true`) or above (`upper = false`) the
    `diagonal`-th diagonal of each trailing matrix.

    ```mlir
    %r = kiln.trilu %m {upper = true, diagonal = 1 : i64} : tensor<8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, BoolAttr:$upper,
                   DefaultValuedAttr<I64Attr, "0">:$diagonal);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Kiln_ScatterNDOp : Kiln_Op<"scatter_nd", [InferTypeOpAdaptor]> {
  let summary = "copy of data with slices replaced at N-d indices";
  let description = [{
    ONNX ScatterND: `indices[..., q]` address the first `q` dims of `data`;
    `updates` has shape `indices.shape[:-1] + data.shape[q:]`. With a
    `reduction` other than none, each update is combined with what the
    slice holds (add, mul, max, min; in index order, so repeated indices
    accumulate). CUDA codegen lowers reduction none only.

    ```mlir
    %r = kiln.scatter_nd %data, %idx, %upd : (tensor<4x8xf32>, tensor<2x1xi64>, tensor<2x8xf32>) -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_IndexTensor:$indices,
                   Kiln_Tensor:$updates,
                   DefaultValuedAttr<Kiln_ScatterReductionAttr,
                                     "::kiln::ScatterReduction::None">:$reduction);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$data `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

def Kiln_ConstantOp : Kiln_Op<"constant", [ConstantLike, InferTypeOpAdaptor]> {
  let summary = "a small dense constant";
  let description = [{
    A constant tensor held in the IR. Only small tensors (shape arithmetic,
    masks, scalars) belong here; weights are `kiln.weight` references.

    ```mlir
    %c = kiln.constant dense<[1, 8, 4, 16]> : tensor<4xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_WeightOp : Kiln_Op<"weight"> {
  let summary = "a reference to weight bytes stored outside the IR";
  let description = [{
    Names a weight and records where its little-endian bytes live: `path`
    (a file), `offset` and `length` in bytes. `length` must equal the
    tensor's byte size. The IR never holds the weight's data.

    ```mlir
    %w = kiln.weight "model.embed_tokens.weight" {path = "model.onnx.data", offset = 0 : i64, length = 131072 : i64} : tensor<512x64xf32>
    ```

    With `source_type` (set by `kiln-lower-precision`) the file holds the
    elements as that type (f32) and reading them rounds each one to the
    result's element type (bf16 or f16, round to nearest even); `length` is
    then the byte size of the stored elements. With `transposed` (set by
    `kiln-gemv`) the file holds a rank-2 `[K, N]` matrix and reading returns
    its transpose, the result's `[N, K]`. With `columns = [b, e, n]` (set by
    `kiln-form-fusions` when it splits a product whose result is sliced) the
    file holds a rank-2 `[K, n]` matrix (`length` covers all of it) and the
    weight is its columns `[b, e)`: `[K, e - b]`, or `[e - b, K]` read
    transposed.

    ```mlir
    %w = kiln.weight "lm_head" {path = "model.onnx.data", offset = 0 : i64, length = 131072 : i64, source_type = f32} : tensor<512x64xbf16>
    ```
  }];
  let arguments = (ins StrAttr:$name, StrAttr:$path, I64Attr:$offset,
                   I64Attr:$length, OptionalAttr<TypeAttr>:$source_type,
                   UnitAttr:$transposed,
                   OptionalAttr<DenseI64ArrayAttr>:$columns);
  let results = (outs Kiln_Tensor:$result);
  let builders = [
    // The weight as stored (no source_type).
    OpBuilder<(ins "::mlir::Type":$type, "::llvm::StringRef":$name,
                   "::llvm::StringRef":$path, "int64_t":$offset,
                   "int64_t":$length), [{
      build($_builder, $_state, type, $_builder.getStringAttr(name),
            $_builder.getStringAttr(path), $_builder.getI64IntegerAttr(offset),
            $_builder.getI64IntegerAttr(length), ::mlir::TypeAttr(),
            ::mlir::UnitAttr(), ::mlir::DenseI64ArrayAttr());
    }]>
  ];
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Transformer blocks
//===----------------------------------------------------------------------===//

def Kiln_AttentionOp : Kiln_Op<"attention", [InferTypeOpAdaptor]> {
  let summary = "scaled dot-product attention with grouped-query heads";
  let description = [{
    `softmax(q @ k^T * scale + mask) @ v` per head. `q` is `[B, Hq, S, D]`,
    `k` is `[B, Hkv, T, D]`, `v` is `[B, Hkv, T, Dv]`; `Hq` is a multiple of
    `Hkv` (query head `h` reads kv head `h / (Hq / Hkv)`). `causal` masks
    key `t > s + (T - S)`. The optional `mask` broadcasts to `[B, Hq, S, T]`:
    `i1` (true = attend) or additive float.

    ```mlir
    %o = kiln.attention %q, %k, %v {scale = 0.25 : f32, causal = true} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$query, Kiln_FloatTensor:$key,
                   Kiln_FloatTensor:$value, Optional<Kiln_Tensor>:$mask,
                   F32Attr:$scale, DefaultValuedAttr<BoolAttr, "false">:$causal);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$query `,` $key `,` $value (`,` $mask^)? attr-dict `:` functional-type(operands, results)";
}

def Kiln_RotaryOp : Kiln_Op<"rotary", [InferTypeOpAdaptor]> {
  let summary = "rotary position embedding";
  let description = [{
    Rotates `input[B, H, S, D]` by per-position angles: `cos` and `sin` are
    `[B, S, R/2]` (`B` may be 1: shared by the batch) with rotary dim
    `R <= D` even (dims past `R` pass through), one angle per pair.
    Halves layout (default): pairs `(i, i + R/2)`; `interleaved`: pairs
    `(2i, 2i + 1)`. With `full_tables` the tables are `[B, S, R]`, an entry
    per element, as an exporter's graph holds them (`x * cos +
    rotate_half(x) * sin` with cos/sin fed as inputs, whose halves need not
    be equal): element `i` of a pair `(i, j)` is `x[i] * cos[i] -+ x[j] *
    sin[i]`.

    ```mlir
    %r = kiln.rotary %x, %cos, %sin : (tensor<1x4x8x16xf32>, tensor<1x8x8xf32>, tensor<1x8x8xf32>) -> tensor<1x4x8x16xf32>
    %f = kiln.rotary %x, %cf, %sf {full_tables = true} : (tensor<1x4x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>) -> tensor<1x4x8x16xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$cos,
                   Kiln_FloatTensor:$sin,
                   DefaultValuedAttr<BoolAttr, "false">:$interleaved,
                   DefaultValuedAttr<BoolAttr, "false">:$full_tables);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input `,` $cos `,` $sin attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Quantised weights (docs/dialect.md, "Quantised matmul")
//===----------------------------------------------------------------------===//

def Kiln_MatmulNBitsOp : Kiln_Op<"matmul_nbits", [InferTypeOpAdaptor,
    AttrSizedOperandSegments]> {
  let summary = "x @ dequantise(W)^T with block-quantised 4- or 8-bit weights";
  let description = [{
    `input[..., K]` times a weight of `N` rows of `K` `bits`-bit integers
    kept packed (ONNX Runtime's `MatMulNBits` layout): `weight` is `ui8`
    `[N, n_blocks, block_size * bits / 8]`, `n_blocks = ceil(K /
    block_size)`; 4-bit values are two a byte, the low nibble first. Row
    `n`, column `k` in block `j = k / block_size` dequantises to
    `(q - zero_point(n, j)) * scales[n * n_blocks + j]`; the zero point is
    `2^(bits - 1)` without `zero_points`, value `j` of row `n`'s
    `ceil(n_blocks * bits / 8)` bytes for `ui8` zero points (packed as the
    weight), or the float `zero_points[n * n_blocks + j]`. `scales` (and float zero points) are
    1-D `[N * n_blocks]` of the input's element type; the optional `bias`
    is `[N]`. The result is `[..., N]`. `block_size` is a power of two
    >= 16; `bits` is 4 or 8.

    ```mlir
    %y = kiln.matmul_nbits %x, %w, %s {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<1x8x32xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, StaticShapeTensorOf<[UI8]>:$weight,
                   Kiln_FloatTensor:$scales,
                   Optional<StaticShapeTensorOf<[UI8, F16, BF16, F32, F64]>>:$zero_points,
                   Optional<Kiln_FloatTensor>:$bias,
                   ConfinedAttr<I64Attr, [IntPositive]>:$K,
                   ConfinedAttr<I64Attr, [IntPositive]>:$N,
                   I64Attr:$bits, I64Attr:$block_size);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $scales (`zero_points` $zero_points^)?
    (`bias` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// Quantisation blocks per weight row: ceil(K / block_size).
    int64_t getNumBlocks() {
      return (int64_t(getK()) + int64_t(getBlockSize()) - 1) /
             int64_t(getBlockSize());
    }
  }];
}

//===----------------------------------------------------------------------===//
// KV cache (docs/kv-cache.md)
//===----------------------------------------------------------------------===//

def Kiln_KvCacheOp : Op<Kiln_Dialect, "kv_cache", [Symbol,
    HasParent<"::mlir::ModuleOp">]> {
  let summary = "declares a persistent, statically sized key/value cache";
  let description = [{
    A module-level declaration of the KV cache every step function of the
    module shares. It lives for the artifact's life (the runtime allocates
    it once and zeroes it) and survives from one step to the next. Its
    layout is `bhsd`: `[layers][2 (key, value)][max_batch][kv_heads]
    [max_seq][head_dim]` elements of `element_type`, so one layer's keys for
    the first `B` rows are one contiguous `[B, kv_heads, max_seq, head_dim]`
    block. A batch bucket of `B` rows uses rows `0..B-1`.

    ```mlir
    kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                   ConfinedAttr<I64Attr, [IntPositive]>:$layers,
                   ConfinedAttr<I64Attr, [IntPositive]>:$kv_heads,
                   ConfinedAttr<I64Attr, [IntPositive]>:$head_dim,
                   ConfinedAttr<I64Attr, [IntPositive]>:$max_batch,
                   ConfinedAttr<I64Attr, [IntPositive]>:$max_seq,
                   TypeAttrOf<Kiln_FloatElt>:$element_type,
                   DefaultValuedStrAttr<StrAttr, "bhsd">:$layout);
  let assemblyFormat = [{
    $sym_name `layers` $layers `kv_heads` $kv_heads `head_dim` $head_dim
    `max_batch` $max_batch `max_seq` $max_seq attr-dict `:` $element_type
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Elements of one [max_batch, kv_heads, max_seq, head_dim] block.
    int64_t getBlockElements() {
      return int64_t(getMaxBatch() * getKvHeads() * getMaxSeq() * getHeadDim());
    }
    /// Element offset of layer `layer`'s keys (`value` = false) or values.
    int64_t getBlockOffset(int64_t layer, bool value) {
      return (layer * 2 + (value ? 1 : 0)) * getBlockElements();
    }
  }];
}

// The persistent KV cache memory (kiln.kv_cache): kv_append reads and
// writes it, so no generic pass drops, merges or reorders an append.
def Kiln_KvCacheResource : Resource<"::kiln::KvCacheResource">;

def Kiln_KvAppendOp : Op<Kiln_Dialect, "kv_append", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead<Kiln_KvCacheResource>,
                   MemWrite<Kiln_KvCacheResource>]>]> {
  let summary = "writes a step's new keys and values into the KV cache";
  let description = [{
    For every row `b < B` and new token `s < S`, writes `key[b, :, s, :]`
    and `value[b, :, s, :]` into layer `layer` of `cache` at sequence slot
    `positions[b] + s` (`key`/`value` are `[B, kv_heads, S, head_dim]`,
    `positions` is `[B]`). Slots at or past `max_seq` are not written (the
    runtime refuses a step that would reach them before it runs). The
    results are the layer's whole key and value cache for rows `0..B-1`
    after the write, `[B, kv_heads, max_seq, head_dim]`: at the scheduled
    level they are views of the KV region, updated in place.

    ```mlir
    %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1xi64>) -> (tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$cache,
                   ConfinedAttr<I64Attr, [IntNonNegative]>:$layer,
                   Kiln_FloatTensor:$key, Kiln_FloatTensor:$value,
                   Kiln_IndexTensor:$positions);
  let results = (outs Kiln_FloatTensor:$key_cache,
                 Kiln_FloatTensor:$value_cache);
  let assemblyFormat = [{
    $cache `[` $layer `]` $key `,` $value `at` $positions attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The cache declaration `cache` names (null if it does not resolve).
    KvCacheOp getCacheOp();
  }];
}

def Kiln_KvAttentionOp : Kiln_Op<"kv_attention", [InferTypeOpAdaptor]> {
  let summary = "causal attention over the KV cache up to each row's length";
  let description = [{
    `softmax(q @ k^T * scale + mask) @ v` per head, where query `s` of row
    `b` sits at cache slot `positions[b] + s` and attends exactly the keys
    `t <= positions[b] + s` that the optional `mask` allows. `query` is
    `[B, Hq, S, D]`, `key_cache`/`value_cache` are `[B, Hkv, T, D]` (the
    results of `kiln.kv_append`, `T` = the cache's `max_seq`); `Hq` is a
    multiple of `Hkv` (query head `h` reads kv head `h / (Hq / Hkv)`). The
    mask broadcasts to `[B, Hq, S, T]`: `i1` (true = attend) or additive
    float, indexed by cache slot. A query with no key left attends nothing
    and yields zeros.

    ```mlir
    %o = kiln.kv_attention %q, %kc, %vc at %pos {scale = 0.25 : f32} : (tensor<1x4x1x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1xi64>) -> tensor<1x4x1x16xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$query, Kiln_FloatTensor:$key_cache,
                   Kiln_FloatTensor:$value_cache,
                   Kiln_IndexTensor:$positions, Optional<Kiln_Tensor>:$mask,
                   F32Attr:$scale);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key_cache `,` $value_cache `at` $positions (`mask` $mask^)?
    attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Fused level
//===----------------------------------------------------------------------===//

def Kiln_FusionOp : Op<Kiln_Dialect, "fusion", [
    IsolatedFromAbove, SingleBlock, RecursiveMemoryEffects,
    RecursivelySpeculatable]> {
  let summary = "a group of graph-level ops that becomes exactly one kernel";
  let description = [{
    The fused level (docs/dialect.md): the body is one block of graph-level
    kiln ops that codegen will turn into exactly one kernel. The region is
    isolated from above: every value the body reads from outside is an
    operand and the block argument at the same position; the results are
    what the `kiln.yield` terminator yields. Weights stay outside (a
    `kiln.weight` in the body is an error; a small `kiln.constant` may be
    inside, though `kiln-form-fusions` leaves constants outside too), and
    fusions and library calls (`kiln.gemm`) do not nest.

    ```mlir
    %r = kiln.fusion %x, %g : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32> {
    ^bb0(%a: tensor<1x8x64xf32>, %b: tensor<64xf32>):
      %n = kiln.rms_norm %a, %b {axis = 2 : i64, epsilon = 1.0e-06 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
      kiln.yield %n : tensor<1x8x64xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<Kiln_Tensor>:$inputs);
  let results = (outs Variadic<Kiln_Tensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat =
      "$inputs attr-dict `:` functional-type($inputs, $results) $body";
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The terminator of the body.
    YieldOp getYield();
  }];
}

def Kiln_YieldOp : Op<Kiln_Dialect, "yield", [
    Pure, Terminator, ParentOneOf<["FusionOp", "KernelOp"]>]> {
  let summary = "the results of a kiln.fusion or a kiln.kernel";
  let description = [{
    Terminates a `kiln.fusion` or `kiln.kernel` body; its operands become
    the fusion's (kernel's) results, in order and with the same types.

    ```mlir
    kiln.yield %a, %b : tensor<4xf32>, tensor<4xi1>
    ```
  }];
  let arguments = (ins Variadic<Kiln_Tensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

def Kiln_GemmOp : Op<Kiln_Dialect, "gemm", [AttrSizedOperandSegments,
    InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DeclareOpInterfaceMethods<ConditionallySpeculatable>]> {
  let summary = "a cuBLASLt matrix multiply with its epilogue";
  let description = [{
    A library call: one cuBLASLt matmul, outside any `kiln.fusion`. With
    `a[..., M, K]` and `b[..., K, N]` (`b[..., N, K]` with `transpose_b`) it
    computes

    `result[..., M, N] = act(scale * (a x b) + bias + residual)`

    where `scale` is cuBLASLt's alpha (1 when absent), the optional `bias`
    is `[N]` and added to every row (CUBLASLT_EPILOGUE_BIAS), the optional
    `residual` has the result's type (cuBLASLt's C with beta = 1), and
    `activation` is `none` (default, elided), `relu` or `gelu_tanh`
    (cuBLASLt's GELU, the tanh approximation), applied last. Batch dims
    broadcast numpy-style, but as cuBLASLt's strided batches allow: each
    operand's batch dims are either the result's (after padding with
    leading 1s) or all 1 (stride 0). All operands share one float element
    type.

    It has two forms, as linalg ops do:

    - fused level, on tensors: a value-semantics op (no memory effects)
      with one tensor result;
    - scheduled level, on buffers (`kiln.view`s): no result; the product is
      written to the `outs` buffer, which must have the result's shape. The
      op reads `a`, `b`, `bias` and `residual` and writes `outs` (memory
      effects on kiln's buffer resource), and it launches work: inside a
      `kiln.graph` it becomes one `gemm` line of the manifest.

    ```mlir
    %y = kiln.gemm %x, %w, %b transpose_b activation<gelu_tanh> : (tensor<1x8x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<1x8x256xf32>
    %z = kiln.gemm %y, %w2 residual %x {scale = 5.0e-01 : f32} : (tensor<1x8x256xf32>, tensor<256x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
    kiln.gemm %xb, %wb outs %yb transpose_b : memref<8x64xf32>, memref<256x64xf32>, memref<8x256xf32>
    ```
  }];
  let arguments = (ins AnyTypeOf<[Kiln_FloatTensor, Kiln_FloatBuffer]>:$a,
                   AnyTypeOf<[Kiln_FloatTensor, Kiln_FloatBuffer]>:$b,
                   Optional<AnyTypeOf<[Kiln_FloatTensor, Kiln_FloatBuffer]>>:$bias,
                   Optional<AnyTypeOf<[Kiln_FloatTensor, Kiln_FloatBuffer]>>:$residual,
                   Optional<Kiln_FloatBuffer>:$out,
                   UnitAttr:$transpose_b,
                   DefaultValuedAttr<Kiln_GemmActivationAttr,
                                     "::kiln::GemmActivation::None">:$activation,
                   OptionalAttr<F32Attr>:$scale);
  let results = (outs Optional<Kiln_FloatTensor>:$result);
  let assemblyFormat = [{
    $a `,` $b (`,` $bias^)? (`residual` $residual^)? (`outs` $out^)?
    (`transpose_b` $transpose_b^)? (`activation` `` $activation^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// True for the scheduled (buffer) form.
    bool hasBufferSemantics() { return getOut() != nullptr; }
    /// The shape of the product: the result's or the `outs` buffer's.
    ::mlir::ShapedType getProductType();
  }];
}

//===----------------------------------------------------------------------===//
// Scheduled level
//===----------------------------------------------------------------------===//

class Kiln_RegionDeclOp<string mnemonic, string what, string example>
    : Op<Kiln_Dialect, mnemonic,
         [MemoryEffects<[MemAlloc<Kiln_BufferResource>]>]> {
  let summary = "declares the " # what;
  let description = !strconcat([{
    Declares, once per scheduled function, the }], what, [{ as a 1-D
    buffer of bytes whose size is the type's. It is a static region that
    exists for the artifact's life: the runtime allocates it once when it
    loads the artifact (an allocation effect on kiln's buffer resource, so
    it may not appear inside a `kiln.graph`). Every buffer in it is a
    `kiln.view` at a static byte offset.

    ```mlir
    }], example, [{

    ```
  }]);
  let results = (outs Kiln_ByteBuffer:$buffer);
  let assemblyFormat = "attr-dict `:` type($buffer)";
  let hasVerifier = 1;
}

def Kiln_ArenaOp : Kiln_RegionDeclOp<"arena",
    "arena (every intermediate, input and output of the step)",
    "%arena = kiln.arena : memref<4096xi8>">;
def Kiln_WeightsOp : Kiln_RegionDeclOp<"weights",
    "weights region (weights.bin, read only)",
    "%weights = kiln.weights : memref<1024xi8>">;
def Kiln_KvRegionOp : Kiln_RegionDeclOp<"kv_region",
    "KV cache region (the module's kiln.kv_cache, persistent across steps)",
    "%kv = kiln.kv_region : memref<8192xi8>">;

def Kiln_ViewOp : Op<Kiln_Dialect, "view", [AlwaysSpeculatable,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "a typed buffer at a static byte offset of a region or view";
  let description = [{
    Names the bytes `[offset, offset + size)` of `base` as a buffer of the
    result type (size = element count x element bytes, `i1` = 1 byte). The
    base is the arena (`kiln.arena`), the weights (`kiln.weights`) or
    another view; a view of a view is an *alias* that reinterprets the same
    bytes (a reshape that needs no kernel), and shares its base's liveness.

    A view of a region (a *root* view) is one planned buffer: 256-byte
    aligned, inside the region. Root views of the arena may bind the step's
    inputs by name (`input "ids"`), and any view of the arena an output
    (`output "logits"`): the runtime copies inputs into their bytes before
    the step and outputs out after it. Roots of the weights carry their contents, `init(%t)`, where
    `%t` is a `kiln.weight` or `kiln.constant`: those bytes are written to
    weights.bin at that offset.

    A root view is a static allocation: it carries an allocation effect on
    its result (kiln's buffer resource), so CSE never merges two roots that
    name the same bytes at different times (they are different buffers).
    An alias has no effect.

    ```mlir
    %ids = kiln.view %arena[0] input "input_ids" : memref<4096xi8> to memref<1x8xi64>
    %h = kiln.view %arena[256] : memref<4096xi8> to memref<1x8x64xf32>
    %h2 = kiln.view %h[0] : memref<1x8x64xf32> to memref<8x64xf32>
    %w = kiln.view %weights[0] init(%wt : tensor<64xf32>) : memref<1024xi8> to memref<64xf32>
    ```
  }];
  let arguments = (ins Kiln_Buffer:$base,
                   ConfinedAttr<I64Attr, [IntNonNegative]>:$offset,
                   Optional<Kiln_Tensor>:$init,
                   OptionalAttr<StrAttr>:$input,
                   OptionalAttr<StrAttr>:$output);
  let results = (outs Kiln_Buffer:$result);
  let assemblyFormat = [{
    $base `[` $offset `]` (`input` $input^)? (`output` $output^)?
    (`init` `(` $init^ `:` type($init) `)`)? attr-dict
    `:` type($base) `to` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The root view this view aliases (itself for a root).
    ViewOp getRoot();
    /// True if the base is a region (kiln.arena or kiln.weights).
    bool isRoot();
    /// The byte offset in the region (the sum of offsets along the chain).
    int64_t getRegionOffset();
    /// The region declaration (a kiln.arena or kiln.weights op), or null
    /// when the chain does not start at one.
    ::mlir::Operation *getRegion();
  }];
}

def Kiln_KernelOp : Op<Kiln_Dialect, "kernel", [
    FunctionOpInterface, IsolatedFromAbove, SingleBlock, OpAsmOpInterface,
    Symbol]> {
  let summary = "a kernel: graph-level ops that become one CUDA function";
  let description = [{
    The body of one kernel at the scheduled level, as a symbol that
    `kiln.launch` names. The body is graph-level kiln ops on tensors, as in
    a `kiln.fusion` (`kiln-schedule` moves each fusion's body here): the
    arguments are the tensors the kernel reads and `kiln.yield` gives what
    it writes. Codegen translates each kernel into one `extern "C"
    __global__` function of the same name; the launch binds its arguments
    and results to buffers. A body that yields an argument unchanged is a
    copy.

    ```mlir
    kiln.kernel @k0_rms_norm(%x: tensor<1x8x64xf32>, %g: tensor<64xf32>) -> tensor<1x8x64xf32> {
      %n = kiln.rms_norm %x, %g {axis = 2 : i64, epsilon = 1.0e-06 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
      kiln.yield %n : tensor<1x8x64xf32>
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<FunctionType>:$function_type,
                       OptionalAttr<DictArrayAttr>:$arg_attrs,
                       OptionalAttr<DictArrayAttr>:$res_attrs);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::Region *getCallableRegion() { return &getBody(); }
    ::llvm::ArrayRef<::mlir::Type> getArgumentTypes() {
      return getFunctionType().getInputs();
    }
    ::llvm::ArrayRef<::mlir::Type> getResultTypes() {
      return getFunctionType().getResults();
    }
    static ::llvm::StringRef getDefaultDialect() { return "kiln"; }
    /// The terminator of the body.
    YieldOp getYield();
  }];
}

def Kiln_LaunchOp : Op<Kiln_Dialect, "launch", [AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "launches a kiln.kernel over buffers";
  let description = [{
    One kernel launch of the step: the kernel named by `@kernel`, with a
    3-D grid and block, dynamic shared memory in bytes, and one buffer per
    kernel argument (`ins`, same shapes and element types as the kernel's
    arguments) and per kernel result (`outs`). It reads the `ins` and
    writes the `outs` (memory effects on kiln's buffer resource), so no
    generic pass may reorder, merge or drop it. A buffer may be both an
    input and an output (an in-place update); the plan verifier accepts
    that only where the kernel allows it.

    ```mlir
    kiln.launch @k0_rms_norm grid [8, 1, 1] block [64, 1, 1] smem 0
        ins(%h, %g : memref<1x8x64xf32>, memref<64xf32>)
        outs(%n : memref<1x8x64xf32>)
    ```

    `prefetch` (optional, kiln-prefetch-weights) lists weights of later
    launches and `bytes` how much of each, from its start: the kernel asks
    L2 for them before it waits for the launch before it, spread over its
    threads, and does not otherwise touch them (no memory effect; a hint
    that changes no result). Their pointers follow the kernel's outputs as
    extra parameters, so every launch of one kernel must prefetch the same
    bytes (the CUDA emitter checks).

    ```mlir
    kiln.launch @k5_linear_add grid [256, 1, 1] block [256, 1, 1] smem 0
        ins(...) outs(...)
        prefetch(%wg, %wu : memref<8192x2048xbf16>, memref<8192x2048xbf16>)
        bytes [4194304, 4194304]
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$kernel,
                   DenseI64ArrayAttr:$grid,
                   DenseI64ArrayAttr:$block,
                   ConfinedAttr<I64Attr, [IntNonNegative]>:$smem,
                   Variadic<Kiln_Buffer>:$inputs,
                   Variadic<Kiln_Buffer>:$outputs,
                   Variadic<Kiln_Buffer>:$prefetch,
                   OptionalAttr<DenseI64ArrayAttr>:$prefetch_bytes);
  let assemblyFormat = [{
    $kernel `grid` $grid `block` $block `smem` $smem
    `ins` `(` ($inputs^ `:` type($inputs))? `)`
    `outs` `(` $outputs `:` type($outputs) `)`
    (`prefetch` `(` $prefetch^ `:` type($prefetch) `)` `bytes` $prefetch_bytes)?
    attr-dict
  }];
  let builders = [
    OpBuilder<(ins "llvm::StringRef":$kernel, "llvm::ArrayRef<int64_t>":$grid,
                   "llvm::ArrayRef<int64_t>":$block, "int64_t":$smem,
                   "mlir::ValueRange":$inputs, "mlir::ValueRange":$outputs), [{
      build($_builder, $_state, kernel, grid, block, smem, inputs, outputs,
            mlir::ValueRange(), mlir::DenseI64ArrayAttr());
    }]>
  ];
  let hasVerifier = 1;
}

def Kiln_GraphOp : Op<Kiln_Dialect, "graph", [
    NoTerminator, SingleBlock, RecursiveMemoryEffects,
    NoRegionArguments]> {
  let summary = "the step the runtime captures as one CUDA graph";
  let description = [{
    Wraps the launch sequence of one step. The runtime records everything
    in the region, in order, into one CUDA graph and replays it; so the
    region is verified to be capturable (docs/scheduled-ir.md):

    - it holds only `kiln.launch`, buffer-form `kiln.gemm` and `kiln.view`
      (alias) ops: no allocation, no host synchronisation or host read, no
      op of another dialect;
    - every buffer it touches is a `kiln.view` chain rooted at the arena or
      the weights (an address fixed for the artifact's life), with a static
      shape (no data-dependent shape);
    - the memory plan holds (the plan verifier): every root buffer's live
      range runs from the launch that writes it (the start, for inputs and
      weights) to the last launch that reads it or one of its aliases (the
      end, for outputs); two roots whose bytes overlap are never live at
      the same time, except an in-place update the kernel allows; and each
      root is written by one launch, or updated in place.

    ```mlir
    kiln.graph {
      kiln.launch @k0_add grid [1, 1, 1] block [256, 1, 1] smem 0
          ins(%a, %b : memref<4xf32>, memref<4xf32>) outs(%c : memref<4xf32>)
    }
    ```
  }];
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
}

include "kiln/Dialect/Kiln/IR/KilnIndexOps.td"

#endif // KILN_OPS
