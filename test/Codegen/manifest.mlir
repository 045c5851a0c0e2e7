// The manifest of a small function compiled through the pipeline: weights
// and constants at their weight views' offsets of weights.bin, inputs/outputs
// at their views' arena offsets, the linear as a gemm launch (kiln.gemm),
// everything else as kernels named by their kiln.kernel symbols, in the
// scheduled graph's order.
// REQUIRES: nvcc
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/m.mlir
// RUN: %python -c "open('%t/w.bin','wb').write(bytes(range(256))*2)"
// The tanh and the gather/where kernel are small and independent:
// kiln-merge-siblings merges them by default (MERGED, below); the checks
// of one kernel each are of --merge-small-launches=false.
// RUN: kiln-compile %t/m.mlir -o %t/m.kiln --arch sm_80 --merge-small-launches=false
// RUN: FileCheck %s --input-file=%t/m.kiln/manifest.txt
// RUN: kiln-compile %t/m.mlir -o %t/merged.kiln --arch sm_80
// RUN: FileCheck %s --check-prefix=MERGED --input-file=%t/merged.kiln/manifest.txt
// RUN: FileCheck %s --check-prefix=IR --input-file=%t/m.kiln/scheduled.mlir
// RUN: FileCheck %s --check-prefix=CU --input-file=%t/m.kiln/kernels.cu
// RUN: %python -c "import os; print(os.path.getsize('%t/m.kiln/weights.bin'))" | FileCheck %s --check-prefix=SIZE
// RUN: kiln-compile %t/m.mlir -o %t/m90.kiln --arch sm_90a
// RUN: FileCheck %s --check-prefix=ARCH90 --input-file=%t/m90.kiln/manifest.txt
// RUN: not kiln-compile %t/m.mlir -o %t/bad.kiln --nvcc /nonexistent/nvcc 2>&1 | FileCheck %s --check-prefix=NONVCC
// nvcc runs while weights.bin is written; its failure is still the error,
// with the command line, and no manifest is written.
// RUN: not kiln-compile %t/m.mlir -o %t/fail.kiln --nvcc /bin/false 2>&1 | FileCheck %s --check-prefix=NVCCFAIL
// RUN: not test -e %t/fail.kiln/manifest.txt

// CHECK: kiln-artifact 4
// CHECK-NEXT: arch sm_80
// CHECK-NEXT: arena_bytes 768
// CHECK-NEXT: weights_file weights.bin 1088 xxh64:{{[0-9a-f]{16}$}}
// CHECK-NEXT: kernels_file kernels.fatbin {{[0-9]+}} xxh64:{{[0-9a-f]{16}$}}
// CHECK-NEXT: ir_file scheduled.mlir {{[0-9]+}} xxh64:{{[0-9a-f]{16}$}}
// kiln-simplify hoists constants to the top of the function.
// CHECK-NEXT: weight 0 constant_0 bool 2x1 0 2
// CHECK-NEXT: weight 1 constant_1 i64 2 256 16
// CHECK-NEXT: weight 2 constant_2 f32 8 512 32
// kiln-gemv stores the product's [K, N] = [4, 8] weight transposed, [8, 4],
// and the gemm (2 rows: not a GEMV) reads it with transB.
// CHECK-NEXT: weight 3 proj.weight f32 8x4 768 128
// CHECK-NEXT: weight 4 table f32 4x4 1024 64
// Arena (greedy by size, docs/memory-plan.md), with writes in place: the
// tanh writes y over the linear result, which dies there (one storage, 64
// bytes, points 4 to the end) at 0; x at 256; the where, whose kernel reads
// the gather as a leaf (kiln-form-fusions: one launch), at 512. Live at the
// end: y, x, where = 768 bytes, the lower bound.
// CHECK-NEXT: function main 3
// CHECK-NEXT: input 0 x f32 2x4 256 32
// CHECK-NEXT: output 0 y f32 2x8 0 64
// CHECK-NEXT: output 1 output_1 f32 2x4 512 32
// CHECK-NEXT: launch gemm 2 8 4 1 a:256 w:3 a:0 w:2 8 0 16 1
// CHECK-NEXT: launch kernel k1_tanh 1 1 1 256 1 1 0 2 a:0 a:0
// CHECK-NEXT: launch kernel k2_gather_where 1 1 1 256 1 1 0 5 w:4 w:1 w:0 a:256 a:512
// CHECK-NEXT: end
// CHECK-NEXT: checksum xxh64:{{[0-9a-f]{16}$}}

// Merged: one kernel (a loop per shape), which writes nothing in place (an
// output over an input of one loop is left to the unmerged kernels), so
// the arena keeps the linear result apart from y. The table (w:4, argument
// 1) is read only by the gather: `rows 1`, the one argument kiln-bench
// counts by rows.
// MERGED: arena_bytes 1024
// MERGED: function main 2
// MERGED: launch kernel k1_tanh_gather_where 1 1 1 256 1 1 0 7 a:0 w:4 w:1 w:0 a:512 a:256 a:768 rows 1
// MERGED-NEXT: end

// SIZE: 1088
// ARCH90: arch sm_90a
// NONVCC: error: cannot find nvcc ('/nonexistent/nvcc')
// NVCCFAIL: error: nvcc failed (exit 1)
// NVCCFAIL-NEXT: command: /bin/false -fatbin -std=c++17 -O3 -gencode arch=compute_{{[0-9]+a?}},code=

// IR: kiln.weight "proj.weight" {length = 128 : i64, offset = 768 : i64, path = "weights.bin"}
// IR: kiln.weight "table" {length = 64 : i64, offset = 1024 : i64, path = "weights.bin"}
// CU: #include "kiln_kernels.cuh"
// The tanh updates in place (an output is also an input): no __restrict__
// on its pointers; the gather and where kernel's are.
// CU: extern "C" __global__ void __launch_bounds__(256) k1_tanh(const float *in0, float *out0)
// CU: extern "C" __global__ void __launch_bounds__(256) k2_gather_where(const float *__restrict__ in0, const int64_t *__restrict__ in1, const bool *__restrict__ in2, const float *__restrict__ in3, float *__restrict__ out0)
func.func @main(%x: tensor<2x4xf32> {kiln.name = "x"}) -> (tensor<2x8xf32> {kiln.name = "y"}, tensor<2x4xf32>) {
  %w = kiln.weight "proj.weight" {path = "w.bin", offset = 0 : i64, length = 128 : i64} : tensor<4x8xf32>
  %b = kiln.constant dense<0.5> : tensor<8xf32>
  %l = kiln.linear %x, %w, %b : (tensor<2x4xf32>, tensor<4x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %y = kiln.tanh %l : tensor<2x8xf32>
  %t = kiln.weight "table" {path = "w.bin", offset = 448 : i64, length = 64 : i64} : tensor<4x4xf32>
  %i = kiln.constant dense<[3, -1]> : tensor<2xi64>
  %g = kiln.gather %t, %i {axis = 0 : i64} : (tensor<4x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  %c = kiln.constant dense<[[true], [false]]> : tensor<2x1xi1>
  %s = kiln.where %c, %g, %x : (tensor<2x1xi1>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y, %s : tensor<2x8xf32>, tensor<2x4xf32>
}
