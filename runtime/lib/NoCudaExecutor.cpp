//===- NoCudaExecutor.cpp - CudaExecutor in a build without CUDA ----------===//
//
// Compiled instead of CudaExecutor.cpp when KILN_ENABLE_CUDA is OFF, so tools
// link and report a clear error instead of failing to build. create() always
// fails, so no executor object ever exists and the other members are never
// reached; they fail the same way for completeness.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/CudaExecutor.h"
#include "kiln/runtime/Sampling.h"

namespace kiln::runtime {

struct CudaExecutor::Impl {
  const Artifact *artifact = nullptr;
  std::string deviceDesc;
};

namespace {
const char *kNoCuda = "no CUDA device: this kiln runtime was built without "
                      "CUDA (KILN_ENABLE_CUDA=OFF)";
} // namespace

CudaExecutor::CudaExecutor(std::unique_ptr<Impl> impl)
    : impl(std::move(impl)) {}
CudaExecutor::~CudaExecutor() = default;

std::unique_ptr<CudaExecutor> CudaExecutor::create(const Artifact &, int,
                                                   std::string &error) {
  error = kNoCuda;
  return nullptr;
}

std::unique_ptr<CudaExecutor> CudaExecutor::create(const Artifact &artifact,
                                                   const std::string &function,
                                                   int, std::string &error) {
  // As the CUDA build: an unknown function is named before the device.
  if (!artifact.manifest.findFunction(function)) {
    error = artifact.manifestPath + ": no function '" + function + "'";
    return nullptr;
  }
  error = kNoCuda;
  return nullptr;
}

bool CudaExecutor::run(const std::string &, Mode,
                       const std::vector<HostTensor> &, int,
                       std::vector<HostTensor> &, RunStats &,
                       std::string &error) {
  error = kNoCuda;
  return false;
}

bool CudaExecutor::run(Mode, const std::vector<HostTensor> &, int,
                       std::vector<HostTensor> &, RunStats &,
                       std::string &error) {
  error = kNoCuda;
  return false;
}

bool CudaExecutor::replay(const std::string &, Mode, int, RunStats &,
                          std::string &error) {
  error = kNoCuda;
  return false;
}

bool CudaExecutor::timeLaunches(const std::string &, int,
                                std::vector<double> &, std::string &error) {
  error = kNoCuda;
  return false;
}

bool CudaExecutor::timeGraphPrefixes(const std::string &, int, size_t,
                                     std::vector<double> &,
                                     std::string &error) {
  error = kNoCuda;
  return false;
}

bool CudaExecutor::step(const std::string &, const std::vector<HostTensor> &,
                        std::vector<HostTensor> &, bool, std::string &error) {
  error = kNoCuda;
  return false;
}

bool CudaExecutor::stepOnDevice(const std::string &,
                                const std::vector<HostTensor> &, bool,
                                std::string &error) {
  error = kNoCuda;
  return false;
}

const float *CudaExecutor::outputDevicePointer(const std::string &, size_t,
                                               std::string &error) {
  error = kNoCuda;
  return nullptr;
}

void *CudaExecutor::stream() const { return nullptr; }

int CudaExecutor::device() const { return 0; }

bool CudaExecutor::stepImpl(const std::string &,
                            const std::vector<HostTensor> &,
                            std::vector<HostTensor> *, bool,
                            std::string &error) {
  error = kNoCuda;
  return false;
}

struct DeviceSampler::Impl {};

DeviceSampler::DeviceSampler(std::unique_ptr<Impl> impl)
    : impl(std::move(impl)) {}
DeviceSampler::~DeviceSampler() = default;

std::unique_ptr<DeviceSampler> DeviceSampler::create(int, int64_t,
                                                     std::string &error) {
  error = kNoCuda;
  return nullptr;
}

bool DeviceSampler::sample(const float *, int64_t,
                           const std::vector<DeviceDraw> &,
                           const DeviceSamplingParams &, void *,
                           std::vector<int64_t> &, std::string &error) {
  error = kNoCuda;
  return false;
}

bool DeviceSampler::sampleHost(const float *, int64_t, int64_t,
                               const std::vector<DeviceDraw> &,
                               const DeviceSamplingParams &,
                               std::vector<int64_t> &, std::string &error) {
  error = kNoCuda;
  return false;
}

bool CudaExecutor::resetKvCache(std::string &error) {
  error = kNoCuda;
  return false;
}

const std::string &CudaExecutor::deviceDescription() const {
  return impl->deviceDesc;
}

bool CudaExecutor::dependentLaunch() const { return false; }

std::string CudaExecutor::gemmTuning() const { return ""; }

int CudaExecutor::sharedMemoryCarveout() const { return -1; }

const Artifact &CudaExecutor::artifact() const { return *impl->artifact; }

} // namespace kiln::runtime
