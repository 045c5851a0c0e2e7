// kiln-compile's kiln-merge-gemms (on by default since session 14): gate and
// up on one input become one cuBLASLt gemm on their weights stored back to
// back. Checked here: the weights layout (the parts abut, the
// concatenation is a view of both at the first's offset, no bytes copied:
// weights.bin holds each part once), the manifest (one gemm of N = 256
// whose B is the first part's record and `b_records 2`: the runtime's parser checks
// that the two records abut and hold the extent), the consumer
// kernel reading both column ranges through slice leaves, the artifact
// built by nvcc, and its scheduled IR on the reference backend equal, bit
// for bit, to the unmerged artifact's. With --merge-gemms=false, or with
// --no-gemv or --no-gemm alone, nothing merges; asking for it explicitly
// beside one of those is an error. On an H200 (session 14) the CUDA path
// matched the reference (test/GPU/prepare_kernels.py, class merge_gemms,
// and the fixtures).
// REQUIRES: nvcc
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "import numpy as np; np.random.default_rng(3).standard_normal(16384).astype(np.float32).tofile('%t/w.bin'); x = np.random.default_rng(5).standard_normal((4, 64)).astype(np.float32); from onnx import numpy_helper; open('%t/x.pb', 'wb').write(numpy_helper.from_array(x, 'x').SerializeToString())"
// RUN: cd %t && kiln-compile t.mlir --merge-gemms --emit=scheduled -o - | FileCheck %s --check-prefix=SCHED
// RUN: cd %t && kiln-compile t.mlir --emit=scheduled -o - | FileCheck %s --check-prefix=SCHED
// RUN: cd %t && kiln-compile t.mlir --merge-gemms=false --emit=scheduled -o - | FileCheck %s --check-prefix=OFF
// RUN: cd %t && kiln-compile t.mlir --no-gemv --emit=scheduled -o - | FileCheck %s --check-prefix=OFF
// RUN: cd %t && kiln-compile t.mlir --no-gemm --emit=scheduled -o - | FileCheck %s --check-prefix=NOLIB
// RUN: cd %t && kiln-compile t.mlir -o %t/m.kiln
// RUN: cd %t && kiln-compile t.mlir --merge-gemms=false -o %t/b.kiln
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/m.kiln/manifest.txt
// RUN: FileCheck %s --check-prefix=CUDA < %t/m.kiln/kernels.cu
// RUN: cd %t && not kiln-compile t.mlir --merge-gemms --no-gemv --emit=scheduled -o - 2>&1 | FileCheck %s --check-prefix=NOGEMV
// RUN: cd %t && not kiln-compile t.mlir --merge-gemms --no-gemm --emit=scheduled -o - 2>&1 | FileCheck %s --check-prefix=NOGEMM
// RUN: kiln-run %t/b.kiln --backend=ref --input %t/x.pb --output-dir %t/base
// RUN: kiln-run %t/m.kiln --backend=ref --input %t/x.pb --expect %t/base/output_0.pb --rtol 0 --atol 0 | FileCheck %s --check-prefix=SAME

// SCHED: %[[W:.+]] = kiln.weights : memref<65536xi8>
// NOGEMV: kiln-compile: error: --merge-gemms needs the cuBLASLt gemms and kiln-gemv; it cannot be combined with --no-gemv
// NOGEMM: kiln-compile: error: --merge-gemms needs the cuBLASLt gemms and kiln-gemv; it cannot be combined with --no-gemm
// SCHED: %[[C:.+]] = kiln.concat %[[G:.+]], %[[U:.+]] {axis = 0 : i64, kiln.weight_concat}
// SCHED-DAG: kiln.view %[[W]][0] init(%[[G]] : tensor<128x64xf32>)
// SCHED-DAG: %[[V:.+]] = kiln.view %[[W]][0] init(%[[C]] : tensor<256x64xf32>) : memref<65536xi8> to memref<256x64xf32>
// SCHED-DAG: kiln.view %[[W]][32768] init(%[[U]] : tensor<128x64xf32>)
// SCHED: kiln.gemm %{{.+}}, %[[V]] outs %{{.+}} transpose_b : (memref<4x64xf32>, memref<256x64xf32>, memref<4x256xf32>)
// OFF-NOT: kiln.concat
// OFF-COUNT-2: kiln.gemm
// NOLIB-NOT: kiln.concat
// NOLIB-NOT: kiln.gemm
// MANIFEST: weights_file weights.bin 65536
// MANIFEST: weight 0 wg f32 128x64 0 32768
// MANIFEST: weight 1 wu f32 128x64 32768 32768
// MANIFEST: launch gemm 4 256 64 1 a:{{[0-9]+}} w:0 a:{{[0-9]+}} - 256 0 1024 1 b_records 2
// CUDA: k1_slice_slice_silu_mul(const float *__restrict__ in0, float *__restrict__ out0)
// CUDA: const float v0 = in0[0 + (0 + c0 * 1) * 256 + (0 + c1 * 1) * 1];
// CUDA: const float v1 = in0[0 + (0 + c0 * 1) * 256 + (128 + c1 * 1) * 1];
// SAME: output output_0: max_abs_err=0 max_rel_err=0 PASS

func.func @main(%x: tensor<4x64xf32> {kiln.name = "x"}) -> tensor<4x128xf32> {
  %wg = kiln.weight "wg" {path = "w.bin", offset = 0 : i64, length = 32768 : i64} : tensor<64x128xf32>
  %wu = kiln.weight "wu" {path = "w.bin", offset = 32768 : i64, length = 32768 : i64} : tensor<64x128xf32>
  %g = kiln.matmul %x, %wg : (tensor<4x64xf32>, tensor<64x128xf32>) -> tensor<4x128xf32>
  %u = kiln.matmul %x, %wu : (tensor<4x64xf32>, tensor<64x128xf32>) -> tensor<4x128xf32>
  %s = kiln.silu %g : tensor<4x128xf32>
  %h = kiln.mul %s, %u : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32>
  return %h : tensor<4x128xf32>
}
