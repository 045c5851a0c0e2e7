// kiln-compile --gemv-min-blocks=N (module attribute kiln.gemv_min_blocks, for
// measurement): each one-row GEMV kernel whose grid is at most N blocks on
// each of kTargetSms (132) SMs is declared __launch_bounds__(256, N), so its
// whole grid can be resident at once; larger grids, the tensor-core GEMV
// (4 rows) and every other kernel are not. Here the 256-column product is
// 32 blocks and the 1064-column one 133: at N = 1 only the first (133 >
// 132), at N = 2 both (133 <= 264). Without the flag no kernel has a
// minimum. N outside 1..8 (the flag or the attribute) is an error. The
// source compiles with nvcc.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "open('%t/w.bin', 'wb').write(bytes(524288))"
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --emit=scheduled -o - | FileCheck %s --check-prefix=SCHED
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --emit=cuda -o %t/none.cu
// RUN: not grep -q "__launch_bounds__(256, " %t/none.cu
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-min-blocks=1 --emit=cuda -o - | FileCheck %s --check-prefix=ONE
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-min-blocks=2 --emit=cuda -o %t/two.cu
// RUN: FileCheck %s --check-prefix=TWO --input-file=%t/two.cu
// RUN: cd %t && not kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-min-blocks=9 --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=FLAG
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-min-blocks=2 --emit=scheduled -o %t/two.mlir
// RUN: grep -q "kiln.gemv_min_blocks = 2 : i64" %t/two.mlir
// RUN: sed -e 's/kiln.gemv_min_blocks = 2 : i64/kiln.gemv_min_blocks = 0 : i64/' %t/two.mlir > %t/bad.mlir
// RUN: cd %t && not kiln-compile bad.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=ATTR
// --gemv-wave-min-blocks=N (kiln.gemv_wave_min_blocks) bounds the grids
// that rule leaves out, those of more than N x 132 blocks: at N = 1 the
// 133-block product only, at N = 2 none; beside --gemv-min-blocks=1 each
// kernel gets one bound. The same range check.
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-wave-min-blocks=1 --emit=cuda -o - | FileCheck %s --check-prefix=WAVE1
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-wave-min-blocks=2 --emit=cuda -o - | FileCheck %s --check-prefix=WAVE2
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-wave-min-blocks=3 --gemv-min-blocks=1 --emit=cuda -o - | FileCheck %s --check-prefix=BOTH
// RUN: cd %t && not kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-wave-min-blocks=two --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=WAVEBAD
// RUN: cd %t && not kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-wave-min-blocks=9 --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=WAVEFLAG
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-wave-min-blocks=1 --emit=scheduled -o %t/w1.mlir
// RUN: sed -e 's/kiln.gemv_wave_min_blocks = 1 : i64/kiln.gemv_wave_min_blocks = 9 : i64/' %t/w1.mlir > %t/wbad.mlir
// RUN: cd %t && not kiln-compile wbad.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=WAVEATTR
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/two.cu -o %t/two.90a.o %}

// SCHED: kiln.launch @k3_linear_cast grid [32, 1, 1] block [256, 1, 1]
// SCHED: kiln.launch @k4_linear_cast grid [133, 1, 1] block [256, 1, 1]
// SCHED: kiln.launch @k5_linear_cast grid [1, 1, 1] block [256, 1, 1]

// ONE: __launch_bounds__(256) k0_gather_cast_cast(
// ONE: __launch_bounds__(256, 1) k3_linear_cast(
// ONE: __launch_bounds__(256) k4_linear_cast(
// ONE: __launch_bounds__(256) k5_linear_cast(

// TWO: __launch_bounds__(256) k0_gather_cast_cast(
// TWO: __launch_bounds__(256, 2) k3_linear_cast(
// TWO: __launch_bounds__(256, 2) k4_linear_cast(
// TWO: __launch_bounds__(256) k5_linear_cast(
// TWO: kiln::gemvMmaPartials

// WAVE1: __launch_bounds__(256) k3_linear_cast(
// WAVE1: __launch_bounds__(256, 1) k4_linear_cast(
// WAVE1: __launch_bounds__(256) k5_linear_cast(

// WAVE2: __launch_bounds__(256) k3_linear_cast(
// WAVE2: __launch_bounds__(256) k4_linear_cast(

// BOTH: __launch_bounds__(256, 1) k3_linear_cast(
// BOTH-NOT: __launch_bounds__(256, 3)
// BOTH: __launch_bounds__(256) k4_linear_cast(

// WAVEBAD: for the --gemv-wave-min-blocks option: 'two' value invalid
// WAVEFLAG: kiln-compile: error: --gemv-wave-min-blocks=9 is not between 1 and 8
// WAVEATTR: error: kiln.gemv_wave_min_blocks must be an integer from 1 to 8, got 9 : i64

// FLAG: kiln-compile: error: --gemv-min-blocks=9 is not between 1 and 8
// ATTR: error: kiln.gemv_min_blocks must be an integer from 1 to 8, got 0 : i64

func.func @step(%ids: tensor<1xi64>, %idsb: tensor<1xi64>, %ids4: tensor<4xi64>) -> (tensor<1x256xf32>, tensor<1x1064xf32>, tensor<4x64xf32>) {
  %e = kiln.weight "e" {path = "w.bin", offset = 0 : i64, length = 4096 : i64} : tensor<16x64xf32>
  %x = kiln.gather %e, %ids {axis = 0 : i64} : (tensor<16x64xf32>, tensor<1xi64>) -> tensor<1x64xf32>
  %ws = kiln.weight "ws" {path = "w.bin", offset = 0 : i64, length = 65536 : i64} : tensor<64x256xf32>
  %s = kiln.matmul %x, %ws : (tensor<1x64xf32>, tensor<64x256xf32>) -> tensor<1x256xf32>
  %xb = kiln.gather %e, %idsb {axis = 0 : i64} : (tensor<16x64xf32>, tensor<1xi64>) -> tensor<1x64xf32>
  %wl = kiln.weight "wl" {path = "w.bin", offset = 0 : i64, length = 272384 : i64} : tensor<64x1064xf32>
  %l = kiln.matmul %xb, %wl : (tensor<1x64xf32>, tensor<64x1064xf32>) -> tensor<1x1064xf32>
  %x4 = kiln.gather %e, %ids4 {axis = 0 : i64} : (tensor<16x64xf32>, tensor<4xi64>) -> tensor<4x64xf32>
  %w4 = kiln.weight "w4" {path = "w.bin", offset = 0 : i64, length = 16384 : i64} : tensor<64x64xf32>
  %m = kiln.matmul %x4, %w4 : (tensor<4x64xf32>, tensor<64x64xf32>) -> tensor<4x64xf32>
  return %s, %l, %m : tensor<1x256xf32>, tensor<1x1064xf32>, tensor<4x64xf32>
}
