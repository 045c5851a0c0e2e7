// The KV-region rules of the scheduled level (docs/kv-cache.md, "Scheduled
// level"): kiln.kv_region is a region declaration like kiln.arena; its views
// bind no step input or output and carry no init; its buffers are
// persistent, so a launch may read them before any launch of the step writes
// them, and only a launch of a kernel holding kiln.kv_append may write them.
//
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

// The cache of every case: 1 layer x (key, value) x 1 row x 1 kv head x 4
// slots x head dim 64 x f32: blocks of 1024 bytes, 2048 in all.

// Positive: the append kernel writes the layer's views in place, the
// attention reads them; a launch before the append reads the key view before
// any write (persistent); a view of a view (alias) of the cache is read.
kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 64 max_batch 1 max_seq 4 : f32
kiln.kernel @append(%k: tensor<1x1x1x64xf32>, %v: tensor<1x1x1x64xf32>, %p: tensor<1xi64>) -> (tensor<1x1x4x64xf32>, tensor<1x1x4x64xf32>) {
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %p : (tensor<1x1x1x64xf32>, tensor<1x1x1x64xf32>, tensor<1xi64>) -> (tensor<1x1x4x64xf32>, tensor<1x1x4x64xf32>)
  kiln.yield %kc, %vc : tensor<1x1x4x64xf32>, tensor<1x1x4x64xf32>
}
kiln.kernel @attend(%q: tensor<1x1x1x64xf32>, %kc: tensor<1x1x4x64xf32>, %vc: tensor<1x1x4x64xf32>, %p: tensor<1xi64>) -> tensor<1x1x1x64xf32> {
  %o = kiln.kv_attention %q, %kc, %vc at %p {scale = 1.250000e-01 : f32} : (tensor<1x1x1x64xf32>, tensor<1x1x4x64xf32>, tensor<1x1x4x64xf32>, tensor<1xi64>) -> tensor<1x1x1x64xf32>
  kiln.yield %o : tensor<1x1x1x64xf32>
}
kiln.kernel @neg(%x: tensor<256xf32>) -> tensor<256xf32> {
  %y = kiln.neg %x : tensor<256xf32>
  kiln.yield %y : tensor<256xf32>
}
func.func @persistent() {
  %arena = kiln.arena : memref<2048xi8>
  %kv = kiln.kv_region : memref<2048xi8>
  %k = kiln.view %arena[0] input "k" : memref<2048xi8> to memref<1x1x1x64xf32>
  %p = kiln.view %arena[256] input "kv_pos" : memref<2048xi8> to memref<1xi64>
  %kc = kiln.view %kv[0] : memref<2048xi8> to memref<1x1x4x64xf32>
  %vc = kiln.view %kv[1024] : memref<2048xi8> to memref<1x1x4x64xf32>
  %flat = kiln.view %kc[0] : memref<1x1x4x64xf32> to memref<256xf32>
  %n = kiln.view %arena[1024] output "n" : memref<2048xi8> to memref<256xf32>
  %o = kiln.view %arena[512] output "o" : memref<2048xi8> to memref<1x1x1x64xf32>
  kiln.graph {
    kiln.launch @neg grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%flat : memref<256xf32>) outs(%n : memref<256xf32>)
    kiln.launch @append grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%k, %k, %p : memref<1x1x1x64xf32>, memref<1x1x1x64xf32>, memref<1xi64>) outs(%kc, %vc : memref<1x1x4x64xf32>, memref<1x1x4x64xf32>)
    kiln.launch @attend grid [1, 1, 1] block [64, 1, 1] smem 0 ins(%k, %kc, %vc, %p : memref<1x1x1x64xf32>, memref<1x1x4x64xf32>, memref<1x1x4x64xf32>, memref<1xi64>) outs(%o : memref<1x1x1x64xf32>)
  }
  return
}

// -----

// A kernel that is not an append writes a view of the cache.
kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 64 max_batch 1 max_seq 4 : f32
kiln.kernel @neg(%x: tensor<256xf32>) -> tensor<256xf32> {
  %y = kiln.neg %x : tensor<256xf32>
  kiln.yield %y : tensor<256xf32>
}
func.func @not_an_append() {
  %arena = kiln.arena : memref<1024xi8>
  %kv = kiln.kv_region : memref<2048xi8>
  %x = kiln.view %arena[0] input "x" : memref<1024xi8> to memref<256xf32>
  %kc = kiln.view %kv[1024] : memref<2048xi8> to memref<256xf32>
  kiln.graph {
    // expected-error @+1 {{'kiln.launch' op writes buffer operand #1 in the KV cache region, which only kiln.kv_append kernels update}}
    kiln.launch @neg grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%x : memref<256xf32>) outs(%kc : memref<256xf32>)
  }
  return
}

