//===- Artifact.h - the kiln artifact (format v3) on the host ---*- C++ -*-===//
//
// The in-memory form of a `.kiln` artifact directory (docs/artifact.md):
// parseManifest() turns manifest.txt into a Manifest with full validation,
// loadArtifact() additionally checks and reads weights.bin and
// kernels.fatbin. Needs neither CUDA nor LLVM. Every error names the file
// and, for the manifest, the line (`DIR/manifest.txt:12: ...`).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_ARTIFACT_H
#define KILN_RUNTIME_ARTIFACT_H

#include "kiln/runtime/TensorIO.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::runtime {

/// The artifact format version this runtime reads (3: inputs and outputs
/// belong to their function, an optional KV cache region with `k:`
/// pointers, generation `step` records and input/output roles; 2 added the
/// content hashes and scheduled.mlir). Older versions are refused with a
/// message saying to recompile.
constexpr int kArtifactFormatVersion = 4;
/// Alignment of every weight's offset in weights.bin.
constexpr uint64_t kWeightAlignment = 256;
/// Alignment of every input's and output's arena offset.
constexpr uint64_t kArenaAlignment = 256;

/// A device pointer argument: `a:<offset>`, `w:<id>`, `k:<offset>` (into
/// the KV cache region, format 3), or `-` (none).
struct PointerRef {
  enum class Kind { None, Arena, Weight, Kv };
  Kind kind = Kind::None;
  /// Arena or KV-region byte offset (Arena, Kv) or weight id (Weight).
  uint64_t value = 0;

  /// The manifest spelling (`a:256`, `w:3`, `k:512`, `-`).
  std::string str() const;

  /// The pointer kinds' constructors.
  static PointerRef arena(uint64_t offset) { return {Kind::Arena, offset}; }
  static PointerRef weight(uint64_t id) { return {Kind::Weight, id}; }
  static PointerRef kv(uint64_t offset) { return {Kind::Kv, offset}; }
  static PointerRef none() { return {}; }
};

/// A weight, input or output record.
struct TensorSpec {
  /// Weight id or input/output index.
  int64_t index = 0;
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  /// Offset into weights.bin (weights) or into the arena (inputs/outputs).
  uint64_t offset = 0;
  uint64_t bytes = 0;
  /// Input/output role for generation (docs/kv-cache.md): empty, or one of
  /// `tokens`, `positions`, `mask`, `kv_pos` (inputs) and `logits` (outputs).
  std::string role;
  /// Manifest line of the record.
  int line = 0;
};

/// `kv_cache <layers> <kv_heads> <head_dim> <max_batch> <max_seq> <dtype>
/// <bytes>`: the persistent KV cache region (docs/kv-cache.md), allocated
/// once, zeroed, shared by every function.
struct KvCacheSpec {
  int64_t layers = 0, kvHeads = 0, headDim = 0, maxBatch = 0, maxSeq = 0;
  DType dtype = DType::F32;
  /// Size of the region: layers * 2 * max_batch * kv_heads * max_seq *
  /// head_dim * dtype width (0: the artifact has no KV cache).
  uint64_t bytes = 0;
  /// Manifest line of the record.
  int line = 0;
  /// True when the manifest has a `kv_cache` record.
  bool present() const { return bytes != 0; }
  /// The byte size the dims and dtype imply (0 when it overflows 2^62).
  uint64_t expectedBytes() const;
};

/// The input roles of a generation step function (docs/kv-cache.md):
/// `tokens` (int [B, S]), `positions` (int [B, S]), `mask` (int or bool
/// [B, max_seq]) and `kv_pos` (i64 [B]).
bool isInputRole(const std::string &role);
/// The output roles: `logits` (f32 [B, S, V]).
bool isOutputRole(const std::string &role);

