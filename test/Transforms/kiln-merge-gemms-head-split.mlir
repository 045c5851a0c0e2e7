// RUN: kiln-opt %s --split-input-file --kiln-merge-gemms | FileCheck %s --check-prefix=OFF
// RUN: kiln-opt %s --split-input-file --kiln-merge-gemms=head-split=1 | FileCheck %s

// Llama-style q/k/v at 16 rows (cuBLASLt gemms): each product is split
// into heads (reshape [B, S, H x D] -> [B, S, H, D], transpose (0, 2, 1,
// 3)) and read by a fusion of one rotary (q, k) or one kv_append (v). With
// head-split the three are one gemm on the weights' concatenation, and each
// consumer takes the merged result as an input and slices, reshapes and
// transposes its columns in its body (kiln::headSource reads them in
// place); the splits outside go. Without it nothing changes.
// OFF-LABEL: func.func @qkv
// OFF-COUNT-3: kiln.gemm
// OFF-NOT: kiln.concat
// CHECK-LABEL: func.func @qkv
// CHECK-SAME: (%[[X:[^:]+]]: tensor<16x1x64xbf16>, %[[C:[^:]+]]: tensor<16x1x8xf32>, %[[S:[^:]+]]: tensor<16x1x8xf32>, %[[P:[^:]+]]: tensor<16xi64>)
// CHECK: %[[W:.+]] = kiln.concat {{.*}} : (tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>) -> tensor<128x64xbf16>
// CHECK-NEXT: %[[Y:.+]] = kiln.gemm %[[X]], %[[W]] transpose_b : (tensor<16x1x64xbf16>, tensor<128x64xbf16>) -> tensor<16x1x128xbf16>
// CHECK-NOT: kiln.reshape
// CHECK: %[[Q:.+]] = kiln.fusion %[[C]], %[[S]], %[[Y]] : (tensor<16x1x8xf32>, tensor<16x1x8xf32>, tensor<16x1x128xbf16>) -> tensor<16x4x1x16xbf16>
// CHECK-NEXT: ^bb0(%{{.+}}: tensor<16x1x8xf32>, %{{.+}}: tensor<16x1x8xf32>, %[[A:.+]]: tensor<16x1x128xbf16>):
// CHECK-NEXT: %[[SL:.+]] = kiln.slice %[[A]] {starts = array<i64: 0, 0, 0>, steps = array<i64: 1, 1, 1>} : tensor<16x1x128xbf16> -> tensor<16x1x64xbf16>
// CHECK-NEXT: %[[R:.+]] = kiln.reshape %[[SL]] : tensor<16x1x64xbf16> -> tensor<16x1x4x16xbf16>
// CHECK-NEXT: %[[T:.+]] = kiln.transpose %[[R]] {perm = array<i64: 0, 2, 1, 3>}
// CHECK-NEXT: kiln.rotary %[[T]]
// CHECK: %[[K:.+]] = kiln.fusion %[[C]], %[[S]], %[[Y]]
// CHECK: kiln.slice %{{.+}} {starts = array<i64: 0, 0, 64>, steps = array<i64: 1, 1, 1>} : tensor<16x1x128xbf16> -> tensor<16x1x32xbf16>
// CHECK: kiln.rotary
// CHECK: kiln.fusion %[[K]], %[[P]], %[[Y]]
// CHECK: kiln.slice %{{.+}} {starts = array<i64: 0, 0, 96>, steps = array<i64: 1, 1, 1>} : tensor<16x1x128xbf16> -> tensor<16x1x32xbf16>
// CHECK-NEXT: kiln.reshape
// CHECK-NEXT: %[[VT:.+]] = kiln.transpose
// CHECK-NEXT: kiln.kv_append @kv[0] %{{.+}}, %[[VT]] at
// CHECK-NOT: kiln.gemm
module {
  kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 16 max_batch 16 max_seq 64 : bf16
  func.func @qkv(%x: tensor<16x1x64xbf16>, %cos: tensor<16x1x8xf32>, %sin: tensor<16x1x8xf32>, %pos: tensor<16xi64>) -> (tensor<16x4x1x16xbf16>, tensor<16x2x64x16xbf16>, tensor<16x2x64x16xbf16>) {
    %wq = kiln.weight "wq" {path = "w.bin", offset = 0 : i64, length = 8192 : i64, transposed} : tensor<64x64xbf16>
    %q = kiln.gemm %x, %wq transpose_b : (tensor<16x1x64xbf16>, tensor<64x64xbf16>) -> tensor<16x1x64xbf16>
    %q4 = kiln.reshape %q : tensor<16x1x64xbf16> -> tensor<16x1x4x16xbf16>
    %qt = kiln.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<16x1x4x16xbf16>) -> tensor<16x4x1x16xbf16>
    %wk = kiln.weight "wk" {path = "w.bin", offset = 8192 : i64, length = 4096 : i64, transposed} : tensor<32x64xbf16>
    %k = kiln.gemm %x, %wk transpose_b : (tensor<16x1x64xbf16>, tensor<32x64xbf16>) -> tensor<16x1x32xbf16>
    %k4 = kiln.reshape %k : tensor<16x1x32xbf16> -> tensor<16x1x2x16xbf16>
    %kt = kiln.transpose %k4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<16x1x2x16xbf16>) -> tensor<16x2x1x16xbf16>
    %wv = kiln.weight "wv" {path = "w.bin", offset = 12288 : i64, length = 4096 : i64, transposed} : tensor<32x64xbf16>
    %v = kiln.gemm %x, %wv transpose_b : (tensor<16x1x64xbf16>, tensor<32x64xbf16>) -> tensor<16x1x32xbf16>
    %v4 = kiln.reshape %v : tensor<16x1x32xbf16> -> tensor<16x1x2x16xbf16>
    %vt = kiln.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<16x1x2x16xbf16>) -> tensor<16x2x1x16xbf16>
    %qr = kiln.fusion %qt, %cos, %sin : (tensor<16x4x1x16xbf16>, tensor<16x1x8xf32>, tensor<16x1x8xf32>) -> tensor<16x4x1x16xbf16> {
    ^bb0(%a: tensor<16x4x1x16xbf16>, %c: tensor<16x1x8xf32>, %s: tensor<16x1x8xf32>):
      %r = kiln.rotary %a, %c, %s : (tensor<16x4x1x16xbf16>, tensor<16x1x8xf32>, tensor<16x1x8xf32>) -> tensor<16x4x1x16xbf16>
      kiln.yield %r : tensor<16x4x1x16xbf16>
    }
    %kr = kiln.fusion %kt, %cos, %sin : (tensor<16x2x1x16xbf16>, tensor<16x1x8xf32>, tensor<16x1x8xf32>) -> tensor<16x2x1x16xbf16> {
    ^bb0(%a: tensor<16x2x1x16xbf16>, %c: tensor<16x1x8xf32>, %s: tensor<16x1x8xf32>):
      %r = kiln.rotary %a, %c, %s : (tensor<16x2x1x16xbf16>, tensor<16x1x8xf32>, tensor<16x1x8xf32>) -> tensor<16x2x1x16xbf16>
      kiln.yield %r : tensor<16x2x1x16xbf16>
    }
    %kc:2 = kiln.fusion %kr, %vt, %pos : (tensor<16x2x1x16xbf16>, tensor<16x2x1x16xbf16>, tensor<16xi64>) -> (tensor<16x2x64x16xbf16>, tensor<16x2x64x16xbf16>) {
    ^bb0(%a: tensor<16x2x1x16xbf16>, %b: tensor<16x2x1x16xbf16>, %p: tensor<16xi64>):
      %kc0, %vc0 = kiln.kv_append @kv[0] %a, %b at %p : (tensor<16x2x1x16xbf16>, tensor<16x2x1x16xbf16>, tensor<16xi64>) -> (tensor<16x2x64x16xbf16>, tensor<16x2x64x16xbf16>)
      kiln.yield %kc0, %vc0 : tensor<16x2x64x16xbf16>, tensor<16x2x64x16xbf16>
    }
    return %qr, %kc#0, %kc#1 : tensor<16x4x1x16xbf16>, tensor<16x2x64x16xbf16>, tensor<16x2x64x16xbf16>
  }
}

