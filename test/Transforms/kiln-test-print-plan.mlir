// RUN: kiln-opt %s -split-input-file -kiln-test-print-plan=in-place=false -o /dev/null | FileCheck %s --check-prefixes=CHECK,COMPUTED
// RUN: kiln-opt %s -split-input-file -kiln-plan-memory=in-place=false -kiln-verify-plan -kiln-test-print-plan=from-attributes=true -o /dev/null | FileCheck %s --check-prefixes=CHECK,READ

// Without writes in place (in-place=false): the placement heuristics alone;
// kiln-plan-memory-in-place.mlir prints plans with them.

// The header line: arena size, the lower bound (the most 256-byte-rounded
// bytes live at one program point) and, for a computed plan, the placement
// strategy that won (the first of docs/memory-plan.md's list on ties).
// COMPUTED-LABEL: plan @chain: arena_bytes = 768, lower_bound = 768, strategy = size/best-fit
// READ-LABEL: plan @chain: arena_bytes = 768, lower_bound = 768{{$}}

// Program points are op indices; the argument is live to the return (3).
// CHECK-NEXT: arg #0: offset = 0, size = 64, live = [0, 3]
// CHECK-NEXT: kiln.exp #0: offset = 256, size = 64, live = [0, 1]
// CHECK-NEXT: kiln.neg #0: offset = 512, size = 64, live = [1, 2]
// CHECK-NEXT: kiln.tanh #0: offset = 256, size = 64, live = [2, 3]
func.func @chain(%a: tensor<16xf32>) -> tensor<16xf32> {
  %0 = kiln.exp %a : tensor<16xf32>
  %1 = kiln.neg %0 : tensor<16xf32>
  %2 = kiln.tanh %1 : tensor<16xf32>
  return %2 : tensor<16xf32>
}

// -----

// A long-lived value pins its bytes; short-lived ones pack around it; a value
// used twice lives to its last use; weights are not listed.
// CHECK-LABEL: plan @diamond: arena_bytes = 1536, lower_bound = 1536
// CHECK-NEXT: arg #0: offset = 0, size = 400, live = [0, 5]
// CHECK-NEXT: kiln.exp #0: offset = 512, size = 400, live = [1, 4]
// CHECK-NEXT: kiln.add #0: offset = 1024, size = 4, live = [2, 3]
// CHECK-NEXT: kiln.cast #0: offset = 1280, size = 1, live = [3, 3]
// CHECK-NEXT: kiln.mul #0: offset = 1024, size = 400, live = [4, 5]
// CHECK-NOT: kiln.weight
func.func @diamond(%a: tensor<100xf32>) -> tensor<100xf32> {
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 4 : i64} : tensor<1xf32>
  %0 = kiln.exp %a : tensor<100xf32>
  %1 = kiln.add %w, %w : (tensor<1xf32>, tensor<1xf32>) -> tensor<1xf32>
  %2 = kiln.cast %1 : tensor<1xf32> -> tensor<1xi1>
  %3 = kiln.mul %0, %a : (tensor<100xf32>, tensor<100xf32>) -> tensor<100xf32>
  return %3 : tensor<100xf32>
}

// -----

// Greedy orders are heuristics: here every size- and lifetime-first order
// puts %a and %d (512 bytes, never live together) both at 0 and the 256-byte
// values above them (1280 bytes), while program-order first fit packs the
// chain into the lower bound, 1024 bytes (live at point 1: %x, %a, %b), so
// the planner keeps that plan.
// COMPUTED-LABEL: plan @program_order_wins: arena_bytes = 1024, lower_bound = 1024, strategy = program/first-fit
// READ-LABEL: plan @program_order_wins: arena_bytes = 1024, lower_bound = 1024{{$}}
// CHECK-NEXT: arg #0: offset = 0, size = 256, live = [0, 4]
// CHECK-NEXT: kiln.concat #0: offset = 256, size = 512, live = [0, 1]
// CHECK-NEXT: kiln.slice #0: offset = 768, size = 256, live = [1, 2]
// CHECK-NEXT: kiln.exp #0: offset = 256, size = 256, live = [2, 3]
// CHECK-NEXT: kiln.concat #0: offset = 512, size = 512, live = [3, 4]
func.func @program_order_wins(%x: tensor<64xf32>) -> tensor<128xf32> {
  %a = kiln.concat %x, %x {axis = 0 : i64} : (tensor<64xf32>, tensor<64xf32>) -> tensor<128xf32>
  %b = kiln.slice %a {starts = array<i64: 0>, steps = array<i64: 1>} : tensor<128xf32> -> tensor<64xf32>
  %c = kiln.exp %b : tensor<64xf32>
  %d = kiln.concat %c, %c {axis = 0 : i64} : (tensor<64xf32>, tensor<64xf32>) -> tensor<128xf32>
  return %d : tensor<128xf32>
}

// -----

// An alias is printed with the value owning its bytes; the lower bound
// counts storage: %a, %0's bytes (live to point 2 through its reshape %1)
// and %2 at point 2, 3 x 256.
// CHECK-LABEL: plan @alias
// CHECK-SAME: lower_bound = 768
// CHECK-NEXT: arg #0: offset = 0, size = 64, live = [0, 3]
// CHECK-NEXT: kiln.exp #0: offset = 256, size = 64, live = [0, 1]
// CHECK-NEXT: kiln.reshape #0: offset = 256, size = 64, live = [1, 2], alias of kiln.exp #0
// CHECK-NEXT: kiln.add #0: offset = 512, size = 64, live = [2, 3]
// CHECK-NOT: alias
func.func @alias(%a: tensor<16xf32>) -> tensor<4x4xf32> {
  %0 = kiln.exp %a : tensor<16xf32>
  %1 = kiln.reshape %0 : tensor<16xf32> -> tensor<4x4xf32>
  %2 = kiln.add %1, %1 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %2 : tensor<4x4xf32>
}
