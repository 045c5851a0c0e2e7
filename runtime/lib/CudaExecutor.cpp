//===- CudaExecutor.cpp - run a kiln artifact on a CUDA GPU ---------------===//
//
// Allocates the arena, the weights and the KV cache region (cudaMalloc
// only), loads the fatbin with cudaLibraryLoadData, resolves kernels with
// cudaLibraryGetKernel, prepares a cuBLASLt matmul (descriptors, layouts,
// algorithm, workspace) per gemm launch of every function, then runs a
// function's launch list eagerly or as its captured CUDA graph. Everything
// that allocates or queries happens in create() (pinned staging buffers on a
// function's first step()), so a captured region holds only kernel launches
// and cublasLtMatmul calls.
//
// Each gemm's algorithm is cuBLASLt's heuristic's first unless
// KILN_RUNTIME_GEMM_TUNE is 1 or verbose: then up to kGemmCandidates of the
// heuristic's algorithms are timed once per gemm shape at create(), with
// L2 flushed before each run (a decode step reads its weights from DRAM),
// and the fastest kept where it beats the first by kGemmTuneMargin
// (docs/runtime.md, "Gemm algorithms").
//
// Row-major gemms are issued as the column-major product C^T = B^T * A^T, so
// no layout order attribute is needed and the bias epilogue (one value per
// row of the column-major D) adds bias[n] to every row of the row-major C.
// A residual is cuBLASLt's C with beta = 1, laid out exactly as D (same
// ld and batch stride, so one layout serves both); it may be D itself.
//
//===----------------------------------------------------------------------===//

#include "CudaCheck.h"
#include "kiln/runtime/CudaExecutor.h"

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

namespace kiln::runtime {

namespace {
/// A failed CUDA call's error text (CudaCheck.h).
bool ok(cudaError_t e, const std::string &what, std::string &error) {
  return cudaOk(e, what, error);
}

/// Sets `error` from a failed cuBLASLt call; returns false iff it failed.
bool ok(cublasStatus_t s, const std::string &what, std::string &error) {
  if (s == CUBLAS_STATUS_SUCCESS)
    return true;
  error = what + ": " + cublasLtGetStatusName(s) + " (" +
          cublasLtGetStatusString(s) + ")";
  return false;
}

/// Largest power of two (<= 256) that divides `p`.
uint32_t alignmentOf(const void *p) {
  uintptr_t v = reinterpret_cast<uintptr_t>(p);
  uint32_t a = 1;
  while (a < 256 && v % (a * 2) == 0)
    a *= 2;
  return a;
}

constexpr size_t kWorkspaceBytes = 32u << 20;
/// Heuristic algorithms timed per gemm shape (KILN_RUNTIME_GEMM_TUNE).
constexpr int kGemmCandidates = 8;
/// A candidate replaces the heuristic's first only when its median time is
/// below this fraction of the first's: timing noise does not switch
/// algorithms (and so summation orders) between runs.
constexpr float kGemmTuneMargin = 0.95f;
/// Timed runs per candidate (the median counts), each after an L2 flush.
constexpr int kGemmTuneRuns = 5;
/// Bytes written before each timed run to push the gemm's operands out of
/// L2 (the H100 / H200 L2 is 50 / 60 MB).
constexpr size_t kFlushBytes = size_t(128) << 20;

/// One launch, with every device address and descriptor resolved.
struct Prepared {
  const Launch *launch = nullptr;
  /// Kernel launches.
  cudaKernel_t kernel = nullptr;
  std::vector<void *> argValues;
  std::vector<void *> argPtrs;
  /// Gemm launches.
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t layoutA = nullptr, layoutB = nullptr,
                         layoutC = nullptr;
  cublasLtMatmulAlgo_t algo{};
  const void *a = nullptr, *b = nullptr, *bias = nullptr;
  void *c = nullptr;
  /// cuBLASLt's C: the residual (beta = 1), or `c` (beta = 0) without one.
  const void *residual = nullptr;
  float beta = 0.0f;
  /// The gemm's alpha (its scale).
  float alpha = 1.0f;
};

/// The per-function state: resolved launches, the captured graph, and the
/// pinned staging buffer of step().
struct FunctionState {
  const Function *function = nullptr;
  std::vector<Prepared> launches;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t graphExec = nullptr;
  /// Pinned host memory (cudaHostAlloc): every input, then every output, at
  /// 256-byte aligned offsets (inputOffsets / outputOffsets).
  char *staging = nullptr;
  std::vector<size_t> inputOffsets, outputOffsets;
};
} // namespace

struct CudaExecutor::Impl {
  const Artifact *artifact = nullptr;
  /// The function the function-less run() runs (null: defaultFunction()).
  const Function *defaultFn = nullptr;
  int device = 0;
  std::string deviceDesc;
  cudaStream_t stream = nullptr;
  void *arena = nullptr;
  void *weights = nullptr;
  /// The KV cache region (null without a kv_cache record).
  void *kv = nullptr;
  cudaLibrary_t library = nullptr;
  cublasLtHandle_t lt = nullptr;
  void *workspace = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  /// One per manifest function, in manifest order.
  std::vector<FunctionState> functions;
  /// Resolved kernels by name, shared by every function.
  std::map<std::string, cudaKernel_t> kernels;
  /// KILN_RUNTIME_SYNC=1: synchronise after each eager launch so an
  /// asynchronous fault is attributed to its launch.
  bool syncEachLaunch = false;
  /// KILN_RUNTIME_CHECK_GEMM=1: recompute every gemm on the host (eager).
  bool checkGemms = false;
  /// KILN_RUNTIME_GEMM_TUNE: unset or 0 (the default) takes cuBLASLt's
  /// heuristic's first algorithm; 1 the fastest of kGemmCandidates, timed
  /// at create(); `verbose` as 1, printing each shape's choice to stderr.
  bool tuneGemms = false, tuneVerbose = false;
  /// The tuned algorithm per gemm shape (tuneKey), shared by the functions.
  std::map<std::string, cublasLtMatmulAlgo_t> tunedAlgos;
  /// Shapes whose tuned algorithm is not the heuristic's first.
  int tunedChanged = 0;
  /// kFlushBytes of scratch for the tuner's L2 flush (freed after setup).
  void *flush = nullptr;
  bool tuneGemm(const FunctionState &f, size_t i, Prepared &p,
                const cublasLtMatmulHeuristicResult_t *results, int found,
                std::string &error);
  /// Launch kernels with programmatic dependent launch (the manifest says
  /// `dependent_launch`, the device is sm_90 or later, and
  /// KILN_RUNTIME_PDL is not 0).
  bool pdl = false;
  /// KILN_RUNTIME_CARVEOUT: the shared memory carveout (percent) set on
  /// every kernel, or -1 (the driver chooses per kernel).
  int carveout = -1;
  /// The residual of the gemm being checked, copied before the gemm runs
  /// (cuBLASLt may write its result over it).
  std::vector<float> checkResidual;
  bool snapshotResidual(const FunctionState &f, size_t i, std::string &error);
  bool checkGemm(const FunctionState &f, size_t i, std::string &error);

