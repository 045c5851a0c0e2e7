// RUN: kiln-opt %s --kiln-recognize --split-input-file | FileCheck %s
// With remarks, each near miss below is a remark at its op, and nothing else is:
// RUN: kiln-opt %s --kiln-recognize=remarks=true --split-input-file --verify-diagnostics -o /dev/null
// Without them, none (kiln-opt still lists the expected ones it did not see, as errors that do not fail):
// RUN: kiln-opt %s --kiln-recognize --split-input-file -o /dev/null 2>&1 | FileCheck %s --check-prefix=QUIET --allow-empty
// QUIET-NOT: remark: kiln-recognize

//===----------------------------------------------------------------------===//
// Positive: rotate-half rotary as the exporters write it.
//===----------------------------------------------------------------------===//

// Dynamo prefill: cos/sin are folded constants [1, 1, S, D] whose halves are
// equal; kiln.rotary gets their first halves as constants [1, S, D/2].
// CHECK-LABEL: func.func @dynamo_constant_tables
// CHECK-SAME: (%[[X:.+]]: tensor<1x2x2x4xf32>)
func.func @dynamo_constant_tables(%x: tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> {
  // CHECK-DAG: %[[COS:.+]] = kiln.constant dense<{{\[\[}}[1.000000e+00, 5.000000e-01], [2.500000e-01, 1.250000e-01]]]> : tensor<1x2x2xf32>
  // CHECK-DAG: %[[SIN:.+]] = kiln.constant dense<{{\[\[}}[0.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]]> : tensor<1x2x2xf32>
  // CHECK: %[[R:.+]] = kiln.rotary %[[X]], %[[COS]], %[[SIN]] : (tensor<1x2x2x4xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>) -> tensor<1x2x2x4xf32>
  // CHECK-NEXT: return %[[R]]
  // CHECK-NOT: kiln.concat
  %cos = kiln.constant dense<[[[[1.0, 0.5, 1.0, 0.5], [0.25, 0.125, 0.25, 0.125]]]]> : tensor<1x1x2x4xf32>
  %sin = kiln.constant dense<[[[[0.0, 2.0, 0.0, 2.0], [3.0, 4.0, 3.0, 4.0]]]]> : tensor<1x1x2x4xf32>
  %0 = kiln.mul %x, %cos : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %1 = kiln.slice %x {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %2 = kiln.slice %x {starts = array<i64: 0, 0, 0, 2>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %3 = kiln.neg %2 : tensor<1x2x2x2xf32>
  %4 = kiln.concat %3, %1 {axis = 3 : i64} : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x4xf32>
  %5 = kiln.mul %4, %sin : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %6 = kiln.add %0, %5 : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  return %6 : tensor<1x2x2x4xf32>
}

// -----

// TorchScript decode (s = 1): cos/sin computed in the graph from the
// position ids as cos/sin(concat(f, f)) * 1.0, reshaped to [1, 1, 1, D];
// that computation stays, q's and k's rotary share one slice + reshape of
// each table, operands commuted.
// CHECK-LABEL: func.func @torchscript_computed_tables
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x4x1x16xf32>, %[[K:[^:]+]]: tensor<1x2x1x16xf32>, %[[F:[^:]+]]: tensor<1x1x8xf32>)
func.func @torchscript_computed_tables(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>, %f: tensor<1x1x8xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>) {
  // CHECK: %[[EMB:.+]] = kiln.concat %[[F]], %[[F]]
  // CHECK: %[[C:.+]] = kiln.cos %[[EMB]]
  // CHECK: %[[S:.+]] = kiln.sin %[[EMB]]
  // CHECK: %[[C4:.+]] = kiln.reshape {{.*}} -> tensor<1x1x1x16xf32>
  // CHECK-NEXT: %[[CH:.+]] = kiln.slice %[[C4]] {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x1x1x16xf32> -> tensor<1x1x1x8xf32>
  // CHECK-NEXT: %[[CR:.+]] = kiln.reshape %[[CH]] : tensor<1x1x1x8xf32> -> tensor<1x1x8xf32>
  // CHECK: %[[S4:.+]] = kiln.reshape {{.*}} -> tensor<1x1x1x16xf32>
  // CHECK-NEXT: %[[SH:.+]] = kiln.slice %[[S4]]
  // CHECK-NEXT: %[[SR:.+]] = kiln.reshape %[[SH]] : tensor<1x1x1x8xf32> -> tensor<1x1x8xf32>
  // CHECK: %[[RQ:.+]] = kiln.rotary %[[Q]], %[[CR]], %[[SR]] : (tensor<1x4x1x16xf32>, tensor<1x1x8xf32>, tensor<1x1x8xf32>) -> tensor<1x4x1x16xf32>
  // CHECK: %[[RK:.+]] = kiln.rotary %[[K]], %[[CR]], %[[SR]] : (tensor<1x2x1x16xf32>, tensor<1x1x8xf32>, tensor<1x1x8xf32>) -> tensor<1x2x1x16xf32>
  // CHECK: return %[[RQ]], %[[RK]]
  %one = kiln.constant dense<1.0> : tensor<f32>
  %emb = kiln.concat %f, %f {axis = 2 : i64} : (tensor<1x1x8xf32>, tensor<1x1x8xf32>) -> tensor<1x1x16xf32>
  %c = kiln.cos %emb : tensor<1x1x16xf32>
  %cs = kiln.mul %c, %one : (tensor<1x1x16xf32>, tensor<f32>) -> tensor<1x1x16xf32>
  %s = kiln.sin %emb : tensor<1x1x16xf32>
  %ss = kiln.mul %s, %one : (tensor<1x1x16xf32>, tensor<f32>) -> tensor<1x1x16xf32>
  %cos = kiln.reshape %cs : tensor<1x1x16xf32> -> tensor<1x1x1x16xf32>
  %sin = kiln.reshape %ss : tensor<1x1x16xf32> -> tensor<1x1x1x16xf32>
  %q0 = kiln.mul %cos, %q : (tensor<1x1x1x16xf32>, tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %q1 = kiln.slice %q {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x4x1x16xf32> -> tensor<1x4x1x8xf32>
  %q2 = kiln.slice %q {starts = array<i64: 0, 0, 0, 8>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x4x1x16xf32> -> tensor<1x4x1x8xf32>
  %q3 = kiln.neg %q2 : tensor<1x4x1x8xf32>
  %q4 = kiln.concat %q3, %q1 {axis = 3 : i64} : (tensor<1x4x1x8xf32>, tensor<1x4x1x8xf32>) -> tensor<1x4x1x16xf32>
  %q5 = kiln.mul %sin, %q4 : (tensor<1x1x1x16xf32>, tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %q6 = kiln.add %q5, %q0 : (tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %k0 = kiln.mul %k, %cos : (tensor<1x2x1x16xf32>, tensor<1x1x1x16xf32>) -> tensor<1x2x1x16xf32>
  %k1 = kiln.slice %k {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x1x16xf32> -> tensor<1x2x1x8xf32>
  %k2 = kiln.slice %k {starts = array<i64: 0, 0, 0, 8>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x1x16xf32> -> tensor<1x2x1x8xf32>
  %k3 = kiln.neg %k2 : tensor<1x2x1x8xf32>
  %k4 = kiln.concat %k3, %k1 {axis = 3 : i64} : (tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x1x16xf32>
  %k5 = kiln.mul %k4, %sin : (tensor<1x2x1x16xf32>, tensor<1x1x1x16xf32>) -> tensor<1x2x1x16xf32>
  %k6 = kiln.add %k0, %k5 : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x2x1x16xf32>
  return %q6, %k6 : tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>
}

// -----

// Per-batch tables [B, 1, S, D], batch 2.
// CHECK-LABEL: func.func @batched_tables
func.func @batched_tables(%x: tensor<2x1x3x4xf32>, %f: tensor<2x1x3x2xf32>) -> tensor<2x1x3x4xf32> {
  // CHECK: kiln.slice {{.*}} : tensor<2x1x3x4xf32> -> tensor<2x1x3x2xf32>
  // CHECK: kiln.rotary %{{.*}} : (tensor<2x1x3x4xf32>, tensor<2x3x2xf32>, tensor<2x3x2xf32>) -> tensor<2x1x3x4xf32>
  // CHECK-NOT: kiln.neg
  %emb = kiln.concat %f, %f {axis = 3 : i64} : (tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>) -> tensor<2x1x3x4xf32>
  %cos = kiln.cos %emb : tensor<2x1x3x4xf32>
  %sin = kiln.sin %emb : tensor<2x1x3x4xf32>
  %0 = kiln.mul %x, %cos : (tensor<2x1x3x4xf32>, tensor<2x1x3x4xf32>) -> tensor<2x1x3x4xf32>
  %1 = kiln.slice %x {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : tensor<2x1x3x4xf32> -> tensor<2x1x3x2xf32>
  %2 = kiln.slice %x {starts = array<i64: 0, 0, 0, 2>, steps = array<i64: 1, 1, 1, 1>} : tensor<2x1x3x4xf32> -> tensor<2x1x3x2xf32>
  %3 = kiln.neg %2 : tensor<2x1x3x2xf32>
  %4 = kiln.concat %3, %1 {axis = 3 : i64} : (tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>) -> tensor<2x1x3x4xf32>
  %5 = kiln.mul %4, %sin : (tensor<2x1x3x4xf32>, tensor<2x1x3x4xf32>) -> tensor<2x1x3x4xf32>
  %6 = kiln.add %0, %5 : (tensor<2x1x3x4xf32>, tensor<2x1x3x4xf32>) -> tensor<2x1x3x4xf32>
  return %6 : tensor<2x1x3x4xf32>
}

//===----------------------------------------------------------------------===//
// Near-misses: left alone.
//===----------------------------------------------------------------------===//

// -----

// The halves are swapped the wrong way: concat(-x[:D/2], x[D/2:]).
// CHECK-LABEL: func.func @halves_swapped
// CHECK-NOT: kiln.rotary
// CHECK: kiln.concat
func.func @halves_swapped(%x: tensor<1x2x2x4xf32>, %cos: tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32> {
  %0 = kiln.mul %x, %cos : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %1 = kiln.slice %x {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %2 = kiln.slice %x {starts = array<i64: 0, 0, 0, 2>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %3 = kiln.neg %1 : tensor<1x2x2x2xf32>
  %4 = kiln.concat %3, %2 {axis = 3 : i64} : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x4xf32>
  %5 = kiln.mul %4, %cos : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %6 = kiln.add %0, %5 : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  return %6 : tensor<1x2x2x4xf32>
}

// -----

// cos/sin are function arguments (tables fed as inputs): their halves are
// not provably equal, so kiln.rotary reads them whole, an entry per element
// ({full_tables}), reshaped to [1, S, D].
// CHECK-LABEL: func.func @tables_unknown
// CHECK-SAME: (%[[X:.+]]: tensor<1x2x2x4xf32>, %[[COS:.+]]: tensor<1x1x2x4xf32>, %[[SIN:.+]]: tensor<1x1x2x4xf32>)
// CHECK-DAG: %[[C:.+]] = kiln.reshape %[[COS]] : tensor<1x1x2x4xf32> -> tensor<1x2x4xf32>
// CHECK-DAG: %[[S:.+]] = kiln.reshape %[[SIN]] : tensor<1x1x2x4xf32> -> tensor<1x2x4xf32>
// CHECK: %[[R:.+]] = kiln.rotary %[[X]], %[[C]], %[[S]] {full_tables = true} : (tensor<1x2x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> tensor<1x2x2x4xf32>
// CHECK-NEXT: return %[[R]]
func.func @tables_unknown(%x: tensor<1x2x2x4xf32>, %cos: tensor<1x1x2x4xf32>, %sin: tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32> {
  %0 = kiln.mul %x, %cos : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %1 = kiln.slice %x {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %2 = kiln.slice %x {starts = array<i64: 0, 0, 0, 2>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %3 = kiln.neg %2 : tensor<1x2x2x2xf32>
  %4 = kiln.concat %3, %1 {axis = 3 : i64} : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x4xf32>
  %5 = kiln.mul %4, %sin : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %6 = kiln.add %0, %5 : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  return %6 : tensor<1x2x2x4xf32>
}

// -----

// A constant table whose halves differ: kiln.rotary {full_tables} on it.
// CHECK-LABEL: func.func @constant_halves_differ
// CHECK-NOT: kiln.concat
// CHECK: kiln.rotary %{{.+}}, %{{.+}}, %{{.+}} {full_tables = true} : (tensor<1x2x1x4xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>) -> tensor<1x2x1x4xf32>
// CHECK-NOT: kiln.concat
func.func @constant_halves_differ(%x: tensor<1x2x1x4xf32>) -> tensor<1x2x1x4xf32> {
  %cos = kiln.constant dense<[[[[1.0, 0.5, 1.0, 0.25]]]]> : tensor<1x1x1x4xf32>
  %0 = kiln.mul %x, %cos : (tensor<1x2x1x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x2x1x4xf32>
  %1 = kiln.slice %x {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x1x4xf32> -> tensor<1x2x1x2xf32>
  %2 = kiln.slice %x {starts = array<i64: 0, 0, 0, 2>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x1x4xf32> -> tensor<1x2x1x2xf32>
  %3 = kiln.neg %2 : tensor<1x2x1x2xf32>
  %4 = kiln.concat %3, %1 {axis = 3 : i64} : (tensor<1x2x1x2xf32>, tensor<1x2x1x2xf32>) -> tensor<1x2x1x4xf32>
  %5 = kiln.mul %4, %cos : (tensor<1x2x1x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x2x1x4xf32>
  %6 = kiln.add %0, %5 : (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x1x4xf32>
  return %6 : tensor<1x2x1x4xf32>
}

// -----

// The rotated halves have a second user.
// CHECK-LABEL: func.func @rotated_second_user
// CHECK-NOT: kiln.rotary
// CHECK: kiln.concat
func.func @rotated_second_user(%x: tensor<1x2x2x4xf32>) -> (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) {
  %cos = kiln.constant dense<0.5> : tensor<1x1x2x4xf32>
  %0 = kiln.mul %x, %cos : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %1 = kiln.slice %x {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %2 = kiln.slice %x {starts = array<i64: 0, 0, 0, 2>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %3 = kiln.neg %2 : tensor<1x2x2x2xf32>
  %4 = kiln.concat %3, %1 {axis = 3 : i64} : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x4xf32>
  %5 = kiln.mul %4, %cos : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %6 = kiln.add %0, %5 : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  return %6, %4 : tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>
}

// -----

// The cos term multiplies another tensor than the rotated one.
// CHECK-LABEL: func.func @different_inputs
// CHECK-NOT: kiln.rotary
// CHECK: kiln.concat
func.func @different_inputs(%x: tensor<1x2x2x4xf32>, %y: tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> {
  %cos = kiln.constant dense<0.5> : tensor<1x1x2x4xf32>
  %0 = kiln.mul %y, %cos : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %1 = kiln.slice %x {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %2 = kiln.slice %x {starts = array<i64: 0, 0, 0, 2>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %3 = kiln.neg %2 : tensor<1x2x2x2xf32>
  %4 = kiln.concat %3, %1 {axis = 3 : i64} : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x4xf32>
  %5 = kiln.mul %4, %cos : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %6 = kiln.add %0, %5 : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  return %6 : tensor<1x2x2x4xf32>
}

//===----------------------------------------------------------------------===//
// Interleaved (GPT-J's rotate_every_two): pairs (2i, 2i + 1).
//===----------------------------------------------------------------------===//

// -----

// x * cos + flatten(stack(-x[..., 1::2], x[..., ::2])) * sin with constant
// tables whose pairs are equal: kiln.rotary {interleaved} on every other
// element of each table. The neg comes before the unsqueeze here.
// CHECK-LABEL: func.func @interleaved_constant_tables
// CHECK-SAME: (%[[X:.+]]: tensor<1x2x2x4xf32>)
func.func @interleaved_constant_tables(%x: tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> {
  // CHECK-DAG: %[[COS:.+]] = kiln.constant dense<{{\[\[}}[1.000000e+00, 5.000000e-01], [2.500000e-01, 1.250000e-01]]]> : tensor<1x2x2xf32>
  // CHECK-DAG: %[[SIN:.+]] = kiln.constant dense<{{\[\[}}[0.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]]> : tensor<1x2x2xf32>
  // CHECK: %[[R:.+]] = kiln.rotary %[[X]], %[[COS]], %[[SIN]] {interleaved = true} : (tensor<1x2x2x4xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>) -> tensor<1x2x2x4xf32>
  // CHECK-NEXT: return %[[R]]
  %cos = kiln.constant dense<[[[[1.0, 1.0, 0.5, 0.5], [0.25, 0.25, 0.125, 0.125]]]]> : tensor<1x1x2x4xf32>
  %sin = kiln.constant dense<[[[[0.0, 0.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0]]]]> : tensor<1x1x2x4xf32>
  %0 = kiln.mul %x, %cos : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %e = kiln.slice %x {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 2>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %o = kiln.slice %x {starts = array<i64: 0, 0, 0, 1>, steps = array<i64: 1, 1, 1, 2>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %n = kiln.neg %o : tensor<1x2x2x2xf32>
  %nu = kiln.reshape %n : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x1xf32>
  %eu = kiln.reshape %e : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x1xf32>
  %st = kiln.concat %nu, %eu {axis = 4 : i64} : (tensor<1x2x2x2x1xf32>, tensor<1x2x2x2x1xf32>) -> tensor<1x2x2x2x2xf32>
  %rot = kiln.reshape %st : tensor<1x2x2x2x2xf32> -> tensor<1x2x2x4xf32>
  %5 = kiln.mul %rot, %sin : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %6 = kiln.add %0, %5 : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  return %6 : tensor<1x2x2x4xf32>
}

// -----

// Tables computed in the graph and repeat_interleave'd (unsqueeze, expand,
// reshape); the neg after the unsqueeze; operands commuted. The tables'
// computation stays; kiln.rotary reads every other element of each.
// CHECK-LABEL: func.func @interleaved_computed_tables
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x2x1x8xf32>, %[[F:[^:]+]]: tensor<1x1x1x4xf32>)
func.func @interleaved_computed_tables(%x: tensor<1x2x1x8xf32>, %f: tensor<1x1x1x4xf32>) -> tensor<1x2x1x8xf32> {
  // CHECK: %[[COS:.+]] = kiln.reshape %{{.+}} : tensor<1x1x1x4x2xf32> -> tensor<1x1x1x8xf32>
  // CHECK: %[[CH:.+]] = kiln.slice %[[COS]] {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 2>} : tensor<1x1x1x8xf32> -> tensor<1x1x1x4xf32>
  // CHECK: kiln.rotary %[[X]], %{{.+}}, %{{.+}} {interleaved = true} : (tensor<1x2x1x8xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>) -> tensor<1x2x1x8xf32>
  // CHECK-NOT: kiln.concat
  %c = kiln.cos %f : tensor<1x1x1x4xf32>
  %s = kiln.sin %f : tensor<1x1x1x4xf32>
  %cu = kiln.reshape %c : tensor<1x1x1x4xf32> -> tensor<1x1x1x4x1xf32>
  %su = kiln.reshape %s : tensor<1x1x1x4xf32> -> tensor<1x1x1x4x1xf32>
  %ce = kiln.expand %cu : tensor<1x1x1x4x1xf32> -> tensor<1x1x1x4x2xf32>
  %se = kiln.expand %su : tensor<1x1x1x4x1xf32> -> tensor<1x1x1x4x2xf32>
  %cos = kiln.reshape %ce : tensor<1x1x1x4x2xf32> -> tensor<1x1x1x8xf32>
  %sin = kiln.reshape %se : tensor<1x1x1x4x2xf32> -> tensor<1x1x1x8xf32>
  %0 = kiln.mul %cos, %x : (tensor<1x1x1x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x1x8xf32>
  %e = kiln.slice %x {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 2>} : tensor<1x2x1x8xf32> -> tensor<1x2x1x4xf32>
  %o = kiln.slice %x {starts = array<i64: 0, 0, 0, 1>, steps = array<i64: 1, 1, 1, 2>} : tensor<1x2x1x8xf32> -> tensor<1x2x1x4xf32>
  %ou = kiln.reshape %o : tensor<1x2x1x4xf32> -> tensor<1x2x1x4x1xf32>
  %nu = kiln.neg %ou : tensor<1x2x1x4x1xf32>
  %eu = kiln.reshape %e : tensor<1x2x1x4xf32> -> tensor<1x2x1x4x1xf32>
  %st = kiln.concat %nu, %eu {axis = 4 : i64} : (tensor<1x2x1x4x1xf32>, tensor<1x2x1x4x1xf32>) -> tensor<1x2x1x4x2xf32>
  %rot = kiln.reshape %st : tensor<1x2x1x4x2xf32> -> tensor<1x2x1x8xf32>
  %5 = kiln.mul %sin, %rot : (tensor<1x1x1x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x1x8xf32>
  %6 = kiln.add %5, %0 : (tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x1x8xf32>
  return %6 : tensor<1x2x1x8xf32>
}

// -----

// Tables whose pairs differ (a halves-equal table is not a pairs-equal
// one): kiln.rotary {interleaved} reads them whole ({full_tables}). Near
// misses: the stack in the other order (x[::2], -x[1::2]: the other
// rotation direction); both slices from the even elements.
// CHECK-LABEL: func.func @interleaved_near_misses
// CHECK: kiln.rotary %{{.+}}, %{{.+}}, %{{.+}} {full_tables = true, interleaved = true} : (tensor<1x2x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> tensor<1x2x2x4xf32>
// CHECK-NOT: kiln.rotary
// CHECK-COUNT-2: kiln.concat
// CHECK-NOT: kiln.rotary
func.func @interleaved_near_misses(%x: tensor<1x2x2x4xf32>) -> (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) {
  %halves = kiln.constant dense<[[[[1.0, 0.5, 1.0, 0.5], [0.25, 0.125, 0.25, 0.125]]]]> : tensor<1x1x2x4xf32>
  %pairs = kiln.constant dense<[[[[1.0, 1.0, 0.5, 0.5], [0.25, 0.25, 0.125, 0.125]]]]> : tensor<1x1x2x4xf32>
  %0 = kiln.mul %x, %halves : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %e = kiln.slice %x {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 2>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %o = kiln.slice %x {starts = array<i64: 0, 0, 0, 1>, steps = array<i64: 1, 1, 1, 2>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %n = kiln.neg %o : tensor<1x2x2x2xf32>
  %nu = kiln.reshape %n : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x1xf32>
  %eu = kiln.reshape %e : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x1xf32>
  %st = kiln.concat %nu, %eu {axis = 4 : i64} : (tensor<1x2x2x2x1xf32>, tensor<1x2x2x2x1xf32>) -> tensor<1x2x2x2x2xf32>
  %rot = kiln.reshape %st : tensor<1x2x2x2x2xf32> -> tensor<1x2x2x4xf32>
  %1 = kiln.mul %rot, %halves : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %2 = kiln.add %0, %1 : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>

  %3 = kiln.mul %x, %pairs : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %e2 = kiln.slice %x {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 2>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %o2 = kiln.slice %x {starts = array<i64: 0, 0, 0, 1>, steps = array<i64: 1, 1, 1, 2>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %n2 = kiln.neg %o2 : tensor<1x2x2x2xf32>
  %nu2 = kiln.reshape %n2 : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x1xf32>
  %eu2 = kiln.reshape %e2 : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x1xf32>
  %st2 = kiln.concat %eu2, %nu2 {axis = 4 : i64} : (tensor<1x2x2x2x1xf32>, tensor<1x2x2x2x1xf32>) -> tensor<1x2x2x2x2xf32>
  %rot2 = kiln.reshape %st2 : tensor<1x2x2x2x2xf32> -> tensor<1x2x2x4xf32>
  %4 = kiln.mul %rot2, %pairs : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %5 = kiln.add %3, %4 : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>

  %6 = kiln.mul %x, %pairs : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %e3 = kiln.slice %x {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 2>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %o3 = kiln.slice %x {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 2>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %n3 = kiln.neg %o3 : tensor<1x2x2x2xf32>
  %nu3 = kiln.reshape %n3 : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x1xf32>
  %eu3 = kiln.reshape %e3 : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x1xf32>
  %st3 = kiln.concat %nu3, %eu3 {axis = 4 : i64} : (tensor<1x2x2x2x1xf32>, tensor<1x2x2x2x1xf32>) -> tensor<1x2x2x2x2xf32>
  %rot3 = kiln.reshape %st3 : tensor<1x2x2x2x2xf32> -> tensor<1x2x2x4xf32>
  %7 = kiln.mul %rot3, %pairs : (tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x2x2x4xf32>
  %8 = kiln.add %6, %7 : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  return %2, %5, %8 : tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>
}