// -----

// Near misses. q's consumer holds a second op after the rotary (not a
// kernel that reads heads in place): q keeps its gemm, k and v merge.
// OFF-LABEL: func.func @two_op_consumer
// OFF-NOT: kiln.concat
// CHECK-LABEL: func.func @two_op_consumer
// CHECK: kiln.gemm %{{.+}} : (tensor<16x1x64xbf16>, tensor<64x64xbf16>) -> tensor<16x1x64xbf16>
// CHECK: kiln.concat {{.*}} : (tensor<32x64xbf16>, tensor<32x64xbf16>) -> tensor<64x64xbf16>
// CHECK-NEXT: kiln.gemm {{.*}} -> tensor<16x1x64xbf16>
// CHECK-NOT: kiln.gemm
module {
  kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 16 max_batch 16 max_seq 64 : bf16
  func.func @two_op_consumer(%x: tensor<16x1x64xbf16>, %cos: tensor<16x1x8xf32>, %sin: tensor<16x1x8xf32>, %pos: tensor<16xi64>) -> (tensor<16x4x1x16xbf16>, tensor<16x2x64x16xbf16>, tensor<16x2x64x16xbf16>) {
    %wq = kiln.weight "wq" {path = "w.bin", offset = 0 : i64, length = 8192 : i64, transposed} : tensor<64x64xbf16>
    %q = kiln.gemm %x, %wq transpose_b : (tensor<16x1x64xbf16>, tensor<64x64xbf16>) -> tensor<16x1x64xbf16>
    %q4 = kiln.reshape %q : tensor<16x1x64xbf16> -> tensor<16x1x4x16xbf16>
    %qt = kiln.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<16x1x4x16xbf16>) -> tensor<16x4x1x16xbf16>
    %wk = kiln.weight "wk" {path = "w.bin", offset = 8192 : i64, length = 4096 : i64, transposed} : tensor<32x64xbf16>
    %k = kiln.gemm %x, %wk transpose_b : (tensor<16x1x64xbf16>, tensor<32x64xbf16>) -> tensor<16x1x32xbf16>
    %k4 = kiln.reshape %k : tensor<16x1x32xbf16> -> tensor<16x1x2x16xbf16>
    %kt = kiln.transpose %k4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<16x1x2x16xbf16>) -> tensor<16x2x1x16xbf16>
    %wv = kiln.weight "wv" {path = "w.bin", offset = 12288 : i64, length = 4096 : i64, transposed} : tensor<32x64xbf16>
    %v = kiln.gemm %x, %wv transpose_b : (tensor<16x1x64xbf16>, tensor<32x64xbf16>) -> tensor<16x1x32xbf16>
    %v4 = kiln.reshape %v : tensor<16x1x32xbf16> -> tensor<16x1x2x16xbf16>
    %vt = kiln.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<16x1x2x16xbf16>) -> tensor<16x2x1x16xbf16>
    %qr = kiln.fusion %qt, %cos, %sin : (tensor<16x4x1x16xbf16>, tensor<16x1x8xf32>, tensor<16x1x8xf32>) -> tensor<16x4x1x16xbf16> {
    ^bb0(%a: tensor<16x4x1x16xbf16>, %c: tensor<16x1x8xf32>, %s: tensor<16x1x8xf32>):
      %r = kiln.rotary %a, %c, %s : (tensor<16x4x1x16xbf16>, tensor<16x1x8xf32>, tensor<16x1x8xf32>) -> tensor<16x4x1x16xbf16>
      %n = kiln.neg %r : tensor<16x4x1x16xbf16>
      kiln.yield %n : tensor<16x4x1x16xbf16>
    }
    %kr = kiln.fusion %kt, %cos, %sin : (tensor<16x2x1x16xbf16>, tensor<16x1x8xf32>, tensor<16x1x8xf32>) -> tensor<16x2x1x16xbf16> {
    ^bb0(%a: tensor<16x2x1x16xbf16>, %c: tensor<16x1x8xf32>, %s: tensor<16x1x8xf32>):
      %r = kiln.rotary %a, %c, %s : (tensor<16x2x1x16xbf16>, tensor<16x1x8xf32>, tensor<16x1x8xf32>) -> tensor<16x2x1x16xbf16>
      kiln.yield %r : tensor<16x2x1x16xbf16>
    }
    %kc:2 = kiln.fusion %kr, %vt, %pos : (tensor<16x2x1x16xbf16>, tensor<16x2x1x16xbf16>, tensor<16xi64>) -> (tensor<16x2x64x16xbf16>, tensor<16x2x64x16xbf16>) {
    ^bb0(%a: tensor<16x2x1x16xbf16>, %b: tensor<16x2x1x16xbf16>, %p: tensor<16xi64>):
      %kc0, %vc0 = kiln.kv_append @kv[0] %a, %b at %p : (tensor<16x2x1x16xbf16>, tensor<16x2x1x16xbf16>, tensor<16xi64>) -> (tensor<16x2x64x16xbf16>, tensor<16x2x64x16xbf16>)
      kiln.yield %kc0, %vc0 : tensor<16x2x64x16xbf16>, tensor<16x2x64x16xbf16>
    }
    return %qr, %kc#0, %kc#1 : tensor<16x4x1x16xbf16>, tensor<16x2x64x16xbf16>, tensor<16x2x64x16xbf16>
  }
}

