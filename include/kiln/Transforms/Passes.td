//===- Passes.td - kiln pass definitions --------------------*- tablegen -*-===//
//
// Every kiln pass. Arguments are prefixed `kiln-`.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TRANSFORMS_PASSES
#define KILN_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def KilnSimplify : Pass<"kiln-simplify"> {
  let summary = "Fold and canonicalise kiln graph-level ops";
  let description = [{
    Applies the kiln ops' folders and canonicalisation patterns greedily:
    constant operands fold through reshape, cast-to-same-type, identity
    transpose/slice/expand disappear, chains of reshapes and of transposes
    compose into one op, and dead ops are erased.

    ```
    %1 = kiln.reshape %0 : tensor<2x8xf32> -> tensor<16xf32>
    %2 = kiln.reshape %1 : tensor<16xf32> -> tensor<4x4xf32>
    // becomes
    %2 = kiln.reshape %0 : tensor<2x8xf32> -> tensor<4x4xf32>
    ```
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
  let options = [
    Option<"maxIterations", "max-iterations", "int64_t", /*default=*/"10",
           "Greedy rewrite iterations before giving up">,
  ];
}

#endif // KILN_TRANSFORMS_PASSES
