// kiln-schedule and a weight concatenation (kiln-merge-gemms' kiln.concat of
// kiln.weights on axis 0, marked kiln.weight_concat): its parts are placed first and back to back, in
// every function of the module, and it is a root view of the weights
// region at the first part's offset whose init is the concatenation. Parts
// whose bytes are not a multiple of the layout's 256-byte alignment cannot
// abut: a located error (kiln-merge-gemms never builds such a group).
// RUN: kiln-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(kiln-plan-memory),kiln-schedule)' | FileCheck %s

// The one-row function reads the up weight alone, and comes first: the
// concatenation's parts are still placed first, gate at 0 and up right
// after it (32768), in both functions.
// CHECK-LABEL: func.func @one_row
// CHECK: %[[WS:.+]] = kiln.weights : memref<65536xi8>
// CHECK: kiln.view %[[WS]][32768] init(%{{.+}} : tensor<128x64xf32>)
// CHECK-LABEL: func.func @rows
// CHECK: %[[W:.+]] = kiln.weights : memref<65536xi8>
// CHECK: %[[C:.+]] = kiln.concat
// CHECK-DAG: kiln.view %[[W]][0] init(%{{.+}} : tensor<128x64xf32>)
// CHECK-DAG: %[[V:.+]] = kiln.view %[[W]][0] init(%[[C]] : tensor<256x64xf32>)
// CHECK-DAG: kiln.view %[[W]][32768] init(%{{.+}} : tensor<128x64xf32>)
// CHECK: kiln.gemm %{{.+}}, %[[V]] outs
func.func @one_row(%x: tensor<1x64xf32>) -> tensor<1x128xf32> {
  %wu = kiln.weight "wu" {path = "w.bin", offset = 32768 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %y = kiln.gemm %x, %wu transpose_b : (tensor<1x64xf32>, tensor<128x64xf32>) -> tensor<1x128xf32>
  return %y : tensor<1x128xf32>
}
func.func @rows(%x: tensor<4x64xf32>) -> tensor<4x256xf32> {
  %wg = kiln.weight "wg" {path = "w.bin", offset = 0 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %wu = kiln.weight "wu" {path = "w.bin", offset = 32768 : i64, length = 32768 : i64, transposed} : tensor<128x64xf32>
  %w = kiln.concat %wg, %wu {axis = 0 : i64, kiln.weight_concat} : (tensor<128x64xf32>, tensor<128x64xf32>) -> tensor<256x64xf32>
  %y = kiln.gemm %x, %w transpose_b : (tensor<4x64xf32>, tensor<256x64xf32>) -> tensor<4x256xf32>
  return %y : tensor<4x256xf32>
}

// -----

func.func @misaligned(%x: tensor<4x20xf32>) -> tensor<4x6xf32> {
  %w1 = kiln.weight "w1" {path = "w.bin", offset = 0 : i64, length = 240 : i64} : tensor<3x20xf32>
  %w2 = kiln.weight "w2" {path = "w.bin", offset = 240 : i64, length = 240 : i64} : tensor<3x20xf32>
  // expected-error @+1 {{concatenates weights that the weights layout does not store back to back (part #1 at byte 256, expected 240); each part's bytes must be a multiple of 256}}
  %w = kiln.concat %w1, %w2 {axis = 0 : i64, kiln.weight_concat} : (tensor<3x20xf32>, tensor<3x20xf32>) -> tensor<6x20xf32>
  %y = kiln.gemm %x, %w transpose_b : (tensor<4x20xf32>, tensor<6x20xf32>) -> tensor<4x6xf32>
  return %y : tensor<4x6xf32>
}

// -----

// The same concatenation unmarked (a model's or another pass's concat of
// weights): an ordinary concat, planned in the arena and copied by a
// launch; the weights are placed as usual (not abutting: no error).
// CHECK: kiln.kernel @[[K:.+]](%{{.+}}: tensor<3x20xf32>, %{{.+}}: tensor<3x20xf32>) -> tensor<6x20xf32>
// CHECK-NEXT: concat
// CHECK-LABEL: func.func @plain
// CHECK: %[[A:.+]] = kiln.arena
// CHECK-NOT: kiln.concat
// CHECK: %[[V:.+]] = kiln.view %[[A]][{{[0-9]+}}] : memref<{{[0-9]+}}xi8> to memref<6x20xf32>
// CHECK: kiln.launch @[[K]] {{.*}} outs(%[[V]] : memref<6x20xf32>)
func.func @plain(%x: tensor<4x20xf32>) -> tensor<6x20xf32> {
  %w1 = kiln.weight "w1" {path = "w.bin", offset = 0 : i64, length = 240 : i64} : tensor<3x20xf32>
  %w2 = kiln.weight "w2" {path = "w.bin", offset = 240 : i64, length = 240 : i64} : tensor<3x20xf32>
  %w = kiln.concat %w1, %w2 {axis = 0 : i64} : (tensor<3x20xf32>, tensor<3x20xf32>) -> tensor<6x20xf32>
  return %w : tensor<6x20xf32>
}
