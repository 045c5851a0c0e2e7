//===- NoCudaExecutor.cpp - CudaExecutor in a build without CUDA ----------===//
//
// Compiled instead of CudaExecutor.cpp when KILN_ENABLE_CUDA is OFF, so tools
// link and report a clear error instead of failing to build.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/CudaExecutor.h"

namespace kiln::runtime {

struct CudaExecutor::Impl {
  std::string deviceDesc;
};

CudaExecutor::CudaExecutor(std::unique_ptr<Impl> impl)
    : impl(std::move(impl)) {}
CudaExecutor::~CudaExecutor() = default;

std::unique_ptr<CudaExecutor> CudaExecutor::create(const Artifact &,
                                                   const std::string &, int,
                                                   std::string &error) {
  error = "no CUDA device: this kiln runtime was built without CUDA "
          "(KILN_ENABLE_CUDA=OFF)";
  return nullptr;
}

bool CudaExecutor::run(Mode, const std::vector<HostTensor> &, int,
                       std::vector<HostTensor> &, RunStats &,
                       std::string &error) {
  error = "this kiln runtime was built without CUDA";
  return false;
}

const std::string &CudaExecutor::deviceDescription() const {
  return impl->deviceDesc;
}

} // namespace kiln::runtime