/// `launch kernel <name> <gx> <gy> <gz> <bx> <by> <bz> <smem> <nargs> <arg>...
/// [rows <i>,<j>,...] [prefetch <n>]`: args i, j, ... (0-based) are tables
/// the kernel reads only by rows (a gather's data: the embedding table);
/// the last n of the args (weights of later launches, kiln.launch's
/// prefetch) are only asked of L2, not read.
struct KernelLaunch {
  std::string name;
  uint32_t grid[3] = {1, 1, 1};
  uint32_t block[3] = {1, 1, 1};
  uint32_t smemBytes = 0;
  std::vector<PointerRef> args;
  /// How many of `args`, at the end, are prefetch-only.
  uint32_t prefetchArgs = 0;
  /// Indices of `args` the kernel reads only by rows (gathers' tables), in
  /// increasing order.
  std::vector<uint32_t> rowArgs;
};

/// The activation a gemm's epilogue applies last (`activation <name>`).
enum class GemmActivation { None, Relu, GeluTanh };
/// `relu`, `gelu_tanh` or `none`.
const char *gemmActivationName(GemmActivation act);

/// `launch gemm <M> <N> <K> <batch> <A> <B> <C> <bias> <sA> <sB> <sC>
/// <transB> [residual <R>] [dtype <T>] [activation <act>] [alpha <a>]`:
/// row-major C[b] = act(alpha * A[b] (MxK) * B[b] (KxN, or NxK if transB) +
/// bias[N] + R[b]), R laid out as C (cuBLASLt's C with beta = 1; our C is
/// cuBLASLt's D, and R may be C itself); act is cuBLASLt's RELU or GELU
/// (tanh approximation) epilogue, alpha its alpha (1 when absent).
struct GemmLaunch {
  int64_t m = 0, n = 0, k = 0, batch = 1;
  /// `residual` is None when the record has no `residual` field.
  PointerRef a, b, c, bias, residual;
  /// Element strides between batch items (0 = broadcast).
  int64_t strideA = 0, strideB = 0, strideC = 0;
  bool transB = false;
  /// Element type of every operand (`dtype <T>`, f32 when absent): f32 or
  /// bf16; cuBLASLt accumulates in f32 either way.
  DType dtype = DType::F32;
  GemmActivation activation = GemmActivation::None;
  float alpha = 1.0f;
  /// Weight records B spans (`b_records <n>`, 1 when absent): a weight
  /// concatenation (kiln-merge-gemms) reads records b .. b + n - 1, which
  /// must abut, as one matrix.
  int64_t bRecords = 1;
};

/// One record of a function's launch list.
struct Launch {
  enum class Kind { Kernel, Gemm };
  Kind kind = Kind::Kernel;
  KernelLaunch kernel; ///< valid when kind == Kernel
  GemmLaunch gemm;     ///< valid when kind == Gemm
  /// Manifest line of the record.
  int line = 0;

  /// A short label for messages: the kernel name or `gemm MxNxK`.
  std::string label() const;
};

/// `function <name> <num_launches>` ... `end`: the function's own inputs
/// and outputs (their arena ranges are the function's; two functions may
/// reuse each other's bytes, they never run at once), its launch list, and
/// for a generation step function its bucket (`step <batch> <seq>`).
struct Function {
  std::string name;
  /// `step <batch> <seq>`; 0 when the function is not a generation step.
  int64_t stepBatch = 0, stepSeq = 0;
  /// Manifest line of the `step` record (0 without one).
  int stepLine = 0;
  /// `input` records, indices 0..n-1 in order.
  std::vector<TensorSpec> inputs;
  /// `output` records, indices 0..n-1 in order.
  std::vector<TensorSpec> outputs;
  std::vector<Launch> launches;
  /// Manifest line of the `function` record.
  int line = 0;

  /// True for a generation step function (it has a `step` record).
  bool isStep() const { return stepBatch > 0; }
  /// The input (output) whose role is `role`, or nullptr.
  const TensorSpec *inputWithRole(const std::string &role) const;
  const TensorSpec *outputWithRole(const std::string &role) const;
};

/// A data file of the artifact: `<kind>_file <name> <bytes> <hash>`.
struct DataFile {
  /// A plain file name inside the artifact directory.
  std::string name;
  uint64_t bytes = 0;
  /// XXH64 of the file's bytes (kiln/runtime/Hash.h).
  uint64_t hash = 0;
  /// Manifest line of the record.
  int line = 0;
};