  ~Impl();
  std::string where(const FunctionState &f, size_t i) const;
  void *pointer(const PointerRef &ref) const;
  FunctionState *find(const std::string &name, std::string &error);
  bool setup(std::string &error);
  bool prepareKernel(const FunctionState &f, size_t i, Prepared &p,
                     std::string &error);
  bool prepareGemm(const FunctionState &f, size_t i, Prepared &p,
                   std::string &error);
  bool launchOne(FunctionState &f, size_t i, std::string &error);
  bool launchAll(FunctionState &f, bool eager, std::string &error);
  bool capture(FunctionState &f, std::string &error);
  /// `function`'s state with the device set and `reps` at least 1, for the
  /// timing methods; null (error set) when there is no such function or
  /// the device cannot be set.
  FunctionState *timingState(const std::string &function, int &reps,
                             std::string &error) {
    FunctionState *f = find(function, error);
    if (!f || !ok(cudaSetDevice(device), "cudaSetDevice", error))
      return nullptr;
    reps = reps < 1 ? 1 : reps;
    return f;
  }
  bool copyInputs(const FunctionState &f, const std::vector<HostTensor> &inputs,
                  std::string &error);
  bool execute(FunctionState &f, bool graph, std::string &error);
  std::string syncWhat(const FunctionState &f, bool graph) const;
};

CudaExecutor::Impl::~Impl() {
  // Best-effort teardown: errors here have nowhere useful to go.
  for (FunctionState &f : functions) {
    if (f.graphExec)
      cudaGraphExecDestroy(f.graphExec);
    if (f.graph)
      cudaGraphDestroy(f.graph);
    if (f.staging)
      cudaFreeHost(f.staging);
    for (Prepared &p : f.launches) {
      if (p.layoutA)
        cublasLtMatrixLayoutDestroy(p.layoutA);
      if (p.layoutB)
        cublasLtMatrixLayoutDestroy(p.layoutB);
      if (p.layoutC)
        cublasLtMatrixLayoutDestroy(p.layoutC);
      if (p.desc)
        cublasLtMatmulDescDestroy(p.desc);
    }
  }
  if (lt)
    cublasLtDestroy(lt);
  if (library)
    cudaLibraryUnload(library);
  if (workspace)
    cudaFree(workspace);
  if (flush)
    cudaFree(flush);
  if (weights)
    cudaFree(weights);
  if (arena)
    cudaFree(arena);
  if (kv)
    cudaFree(kv);
  if (start)
    cudaEventDestroy(start);
  if (stop)
    cudaEventDestroy(stop);
  if (stream)
    cudaStreamDestroy(stream);
}

std::string CudaExecutor::Impl::where(const FunctionState &f, size_t i) const {
  const Launch &l = f.function->launches[i];
  return artifact->where(l.line) + ": launch " + std::to_string(i) + " (" +
         (l.kind == Launch::Kind::Kernel ? "kernel '" + l.kernel.name + "'"
                                         : l.label()) +
         ")";
}

void *CudaExecutor::Impl::pointer(const PointerRef &ref) const {
  switch (ref.kind) {
  case PointerRef::Kind::None:
    return nullptr;
  case PointerRef::Kind::Arena:
    return static_cast<char *>(arena) + ref.value;
  case PointerRef::Kind::Weight:
    return static_cast<char *>(weights) +
           artifact->manifest.weights[ref.value].offset;
  case PointerRef::Kind::Kv:
    return static_cast<char *>(kv) + ref.value;
  }
  return nullptr;
}

FunctionState *CudaExecutor::Impl::find(const std::string &name,
                                        std::string &error) {
  for (FunctionState &f : functions)
    if (f.function->name == name)
      return &f;
  error = artifact->manifestPath + ": no function '" + name + "' (functions:";
  for (const FunctionState &f : functions)
    error += " " + f.function->name;
  error += ")";
  return nullptr;
}

bool CudaExecutor::Impl::setup(std::string &error) {
  const Manifest &m = artifact->manifest;
  const char *sync = std::getenv("KILN_RUNTIME_SYNC");
  syncEachLaunch = sync && std::string(sync) == "1";
  const char *check = std::getenv("KILN_RUNTIME_CHECK_GEMM");
  checkGemms = check && std::string(check) == "1";
  const char *pdlEnv = std::getenv("KILN_RUNTIME_PDL");
  if (const char *tune = std::getenv("KILN_RUNTIME_GEMM_TUNE")) {
    tuneVerbose = std::string(tune) == "verbose";
    tuneGemms = tuneVerbose || std::string(tune) == "1";
  }
  if (!parseSharedMemoryCarveout(std::getenv("KILN_RUNTIME_CARVEOUT"),
                                 carveout, error))
    return false;
  int device = 0, major = 0;
  if (!ok(cudaGetDevice(&device), "cudaGetDevice", error) ||
      !ok(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor,
                                 device),
          "cudaDeviceGetAttribute", error))
    return false;
  pdl = m.dependentLaunch && major >= 9 &&
        !(pdlEnv && std::string(pdlEnv) == "0");
  if (!ok(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking),
          "cudaStreamCreateWithFlags", error) ||
      !ok(cudaEventCreate(&start), "cudaEventCreate", error) ||
      !ok(cudaEventCreate(&stop), "cudaEventCreate", error))
    return false;

  // Arena and weights: plain device memory, never managed.
  size_t arenaBytes = m.arenaBytes ? m.arenaBytes : 256;
  if (!ok(cudaMalloc(&arena, arenaBytes),
          "cudaMalloc of the arena (" + std::to_string(arenaBytes) + " bytes)",
          error) ||
      !ok(cudaMemsetAsync(arena, 0, arenaBytes, stream),
          "cudaMemsetAsync of the arena", error))
    return false;
  size_t weightBytes =
      artifact->weights.size() ? artifact->weights.size() : 256;
  if (!ok(cudaMalloc(&weights, weightBytes),
          "cudaMalloc of the weights (" + std::to_string(weightBytes) +
              " bytes)",
          error))
    return false;
  if (!artifact->weights.empty() &&
      !ok(cudaMemcpyAsync(weights, artifact->weights.data(),
                          artifact->weights.size(), cudaMemcpyHostToDevice,
                          stream),
          "upload of " + m.weightsFile.name, error))
    return false;
  // The KV cache: allocated once, zeroed once, persistent across steps and
  // functions (resetKvCache() zeroes it again).
  if (m.kvCache.present() &&
      (!ok(cudaMalloc(&kv, m.kvCache.bytes),
           artifact->where(m.kvCache.line) + ": cudaMalloc of the KV cache (" +
               std::to_string(m.kvCache.bytes) + " bytes)",
           error) ||
       !ok(cudaMemsetAsync(kv, 0, m.kvCache.bytes, stream),
           "cudaMemsetAsync of the KV cache", error)))
    return false;
  // The stream is non-blocking: wait for the clears and the upload here.
  if (!ok(cudaStreamSynchronize(stream), "upload of " + m.weightsFile.name,
          error))
    return false;

  functions.resize(m.functions.size());
  for (size_t fi = 0; fi < functions.size(); ++fi) {
    FunctionState &f = functions[fi];
    f.function = &m.functions[fi];
    f.launches.resize(f.function->launches.size());
    for (size_t i = 0; i < f.launches.size(); ++i) {
      Prepared &p = f.launches[i];
      p.launch = &f.function->launches[i];
      bool good = p.launch->kind == Launch::Kind::Kernel
                      ? prepareKernel(f, i, p, error)
                      : prepareGemm(f, i, p, error);
      if (!good)
        return false;
    }
  }
  if (flush) {
    // The tuner ran gemms on the arena: clear it again, as create()
    // promises a zeroed arena, and free the flush scratch.
    if (!ok(cudaMemsetAsync(arena, 0, arenaBytes, stream),
            "cudaMemsetAsync of the arena", error) ||
        !ok(cudaStreamSynchronize(stream), "gemm tuning", error) ||
        !ok(cudaFree(flush), "cudaFree of the tuning scratch", error))
      return false;
    flush = nullptr;
  }
  return true;
}

