// Every verifier diagnostic of the scheduled-level ops, built by hand: the
// views, kernels and launches, and kiln.graph's two checks, capture safety
// and the memory plan.
//
// RUN: kiln-opt %s -split-input-file -verify-diagnostics -allow-unregistered-dialect

kiln.kernel @k(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = kiln.exp %x : tensor<4xf32>
  kiln.yield %y : tensor<4xf32>
}
func.func @overlap() {
  %arena = kiln.arena : memref<512xi8>
  %x = kiln.view %arena[0] input "x" : memref<512xi8> to memref<4xf32>
  // expected-note @+1 {{the other buffer}}
  %a = kiln.view %arena[256] : memref<512xi8> to memref<4xf32>
  // expected-error @+1 {{bytes [256, 272) overlap bytes [256, 272) of another buffer live at the same time (live [2, 3] and [1, 2])}}
  %b = kiln.view %arena[256] output "b" : memref<512xi8> to memref<4xf32>
  kiln.graph {
    kiln.launch @k grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%x : memref<4xf32>) outs(%a : memref<4xf32>)
    kiln.launch @k grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%a : memref<4xf32>) outs(%b : memref<4xf32>)
  }
  return
}

// -----

kiln.kernel @k(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = kiln.exp %x : tensor<4xf32>
  kiln.yield %y : tensor<4xf32>
}
func.func @partial_overlap() {
  %arena = kiln.arena : memref<1024xi8>
  %x = kiln.view %arena[0] input "x" : memref<1024xi8> to memref<4xf32>
  // expected-note @+1 {{the other buffer}}
  %a = kiln.view %arena[256] : memref<1024xi8> to memref<128xf32>
  // expected-error @+1 {{bytes [512, 528) overlap bytes [256, 768)}}
  %b = kiln.view %arena[512] output "b" : memref<1024xi8> to memref<4xf32>
  %a4 = kiln.view %a[0] : memref<128xf32> to memref<4xf32>
  kiln.graph {
    kiln.launch @k grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%x : memref<4xf32>) outs(%b : memref<4xf32>)
    kiln.launch @k grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%x : memref<4xf32>) outs(%a4 : memref<4xf32>)
  }
  return
}

// -----

kiln.kernel @k(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = kiln.exp %x : tensor<4xf32>
  kiln.yield %y : tensor<4xf32>
}
func.func @read_before_write() {
  %arena = kiln.arena : memref<512xi8>
  %a = kiln.view %arena[0] : memref<512xi8> to memref<4xf32>
  %b = kiln.view %arena[256] output "b" : memref<512xi8> to memref<4xf32>
  kiln.graph {
    // expected-error @+1 {{reads buffer operand #0 (bytes [0, 16) of the arena) before any launch writes it}}
    kiln.launch @k grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%a : memref<4xf32>) outs(%b : memref<4xf32>)
  }
  return
}

// -----

kiln.kernel @k(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = kiln.exp %x : tensor<4xf32>
  kiln.yield %y : tensor<4xf32>
}
func.func @written_twice() {
  %arena = kiln.arena : memref<512xi8>
  %x = kiln.view %arena[0] input "x" : memref<512xi8> to memref<4xf32>
  %b = kiln.view %arena[256] output "b" : memref<512xi8> to memref<4xf32>
  kiln.graph {
    kiln.launch @k grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%x : memref<4xf32>) outs(%b : memref<4xf32>)
    // expected-error @+1 {{writes buffer operand #1 (bytes [256, 272)), which an earlier launch already wrote}}
    kiln.launch @k grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%x : memref<4xf32>) outs(%b : memref<4xf32>)
  }
  return
}

// -----

