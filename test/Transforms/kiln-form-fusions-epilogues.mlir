// kiln-form-fusions folds what follows a cuBLASLt gemm into the gemm's
// epilogue, act(scale * (a x b) + bias + residual), where that is exact:
// GELU (tanh) and ReLU as cuBLASLt's activation epilogues, a scale as its
// alpha, a residual add as its C. Folded ops launch nothing of their own.
// The reference backend checks the values (test/Reference/gemm-epilogues.test).
// RUN: kiln-opt %s --kiln-form-fusions --split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-form-fusions=library-calls=false --split-input-file | FileCheck %s --check-prefix=NOLIB

//===----------------------------------------------------------------------===//
// Positive
//===----------------------------------------------------------------------===//

// GPT-2's MLP: a 2-D dense layer with bias, a reshape back to [B, T, C],
// GELU (tanh). The activation goes into the gemm, the reshape after it.
// CHECK-LABEL: func.func @gelu_through_reshape
// CHECK-SAME: (%[[X:.+]]: tensor<8x64xf32>)
// CHECK-NEXT: %[[W:.+]] = kiln.weight "w"
// CHECK-NEXT: %[[B:.+]] = kiln.weight "b"
// CHECK-NEXT: %[[G:.+]] = kiln.gemm %[[X]], %[[W]], %[[B]] activation<gelu_tanh> : (tensor<8x64xf32>, tensor<64x256xf32>, tensor<256xf32>) -> tensor<8x256xf32>
// CHECK-NEXT: %[[R:.+]] = kiln.reshape %[[G]] : tensor<8x256xf32> -> tensor<1x8x256xf32>
// CHECK-NEXT: return %[[R]]
// NOLIB-LABEL: func.func @gelu_through_reshape
// NOLIB-NOT: kiln.gemm
// NOLIB: kiln.gelu
func.func @gelu_through_reshape(%x: tensor<8x64xf32>) -> tensor<1x8x256xf32> {
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 65536 : i64} : tensor<64x256xf32>
  %b = kiln.weight "b" {path = "w.bin", offset = 65536 : i64, length = 1024 : i64} : tensor<256xf32>
  %0 = kiln.linear %x, %w, %b : (tensor<8x64xf32>, tensor<64x256xf32>, tensor<256xf32>) -> tensor<8x256xf32>
  %1 = kiln.reshape %0 : tensor<8x256xf32> -> tensor<1x8x256xf32>
  %2 = kiln.gelu %1 approximate<tanh> : tensor<1x8x256xf32>
  return %2 : tensor<1x8x256xf32>
}

// -----

// ReLU as the importer writes it, max(x, 0), in either operand order; a 0
// of any splat shape that does not change the type.
// CHECK-LABEL: func.func @relu
// CHECK: kiln.gemm %{{.+}}, %{{.+}} activation<relu> : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
// CHECK: kiln.gemm %{{.+}}, %{{.+}} activation<relu> : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
// CHECK-NOT: kiln.fusion
// CHECK-NOT: kiln.max
// CHECK: return
func.func @relu(%x: tensor<1x8x64xf32>) -> (tensor<1x8x64xf32>, tensor<1x8x64xf32>) {
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 16384 : i64} : tensor<64x64xf32>
  %zero = kiln.constant dense<0.0> : tensor<f32>
  %zeros = kiln.constant dense<0.0> : tensor<64xf32>
  %0 = kiln.matmul %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %1 = kiln.max %0, %zero : (tensor<1x8x64xf32>, tensor<f32>) -> tensor<1x8x64xf32>
  %2 = kiln.matmul %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %3 = kiln.max %zeros, %2 : (tensor<64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %1, %3 : tensor<1x8x64xf32>, tensor<1x8x64xf32>
}

// -----

// A scale (x * c, c * x, x / 2^k) is cuBLASLt's alpha; a chain folds whole:
// scale, then the residual add, then the activation.
// CHECK-LABEL: func.func @scale_chain
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x64xf32>, %[[R:.+]]: tensor<1x8x64xf32>)
// CHECK: %[[G0:.+]] = kiln.gemm %[[X]], %{{.+}} residual %[[R]] activation<gelu_tanh> {scale = 1.250000e-01 : f32}
// CHECK: %[[G1:.+]] = kiln.gemm %[[X]], %{{.+}} {scale = 3.000000e+00 : f32}
// CHECK: %[[G2:.+]] = kiln.gemm %[[X]], %{{.+}} {scale = -2.500000e-01 : f32}
// CHECK-NOT: kiln.fusion
// CHECK: return %[[G0]], %[[G1]], %[[G2]]
func.func @scale_chain(%x: tensor<1x8x64xf32>, %r: tensor<1x8x64xf32>) -> (tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>) {
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 16384 : i64} : tensor<64x64xf32>
  %eighth = kiln.constant dense<0.125> : tensor<f32>
  %three = kiln.constant dense<3.0> : tensor<1xf32>
  %minus4 = kiln.constant dense<-4.0> : tensor<f32>
  %0 = kiln.matmul %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %1 = kiln.mul %0, %eighth : (tensor<1x8x64xf32>, tensor<f32>) -> tensor<1x8x64xf32>
  %2 = kiln.add %r, %1 : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  %3 = kiln.gelu %2 approximate<tanh> : tensor<1x8x64xf32>
  %4 = kiln.matmul %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %5 = kiln.mul %three, %4 : (tensor<1xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  %6 = kiln.matmul %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %7 = kiln.div %6, %minus4 : (tensor<1x8x64xf32>, tensor<f32>) -> tensor<1x8x64xf32>
  return %3, %5, %7 : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
}