bool CudaExecutor::Impl::prepareKernel(const FunctionState &f, size_t i,
                                       Prepared &p, std::string &error) {
  std::map<std::string, cudaKernel_t> &cache = kernels;
  const Manifest &m = artifact->manifest;
  const KernelLaunch &k = p.launch->kernel;
  if (!library) {
    std::string fatbin = artifact->dir + "/" + m.kernelsFile.name;
    if (artifact->fatbin.empty()) {
      error = where(f, i) + ": " + fatbin + " is empty";
      return false;
    }
    if (!ok(cudaLibraryLoadData(&library, artifact->fatbin.data(), nullptr,
                                nullptr, 0, nullptr, nullptr, 0),
            fatbin + ": cudaLibraryLoadData (artifact built for " + m.arch +
                ", device is " + deviceDesc + ")",
            error))
      return false;
  }
  auto it = cache.find(k.name);
  if (it != cache.end()) {
    p.kernel = it->second;
  } else {
    cudaError_t e = cudaLibraryGetKernel(&p.kernel, library, k.name.c_str());
    if (e != cudaSuccess) {
      cudaGetLastError();
      if (e == cudaErrorSymbolNotFound)
        error = where(f, i) + ": kernel '" + k.name + "' is not in " +
                m.kernelsFile.name +
                " (cudaLibraryGetKernel: " + cudaGetErrorName(e) + ")";
      else
        error = where(f, i) + ": kernel '" + k.name +
                "' cannot be loaded from " + m.kernelsFile.name +
                " (cudaLibraryGetKernel: " + cudaGetErrorName(e) + ": " +
                cudaGetErrorString(e) + "; artifact built for " + m.arch +
                ", device is " + deviceDesc + ")";
      return false;
    }
    // Loads the kernel now (lazy loading must not happen during capture) and
    // checks the block size against what the compiled kernel allows.
    cudaFuncAttributes attrs;
    if (!ok(cudaFuncGetAttributes(&attrs,
                                  reinterpret_cast<const void *>(p.kernel)),
            where(f, i) + ": cudaFuncGetAttributes", error))
      return false;
    uint64_t threads = uint64_t(k.block[0]) * k.block[1] * k.block[2];
    if (threads > uint64_t(attrs.maxThreadsPerBlock)) {
      error = where(f, i) + ": " + std::to_string(threads) +
              " threads per block, but the kernel allows at most " +
              std::to_string(attrs.maxThreadsPerBlock);
      return false;
    }
    if (carveout >= 0 &&
        !ok(cudaFuncSetAttribute(reinterpret_cast<const void *>(p.kernel),
                                 cudaFuncAttributePreferredSharedMemoryCarveout,
                                 carveout),
            where(f, i) + ": cudaFuncSetAttribute(PreferredSharedMemoryCarveout, " +
                std::to_string(carveout) + ")",
            error))
      return false;
    cache[k.name] = p.kernel;
  }
  // Dynamic shared memory beyond what the kernel allows now (48 KB less its
  // static shared memory until raised: a staged GEMV's 48 KB of slots
  // beside its few bytes of partials needs it raised too) is asked for;
  // only ever raised, since launches may share a kernel.
  if (k.smemBytes > 0) {
    cudaFuncAttributes now;
    if (!ok(cudaFuncGetAttributes(&now,
                                  reinterpret_cast<const void *>(p.kernel)),
            where(f, i) + ": cudaFuncGetAttributes", error))
      return false;
    if (uint64_t(k.smemBytes) > uint64_t(now.maxDynamicSharedSizeBytes) &&
        !ok(cudaFuncSetAttribute(reinterpret_cast<const void *>(p.kernel),
                                 cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 int(k.smemBytes)),
            where(f, i) +
                ": cudaFuncSetAttribute(MaxDynamicSharedMemorySize)",
            error))
      return false;
  }
  p.argValues.resize(k.args.size());
  p.argPtrs.resize(k.args.size());
  for (size_t a = 0; a < k.args.size(); ++a) {
    p.argValues[a] = pointer(k.args[a]);
    p.argPtrs[a] = &p.argValues[a];
  }
  return true;
}

