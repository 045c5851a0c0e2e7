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
  let summary = "Graph-level tensor ops for transformer inference.";
  let description = [{
    The kiln dialect holds the graph level of the kiln compiler: ops on ranked
    tensors with static shapes (elementwise math, matmul, reductions, norms,
    softmax, data movement, attention and rotary embedding). Weights are
    references (`kiln.weight`) to bytes that live outside the IR, never large
    dense attributes. Later levels (fused, scheduled) annotate the same ops.
  }];
  let cppNamespace = "::kiln";
  let useDefaultAttributePrinterParser = 0;
  let hasConstantMaterializer = 1;
}

#endif // KILN_DIALECT