// Softmax reads the whole row before writing: it may not run in place.
kiln.kernel @k(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = kiln.softmax %x {axis = 0 : i64} : tensor<4xf32>
  kiln.yield %y : tensor<4xf32>
}
func.func @not_in_place() {
  %arena = kiln.arena : memref<512xi8>
  %x = kiln.view %arena[0] input "x" : memref<512xi8> to memref<4xf32>
  %a = kiln.view %arena[256] output "a" : memref<512xi8> to memref<4xf32>
  kiln.graph {
    kiln.launch @k grid [1, 1, 1] block [32, 1, 1] smem 0 ins(%x : memref<4xf32>) outs(%a : memref<4xf32>)
    // expected-error @+1 {{writes buffer operand #1 over its input #0, which this kernel may not update in place}}
    kiln.launch @k grid [1, 1, 1] block [32, 1, 1] smem 0 ins(%a : memref<4xf32>) outs(%a : memref<4xf32>)
  }
  return
}

// -----

kiln.kernel @k(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = kiln.exp %x : tensor<4xf32>
  kiln.yield %y : tensor<4xf32>
}
func.func @writes_input() {
  %arena = kiln.arena : memref<256xi8>
  %x = kiln.view %arena[0] input "x" : memref<256xi8> to memref<4xf32>
  kiln.graph {
    // expected-error @+1 {{writes buffer operand #1, the step input 'x'}}
    kiln.launch @k grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%x : memref<4xf32>) outs(%x : memref<4xf32>)
  }
  return
}

// -----

kiln.kernel @k(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = kiln.exp %x : tensor<4xf32>
  kiln.yield %y : tensor<4xf32>
}
func.func @writes_weights() {
  %arena = kiln.arena : memref<256xi8>
  %weights = kiln.weights : memref<256xi8>
  %c = kiln.constant dense<1.0> : tensor<4xf32>
  %w = kiln.view %weights[0] init(%c : tensor<4xf32>) : memref<256xi8> to memref<4xf32>
  %x = kiln.view %arena[0] input "x" : memref<256xi8> to memref<4xf32>
  kiln.graph {
    // expected-error @+1 {{writes buffer operand #1 in the read-only weights region}}
    kiln.launch @k grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%x : memref<4xf32>) outs(%w : memref<4xf32>)
  }
  return
}

// -----

// Capture safety: an allocation inside the graph.
func.func @alloc_in_graph() {
  kiln.graph {
    // expected-error @+1 {{allocates or frees memory inside kiln.graph}}
    %a = kiln.arena : memref<256xi8>
  }
  return
}

// -----

// Capture safety: host work (an op of another dialect) inside the graph.
func.func @host_op_in_graph(%p: i1) {
  kiln.graph {
    // expected-error @+1 {{cannot be captured into a CUDA graph}}
    "test.host_read"(%p) : (i1) -> ()
  }
  return
}

// -----

// Capture safety: a buffer whose address is not fixed (a function argument).
kiln.kernel @k(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = kiln.exp %x : tensor<4xf32>
  kiln.yield %y : tensor<4xf32>
}
func.func @unfixed_buffer(%in: memref<4xf32>) {
  %arena = kiln.arena : memref<256xi8>
  %a = kiln.view %arena[0] output "a" : memref<256xi8> to memref<4xf32>
  kiln.graph {
    // expected-error @+1 {{buffer operand #0 is not a kiln.view, so its address is not fixed for the artifact's life}}
    kiln.launch @k grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%in : memref<4xf32>) outs(%a : memref<4xf32>)
  }
  return
}

// -----

// A data-dependent (dynamic) shape is not a buffer.
func.func @dynamic_view() {
  %arena = kiln.arena : memref<256xi8>
  // expected-error @+1 {{statically shaped memref with identity layout}}
  %a = kiln.view %arena[0] : memref<256xi8> to memref<?xf32>
  return
}

// -----

func.func @tensor_gemm_in_graph(%a: tensor<2x4xf32>, %b: tensor<4x4xf32>) {
  kiln.graph {
    // expected-error @+1 {{inside kiln.graph must be the buffer form (outs), not a tensor op}}
    %c = kiln.gemm %a, %b : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  }
  return
}