bool CudaExecutor::Impl::prepareGemm(const FunctionState &f, size_t i,
                                     Prepared &p, std::string &error) {
  const GemmLaunch &g = p.launch->gemm;
  std::string at = where(f, i);
  if (!lt) {
    if (!ok(cublasLtCreate(&lt), at + ": cublasLtCreate", error) ||
        !ok(cudaMalloc(&workspace, kWorkspaceBytes),
            at + ": cudaMalloc of the cuBLASLt workspace", error))
      return false;
  }
  p.a = pointer(g.a);
  p.b = pointer(g.b);
  p.c = pointer(g.c);
  p.bias = pointer(g.bias);
  // Without a residual C is D with beta = 0 (never read); with one, C is
  // the residual, beta = 1, and it shares D's layout (layoutC below).
  p.residual = g.residual.kind == PointerRef::Kind::None ? p.c
                                                          : pointer(g.residual);
  p.beta = g.residual.kind == PointerRef::Kind::None ? 0.0f : 1.0f;

  // Column-major view: D' (N x M) = opA'(B) (N x K) * A^T (K x M).
  cublasOperation_t opA = g.transB ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t opB = CUBLAS_OP_N;
  if (!ok(cublasLtMatmulDescCreate(&p.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F),
          at + ": cublasLtMatmulDescCreate", error) ||
      !ok(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSA,
                                         &opA, sizeof(opA)),
          at + ": set TRANSA", error) ||
      !ok(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSB,
                                         &opB, sizeof(opB)),
          at + ": set TRANSB", error))
    return false;
  // The epilogue: bias and activation (cuBLASLt adds the bias, then
  // applies the activation, after alpha * A * B + beta * C).
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  switch (g.activation) {
  case GemmActivation::None:
    epilogue = p.bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
    break;
  case GemmActivation::Relu:
    epilogue = p.bias ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU;
    break;
  case GemmActivation::GeluTanh:
    epilogue = p.bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
    break;
  }
  if (epilogue != CUBLASLT_EPILOGUE_DEFAULT &&
      !ok(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                         &epilogue, sizeof(epilogue)),
          at + ": set EPILOGUE", error))
    return false;
  if (p.bias &&
      !ok(cublasLtMatmulDescSetAttribute(p.desc,
                                         CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                         &p.bias, sizeof(p.bias)),
          at + ": set BIAS_POINTER", error))
    return false;
  p.alpha = g.alpha;

  // B as stored: K x N row-major = N x K col-major (ld N); with transB,
  // N x K row-major = K x N col-major (ld K). A: M x K row-major = K x M
  // col-major (ld K). C: M x N row-major = N x M col-major (ld N).
  uint64_t bRows = g.transB ? g.k : g.n, bCols = g.transB ? g.n : g.k;
  struct LayoutSpec {
    cublasLtMatrixLayout_t *layout;
    uint64_t rows, cols;
    int64_t stride;
    const char *name;
  } specs[] = {{&p.layoutA, bRows, bCols, g.strideB, "B"},
               {&p.layoutB, uint64_t(g.k), uint64_t(g.m), g.strideA, "A"},
               {&p.layoutC, uint64_t(g.n), uint64_t(g.m), g.strideC, "C"}};
  int32_t batch = int32_t(g.batch);
  // The parser allows f32, bf16 and f16 (accumulation is f32 for all).
  cudaDataType_t elementType = g.dtype == DType::BF16  ? CUDA_R_16BF
                               : g.dtype == DType::F16 ? CUDA_R_16F
                                                       : CUDA_R_32F;
  for (LayoutSpec &s : specs) {
    std::string what = at + ": layout of " + s.name;
    if (!ok(cublasLtMatrixLayoutCreate(s.layout, elementType, s.rows, s.cols,
                                       int64_t(s.rows)),
            what, error) ||
        !ok(cublasLtMatrixLayoutSetAttribute(*s.layout,
                                             CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                                             &batch, sizeof(batch)),
            what + " (batch count)", error) ||
        !ok(cublasLtMatrixLayoutSetAttribute(
                *s.layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                &s.stride, sizeof(s.stride)),
            what + " (batch stride)", error))
      return false;
  }

  cublasLtMatmulPreference_t pref = nullptr;
  if (!ok(cublasLtMatmulPreferenceCreate(&pref),
          at + ": cublasLtMatmulPreferenceCreate", error))
    return false;
  size_t ws = kWorkspaceBytes;
  uint32_t alignA = alignmentOf(p.b), alignB = alignmentOf(p.a),
           alignC = alignmentOf(p.residual), alignD = alignmentOf(p.c);
  bool good =
      ok(cublasLtMatmulPreferenceSetAttribute(
             pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)),
         at + ": set MAX_WORKSPACE_BYTES", error) &&
      ok(cublasLtMatmulPreferenceSetAttribute(
             pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &alignA,
             sizeof(alignA)),
         at + ": set MIN_ALIGNMENT_A_BYTES", error) &&
      ok(cublasLtMatmulPreferenceSetAttribute(
             pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &alignB,
             sizeof(alignB)),
         at + ": set MIN_ALIGNMENT_B_BYTES", error) &&
      ok(cublasLtMatmulPreferenceSetAttribute(
             pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &alignC,
             sizeof(alignC)),
         at + ": set MIN_ALIGNMENT_C_BYTES", error) &&
      ok(cublasLtMatmulPreferenceSetAttribute(
             pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &alignD,
             sizeof(alignD)),
         at + ": set MIN_ALIGNMENT_D_BYTES", error);
  cublasLtMatmulHeuristicResult_t results[kGemmCandidates] = {};
  int found = 0;
  if (good)
    good = ok(cublasLtMatmulAlgoGetHeuristic(
                  lt, p.desc, p.layoutA, p.layoutB, p.layoutC, p.layoutC, pref,
                  tuneGemms ? kGemmCandidates : 1, results, &found),
              at + ": cublasLtMatmulAlgoGetHeuristic", error);
  cublasLtMatmulPreferenceDestroy(pref);
  if (!good)
    return false;
  if (found == 0) {
    error = at + ": cuBLASLt found no algorithm for this gemm";
    return false;
  }
  p.algo = results[0].algo;
  return found == 1 || tuneGemm(f, i, p, results, found, error);
}

/// The shape of gemm launch `g` as the tuner keys it: everything the
/// descriptors and the pointers' alignments depend on.
static std::string tuneKey(const GemmLaunch &g, const Prepared &p) {
  std::string key;
  for (int64_t v : {g.m, g.n, g.k, g.batch, g.strideA, g.strideB, g.strideC})
    key += std::to_string(v) + ",";
  key += std::string(dtypeName(g.dtype)) + (g.transB ? ",t" : ",n") + "," +
         std::to_string(int(g.activation)) + (p.bias ? ",bias" : "") +
         (p.beta != 0.0f ? ",residual" : "");
  for (const void *ptr : {p.a, p.b, (const void *)p.c, p.residual, p.bias})
    key += "," + std::to_string(ptr ? alignmentOf(ptr) : 0);
  return key;
}

