// RUN: not kiln-opt %s --kiln-lower-precision=precision=fp8 2>&1 | FileCheck %s --check-prefix=BADOPT
// RUN: kiln-opt %s --split-input-file --verify-diagnostics --kiln-lower-precision=precision=bf16

// BADOPT: error: kiln-lower-precision: unknown precision 'fp8' (expected f32, bf16 or f16)
func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

// -----

// Planned functions are past the point where storage types may change.
// expected-error @+1 {{kiln-lower-precision runs before kiln-plan-memory: this function is already planned}}
func.func @planned(%a: tensor<4xf32>) -> tensor<4xf32> attributes {kiln.arena_bytes = 0 : i64} {
  return %a : tensor<4xf32>
}

// -----

// Scheduled IR is refused.
func.func @scheduled() {
  // expected-error @+1 {{kiln-lower-precision runs on the fused level, not on scheduled IR}}
  kiln.graph {
  }
  return
}
