// Errors writing the artifact are located at the file they are about
// (`path: error: ...`), not printed bare. None of them needs nvcc: each one
// stops kiln-compile before nvcc runs.
// RUN: rm -rf %t && mkdir -p %t
// The output directory cannot be created below a regular file.
// RUN: touch %t/file
// RUN: not kiln-compile %s -o %t/file/m.kiln 2>&1 | FileCheck %s --check-prefix=DIR -DT=%t
// weights.bin cannot be opened when a directory has its name.
// RUN: mkdir -p %t/w.kiln/weights.bin
// RUN: not kiln-compile %s -o %t/w.kiln 2>&1 | FileCheck %s --check-prefix=WEIGHTS -DT=%t
// Nor can kernels.cu.
// RUN: mkdir -p %t/k.kiln/kernels.cu
// RUN: not kiln-compile %s -o %t/k.kiln 2>&1 | FileCheck %s --check-prefix=KERNELS -DT=%t

// DIR: [[T]]/file/m.kiln: error: cannot create the artifact directory: {{.+}}
// WEIGHTS: [[T]]/w.kiln/weights.bin: error: cannot open for writing: {{.+}}
// KERNELS: [[T]]/k.kiln/kernels.cu: error: cannot open for writing: {{.+}}
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.exp %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