/// Times the heuristic's `found` algorithms for gemm launch i (once per
/// tuneKey) and sets p.algo to the fastest, where it beats the first by
/// kGemmTuneMargin. Runs only where the gemm writes (and reads as its
/// residual) the arena, which the step overwrites anyway; setup() clears
/// it afterwards. An algorithm cuBLASLt refuses to run is skipped.
bool CudaExecutor::Impl::tuneGemm(const FunctionState &f, size_t i,
                                  Prepared &p,
                                  const cublasLtMatmulHeuristicResult_t *results,
                                  int found, std::string &error) {
  const GemmLaunch &g = p.launch->gemm;
  if (g.c.kind != PointerRef::Kind::Arena ||
      (g.residual.kind != PointerRef::Kind::None &&
       g.residual.kind != PointerRef::Kind::Arena))
    return true;
  std::string key = tuneKey(g, p);
  if (auto it = tunedAlgos.find(key); it != tunedAlgos.end()) {
    p.algo = it->second;
    return true;
  }
  std::string at = where(f, i);
  if (!flush && !ok(cudaMalloc(&flush, kFlushBytes),
                    at + ": cudaMalloc of the tuning scratch", error))
    return false;
  std::vector<float> medians(found, -1.0f);
  for (int c = 0; c < found; ++c) {
    if (results[c].state != CUBLAS_STATUS_SUCCESS)
      continue;
    std::vector<float> times;
    bool runs = true;
    for (int r = 0; r <= kGemmTuneRuns && runs; ++r) {
      if (!ok(cudaMemsetAsync(flush, r & 0xff, kFlushBytes, stream),
              at + ": tuning flush", error) ||
          !ok(cudaEventRecord(start, stream), at + ": cudaEventRecord",
              error))
        return false;
      // A candidate that does not run (an error status) is dropped.
      runs = cublasLtMatmul(lt, p.desc, &p.alpha, p.b, p.layoutA, p.a,
                            p.layoutB, &p.beta, p.residual, p.layoutC, p.c,
                            p.layoutC, &results[c].algo, workspace,
                            kWorkspaceBytes, stream) == CUBLAS_STATUS_SUCCESS;
      float ms = 0.0f;
      if (!ok(cudaEventRecord(stop, stream), at + ": cudaEventRecord",
              error) ||
          !ok(cudaEventSynchronize(stop), at + ": gemm tuning run", error) ||
          !ok(cudaEventElapsedTime(&ms, start, stop),
              at + ": cudaEventElapsedTime", error))
        return false;
      if (r > 0) // the first run warms up
        times.push_back(ms);
    }
    if (!runs)
      continue;
    std::sort(times.begin(), times.end());
    medians[c] = times[times.size() / 2];
  }
  int best = 0;
  for (int c = 1; c < found; ++c)
    if (medians[c] >= 0.0f &&
        (medians[0] < 0.0f ||
         medians[c] < kGemmTuneMargin * medians[0]) &&
        (best == 0 || medians[c] < medians[best]))
      best = c;
  if (medians[best] < 0.0f) {
    error = at + ": none of cuBLASLt's " + std::to_string(found) +
            " algorithms for this gemm ran";
    return false;
  }
  p.algo = results[best].algo;
  tunedAlgos[key] = p.algo;
  tunedChanged += best != 0;
  if (tuneVerbose)
    std::fprintf(stderr,
                 "kiln: gemm %lldx%lldx%lld %s (%s): algorithm %d of %d, "
                 "%.2f us (the heuristic's first: %.2f us)\n",
                 (long long)g.m, (long long)g.n, (long long)g.k,
                 dtypeName(g.dtype), at.c_str(), best, found,
                 medians[best] * 1000.0f, medians[0] * 1000.0f);
  return true;
}

/// Debug aid, before a gemm with a residual runs: keeps a host copy of the
/// residual in checkResidual for checkGemm.
bool CudaExecutor::Impl::snapshotResidual(const FunctionState &f, size_t i,
                                          std::string &error) {
  const Prepared &p = f.launches[i];
  const GemmLaunch &g = p.launch->gemm;
  checkResidual.clear();
  if (g.residual.kind == PointerRef::Kind::None || g.dtype != DType::F32)
    return true;
  int64_t span = (g.batch - 1) * g.strideC + g.m * g.n;
  checkResidual.resize(span);
  return ok(cudaStreamSynchronize(stream), where(f, i) + ": execution",
            error) &&
         ok(cudaMemcpy(checkResidual.data(), p.residual, span * sizeof(float),
                       cudaMemcpyDeviceToHost),
            where(f, i) + ": gemm check copy", error);
}

/// Debug aid: copies a gemm's operands and result back and recomputes it on
/// the host in double (adding the residual snapshotResidual kept); prints
/// the largest difference to stderr.
bool CudaExecutor::Impl::checkGemm(const FunctionState &f, size_t i,
                                   std::string &error) {
  const Prepared &p = f.launches[i];
  const GemmLaunch &g = p.launch->gemm;
  if (!ok(cudaStreamSynchronize(stream), where(f, i) + ": execution", error))
    return false;
  if (g.dtype != DType::F32) {
    std::fprintf(stderr, "gemm check %s: skipped (%s; the check reads f32)\n",
                 where(f, i).c_str(), dtypeName(g.dtype));
    return true;
  }
  auto fetch = [&](const void *dev, int64_t count, std::vector<float> &host) {
    host.resize(count);
    return ok(cudaMemcpy(host.data(), dev, count * sizeof(float),
                         cudaMemcpyDeviceToHost),
              where(f, i) + ": gemm check copy", error);
  };
  int64_t spanA = (g.batch - 1) * g.strideA + g.m * g.k;
  int64_t spanB = (g.batch - 1) * g.strideB + g.k * g.n;
  int64_t spanC = (g.batch - 1) * g.strideC + g.m * g.n;
  std::vector<float> a, b, c, bias;
  if (!fetch(p.a, spanA, a) || !fetch(p.b, spanB, b) || !fetch(p.c, spanC, c) ||
      (p.bias && !fetch(p.bias, g.n, bias)))
    return false;
  double maxErr = 0, maxRef = 0;
  for (int64_t bi = 0; bi < g.batch; ++bi)
    for (int64_t r = 0; r < g.m; ++r)
      for (int64_t col = 0; col < g.n; ++col) {
        double acc = 0.0;
        for (int64_t kk = 0; kk < g.k; ++kk)
          acc += double(a[bi * g.strideA + r * g.k + kk]) *
                 (g.transB ? b[bi * g.strideB + col * g.k + kk]
                           : b[bi * g.strideB + kk * g.n + col]);
        acc = g.alpha * acc + (p.bias ? bias[col] : 0.0);
        if (!checkResidual.empty())
          acc += checkResidual[bi * g.strideC + r * g.n + col];
        if (g.activation == GemmActivation::Relu)
          acc = std::isnan(acc) || acc > 0 ? acc : 0.0;
        if (g.activation == GemmActivation::GeluTanh)
          acc = 0.5 * acc *
                (1.0 + std::tanh(0.7978845608028654 *
                                 (acc + 0.044715 * acc * acc * acc)));
        double got = c[bi * g.strideC + r * g.n + col];
        maxErr = std::max(maxErr, std::fabs(got - acc));
        maxRef = std::max(maxRef, std::fabs(acc));
      }
  std::fprintf(stderr, "gemm check %s: max_abs_err=%.3g (max |ref| %.3g)\n",
               where(f, i).c_str(), maxErr, maxRef);
  return true;
}

