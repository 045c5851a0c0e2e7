// RUN: kiln-opt %s -split-input-file -kiln-test-print-plan -o /dev/null | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-plan-memory -kiln-test-print-plan=from-attributes=true -o /dev/null | FileCheck %s

// Program points are op indices; the argument is live to the return (3).
// CHECK-LABEL: plan @chain: arena_bytes = 768
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
// CHECK-LABEL: plan @diamond: arena_bytes = 1536
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
