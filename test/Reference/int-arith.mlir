// RUN: kiln-run %s --backend=ref | FileCheck %s

// Integer arithmetic on the reference backend is exact and wraps on overflow
// (two's complement); none of it is undefined
// behaviour (the UBSan fuzz build checks the import-time folds that use it).
// CHECK: output 0: i64 2 [-9223372036854775808, 9223372036854775807]
// CHECK: output 1: i64 2 [9223372036854775807, -9223372036854775808]
// CHECK: output 2: i64 2 [27, -9223372036854775808]
// Sums are exact past 2^53, where a double accumulator would round.
// CHECK: output 3: i64 scalar [9007199254740994]
// CHECK: output 4: i64 scalar [9223372036854775807]

func.func @main() -> (tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<i64>, tensor<i64>) {
  %a = kiln.constant dense<[9223372036854775807, -9223372036854775808]> : tensor<2xi64>
  %one = kiln.constant dense<[1, -1]> : tensor<2xi64>
  %two = kiln.constant dense<[3, 63]> : tensor<2xi64>
  %base = kiln.constant dense<[3, 2]> : tensor<2xi64>
  %big = kiln.constant dense<[9007199254740993, 1]> : tensor<2xi64>
  %0 = kiln.add %a, %one : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %1 = kiln.div %a, %one : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %2 = kiln.pow %base, %two : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %3 = kiln.reduce_sum %big {axes = array<i64: 0>, keepdims = false} : (tensor<2xi64>) -> tensor<i64>
  %4 = kiln.reduce_max %a {axes = array<i64: 0>, keepdims = false} : (tensor<2xi64>) -> tensor<i64>
  return %0, %1, %2, %3, %4 : tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<i64>, tensor<i64>
}
