// RUN: kiln-opt %s -split-input-file -kiln-test-print-plan -o /dev/null | FileCheck %s --check-prefixes=CHECK,COMPUTED
// RUN: kiln-opt %s -split-input-file -kiln-plan-memory -kiln-verify-plan -kiln-test-print-plan=from-attributes=true -o /dev/null | FileCheck %s --check-prefixes=CHECK,READ
// RUN: kiln-opt %s -split-input-file -kiln-plan-memory=in-place=false -kiln-verify-plan -kiln-test-print-plan=from-attributes=true -o /dev/null | FileCheck %s --check-prefix=OFF --implicit-check-not='in place of'

// Writes in place (the default of kiln-plan-memory, docs/memory-plan.md): a
// result whose kernel reads element i of an operand before writing element
// i of the result (kiln::mayWriteInPlace) takes that operand's storage when
// nothing reads the storage after the op and it is neither an input nor
// returned. It is not an alias: it keeps its kernel. The plan read back from
// the attributes (second RUN, after kiln-verify-plan accepted it) has the
// same writes in place; with in-place=false (third RUN) there are none.

// A chain of elementwise ops, each operand dead after its user: one storage
// for all three results (each kernel writes over the value it reads), an
// arena of 512 bytes instead of 768 (in-place=false, the OFF lines; also
// kiln-test-print-plan.mlir @chain).
// OFF: plan @chain: arena_bytes = 768, lower_bound = 768
// OFF: plan @fusions: arena_bytes = 768, lower_bound = 768
// COMPUTED-LABEL: plan @chain: arena_bytes = 512, lower_bound = 512, strategy = size/best-fit
// READ-LABEL: plan @chain: arena_bytes = 512, lower_bound = 512{{$}}
// CHECK-NEXT: arg #0: offset = 0, size = 64, live = [0, 3]
// CHECK-NEXT: kiln.exp #0: offset = 256, size = 64, live = [0, 1]
// CHECK-NEXT: kiln.neg #0: offset = 256, size = 64, live = [1, 2], in place of operand #0, storage of kiln.exp #0
// CHECK-NEXT: kiln.tanh #0: offset = 256, size = 64, live = [2, 3], in place of operand #0, storage of kiln.exp #0
func.func @chain(%a: tensor<16xf32>) -> tensor<16xf32> {
  %0 = kiln.exp %a : tensor<16xf32>
  %1 = kiln.neg %0 : tensor<16xf32>
  %2 = kiln.tanh %1 : tensor<16xf32>
  return %2 : tensor<16xf32>
}

// -----

