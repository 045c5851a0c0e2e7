//===- CudaCheck.h - CUDA runtime errors as kiln error text -----*- C++ -*-===//
//
// Internal to runtime/lib: the one spelling of a failed CUDA runtime call in
// an error message, shared by the executor, the sampler and kiln-bench.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_LIB_CUDACHECK_H
#define KILN_RUNTIME_LIB_CUDACHECK_H

#include <cuda_runtime.h>

#include <string>

namespace kiln::runtime {

/// Sets `error` to `what: <name> (<description>)` when `e` is an error;
/// returns true iff the call succeeded.
inline bool cudaOk(cudaError_t e, const std::string &what,
                   std::string &error) {
  if (e == cudaSuccess)
    return true;
  error =
      what + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
  return false;
}

} // namespace kiln::runtime

#endif // KILN_RUNTIME_LIB_CUDACHECK_H