/// The parsed, validated manifest.
struct Manifest {
  int version = 0;
  std::string arch;
  /// `dependent_launch` (optional, after `arch`): every kernel of the
  /// fatbin waits for the launch before it (griddepcontrol.wait) before it
  /// touches memory another launch writes or reads, so the runtime may
  /// launch them with programmatic dependent launch. kiln-compile writes it
  /// for sm_90 and later; without it kernels are launched plainly.
  bool dependentLaunch = false;
  uint64_t arenaBytes = 0;
  /// `weights_file`: every weight and constant.
  DataFile weightsFile;
  /// `kernels_file`: the fatbin.
  DataFile kernelsFile;
  /// `ir_file`: the scheduled IR the launch list came from (read by the
  /// reference backend, checked by every loader).
  DataFile irFile;
  /// `kv_cache`, when the artifact has one (kvCache.present()).
  KvCacheSpec kvCache;
  /// `weight` records, shared by every function; ids 0..W-1 in order.
  std::vector<TensorSpec> weights;
  /// `function` records, in manifest order; names are unique.
  std::vector<Function> functions;

  /// The function named `name`, or nullptr.
  const Function *findFunction(const std::string &name) const;
};

/// `name` as the manifest spells it: whitespace becomes `_`, and an empty
/// name is `_`. Names in a parsed manifest are already spelled this way.
std::string manifestName(const std::string &name);

/// Writes `manifest` in the grammar of docs/artifact.md, the one writer of
/// that format (kiln-compile uses it). Names are written with whitespace
/// replaced by `_` (an empty name becomes `_`); record lines and indices
/// come from the vectors' order. parseManifest(formatManifest(m)) gives `m`
/// back, up to those names and the `line` fields.
std::string formatManifest(const Manifest &manifest);

/// Parses and validates manifest text. `fileName` prefixes every error
/// (`fileName:line: message`). Checks the record order, the version, every
/// number, dtype and shape, byte sizes against dtype x shape, weight offsets
/// (aligned, inside weights_file), the kv_cache record's size, arena ranges
/// (inside arena_bytes, including each gemm operand's full batched extent)
/// and KV-region ranges (inside kv_cache's bytes), weight ids, launch counts,
/// each function's inputs/outputs (aligned, disjoint within the function),
/// and roles (known, once per function, shapes matching the step record).
bool parseManifest(const std::string &text, const std::string &fileName,
                   Manifest &out, std::string &error);

/// A loaded artifact: the manifest plus the bytes of its data files.
struct Artifact {
  /// The artifact directory as given.
  std::string dir;
  /// `dir/manifest.txt`, for messages.
  std::string manifestPath;
  Manifest manifest;
  std::vector<uint8_t> weights;
  std::vector<uint8_t> fatbin;

  /// `manifestPath:line` for messages about a record.
  std::string where(int line) const;
};

/// Loads the artifact directory `dir`: parses manifest.txt, then checks that
/// every data file it records is a regular file with the recorded size and
/// content hash. With `readData`, keeps the weights and fatbin bytes in
/// `out` (the CUDA backend); without, only validates them (the reference
/// backend, which reads scheduled.mlir and the weights itself afterwards).
bool loadArtifact(const std::string &dir, Artifact &out, std::string &error,
                  bool readData = true);

/// Checks that `inputs` match `function`'s input records and returns them in
/// manifest order in `ordered`. A named tensor binds to the input of that
/// name (whitespace read as `_`); unnamed ones fill the remaining inputs in
/// order. Count, dtype, shape and byte size must match exactly.
bool bindInputs(const Function &function, const std::vector<HostTensor> &inputs,
                std::vector<HostTensor> &ordered, std::string &error);

/// Compatibility for callers written against format 2 (one global input
/// list): binds to the manifest's only function, or to `main` when there are
/// several. Fails naming the functions when neither exists. Prefer the
/// Function overload.
bool bindInputs(const Manifest &manifest, const std::vector<HostTensor> &inputs,
                std::vector<HostTensor> &ordered, std::string &error);

/// The function a caller that names none runs: the manifest's only
/// function, else `main`; nullptr when there is neither.
const Function *defaultFunction(const Manifest &manifest);

} // namespace kiln::runtime

#endif // KILN_RUNTIME_ARTIFACT_H