// -----

func.func @root_in_graph() {
  %arena = kiln.arena : memref<256xi8>
  kiln.graph {
    // expected-error @+1 {{declares a root buffer inside kiln.graph}}
    %a = kiln.view %arena[0] : memref<256xi8> to memref<4xf32>
  }
  return
}

// -----

func.func @view_outside() {
  %arena = kiln.arena : memref<256xi8>
  // expected-error @+1 {{bytes [128, 384) are outside its base of 256 bytes}}
  %a = kiln.view %arena[128] : memref<256xi8> to memref<64xf32>
  return
}

// -----

func.func @view_misaligned() {
  %arena = kiln.arena : memref<1024xi8>
  // expected-error @+1 {{offset 128 is not a multiple of 256}}
  %a = kiln.view %arena[128] : memref<1024xi8> to memref<4xf32>
  return
}

// -----

func.func @view_base(%m: memref<256xi8>) {
  // expected-error @+1 {{base must be a kiln.arena, a kiln.weights, a kiln.kv_region or a kiln.view}}
  %a = kiln.view %m[0] : memref<256xi8> to memref<4xf32>
  return
}

// -----

func.func @weight_without_init() {
  %weights = kiln.weights : memref<256xi8>
  // expected-error @+1 {{is a root view of the weights region without init}}
  %a = kiln.view %weights[0] : memref<256xi8> to memref<4xf32>
  return
}

// -----

func.func @init_in_arena() {
  %arena = kiln.arena : memref<256xi8>
  %c = kiln.constant dense<1.0> : tensor<4xf32>
  // expected-error @+1 {{has init but is not a root view of the weights region}}
  %a = kiln.view %arena[0] init(%c : tensor<4xf32>) : memref<256xi8> to memref<4xf32>
  return
}

// -----

func.func @init_type() {
  %weights = kiln.weights : memref<256xi8>
  %c = kiln.constant dense<1.0> : tensor<4xf32>
  // expected-error @+1 {{init type 'tensor<4xf32>' does not match the buffer 'memref<2x2xf32>'}}
  %a = kiln.view %weights[0] init(%c : tensor<4xf32>) : memref<256xi8> to memref<2x2xf32>
  return
}

// -----

func.func @input_on_alias() {
  %arena = kiln.arena : memref<256xi8>
  %a = kiln.view %arena[0] : memref<256xi8> to memref<4xf32>
  // expected-error @+1 {{binds a step input but is not a root view of the arena}}
  %b = kiln.view %a[0] input "x" : memref<4xf32> to memref<2x2xf32>
  return
}

// -----

func.func @two_arenas() {
  // expected-error @+1 {{is declared twice in one function}}
  %a = kiln.arena : memref<256xi8>
  %b = kiln.arena : memref<256xi8>
  return
}

// -----

func.func @launch_unknown() {
  %arena = kiln.arena : memref<256xi8>
  %a = kiln.view %arena[0] : memref<256xi8> to memref<4xf32>
  // expected-error @+1 {{'nope' is not a kiln.kernel}}
  kiln.launch @nope grid [1, 1, 1] block [256, 1, 1] smem 0 ins() outs(%a : memref<4xf32>)
  return
}

// -----

kiln.kernel @k(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = kiln.exp %x : tensor<4xf32>
  kiln.yield %y : tensor<4xf32>
}
func.func @launch_types() {
  %arena = kiln.arena : memref<512xi8>
  %a = kiln.view %arena[0] : memref<512xi8> to memref<8xf32>
  %b = kiln.view %arena[256] : memref<512xi8> to memref<4xf32>
  // expected-error @+1 {{ins #0 is 'memref<8xf32>' but @k expects 'tensor<4xf32>'}}
  kiln.launch @k grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%a : memref<8xf32>) outs(%b : memref<4xf32>)
  return
}

// -----

