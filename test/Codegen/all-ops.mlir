// Every kiln op the CUDA backend lowers, in one function: the emitted CUDA
// must compile with nvcc for sm_80 and sm_90a.
// Weights are checked when a model is loaded, so the weight file must exist.
// RUN: rm -rf %t.d && mkdir -p %t.d && cp %s %t.d/all-ops.mlir
// RUN: %python -c "open('%t.d/w.bin','wb').write(bytes(131072))"
// Each op in a kernel of its own (kiln-form-fusions{max-ops=1}), so every
// single-op lowering is seen; fused kernels are test/Codegen/fused-kernel.mlir.
// RUN: kiln-opt %t.d/all-ops.mlir --pass-pipeline='builtin.module(kiln-graph-pipeline, func.func(kiln-form-fusions{max-ops=1}, kiln-plan-memory, kiln-verify-plan), kiln-schedule)' -o %t.d/scheduled.mlir
// RUN: kiln-compile %t.d/scheduled.mlir --emit=cuda -o %t.cu
// RUN: FileCheck %s --input-file=%t.cu
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_80,code=sm_80 -I%kiln_src/codegen/kernels %t.cu -o %t.80.o %}
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t.cu -o %t.90a.o %}

// CHECK: #include "kiln_kernels.cuh"
func.func @main(%x: tensor<1x8x64xf32> {kiln.name = "x"}, %ids: tensor<1x8xi64> {kiln.name = "ids"},
                %m: tensor<1x1x8x8xi1>, %cs: tensor<1x8x8xf32>) -> (tensor<1x8x64xf32>, tensor<1x4x8x8xf32>, tensor<1x8x64xi32>, tensor<1x8x1xf32>, tensor<1x8x512xf32>, tensor<1x8x4xf32>) {
  %w = kiln.weight "w.emb" {path = "w.bin", offset = 0 : i64, length = 131072 : i64} : tensor<512x64xf32>
  %g = kiln.constant dense<1.0> : tensor<64xf32>
  // CHECK: k0_gather(const float *__restrict__ in0, const int64_t *__restrict__ in1, float *__restrict__ out0)
  // CHECK: kiln::gather<1, 512, 8, 64>(in0, in1, out0);
  %e = kiln.gather %w, %ids {axis = 0 : i64} : (tensor<512x64xf32>, tensor<1x8xi64>) -> tensor<1x8x64xf32>
  // CHECK: k1_add(
  // CHECK: return (float)(kiln::op::add(in0[i], in1[i]));
  %a = kiln.add %e, %x : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  // CHECK: k2_rms_norm(
  // CHECK: kiln::norm<true, 8, 64>(in0, in1, (const float *)nullptr, out0, 9.99999997e-07f,
  %n = kiln.rms_norm %a, %g {axis = 2 : i64, epsilon = 1.0e-06 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %l = kiln.layer_norm %n, %g, %g {axis = 2 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %r = kiln.reshape %l : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
  // CHECK: k4_transpose(
  // CHECK: return c0 * 512 + c1 * 16 + c2 * 64 + c3;
  %t = kiln.transpose %r {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x8x4x16xf32>) -> tensor<1x4x8x16xf32>
  %ro = kiln.rotary %t, %cs, %cs : (tensor<1x4x8x16xf32>, tensor<1x8x8xf32>, tensor<1x8x8xf32>) -> tensor<1x4x8x16xf32>
  %ri = kiln.rotary %t, %cs, %cs {interleaved = true} : (tensor<1x4x8x16xf32>, tensor<1x8x8xf32>, tensor<1x8x8xf32>) -> tensor<1x4x8x16xf32>
  %kv = kiln.slice %ri {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 2, 1, 1>} : tensor<1x4x8x16xf32> -> tensor<1x2x8x16xf32>
  // CHECK: kiln::attention<1, 4, 2, 8, 8, 16, 16, true>(in0, in1, in2, out0, 0.25f,
  // CHECK-NEXT: in3[c2 * 8 + c3] ? 0.0f : -INFINITY
  %o = kiln.attention %ro, %kv, %kv, %m {scale = 0.25 : f32, causal = true} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x1x8x8xi1>) -> tensor<1x4x8x16xf32>
  %s = kiln.softmax %o {axis = 3 : i64} : tensor<1x4x8x16xf32>
  %kt = kiln.transpose %t {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x8x16xf32>) -> tensor<1x4x16x8xf32>
  %mm = kiln.matmul %s, %kt : (tensor<1x4x8x16xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x8x8xf32>
  %tr = kiln.trilu %mm {upper = false, diagonal = 0 : i64} : tensor<1x4x8x8xf32>
  %sum = kiln.reduce_sum %l {axes = array<i64: 2>, keepdims = true} : (tensor<1x8x64xf32>) -> tensor<1x8x1xf32>
  %mean = kiln.reduce_mean %l {axes = array<i64: 0, 2>, keepdims = false} : (tensor<1x8x64xf32>) -> tensor<8xf32>
  %mx = kiln.reduce_max %l {axes = array<i64: 1>, keepdims = true} : (tensor<1x8x64xf32>) -> tensor<1x1x64xf32>
  %gl = kiln.gelu %l approximate<tanh> : tensor<1x8x64xf32>
  %ge = kiln.gelu %gl : tensor<1x8x64xf32>
  %cmp = kiln.greater %ge, %mx : (tensor<1x8x64xf32>, tensor<1x1x64xf32>) -> tensor<1x8x64xi1>
  %nt = kiln.not %cmp : tensor<1x8x64xi1>
  %an = kiln.and %cmp, %nt : (tensor<1x8x64xi1>, tensor<1x8x64xi1>) -> tensor<1x8x64xi1>
  %wh = kiln.where %an, %ge, %sum : (tensor<1x8x64xi1>, tensor<1x8x64xf32>, tensor<1x8x1xf32>) -> tensor<1x8x64xf32>
  %ci = kiln.cast %wh : tensor<1x8x64xf32> -> tensor<1x8x64xi32>
  %cl = kiln.cast %ci : tensor<1x8x64xi32> -> tensor<1x8x64xi64>
  %dv = kiln.div %cl, %cl : (tensor<1x8x64xi64>, tensor<1x8x64xi64>) -> tensor<1x8x64xi64>
  %pw = kiln.pow %dv, %cl : (tensor<1x8x64xi64>, tensor<1x8x64xi64>) -> tensor<1x8x64xi64>
  %ab = kiln.abs %pw : tensor<1x8x64xi64>
  %ci2 = kiln.cast %ab : tensor<1x8x64xi64> -> tensor<1x8x64xi32>
  %ex = kiln.expand %mean : tensor<8xf32> -> tensor<1x8x8xf32>
  %cc = kiln.concat %ex, %ex {axis = 2 : i64} : (tensor<1x8x8xf32>, tensor<1x8x8xf32>) -> tensor<1x8x16xf32>
  %sp:2 = kiln.split %cc {axis = 2 : i64} : tensor<1x8x16xf32> -> tensor<1x8x4xf32>, tensor<1x8x12xf32>
  %idx = kiln.constant dense<[[0, 1], [0, 5]]> : tensor<2x2xi64>
  %upd = kiln.slice %sp#0 {starts = array<i64: 0, 0, 0>, steps = array<i64: 1, 1, 1>} : tensor<1x8x4xf32> -> tensor<1x2x4xf32>
  %upd2 = kiln.reshape %upd : tensor<1x2x4xf32> -> tensor<2x4xf32>
  %sc = kiln.scatter_nd %sp#0, %idx, %upd2 : (tensor<1x8x4xf32>, tensor<2x2xi64>, tensor<2x4xf32>) -> tensor<1x8x4xf32>
  %lin = kiln.linear %l, %w {transpose_weight = true} : (tensor<1x8x64xf32>, tensor<512x64xf32>) -> tensor<1x8x512xf32>
  %sm = kiln.sigmoid %wh : tensor<1x8x64xf32>
  %un = kiln.silu %sm : tensor<1x8x64xf32>
  %sp2 = kiln.softplus %un : tensor<1x8x64xf32>
  %ex2 = kiln.exp %sp2 : tensor<1x8x64xf32>
  %lg = kiln.log %ex2 : tensor<1x8x64xf32>
  %sq = kiln.sqrt %lg : tensor<1x8x64xf32>
  %rs = kiln.rsqrt %sq : tensor<1x8x64xf32>
  %rc = kiln.reciprocal %rs : tensor<1x8x64xf32>
  %th = kiln.tanh %rc : tensor<1x8x64xf32>
  %ef = kiln.erf %th : tensor<1x8x64xf32>
  %sn = kiln.sin %ef : tensor<1x8x64xf32>
  %cn = kiln.cos %sn : tensor<1x8x64xf32>
  %ng = kiln.neg %cn : tensor<1x8x64xf32>
  %mn = kiln.min %ng, %g : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %ma = kiln.max %mn, %sum : (tensor<1x8x64xf32>, tensor<1x8x1xf32>) -> tensor<1x8x64xf32>
  %su = kiln.sub %ma, %g : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %mu = kiln.mul %su, %su : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %mu, %tr, %ci2, %sum, %lin, %sc : tensor<1x8x64xf32>, tensor<1x4x8x8xf32>, tensor<1x8x64xi32>, tensor<1x8x1xf32>, tensor<1x8x512xf32>, tensor<1x8x4xf32>
}