// -----

// v's head split is also a result of the function (a second use of its
// reshape): v keeps its gemm, q and k merge.
// OFF-LABEL: func.func @second_use
// OFF-NOT: kiln.concat
// CHECK-LABEL: func.func @second_use
// CHECK: kiln.concat {{.*}} : (tensor<64x64xbf16>, tensor<32x64xbf16>) -> tensor<96x64xbf16>
// CHECK-NEXT: kiln.gemm {{.*}} -> tensor<16x1x96xbf16>
// CHECK: kiln.gemm %{{.+}} : (tensor<16x1x64xbf16>, tensor<32x64xbf16>) -> tensor<16x1x32xbf16>
// CHECK: kiln.reshape
module {
  kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 16 max_batch 16 max_seq 64 : bf16
  func.func @second_use(%x: tensor<16x1x64xbf16>, %cos: tensor<16x1x8xf32>, %sin: tensor<16x1x8xf32>, %pos: tensor<16xi64>) -> (tensor<16x4x1x16xbf16>, tensor<16x2x64x16xbf16>, tensor<16x2x64x16xbf16>, tensor<16x1x2x16xbf16>) {
    %wq = kiln.weight "wq" {path = "w.bin", offset = 0 : i64, length = 8192 : i64, transposed} : tensor<64x64xbf16>
    %q = kiln.gemm %x, %wq transpose_b : (tensor<16x1x64xbf16>, tensor<64x64xbf16>) -> tensor<16x1x64xbf16>
    %q4 = kiln.reshape %q : tensor<16x1x64xbf16> -> tensor<16x1x4x16xbf16>
    %qt = kiln.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<16x1x4x16xbf16>) -> tensor<16x4x1x16xbf16>
    %wk = kiln.weight "wk" {path = "w.bin", offset = 8192 : i64, length = 4096 : i64, transposed} : tensor<32x64xbf16>
    %k = kiln.gemm %x, %wk transpose_b : (tensor<16x1x64xbf16>, tensor<32x64xbf16>) -> tensor<16x1x32xbf16>
    %k4 = kiln.reshape %k : tensor<16x1x32xbf16> -> tensor<16x1x2x16xbf16>
    %kt = kiln.transpose %k4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<16x1x2x16xbf16>) -> tensor<16x2x1x16xbf16>
    %wv = kiln.weight "wv" {path = "w.bin", offset = 12288 : i64, length = 4096 : i64, transposed} : tensor<32x64xbf16>
    %v = kiln.gemm %x, %wv transpose_b : (tensor<16x1x64xbf16>, tensor<32x64xbf16>) -> tensor<16x1x32xbf16>
    %v4 = kiln.reshape %v : tensor<16x1x32xbf16> -> tensor<16x1x2x16xbf16>
    %vt = kiln.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<16x1x2x16xbf16>) -> tensor<16x2x1x16xbf16>
    %qr = kiln.fusion %qt, %cos, %sin : (tensor<16x4x1x16xbf16>, tensor<16x1x8xf32>, tensor<16x1x8xf32>) -> tensor<16x4x1x16xbf16> {
    ^bb0(%a: tensor<16x4x1x16xbf16>, %c: tensor<16x1x8xf32>, %s: tensor<16x1x8xf32>):
      %r = kiln.rotary %a, %c, %s : (tensor<16x4x1x16xbf16>, tensor<16x1x8xf32>, tensor<16x1x8xf32>) -> tensor<16x4x1x16xbf16>
      kiln.yield %r : tensor<16x4x1x16xbf16>
    }
    %kr = kiln.fusion %kt, %cos, %sin : (tensor<16x2x1x16xbf16>, tensor<16x1x8xf32>, tensor<16x1x8xf32>) -> tensor<16x2x1x16xbf16> {
    ^bb0(%a: tensor<16x2x1x16xbf16>, %c: tensor<16x1x8xf32>, %s: tensor<16x1x8xf32>):
      %r = kiln.rotary %a, %c, %s : (tensor<16x2x1x16xbf16>, tensor<16x1x8xf32>, tensor<16x1x8xf32>) -> tensor<16x2x1x16xbf16>
      kiln.yield %r : tensor<16x2x1x16xbf16>
    }
    %kc:2 = kiln.fusion %kr, %vt, %pos : (tensor<16x2x1x16xbf16>, tensor<16x2x1x16xbf16>, tensor<16xi64>) -> (tensor<16x2x64x16xbf16>, tensor<16x2x64x16xbf16>) {
    ^bb0(%a: tensor<16x2x1x16xbf16>, %b: tensor<16x2x1x16xbf16>, %p: tensor<16xi64>):
      %kc0, %vc0 = kiln.kv_append @kv[0] %a, %b at %p : (tensor<16x2x1x16xbf16>, tensor<16x2x1x16xbf16>, tensor<16xi64>) -> (tensor<16x2x64x16xbf16>, tensor<16x2x64x16xbf16>)
      kiln.yield %kc0, %vc0 : tensor<16x2x64x16xbf16>, tensor<16x2x64x16xbf16>
    }
    return %qr, %kc#0, %kc#1, %v4 : tensor<16x4x1x16xbf16>, tensor<16x2x64x16xbf16>, tensor<16x2x64x16xbf16>, tensor<16x1x2x16xbf16>
  }
}