kiln.kernel @k(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = kiln.exp %x : tensor<4xf32>
  kiln.yield %y : tensor<4xf32>
}
func.func @launch_block() {
  %arena = kiln.arena : memref<512xi8>
  %a = kiln.view %arena[0] : memref<512xi8> to memref<4xf32>
  // expected-error @+1 {{block has 2048 threads; a CUDA block has at most 1024}}
  kiln.launch @k grid [1, 1, 1] block [1024, 2, 1] smem 0 ins(%a : memref<4xf32>) outs(%a : memref<4xf32>)
  return
}

// -----

kiln.kernel @k(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = kiln.exp %x : tensor<4xf32>
  kiln.yield %y : tensor<4xf32>
}
func.func @launch_grid_rank() {
  %arena = kiln.arena : memref<512xi8>
  %a = kiln.view %arena[0] : memref<512xi8> to memref<4xf32>
  // expected-error @+1 {{grid must have 3 dims, got 1}}
  kiln.launch @k grid [1] block [256, 1, 1] smem 0 ins(%a : memref<4xf32>) outs(%a : memref<4xf32>)
  return
}

// -----

// expected-error @+1 {{body holds 'kiln.weight', which is not a graph-level compute op}}
kiln.kernel @k() -> tensor<4xf32> {
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 16 : i64} : tensor<4xf32>
  kiln.yield %w : tensor<4xf32>
}

// -----

// expected-error @+1 {{yields 'tensor<4xf32>' but its results are 'tensor<8xf32>'}}
kiln.kernel @k(%x: tensor<4xf32>) -> tensor<8xf32> {
  kiln.yield %x : tensor<4xf32>
}

// -----

func.func @gemm_mixed(%a: memref<2x4xf32>, %b: tensor<4x4xf32>, %c: memref<2x4xf32>) {
  // expected-error @+1 {{mixes tensor and buffer operands}}
  kiln.gemm %a, %b outs %c : (memref<2x4xf32>, tensor<4x4xf32>, memref<2x4xf32>) -> ()
  return
}

// -----

func.func @gemm_outs_shape(%a: memref<2x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) {
  // expected-error @+1 {{outs must be [2x4] of 'f32', got 'memref<4x4xf32>'}}
  kiln.gemm %a, %b outs %c : (memref<2x4xf32>, memref<4x4xf32>, memref<4x4xf32>) -> ()
  return
}

// -----

// A weight concatenation's view must span its parts' views in operand
// order: here the layout stores wg then wu, but the concatenation says wu
// then wg (the bytes read would not be what the IR concatenates).
func.func @weight_concat_order(%a: memref<4x64xf32>, %o: memref<4x256xf32>) {
  %weights = kiln.weights : memref<65536xi8>
  %arena = kiln.arena : memref<8192xi8>
  %wg = kiln.weight "wg" {length = 32768 : i64, offset = 0 : i64, path = "w.bin", transposed} : tensor<128x64xf32>
  %wu = kiln.weight "wu" {length = 32768 : i64, offset = 32768 : i64, path = "w.bin", transposed} : tensor<128x64xf32>
  %c = kiln.concat %wu, %wg {axis = 0 : i64, kiln.weight_concat} : (tensor<128x64xf32>, tensor<128x64xf32>) -> tensor<256x64xf32>
  %vg = kiln.view %weights[0] init(%wg : tensor<128x64xf32>) : memref<65536xi8> to memref<128x64xf32>
  // expected-error @+1 {{views a weight concatenation whose part #0 ('tensor<128x64xf32>') has no root view of that weight at byte 0 of the weights region: the parts must be stored back to back from the concatenation's offset, in operand order}}
  %vc = kiln.view %weights[0] init(%c : tensor<256x64xf32>) : memref<65536xi8> to memref<256x64xf32>
  %vu = kiln.view %weights[32768] init(%wu : tensor<128x64xf32>) : memref<65536xi8> to memref<128x64xf32>
  %x = kiln.view %arena[0] input "x" : memref<8192xi8> to memref<4x64xf32>
  %y = kiln.view %arena[1024] : memref<8192xi8> to memref<4x256xf32>
  kiln.graph {
    kiln.gemm %x, %vc outs %y transpose_b : (memref<4x64xf32>, memref<256x64xf32>, memref<4x256xf32>) -> ()
  }
  return
}