//===----------------------------------------------------------------------===//
// Negative: what stays an op after the gemm
//===----------------------------------------------------------------------===//

// -----

// Not cuBLASLt's: GELU's erf form; max with a value other than 0; a
// division by 3 (1/3 is not exact); a product of a non-splat constant; a
// scale after a bias (it would scale the bias too).
// CHECK-LABEL: func.func @not_epilogues
// CHECK: %[[G0:.+]] = kiln.gemm %{{.+}}, %{{.+}} : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
// CHECK-NEXT: kiln.fusion %[[G0]]
// CHECK: kiln.gelu
// CHECK: %[[G1:.+]] = kiln.gemm %{{.+}}, %{{.+}} : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
// CHECK-NEXT: kiln.fusion %[[G1]]
// CHECK: kiln.max
// CHECK: %[[G2:.+]] = kiln.gemm %{{.+}}, %{{.+}} : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
// CHECK-NEXT: kiln.fusion %[[G2]]
// CHECK: kiln.div
// CHECK: %[[G3:.+]] = kiln.gemm %{{.+}}, %{{.+}} : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
// CHECK-NEXT: kiln.fusion %[[G3]]
// CHECK: kiln.mul
// CHECK: %[[G4:.+]] = kiln.gemm %{{.+}}, %{{.+}}, %{{.+}} : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
// CHECK-NEXT: kiln.fusion %[[G4]]
// CHECK: kiln.mul
// CHECK-NOT: activation<
// CHECK-NOT: scale =
// CHECK: return
func.func @not_epilogues(%x: tensor<1x8x64xf32>) -> (tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>) {
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 16384 : i64} : tensor<64x64xf32>
  %b = kiln.weight "b" {path = "w.bin", offset = 16384 : i64, length = 256 : i64} : tensor<64xf32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %three = kiln.constant dense<3.0> : tensor<f32>
  %half = kiln.constant dense<0.5> : tensor<f32>
  %ramp = kiln.constant dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0, 40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0, 47.0, 48.0, 49.0, 50.0, 51.0, 52.0, 53.0, 54.0, 55.0, 56.0, 57.0, 58.0, 59.0, 60.0, 61.0, 62.0, 63.0, 64.0]> : tensor<64xf32>
  %0 = kiln.matmul %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %1 = kiln.gelu %0 : tensor<1x8x64xf32>
  %2 = kiln.matmul %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %3 = kiln.max %2, %one : (tensor<1x8x64xf32>, tensor<f32>) -> tensor<1x8x64xf32>
  %4 = kiln.matmul %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %5 = kiln.div %4, %three : (tensor<1x8x64xf32>, tensor<f32>) -> tensor<1x8x64xf32>
  %6 = kiln.matmul %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %8 = kiln.mul %6, %ramp : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %9 = kiln.linear %x, %w, %b : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %10 = kiln.mul %9, %half : (tensor<1x8x64xf32>, tensor<f32>) -> tensor<1x8x64xf32>
  return %1, %3, %5, %8, %10 : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
}

// -----

// A product with a second reader keeps its value: the GELU stays an op.
// One activation per gemm: the second (relu after gelu) stays an op too.
// A residual after an activation would change what the activation sees.
// CHECK-LABEL: func.func @one_each
// CHECK: %[[G0:.+]] = kiln.gemm %{{.+}}, %{{.+}} : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
// CHECK: %[[G1:.+]] = kiln.gemm %{{.+}}, %{{.+}} activation<gelu_tanh> : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
// CHECK-NEXT: kiln.fusion %[[G1]]
// CHECK: kiln.max
// CHECK: %[[G2:.+]] = kiln.gemm %{{.+}}, %{{.+}} activation<gelu_tanh> : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
// CHECK-NEXT: kiln.fusion %[[G2]]
// CHECK: kiln.add
// CHECK: return
func.func @one_each(%x: tensor<1x8x64xf32>) -> (tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>) {
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 16384 : i64} : tensor<64x64xf32>
  %zero = kiln.constant dense<0.0> : tensor<f32>
  %0 = kiln.matmul %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %1 = kiln.gelu %0 approximate<tanh> : tensor<1x8x64xf32>
  %2 = kiln.matmul %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %3 = kiln.gelu %2 approximate<tanh> : tensor<1x8x64xf32>
  %4 = kiln.max %3, %zero : (tensor<1x8x64xf32>, tensor<f32>) -> tensor<1x8x64xf32>
  %5 = kiln.matmul %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %6 = kiln.gelu %5 approximate<tanh> : tensor<1x8x64xf32>
  %7 = kiln.add %6, %x : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %0, %1, %4, %7 : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
}
