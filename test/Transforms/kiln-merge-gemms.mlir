// RUN: kiln-opt %s --split-input-file --kiln-merge-gemms | FileCheck %s

// Gate and up (one input, no epilogue, single-use weights of 256-byte
// multiples, an elementwise consumer): one gemm on the weights'
// concatenation (axis 0, copying nothing: kiln-schedule stores the parts
// back to back); the consumer reads both column ranges through slices of
// the merged result in its body.
// CHECK-LABEL: func.func @gate_up
// CHECK-SAME: (%[[X:.+]]: tensor<4x64xf32>)
// CHECK: %[[WG:.+]] = kiln.weight "wg"
// CHECK: %[[WU:.+]] = kiln.weight "wu"
// CHECK: %[[W:.+]] = kiln.concat %[[WG]], %[[WU]] {axis = 0 : i64, kiln.weight_concat} : (tensor<128x64xf32>, tensor<128x64xf32>) -> tensor<256x64xf32>
// CHECK-NEXT: %[[Y:.+]] = kiln.gemm %[[X]], %[[W]] transpose_b : (tensor<4x64xf32>, tensor<256x64xf32>) -> tensor<4x256xf32>
// CHECK-NEXT: kiln.fusion %[[Y]] : (tensor<4x256xf32>) -> tensor<4x128xf32>
// CHECK-NEXT: ^bb0(%[[A:.+]]: tensor<4x256xf32>):
// CHECK-NEXT: %[[G:.+]] = kiln.slice %[[A]] {starts = array<i64: 0, 0>, steps = array<i64: 1, 1>} : tensor<4x256xf32> -> tensor<4x128xf32>
// CHECK-NEXT: %[[U:.+]] = kiln.slice %[[A]] {starts = array<i64: 0, 128>, steps = array<i64: 1, 1>} : tensor<4x256xf32> -> tensor<4x128xf32>
// CHECK-NEXT: %[[S:.+]] = kiln.silu %[[G]]
// CHECK-NEXT: kiln.mul %[[S]], %[[U]]
// CHECK-NOT: kiln.gemm
func.func @gate_up(%x: tensor<4x64xf32>) -> tensor<4x128xf32> {
  %wg = kiln.weight "wg" {path = "w.bin", offset = 0 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %g = kiln.gemm %x, %wg transpose_b : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
  %wu = kiln.weight "wu" {path = "w.bin", offset = 32768 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %u = kiln.gemm %x, %wu transpose_b : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
  %h = kiln.fusion %g, %u : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32> {
  ^bb0(%a: tensor<4x128xf32>, %b: tensor<4x128xf32>):
    %s = kiln.silu %a : tensor<4x128xf32>
    %m = kiln.mul %s, %b : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32>
    kiln.yield %m : tensor<4x128xf32>
  }
  return %h : tensor<4x128xf32>
}

// -----

// Three siblings of different widths, each read by its own elementwise
// fusion (Qwen2's q/k/v with their bias adds): the third's columns start
// at 64 + 32. The merged result is appended to each fusion's inputs.
// CHECK-LABEL: func.func @three
// CHECK: kiln.concat {{.*}} : (tensor<64x64xf32>, tensor<32x64xf32>, tensor<32x64xf32>) -> tensor<128x64xf32>
// CHECK: %[[Y:.+]] = kiln.gemm {{.*}} -> tensor<2x128xf32>
// CHECK: kiln.fusion %{{.+}}, %[[Y]] : (tensor<64xf32>, tensor<2x128xf32>)
// CHECK: kiln.slice %{{.+}} {starts = array<i64: 0, 0>,
// CHECK: kiln.fusion %{{.+}}, %[[Y]] : (tensor<32xf32>, tensor<2x128xf32>)
// CHECK: kiln.slice %{{.+}} {starts = array<i64: 0, 64>,
// CHECK: kiln.fusion %{{.+}}, %[[Y]] : (tensor<32xf32>, tensor<2x128xf32>)
// CHECK: kiln.slice %{{.+}} {starts = array<i64: 0, 96>,
func.func @three(%x: tensor<2x64xf32>, %bq: tensor<64xf32>, %bk: tensor<32xf32>, %bv: tensor<32xf32>) -> (tensor<2x64xf32>, tensor<2x32xf32>, tensor<2x32xf32>) {
  %wq = kiln.weight "wq" {path = "w.bin", offset = 0 : i64, length = 16384 : i64, transposed} : tensor<64x64xf32>
  %wk = kiln.weight "wk" {path = "w.bin", offset = 16384 : i64, length = 8192 : i64, transposed} : tensor<32x64xf32>
  %wv = kiln.weight "wv" {path = "w.bin", offset = 24576 : i64, length = 8192 : i64, transposed} : tensor<32x64xf32>
  %q = kiln.gemm %x, %wq transpose_b : (tensor<2x64xf32>, tensor<64x64xf32>) -> tensor<2x64xf32>
  %k = kiln.gemm %x, %wk transpose_b : (tensor<2x64xf32>, tensor<32x64xf32>) -> tensor<2x32xf32>
  %v = kiln.gemm %x, %wv transpose_b : (tensor<2x64xf32>, tensor<32x64xf32>) -> tensor<2x32xf32>
  %q2 = kiln.fusion %q, %bq : (tensor<2x64xf32>, tensor<64xf32>) -> tensor<2x64xf32> {
  ^bb0(%a: tensor<2x64xf32>, %b: tensor<64xf32>):
    %s = kiln.add %a, %b : (tensor<2x64xf32>, tensor<64xf32>) -> tensor<2x64xf32>
    kiln.yield %s : tensor<2x64xf32>
  }
  %k2 = kiln.fusion %k, %bk : (tensor<2x32xf32>, tensor<32xf32>) -> tensor<2x32xf32> {
  ^bb0(%a: tensor<2x32xf32>, %b: tensor<32xf32>):
    %s = kiln.add %a, %b : (tensor<2x32xf32>, tensor<32xf32>) -> tensor<2x32xf32>
    kiln.yield %s : tensor<2x32xf32>
  }
  %v2 = kiln.fusion %v, %bv : (tensor<2x32xf32>, tensor<32xf32>) -> tensor<2x32xf32> {
  ^bb0(%a: tensor<2x32xf32>, %b: tensor<32xf32>):
    %s = kiln.add %a, %b : (tensor<2x32xf32>, tensor<32xf32>) -> tensor<2x32xf32>
    kiln.yield %s : tensor<2x32xf32>
  }
  return %q2, %k2, %v2 : tensor<2x64xf32>, tensor<2x32xf32>, tensor<2x32xf32>
}

// -----

// Near misses stay separate gemms: a residual epilogue on one of two (so
// one candidate is left on %x); a consumer that is not elementwise (a
// softmax: it cannot read through a slice leaf); weights whose bytes are
// not a multiple of 256 (240: the parts would not abut); a weight another
// op reads too (returned). The candidates left (%b on %x, %d on %x2, %k on
// %x4) are one per input.
// CHECK-LABEL: func.func @near_misses
// CHECK-NOT: kiln.concat
// CHECK-COUNT-8: kiln.gemm
// CHECK-NOT: kiln.concat
func.func @near_misses(%x: tensor<4x64xf32>, %r: tensor<4x128xf32>, %x2: tensor<4x64xf32>, %x3: tensor<4x20xf32>, %x4: tensor<4x64xf32>) -> (tensor<4x128xf32>, tensor<4x128xf32>, tensor<4x128xf32>, tensor<4x3xf32>, tensor<4x128xf32>, tensor<128x64xf32>) {
  %w0 = kiln.weight "w0" {path = "w.bin", offset = 0 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %w1 = kiln.weight "w1" {path = "w.bin", offset = 0 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %a = kiln.gemm %x, %w0 residual %r transpose_b : (tensor<4x64xf32>, tensor<128x64xf32>, tensor<4x128xf32>) -> tensor<4x128xf32>
  %b = kiln.gemm %x, %w1 transpose_b : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
  %ab = kiln.fusion %a, %b : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32> {
  ^bb0(%p: tensor<4x128xf32>, %q: tensor<4x128xf32>):
    %s = kiln.add %p, %q : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32>
    kiln.yield %s : tensor<4x128xf32>
  }
  %w2 = kiln.weight "w2" {path = "w.bin", offset = 0 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %w3 = kiln.weight "w3" {path = "w.bin", offset = 0 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %c = kiln.gemm %x2, %w2 transpose_b : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
  %d = kiln.gemm %x2, %w3 transpose_b : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
  %sc = kiln.fusion %c : (tensor<4x128xf32>) -> tensor<4x128xf32> {
  ^bb0(%t: tensor<4x128xf32>):
    %e = kiln.softmax %t {axis = 1 : i64} : tensor<4x128xf32>
    kiln.yield %e : tensor<4x128xf32>
  }
  %ed = kiln.fusion %d : (tensor<4x128xf32>) -> tensor<4x128xf32> {
  ^bb0(%t: tensor<4x128xf32>):
    %e = kiln.exp %t : tensor<4x128xf32>
    kiln.yield %e : tensor<4x128xf32>
  }
  %w4 = kiln.weight "w4" {path = "w.bin", offset = 0 : i64, length = 240 : i64, transposed} : tensor<3x20xf32>
  %w5 = kiln.weight "w5" {path = "w.bin", offset = 0 : i64, length = 240 : i64, transposed} : tensor<3x20xf32>
  %f = kiln.gemm %x3, %w4 transpose_b : (tensor<4x20xf32>, tensor<3x20xf32>) -> tensor<4x3xf32>
  %g = kiln.gemm %x3, %w5 transpose_b : (tensor<4x20xf32>, tensor<3x20xf32>) -> tensor<4x3xf32>
  %fg = kiln.fusion %f, %g : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32> {
  ^bb0(%p: tensor<4x3xf32>, %q: tensor<4x3xf32>):
    %s = kiln.add %p, %q : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
    kiln.yield %s : tensor<4x3xf32>
  }
  %w6 = kiln.weight "w6" {path = "w.bin", offset = 0 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %w7 = kiln.weight "w7" {path = "w.bin", offset = 0 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %i = kiln.gemm %x4, %w6 transpose_b : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
  %k = kiln.gemm %x4, %w7 transpose_b : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
  %ik = kiln.fusion %i, %k : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32> {
  ^bb0(%p: tensor<4x128xf32>, %q: tensor<4x128xf32>):
    %s = kiln.mul %p, %q : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32>
    kiln.yield %s : tensor<4x128xf32>
  }
  return %ab, %sc, %ed, %fg, %ik, %w6 : tensor<4x128xf32>, tensor<4x128xf32>, tensor<4x128xf32>, tensor<4x3xf32>, tensor<4x128xf32>, tensor<128x64xf32>
}

// -----

// Groups are the module's: a weight that one function pairs with "wu" and
// another with "wx" (other partners) is merged in neither, so the shared
// weights layout can store every group back to back. Each function alone
// would merge its pair.
// CHECK-LABEL: func.func @one
// CHECK-NOT: kiln.concat
// CHECK-LABEL: func.func @two
// CHECK-NOT: kiln.concat
func.func @one(%x: tensor<4x64xf32>) -> tensor<4x128xf32> {
  %wg = kiln.weight "wg" {path = "w.bin", offset = 0 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %g = kiln.gemm %x, %wg transpose_b : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
  %wu = kiln.weight "wu" {path = "w.bin", offset = 32768 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %u = kiln.gemm %x, %wu transpose_b : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
  %h = kiln.fusion %g, %u : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32> {
  ^bb0(%a: tensor<4x128xf32>, %b: tensor<4x128xf32>):
    %m = kiln.mul %a, %b : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32>
    kiln.yield %m : tensor<4x128xf32>
  }
  return %h : tensor<4x128xf32>
}
func.func @two(%x: tensor<4x64xf32>) -> tensor<4x128xf32> {
  %wg = kiln.weight "wg" {path = "w.bin", offset = 0 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %g = kiln.gemm %x, %wg transpose_b : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
  %wx = kiln.weight "wx" {path = "w.bin", offset = 0 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %u = kiln.gemm %x, %wx transpose_b : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
  %h = kiln.fusion %g, %u : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32> {
  ^bb0(%a: tensor<4x128xf32>, %b: tensor<4x128xf32>):
    %m = kiln.mul %a, %b : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32>
    kiln.yield %m : tensor<4x128xf32>
  }
  return %h : tensor<4x128xf32>
}

// -----

// Near miss: the consumer's loop is wider than the products (it broadcasts
// them against a [2, 4, 128] input). A slice leaf is read at the loop's
// coordinates, so the products stay two gemms (merged, codegen refused the
// slice).
// CHECK-LABEL: func.func @broadcast_consumer
// CHECK-NOT: kiln.concat
// CHECK-COUNT-2: kiln.gemm
// CHECK-NOT: kiln.slice
func.func @broadcast_consumer(%x: tensor<4x64xf32>, %t: tensor<2x4x128xf32>) -> tensor<2x4x128xf32> {
  %wg = kiln.weight "wg" {path = "w.bin", offset = 0 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %g = kiln.gemm %x, %wg transpose_b : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
  %wu = kiln.weight "wu" {path = "w.bin", offset = 32768 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %u = kiln.gemm %x, %wu transpose_b : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
  %h = kiln.fusion %g, %u, %t : (tensor<4x128xf32>, tensor<4x128xf32>, tensor<2x4x128xf32>) -> tensor<2x4x128xf32> {
  ^bb0(%a: tensor<4x128xf32>, %b: tensor<4x128xf32>, %c: tensor<2x4x128xf32>):
    %m = kiln.mul %a, %b : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32>
    %n = kiln.add %m, %c : (tensor<4x128xf32>, tensor<2x4x128xf32>) -> tensor<2x4x128xf32>
    kiln.yield %n : tensor<2x4x128xf32>
  }
  return %h : tensor<2x4x128xf32>
}