// The add may write over %1 (its shape) but not over %0 (broadcast: every
// element of %0 is read by four threads). Both die at the add; it takes #1.
// COMPUTED-LABEL: plan @broadcast_operand: arena_bytes = 1024, lower_bound = 1024, strategy = size/best-fit
// READ-LABEL: plan @broadcast_operand: arena_bytes = 1024, lower_bound = 1024{{$}}
// CHECK-NEXT: arg #0: offset = 512, size = 16, live = [0, 3]
// CHECK-NEXT: arg #1: offset = 0, size = 64, live = [0, 3]
// CHECK-NEXT: kiln.exp #0: offset = 768, size = 16, live = [0, 2]
// CHECK-NEXT: kiln.exp #0: offset = 256, size = 64, live = [1, 2]
// CHECK-NEXT: kiln.add #0: offset = 256, size = 64, live = [2, 3], in place of operand #1, storage of kiln.exp #0
func.func @broadcast_operand(%a: tensor<4xf32>, %b: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = kiln.exp %a : tensor<4xf32>
  %1 = kiln.exp %b : tensor<4x4xf32>
  %2 = kiln.add %0, %1 : (tensor<4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %2 : tensor<4x4xf32>
}

// -----

// %0 is read again by the add, so the neg may not write over it; the add,
// its last reader, may (the first operand that qualifies: #0).
// COMPUTED-LABEL: plan @still_live: arena_bytes = 768, lower_bound = 768, strategy = size/best-fit
// READ-LABEL: plan @still_live: arena_bytes = 768, lower_bound = 768{{$}}
// CHECK-NEXT: arg #0: offset = 0, size = 64, live = [0, 3]
// CHECK-NEXT: kiln.exp #0: offset = 256, size = 64, live = [0, 2]
// CHECK-NEXT: kiln.neg #0: offset = 512, size = 64, live = [1, 2]
// CHECK-NEXT: kiln.add #0: offset = 256, size = 64, live = [2, 3], in place of operand #0, storage of kiln.exp #0
func.func @still_live(%a: tensor<16xf32>) -> tensor<16xf32> {
  %0 = kiln.exp %a : tensor<16xf32>
  %1 = kiln.neg %0 : tensor<16xf32>
  %2 = kiln.add %0, %1 : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  return %2 : tensor<16xf32>
}

// -----

// Never over an input (the runtime copies inputs in once and the caller's
// bytes stay) nor over a returned value (live to the end).
// COMPUTED-LABEL: plan @inputs_and_outputs: arena_bytes = 768, lower_bound = 768, strategy = size/best-fit
// READ-LABEL: plan @inputs_and_outputs: arena_bytes = 768, lower_bound = 768{{$}}
// CHECK-NEXT: arg #0: offset = 0, size = 64, live = [0, 2]
// CHECK-NEXT: kiln.neg #0: offset = 256, size = 64, live = [0, 2]
// CHECK-NEXT: kiln.exp #0: offset = 512, size = 64, live = [1, 2]
func.func @inputs_and_outputs(%a: tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
  %0 = kiln.neg %a : tensor<16xf32>
  %1 = kiln.exp %0 : tensor<16xf32>
  return %0, %1 : tensor<16xf32>, tensor<16xf32>
}

// -----

// A view chain joins in place as a whole: the neg writes over the reshape
// %v and so over %0 (one storage, dead after the neg). The second neg reads
// %w, a view of %2, which the add still reads: no. The add writes over %4,
// a view of %3, both dead there; its own reshape aliases the result.
// COMPUTED-LABEL: plan @views: arena_bytes = 1024, lower_bound = 1024, strategy = size/best-fit
// READ-LABEL: plan @views: arena_bytes = 1024, lower_bound = 1024{{$}}
// CHECK-NEXT: arg #0: offset = 0, size = 64, live = [0, 9]
// CHECK-NEXT: kiln.exp #0: offset = 256, size = 64, live = [0, 1]
// CHECK-NEXT: kiln.reshape #0: offset = 256, size = 64, live = [1, 2], alias of kiln.exp #0
// CHECK-NEXT: kiln.neg #0: offset = 256, size = 64, live = [2, 9], in place of operand #0, storage of kiln.exp #0
// CHECK-NEXT: kiln.exp #0: offset = 512, size = 64, live = [3, 7]
// CHECK-NEXT: kiln.reshape #0: offset = 512, size = 64, live = [4, 5], alias of kiln.exp #0
// CHECK-NEXT: kiln.neg #0: offset = 768, size = 64, live = [5, 6]
// CHECK-NEXT: kiln.reshape #0: offset = 768, size = 64, live = [6, 7], alias of kiln.neg #0
// CHECK-NEXT: kiln.add #0: offset = 768, size = 64, live = [7, 8], in place of operand #0, storage of kiln.neg #0
// CHECK-NEXT: kiln.reshape #0: offset = 768, size = 64, live = [8, 9], alias of kiln.neg #0
func.func @views(%a: tensor<16xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %0 = kiln.exp %a : tensor<16xf32>
  %v = kiln.reshape %0 : tensor<16xf32> -> tensor<4x4xf32>
  %1 = kiln.neg %v : tensor<4x4xf32>
  %2 = kiln.exp %a : tensor<16xf32>
  %w = kiln.reshape %2 : tensor<16xf32> -> tensor<4x4xf32>
  %3 = kiln.neg %w : tensor<4x4xf32>
  %4 = kiln.reshape %3 : tensor<4x4xf32> -> tensor<16xf32>
  %5 = kiln.add %4, %2 : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %6 = kiln.reshape %5 : tensor<16xf32> -> tensor<4x4xf32>
  return %1, %6 : tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

// A cast between types of one byte width (f32 -> i32) writes in place; to
// f16 it does not (another size).
// COMPUTED-LABEL: plan @casts: arena_bytes = 768, lower_bound = 768, strategy = size/best-fit
// READ-LABEL: plan @casts: arena_bytes = 768, lower_bound = 768{{$}}
// CHECK-NEXT: arg #0: offset = 0, size = 64, live = [0, 3]
// CHECK-NEXT: kiln.exp #0: offset = 256, size = 64, live = [0, 1]
// CHECK-NEXT: kiln.cast #0: offset = 256, size = 64, live = [1, 2], in place of operand #0, storage of kiln.exp #0
// CHECK-NEXT: kiln.cast #0: offset = 512, size = 32, live = [2, 3]
func.func @casts(%a: tensor<16xf32>) -> tensor<16xf16> {
  %0 = kiln.exp %a : tensor<16xf32>
  %1 = kiln.cast %0 : tensor<16xf32> -> tensor<16xi32>
  %2 = kiln.cast %1 : tensor<16xi32> -> tensor<16xf16>
  return %2 : tensor<16xf16>
}

// -----

// A comparison writes i1 (one byte): in place over 1-byte operands only.
// COMPUTED-LABEL: plan @compare: arena_bytes = 1280, lower_bound = 1280, strategy = size/best-fit
// READ-LABEL: plan @compare: arena_bytes = 1280, lower_bound = 1280{{$}}
// CHECK-NEXT: arg #0: offset = 512, size = 16, live = [0, 5]
// CHECK-NEXT: arg #1: offset = 0, size = 64, live = [0, 5]
// CHECK-NEXT: kiln.neg #0: offset = 768, size = 16, live = [0, 1]
// CHECK-NEXT: kiln.greater #0: offset = 768, size = 16, live = [1, 5], in place of operand #0, storage of kiln.neg #0
// CHECK-NEXT: kiln.exp #0: offset = 256, size = 64, live = [2, 4]
// CHECK-NEXT: kiln.greater #0: offset = 1024, size = 16, live = [4, 5]
func.func @compare(%a: tensor<16xi8>, %b: tensor<16xf32>) -> (tensor<16xi1>, tensor<16xi1>) {
  %0 = kiln.neg %a : tensor<16xi8>
  %1 = kiln.greater %0, %a : (tensor<16xi8>, tensor<16xi8>) -> tensor<16xi1>
  %2 = kiln.exp %b : tensor<16xf32>
  %c = kiln.constant dense<0.0> : tensor<f32>
  %3 = kiln.greater %2, %c : (tensor<16xf32>, tensor<f32>) -> tensor<16xi1>
  return %1, %3 : tensor<16xi1>, tensor<16xi1>
}

// -----

// kiln.scatter_nd writes over its data (copying data onto itself is a
// no-op), never over its indices or updates (here: inputs anyway).
// COMPUTED-LABEL: plan @scatter: arena_bytes = 1024, lower_bound = 1024, strategy = size/best-fit
// READ-LABEL: plan @scatter: arena_bytes = 1024, lower_bound = 1024{{$}}
// CHECK-NEXT: arg #0: offset = 0, size = 128, live = [0, 2]
// CHECK-NEXT: arg #1: offset = 768, size = 16, live = [0, 2]
// CHECK-NEXT: arg #2: offset = 512, size = 64, live = [0, 2]
// CHECK-NEXT: kiln.exp #0: offset = 256, size = 128, live = [0, 1]
// CHECK-NEXT: kiln.scatter_nd #0: offset = 256, size = 128, live = [1, 2], in place of operand #0, storage of kiln.exp #0
func.func @scatter(%a: tensor<4x8xf32>, %i: tensor<2x1xi64>, %u: tensor<2x8xf32>) -> tensor<4x8xf32> {
  %0 = kiln.exp %a : tensor<4x8xf32>
  %1 = kiln.scatter_nd %0, %i, %u : (tensor<4x8xf32>, tensor<2x1xi64>, tensor<2x8xf32>) -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

// A softmax reads a whole row before writing: never in place.
// COMPUTED-LABEL: plan @not_elementwise: arena_bytes = 768, lower_bound = 768, strategy = size/best-fit
// READ-LABEL: plan @not_elementwise: arena_bytes = 768, lower_bound = 768{{$}}
// CHECK-NEXT: arg #0: offset = 0, size = 128, live = [0, 2]
// CHECK-NEXT: kiln.exp #0: offset = 256, size = 128, live = [0, 1]
// CHECK-NEXT: kiln.softmax #0: offset = 512, size = 128, live = [1, 2]
func.func @not_elementwise(%a: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = kiln.exp %a : tensor<4x8xf32>
  %1 = kiln.softmax %0 {axis = 1 : i64} : tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

// A fusion of one elementwise op writes in place like the op (fusion operand
// #k is block argument #k); so does a fused elementwise body whose every
// use of the input reads it at the output's index (the neg, same shape).
// COMPUTED-LABEL: plan @fusions: arena_bytes = 512, lower_bound = 512, strategy = size/best-fit
// READ-LABEL: plan @fusions: arena_bytes = 512, lower_bound = 512{{$}}
// CHECK-NEXT: arg #0: offset = 0, size = 64, live = [0, 3]
// CHECK-NEXT: kiln.exp #0: offset = 256, size = 64, live = [0, 1]
// CHECK-NEXT: kiln.fusion #0: offset = 256, size = 64, live = [1, 2], in place of operand #0, storage of kiln.exp #0
// CHECK-NEXT: kiln.fusion #0: offset = 256, size = 64, live = [2, 3], in place of operand #0, storage of kiln.exp #0
func.func @fusions(%a: tensor<16xf32>) -> tensor<16xf32> {
  %0 = kiln.exp %a : tensor<16xf32>
  %1 = kiln.fusion %0 : (tensor<16xf32>) -> tensor<16xf32> {
  ^bb0(%x: tensor<16xf32>):
    %n = kiln.neg %x : tensor<16xf32>
    kiln.yield %n : tensor<16xf32>
  }
  %2 = kiln.fusion %1 : (tensor<16xf32>) -> tensor<16xf32> {
  ^bb0(%x: tensor<16xf32>):
    %n = kiln.neg %x : tensor<16xf32>
    %t = kiln.tanh %n : tensor<16xf32>
    kiln.yield %t : tensor<16xf32>
  }
  return %2 : tensor<16xf32>
}

// -----

// A fused body with a use of the input whose result has another element
// width (a cast to f64) is not analysed further: no write in place.
// COMPUTED-LABEL: plan @fused_wider_use: arena_bytes = 768, lower_bound = 768, strategy = size/best-fit
// READ-LABEL: plan @fused_wider_use: arena_bytes = 768, lower_bound = 768{{$}}
// CHECK-NEXT: arg #0
// CHECK-NEXT: kiln.exp #0: offset = 256, size = 64, live = [0, 1]
// CHECK-NEXT: kiln.fusion #0: offset = 512, size = 64, live = [1, 2]{{$}}
func.func @fused_wider_use(%a: tensor<16xf32>) -> tensor<16xf32> {
  %0 = kiln.exp %a : tensor<16xf32>
  %1 = kiln.fusion %0 : (tensor<16xf32>) -> tensor<16xf32> {
  ^bb0(%x: tensor<16xf32>):
    %w = kiln.cast %x : tensor<16xf32> -> tensor<16xf64>
    %n = kiln.neg %w : tensor<16xf64>
    %t = kiln.cast %n : tensor<16xf64> -> tensor<16xf32>
    kiln.yield %t : tensor<16xf32>
  }
  return %1 : tensor<16xf32>
}