bool CudaExecutor::Impl::launchOne(FunctionState &f, size_t i,
                                   std::string &error) {
  Prepared &p = f.launches[i];
  if (p.launch->kind == Launch::Kind::Kernel) {
    const KernelLaunch &k = p.launch->kernel;
    dim3 grid(k.grid[0], k.grid[1], k.grid[2]);
    dim3 block(k.block[0], k.block[1], k.block[2]);
    if (pdl) {
      // The kernel may start while the launch before it finishes; it waits
      // for it in kiln::pdlEnter (docs/runtime.md).
      cudaLaunchAttribute attr;
      attr.id = cudaLaunchAttributeProgrammaticStreamSerialization;
      attr.val.programmaticStreamSerializationAllowed = 1;
      cudaLaunchConfig_t config = {};
      config.gridDim = grid;
      config.blockDim = block;
      config.dynamicSmemBytes = k.smemBytes;
      config.stream = stream;
      config.attrs = &attr;
      config.numAttrs = 1;
      return ok(cudaLaunchKernelExC(&config,
                                    reinterpret_cast<const void *>(p.kernel),
                                    p.argPtrs.data()),
                where(f, i) + ": cudaLaunchKernelExC", error);
    }
    return ok(cudaLaunchKernel(reinterpret_cast<const void *>(p.kernel), grid,
                               block, p.argPtrs.data(), k.smemBytes, stream),
              where(f, i) + ": cudaLaunchKernel", error);
  }
  return ok(cublasLtMatmul(lt, p.desc, &p.alpha, p.b, p.layoutA, p.a, p.layoutB,
                           &p.beta, p.residual, p.layoutC, p.c, p.layoutC,
                           &p.algo, workspace, kWorkspaceBytes, stream),
            where(f, i) + ": cublasLtMatmul", error);
}

bool CudaExecutor::Impl::launchAll(FunctionState &f, bool eager,
                                   std::string &error) {
  for (size_t i = 0; i < f.launches.size(); ++i) {
    Prepared &p = f.launches[i];
    if (eager && checkGemms && p.launch->kind == Launch::Kind::Gemm &&
        !snapshotResidual(f, i, error))
      return false;
    if (!launchOne(f, i, error))
      return false;
    if (eager && checkGemms && p.launch->kind == Launch::Kind::Gemm &&
        !checkGemm(f, i, error))
      return false;
    if (eager && syncEachLaunch &&
        !ok(cudaStreamSynchronize(stream), where(f, i) + ": execution", error))
      return false;
  }
  return true;
}

bool CudaExecutor::Impl::capture(FunctionState &f, std::string &error) {
  if (!ok(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal),
          "cudaStreamBeginCapture", error))
    return false;
  std::string launchError;
  bool launched = launchAll(f, /*eager=*/false, launchError);
  cudaError_t end = cudaStreamEndCapture(stream, &f.graph);
  if (!launched) {
    error = launchError + " (during graph capture)";
    if (f.graph)
      cudaGraphDestroy(f.graph);
    f.graph = nullptr;
    return false;
  }
  if (!ok(end, "function '" + f.function->name + "': cudaStreamEndCapture",
          error))
    return false;
  return ok(cudaGraphInstantiate(&f.graphExec, f.graph, 0),
            "function '" + f.function->name + "': cudaGraphInstantiate", error);
}

bool CudaExecutor::Impl::copyInputs(const FunctionState &f,
                                    const std::vector<HostTensor> &inputs,
                                    std::string &error) {
  const std::vector<TensorSpec> &specs = f.function->inputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec &spec = specs[i];
    if (inputs[i].bytes.size() != spec.bytes) {
      error = "function '" + f.function->name + "' input " + std::to_string(i) +
              " '" + spec.name + "' has " +
              std::to_string(inputs[i].bytes.size()) + " bytes, expected " +
              std::to_string(spec.bytes);
      return false;
    }
    if (!ok(cudaMemcpyAsync(static_cast<char *>(arena) + spec.offset,
                            inputs[i].bytes.data(), spec.bytes,
                            cudaMemcpyHostToDevice, stream),
            "copy of input '" + spec.name + "' to the device", error))
      return false;
  }
  return true;
}

bool CudaExecutor::Impl::execute(FunctionState &f, bool graph,
                                 std::string &error) {
  if (!graph)
    return launchAll(f, /*eager=*/true, error);
  if (!f.graphExec && !capture(f, error))
    return false;
  return ok(cudaGraphLaunch(f.graphExec, stream),
            "function '" + f.function->name + "': cudaGraphLaunch", error);
}

std::string CudaExecutor::Impl::syncWhat(const FunctionState &f,
                                         bool graph) const {
  return std::string("running function '") + f.function->name + "' (" +
         (graph ? "graph" : "eager") +
         (!graph && !syncEachLaunch
              ? "; set KILN_RUNTIME_SYNC=1 to find the failing launch)"
              : ")");
}

CudaExecutor::CudaExecutor(std::unique_ptr<Impl> impl)
    : impl(std::move(impl)) {}
CudaExecutor::~CudaExecutor() = default;

const std::string &CudaExecutor::deviceDescription() const {
  return impl->deviceDesc;
}

bool CudaExecutor::dependentLaunch() const { return impl->pdl; }

int CudaExecutor::sharedMemoryCarveout() const { return impl->carveout; }

std::string CudaExecutor::gemmTuning() const {
  if (!impl->lt)
    return "";
  if (!impl->tuneGemms)
    return "cuBLASLt's heuristic gemm algorithms";
  return "gemm algorithms tuned (" + std::to_string(impl->tunedAlgos.size()) +
         " shapes, " + std::to_string(impl->tunedChanged) +
         " not the heuristic's first)";
}

const Artifact &CudaExecutor::artifact() const { return *impl->artifact; }

std::unique_ptr<CudaExecutor>
CudaExecutor::create(const Artifact &artifact, int device, std::string &error) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    error = "no CUDA device";
    if (e != cudaSuccess)
      error += std::string(" (cudaGetDeviceCount: ") + cudaGetErrorName(e) +
               ": " + cudaGetErrorString(e) + ")";
    return nullptr;
  }
  if (device < 0 || device >= count) {
    error = "CUDA device " + std::to_string(device) + " does not exist (" +
            std::to_string(count) + " device(s))";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->artifact = &artifact;
  impl->device = device;
  cudaDeviceProp prop;
  if (!ok(cudaSetDevice(device), "cudaSetDevice", error) ||
      !ok(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties",
          error))
    return nullptr;
  impl->deviceDesc = std::string(prop.name) + ", sm_" +
                     std::to_string(prop.major) + std::to_string(prop.minor) +
                     ", " + std::to_string(prop.totalGlobalMem >> 20) + " MiB";
  if (!impl->setup(error))
    return nullptr;
  return std::unique_ptr<CudaExecutor>(new CudaExecutor(std::move(impl)));
}

