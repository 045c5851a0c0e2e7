//===- KilnDialect.td - kiln dialect definition ------------*- tablegen -*-===//
//
// The kiln dialect: graph-level tensor ops for decoder-only transformers, as
// imported from ONNX, with static shapes.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT
#define KILN_DIALECT

include "mlir/IR/OpBase.td"

def Kiln_Dialect : Dialect {
  let name = "kiln";
  let summary = "Tensor ops, kernels and launches for transformer inference.";
  let description = [{
    The kiln dialect holds all three levels of the kiln compiler.

    - Graph level: ops on ranked tensors with static shapes (elementwise
      math, matmul, reductions, norms, softmax, data movement, attention and
      rotary embedding). Weights are references (`kiln.weight`) to bytes
      that live outside the IR, never large dense attributes. Closed sets of
      choices are enum attributes (`#kiln.approximate<tanh>`). The importer
      names a function's arguments and results after the ONNX graph's
      inputs and outputs with `kiln.name`.
    - Fused level: `kiln.fusion` (graph-level ops that become one kernel)
      and `kiln.gemm` (a cuBLASLt call). The memory planner
      (`kiln-plan-memory`) records its result in discardable attributes:
      `kiln.arena` (a byte offset per result, or per argument) and
      `kiln.arena_bytes` (the arena's size, on the function).
    - Scheduled level (docs/scheduled-ir.md): regions (`kiln.arena`,
      `kiln.weights`), buffers as values (`kiln.view`), kernels as symbols
      (`kiln.kernel`), launches (`kiln.launch`, buffer-form `kiln.gemm`)
      and the captured step (`kiln.graph`), whose verifier checks capture
      safety and the memory plan.
  }];
  let cppNamespace = "::kiln";
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;

  let extraClassDeclaration = [{
    // The discardable attributes kiln defines. Spell them through these
    // accessors only, never as string literals.

    /// `kiln.name` (StringAttr), on a function argument or result: the ONNX
    /// graph input or output it binds to.
    static constexpr ::llvm::StringLiteral getNameAttrName() {
      return ::llvm::StringLiteral("kiln.name");
    }
    /// `kiln.arena`, at the scheduled level: on an op, the byte offset of
    /// each result in the arena (`array<i64>`); on a function argument, its
    /// offset (`i64`).
    static constexpr ::llvm::StringLiteral getArenaAttrName() {
      return ::llvm::StringLiteral("kiln.arena");
    }
    /// `kiln.arena_bytes` (`i64`), on a planned function: the arena's size.
    static constexpr ::llvm::StringLiteral getArenaBytesAttrName() {
      return ::llvm::StringLiteral("kiln.arena_bytes");
    }

    /// Registers the attributes of KilnAttrs.td (KilnAttrs.cpp).
    void registerAttributes();
  }];
}

#endif // KILN_DIALECT
