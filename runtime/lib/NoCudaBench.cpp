//===- NoCudaBench.cpp - the device half of Bench.h without CUDA ----------===//
//
// Built instead of BenchCuda.cpp when KILN_ENABLE_CUDA is off: every device
// function fails with "no CUDA device", as the executor stub's create() does.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Bench.h"

namespace kiln::runtime {

bool measureCopyBandwidth(int, CopyBandwidth &, std::string &error) {
  error = "no CUDA device (this kiln runtime was built without CUDA)";
  return false;
}

bool timeSteps(CudaExecutor &, const Function &, CudaExecutor::Mode,
               const std::vector<HostTensor> &, int, int, StepTiming &,
               std::string &error) {
  error = "no CUDA device (this kiln runtime was built without CUDA)";
  return false;
}

} // namespace kiln::runtime