std::unique_ptr<CudaExecutor> CudaExecutor::create(const Artifact &artifact,
                                                   const std::string &function,
                                                   int device,
                                                   std::string &error) {
  const Function *fn = artifact.manifest.findFunction(function);
  if (!fn) {
    error = artifact.manifestPath + ": no function '" + function + "'";
    return nullptr;
  }
  std::unique_ptr<CudaExecutor> exec = create(artifact, device, error);
  if (exec)
    exec->impl->defaultFn = fn;
  return exec;
}

bool CudaExecutor::run(Mode mode, const std::vector<HostTensor> &inputs,
                       int steps, std::vector<HostTensor> &outputs,
                       RunStats &stats, std::string &error) {
  const Function *fn = impl->defaultFn
                           ? impl->defaultFn
                           : defaultFunction(impl->artifact->manifest);
  if (!fn) {
    error = impl->artifact->manifestPath +
            ": several functions and none is 'main'; name the one to run";
    return false;
  }
  return run(fn->name, mode, inputs, steps, outputs, stats, error);
}

bool CudaExecutor::run(const std::string &function, Mode mode,
                       const std::vector<HostTensor> &inputs, int steps,
                       std::vector<HostTensor> &outputs, RunStats &stats,
                       std::string &error) {
  Impl &s = *impl;
  FunctionState *f = s.find(function, error);
  if (!f)
    return false;
  const Function &fn = *f->function;
  if (inputs.size() != fn.inputs.size()) {
    error = "run: function '" + fn.name + "' takes " +
            std::to_string(fn.inputs.size()) + " inputs, got " +
            std::to_string(inputs.size());
    return false;
  }
  bool graph = mode == Mode::Graph;
  if (!ok(cudaSetDevice(s.device), "cudaSetDevice", error))
    return false;
  // Captured before the timed region.
  if (graph && !f->graphExec && !s.capture(*f, error))
    return false;
  if (steps < 1)
    steps = 1;

  if (!ok(cudaEventRecord(s.start, s.stream), "cudaEventRecord", error))
    return false;
  for (int step = 0; step < steps; ++step)
    if (!s.copyInputs(*f, inputs, error) || !s.execute(*f, graph, error))
      return false;
  if (!ok(cudaEventRecord(s.stop, s.stream), "cudaEventRecord", error))
    return false;

  outputs.assign(fn.outputs.size(), HostTensor());
  for (size_t i = 0; i < fn.outputs.size(); ++i) {
    const TensorSpec &spec = fn.outputs[i];
    HostTensor &t = outputs[i];
    t.name = spec.name;
    t.dtype = spec.dtype;
    t.shape = spec.shape;
    t.bytes.resize(spec.bytes);
    if (!ok(cudaMemcpyAsync(t.bytes.data(),
                            static_cast<char *>(s.arena) + spec.offset,
                            spec.bytes, cudaMemcpyDeviceToHost, s.stream),
            "copy of output '" + spec.name + "' to the host", error))
      return false;
  }
  if (!ok(cudaStreamSynchronize(s.stream), s.syncWhat(*f, graph), error))
    return false;
  stats.steps = steps;
  return ok(cudaEventElapsedTime(&stats.totalMs, s.start, s.stop),
            "cudaEventElapsedTime", error);
}

bool CudaExecutor::replay(const std::string &function, Mode mode, int steps,
                          RunStats &stats, std::string &error) {
  Impl &s = *impl;
  FunctionState *f = s.find(function, error);
  if (!f)
    return false;
  bool graph = mode == Mode::Graph;
  if (!ok(cudaSetDevice(s.device), "cudaSetDevice", error))
    return false;
  if (graph && !f->graphExec && !s.capture(*f, error))
    return false;
  if (steps < 1)
    steps = 1;
  if (!ok(cudaEventRecord(s.start, s.stream), "cudaEventRecord", error))
    return false;
  for (int i = 0; i < steps; ++i)
    if (!s.execute(*f, graph, error))
      return false;
  if (!ok(cudaEventRecord(s.stop, s.stream), "cudaEventRecord", error) ||
      !ok(cudaStreamSynchronize(s.stream), s.syncWhat(*f, graph), error))
    return false;
  stats.steps = steps;
  return ok(cudaEventElapsedTime(&stats.totalMs, s.start, s.stop),
            "cudaEventElapsedTime", error);
}

bool CudaExecutor::timeLaunches(const std::string &function, int reps,
                                std::vector<double> &usPerLaunch,
                                std::string &error) {
  Impl &s = *impl;
  FunctionState *f = s.timingState(function, reps, error);
  if (!f)
    return false;
  usPerLaunch.assign(f->launches.size(), 0.0);
  for (size_t i = 0; i < f->launches.size(); ++i) {
    if (!s.launchOne(*f, i, error)) // warm-up
      return false;
    if (!ok(cudaEventRecord(s.start, s.stream), "cudaEventRecord", error))
      return false;
    for (int r = 0; r < reps; ++r)
      if (!s.launchOne(*f, i, error))
        return false;
    float ms = 0;
    if (!ok(cudaEventRecord(s.stop, s.stream), "cudaEventRecord", error) ||
        !ok(cudaEventSynchronize(s.stop), s.syncWhat(*f, false), error) ||
        !ok(cudaEventElapsedTime(&ms, s.start, s.stop), "cudaEventElapsedTime",
            error))
      return false;
    usPerLaunch[i] = ms * 1000.0 / reps;
  }
  return true;
}