// -----

// A part missing from the layout (its view is elsewhere): the same error.
func.func @weight_concat_gap() {
  %weights = kiln.weights : memref<131072xi8>
  %arena = kiln.arena : memref<8192xi8>
  %wg = kiln.weight "wg" {length = 32768 : i64, offset = 0 : i64, path = "w.bin", transposed} : tensor<128x64xf32>
  %wu = kiln.weight "wu" {length = 32768 : i64, offset = 32768 : i64, path = "w.bin", transposed} : tensor<128x64xf32>
  %c = kiln.concat %wg, %wu {axis = 0 : i64, kiln.weight_concat} : (tensor<128x64xf32>, tensor<128x64xf32>) -> tensor<256x64xf32>
  %vg = kiln.view %weights[0] init(%wg : tensor<128x64xf32>) : memref<131072xi8> to memref<128x64xf32>
  // expected-error @+1 {{part #1 ('tensor<128x64xf32>') has no root view of that weight at byte 32768}}
  %vc = kiln.view %weights[0] init(%c : tensor<256x64xf32>) : memref<131072xi8> to memref<256x64xf32>
  %vu = kiln.view %weights[65536] init(%wu : tensor<128x64xf32>) : memref<131072xi8> to memref<128x64xf32>
  %x = kiln.view %arena[0] input "x" : memref<8192xi8> to memref<4x64xf32>
  %y = kiln.view %arena[1024] : memref<8192xi8> to memref<4x256xf32>
  kiln.graph {
    kiln.gemm %x, %vc outs %y transpose_b : (memref<4x64xf32>, memref<256x64xf32>, memref<4x256xf32>) -> ()
  }
  return
}

// -----

func.func @weight_concat_rank() {
  %weights = kiln.weights : memref<1024xi8>
  %a = kiln.weight "a" {length = 256 : i64, offset = 0 : i64, path = "w.bin"} : tensor<64xf32>
  %b = kiln.weight "b" {length = 256 : i64, offset = 256 : i64, path = "w.bin"} : tensor<64xf32>
  %c = kiln.concat %a, %b {axis = 0 : i64, kiln.weight_concat} : (tensor<64xf32>, tensor<64xf32>) -> tensor<128xf32>
  // expected-error @+1 {{init must be a kiln.weight, a kiln.constant or a kiln.concat of rank-2 kiln.weights on axis 0}}
  %v = kiln.view %weights[0] init(%c : tensor<128xf32>) : memref<1024xi8> to memref<128xf32>
  return
}

// -----

// An unmarked concat of weights is no weight concatenation (kiln-merge-gemms
// marks its own): not an init.
func.func @weight_concat_unmarked() {
  %weights = kiln.weights : memref<65536xi8>
  %wg = kiln.weight "wg" {length = 32768 : i64, offset = 0 : i64, path = "w.bin", transposed} : tensor<128x64xf32>
  %wu = kiln.weight "wu" {length = 32768 : i64, offset = 32768 : i64, path = "w.bin", transposed} : tensor<128x64xf32>
  %c = kiln.concat %wg, %wu {axis = 0 : i64} : (tensor<128x64xf32>, tensor<128x64xf32>) -> tensor<256x64xf32>
  // expected-error @+1 {{init must be a kiln.weight, a kiln.constant or a kiln.concat of rank-2 kiln.weights on axis 0 (a weight concatenation, marked kiln.weight_concat, its parts stored back to back)}}
  %v = kiln.view %weights[0] init(%c : tensor<256x64xf32>) : memref<65536xi8> to memref<256x64xf32>
  return
}