// -----

// Through an alias of a cache view, after reading it (in place): still not
// an append.
kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 64 max_batch 1 max_seq 4 : f32
kiln.kernel @neg(%x: tensor<256xf32>) -> tensor<256xf32> {
  %y = kiln.neg %x : tensor<256xf32>
  kiln.yield %y : tensor<256xf32>
}
func.func @alias_in_place() {
  %arena = kiln.arena : memref<1024xi8>
  %kv = kiln.kv_region : memref<2048xi8>
  %kc = kiln.view %kv[0] : memref<2048xi8> to memref<1x1x4x64xf32>
  %flat = kiln.view %kc[0] : memref<1x1x4x64xf32> to memref<256xf32>
  kiln.graph {
    // expected-error @+1 {{'kiln.launch' op writes buffer operand #1 in the KV cache region, which only kiln.kv_append kernels update}}
    kiln.launch @neg grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%flat : memref<256xf32>) outs(%flat : memref<256xf32>)
  }
  return
}

// -----

// A cuBLASLt gemm writes into the cache.
kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 64 max_batch 1 max_seq 4 : f32
func.func @gemm_writes_cache() {
  %arena = kiln.arena : memref<2560xi8>
  %kv = kiln.kv_region : memref<2048xi8>
  %a = kiln.view %arena[0] input "a" : memref<2560xi8> to memref<4x8xf32>
  %b = kiln.view %arena[256] input "b" : memref<2560xi8> to memref<8x64xf32>
  %kc = kiln.view %kv[0] : memref<2048xi8> to memref<4x64xf32>
  kiln.graph {
    // expected-error @+1 {{'kiln.gemm' op writes buffer operand #2 in the KV cache region, which only kiln.kv_append kernels update}}
    kiln.gemm %a, %b outs %kc : (memref<4x8xf32>, memref<8x64xf32>, memref<4x64xf32>) -> ()
  }
  return
}

// -----

// A view of the cache binds a step input.
func.func @kv_input() {
  %kv = kiln.kv_region : memref<2048xi8>
  // expected-error @+1 {{'kiln.view' op binds a step input but is not a root view of the arena}}
  %kc = kiln.view %kv[0] input "past" : memref<2048xi8> to memref<1x1x4x64xf32>
  return
}

// -----

// A view of the cache binds a step output, as a root or an alias.
func.func @kv_output() {
  %kv = kiln.kv_region : memref<2048xi8>
  // expected-error @+1 {{'kiln.view' op binds a step output but is not a view of the arena}}
  %kc = kiln.view %kv[1024] output "present" : memref<2048xi8> to memref<1x1x4x64xf32>
  return
}

// -----

func.func @kv_alias_output() {
  %kv = kiln.kv_region : memref<2048xi8>
  %kc = kiln.view %kv[1024] : memref<2048xi8> to memref<1x1x4x64xf32>
  // expected-error @+1 {{'kiln.view' op binds a step output but is not a view of the arena}}
  %flat = kiln.view %kc[0] output "present" : memref<1x1x4x64xf32> to memref<256xf32>
  return
}

// -----

// A view of the cache carries contents (init): only weights do.
func.func @kv_init() {
  %kv = kiln.kv_region : memref<2048xi8>
  %c = kiln.constant dense<0.000000e+00> : tensor<256xf32>
  // expected-error @+1 {{'kiln.view' op has init but is not a root view of the weights region}}
  %kc = kiln.view %kv[0] init(%c : tensor<256xf32>) : memref<2048xi8> to memref<256xf32>
  return
}

// -----

// The region is declared once per function, at its top level, and its views
// stay inside it.
func.func @twice() {
  // expected-error @+1 {{'kiln.kv_region' op is declared twice in one function}}
  %kv = kiln.kv_region : memref<2048xi8>
  %kv2 = kiln.kv_region : memref<2048xi8>
  return
}

// -----

func.func @outside() {
  %kv = kiln.kv_region : memref<2048xi8>
  // expected-error @+1 {{'kiln.view' op bytes [1024, 2560) are outside its base of 2048 bytes}}
  %kc = kiln.view %kv[1024] : memref<2048xi8> to memref<1536xi8>
  return
}