bool CudaExecutor::timeGraphPrefixes(const std::string &function, int reps,
                                     size_t flushBytes,
                                     std::vector<double> &endUs,
                                     std::string &error) {
  Impl &s = *impl;
  FunctionState *f = s.timingState(function, reps, error);
  if (!f)
    return false;
  void *flush = nullptr;
  if (!ok(cudaMalloc(&flush, flushBytes),
          "cudaMalloc of the L2 flush buffer (" + std::to_string(flushBytes) +
              " bytes)",
          error))
    return false;
  size_t n = f->launches.size();
  endUs.assign(n + 1, 0.0);
  std::vector<float> times(reps);
  bool good = true;
  for (size_t k = 0; good && k <= n; ++k) {
    // k = 0: the two events alone (no graph).
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    std::string what = "prefix of " + std::to_string(k) + " launches: ";
    if (k > 0) {
      good = ok(cudaStreamBeginCapture(s.stream,
                                        cudaStreamCaptureModeThreadLocal),
                "cudaStreamBeginCapture", error);
      if (!good)
        break;
      for (size_t i = 0; good && i < k; ++i)
        good = s.launchOne(*f, i, error);
      cudaError_t end = cudaStreamEndCapture(s.stream, &graph);
      good = good && ok(end, what + "cudaStreamEndCapture", error) &&
             ok(cudaGraphInstantiate(&exec, graph, 0),
                what + "cudaGraphInstantiate", error);
    }
    for (int r = 0; good && r < reps; ++r) {
      good = ok(cudaMemsetAsync(flush, r & 0xff, flushBytes, s.stream),
                "cudaMemsetAsync of the L2 flush buffer", error) &&
             ok(cudaEventRecord(s.start, s.stream), "cudaEventRecord",
                error) &&
             (!exec || ok(cudaGraphLaunch(exec, s.stream),
                          what + "cudaGraphLaunch", error)) &&
             ok(cudaEventRecord(s.stop, s.stream), "cudaEventRecord",
                error) &&
             ok(cudaEventSynchronize(s.stop), s.syncWhat(*f, true), error) &&
             ok(cudaEventElapsedTime(&times[r], s.start, s.stop),
                "cudaEventElapsedTime", error);
    }
    if (good) {
      std::sort(times.begin(), times.end());
      endUs[k] = times[reps / 2] * 1000.0;
    }
    if (exec)
      cudaGraphExecDestroy(exec);
    if (graph)
      cudaGraphDestroy(graph);
  }
  cudaFree(flush);
  return good;
}

bool CudaExecutor::step(const std::string &function,
                        const std::vector<HostTensor> &inputs,
                        std::vector<HostTensor> &outputs, bool graph,
                        std::string &error) {
  return stepImpl(function, inputs, &outputs, graph, error);
}

bool CudaExecutor::stepOnDevice(const std::string &function,
                                const std::vector<HostTensor> &inputs,
                                bool graph, std::string &error) {
  return stepImpl(function, inputs, nullptr, graph, error);
}

const float *CudaExecutor::outputDevicePointer(const std::string &function,
                                               size_t index,
                                               std::string &error) {
  Impl &s = *impl;
  FunctionState *f = s.find(function, error);
  if (!f)
    return nullptr;
  if (index >= f->function->outputs.size()) {
    error =
        "function '" + function + "' has no output " + std::to_string(index);
    return nullptr;
  }
  return reinterpret_cast<const float *>(static_cast<char *>(s.arena) +
                                         f->function->outputs[index].offset);
}

void *CudaExecutor::stream() const { return impl->stream; }

int CudaExecutor::device() const { return impl->device; }

bool CudaExecutor::stepImpl(const std::string &function,
                            const std::vector<HostTensor> &inputs,
                            std::vector<HostTensor> *outputsOrNull, bool graph,
                            std::string &error) {
  Impl &s = *impl;
  FunctionState *f = s.find(function, error);
  if (!f)
    return false;
  const Function &fn = *f->function;
  if (inputs.size() != fn.inputs.size()) {
    error = "step: function '" + fn.name + "' takes " +
            std::to_string(fn.inputs.size()) + " inputs, got " +
            std::to_string(inputs.size());
    return false;
  }
  if (!ok(cudaSetDevice(s.device), "cudaSetDevice", error))
    return false;
  // The staging buffer: every input, then every output, 256-byte aligned.
  if (!f->staging) {
    size_t at = 0;
    auto place = [&](const std::vector<TensorSpec> &specs,
                     std::vector<size_t> &offsets) {
      for (const TensorSpec &spec : specs) {
        offsets.push_back(at);
        at += (spec.bytes + 255) / 256 * 256;
      }
    };
    place(fn.inputs, f->inputOffsets);
    place(fn.outputs, f->outputOffsets);
    void *pinned = nullptr;
    if (!ok(cudaHostAlloc(&pinned, at ? at : 256, cudaHostAllocDefault),
            "function '" + fn.name +
                "': cudaHostAlloc of the staging buffer (" +
                std::to_string(at) + " bytes)",
            error)) {
      f->inputOffsets.clear();
      f->outputOffsets.clear();
      return false;
    }
    f->staging = static_cast<char *>(pinned);
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec &spec = fn.inputs[i];
    if (inputs[i].bytes.size() != spec.bytes) {
      error = "step: function '" + fn.name + "' input " + std::to_string(i) +
              " '" + spec.name + "' has " +
              std::to_string(inputs[i].bytes.size()) + " bytes, expected " +
              std::to_string(spec.bytes);
      return false;
    }
    char *host = f->staging + f->inputOffsets[i];
    if (spec.bytes)
      std::memcpy(host, inputs[i].bytes.data(), spec.bytes);
    if (!ok(cudaMemcpyAsync(static_cast<char *>(s.arena) + spec.offset, host,
                            spec.bytes, cudaMemcpyHostToDevice, s.stream),
            "copy of input '" + spec.name + "' to the device", error))
      return false;
  }
  if (!s.execute(*f, graph, error))
    return false;
  if (!outputsOrNull)
    return true;
  std::vector<HostTensor> &outputs = *outputsOrNull;
  for (size_t i = 0; i < fn.outputs.size(); ++i) {
    const TensorSpec &spec = fn.outputs[i];
    if (!ok(cudaMemcpyAsync(f->staging + f->outputOffsets[i],
                            static_cast<char *>(s.arena) + spec.offset,
                            spec.bytes, cudaMemcpyDeviceToHost, s.stream),
            "copy of output '" + spec.name + "' to the host", error))
      return false;
  }
  if (!ok(cudaStreamSynchronize(s.stream), s.syncWhat(*f, graph), error))
    return false;
  if (outputs.size() != fn.outputs.size())
    outputs.assign(fn.outputs.size(), HostTensor());
  for (size_t i = 0; i < fn.outputs.size(); ++i) {
    const TensorSpec &spec = fn.outputs[i];
    HostTensor &t = outputs[i];
    if (t.name != spec.name || t.dtype != spec.dtype || t.shape != spec.shape) {
      t.name = spec.name;
      t.dtype = spec.dtype;
      t.shape = spec.shape;
    }
    t.bytes.resize(spec.bytes);
    if (spec.bytes)
      std::memcpy(t.bytes.data(), f->staging + f->outputOffsets[i], spec.bytes);
  }
  return true;
}

bool CudaExecutor::resetKvCache(std::string &error) {
  Impl &s = *impl;
  const KvCacheSpec &kv = s.artifact->manifest.kvCache;
  if (!s.kv)
    return true;
  return ok(cudaSetDevice(s.device), "cudaSetDevice", error) &&
         ok(cudaMemsetAsync(s.kv, 0, kv.bytes, s.stream),
            "cudaMemsetAsync of the KV cache", error) &&
         ok(cudaStreamSynchronize(s.stream), "clearing the KV cache", error);
}

} // namespace kiln::runtime
