//===- Generate.h - token generation over step functions --------*- C++ -*-===//
//
// The host side of token generation (docs/generation.md, the contract in
// docs/kv-cache.md "Runtime: generation"): choosing the step function (batch
// bucket) and the prefill function for a set of prompts, building each
// step's role inputs (tokens, positions, mask, kv_pos), taking the prompts in
// through prefill chunks or token by token, sampling the next token of every
// row from its fp32 logits row, stopping rows at --max-new-tokens or EOS,
// refusing a step that would overflow the KV cache, and teacher forcing. The
// backend that runs one step is abstract (StepRunner): the CUDA executor in
// kiln-run and the reference backend's kiln::RefSession implement it. C++17
// only; part of KilnRuntimeHost (no CUDA, no LLVM).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_GENERATE_H
#define KILN_RUNTIME_GENERATE_H

#include "kiln/runtime/Artifact.h"
#include "kiln/runtime/Sampling.h"
#include "kiln/runtime/TensorIO.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace kiln::runtime {

struct SamplingOptions;

/// Runs one step of a step function on some backend. The KV cache it owns
/// persists across run() calls (and across functions) until resetCache().
class StepRunner {
public:
  virtual ~StepRunner();
  /// Runs `fn` once on `ordered` (one tensor per `fn.inputs`, in that order,
  /// dtype and shape as recorded) and returns one tensor per `fn.outputs`, in
  /// order, in `outputs` (which holds the previous step's outputs on entry,
  /// so a runner may reuse them). Returns false and sets `error` on failure.
  virtual bool run(const Function &fn, const std::vector<HostTensor> &ordered,
                   std::vector<HostTensor> &outputs, std::string &error) = 0;
  /// Zeroes the KV cache (every slot of every row). Returns false and sets
  /// `error` on failure.
  virtual bool resetCache(std::string &error) = 0;
  /// True when runAndSample() chooses the tokens where the logits are (the
  /// cuda backend: a kernel on the device); generate() then uses it
  /// instead of run() unless it keeps the logits.
  virtual bool samplesOnDevice() const { return false; }
  /// run() of `fn` on `ordered`, then one token per entry of `draws` into
  /// `tokens`, chosen from row draws[i].logitsRow of output `logitsOutput`
  /// (f32 [B, S, V] read as [B*S, V]) with `sampling` by the algorithm of
  /// sampleToken() and the draw samplingDraw(sampling, seedRow, index); -1
  /// for a row that holds a NaN. The outputs need not come back to the host.
  /// The default fails.
  virtual bool runAndSample(const Function &fn,
                            const std::vector<HostTensor> &ordered,
                            size_t logitsOutput,
                            const std::vector<DeviceDraw> &draws,
                            const SamplingOptions &sampling,
                            std::vector<int64_t> &tokens, std::string &error);
};

/// How the next token is chosen from a row's logits. `temperature <= 0`
/// means greedy decoding (argmax, lowest index on ties); topK, topP and seed
/// are then unused.
struct SamplingOptions {
  /// Softmax temperature; 0 (the default) = greedy.
  double temperature = 0;
  /// Keep only the K most probable tokens; 0 = all.
  int64_t topK = 0;
  /// Keep the smallest most-probable set whose probability is >= topP;
  /// 1 = all. Must be in (0, 1].
  double topP = 1;
  /// Seed of row 0's draws; row b draws as row 0 of seed + b
  /// (samplingUniform()).
  uint64_t seed = 0;

  /// True when tokens are chosen by argmax.
  bool greedy() const { return !(temperature > 0); }
};

/// The index of the largest value of `logits[0..n)`, the lowest on ties.
/// NaN never wins. n must be positive.
int64_t argmaxToken(const float *logits, int64_t n);

/// Chooses one token from `logits[0..n)` with `options` and the uniform
/// draw `u` in [0, 1) (docs/generation.md "Sampling"; the CUDA kernel of
/// Sampling.cu is its device twin). Greedy (temperature <= 0 or topK == 1):
/// argmaxToken(). Else, in float: z_i = logits_i / T, m = max z, w_i =
/// exp(z_i - m) (1 at the maximum) as fixed point q_i = floor(w_i * 2^32);
/// top-k keeps the tokens with z >= the k-th largest z (ties kept); top-p
/// then keeps those with z >= tau, tau the largest z such that the kept q
/// with z >= tau sum to >= topP * (the kept total) (ties kept); the token
/// is the first kept index whose running sum of q exceeds
/// floor(u * (the kept total)). NaN logits are never kept.
int64_t sampleToken(const float *logits, int64_t n,
                    const SamplingOptions &options, double u);

/// The uniform draw of row `row`'s new token number `index`:
/// samplingUniform(options.seed, row, index).
double samplingDraw(const SamplingOptions &options, uint64_t row,
                    uint64_t index);

/// The step functions of `manifest` (stepSeq == 1), sorted by batch, as
/// `decode_b1 (batch 1), ...` for messages.
std::string describeBuckets(const Manifest &manifest);

/// The smallest step function with stepBatch >= `batch` and stepSeq == 1.
/// Fails when the manifest has no step function ("compiled without
/// --max-seq-len") or none is large enough (the message lists the buckets).
/// `artifact` names the artifact in messages.
const Function *selectStepFunction(const Manifest &manifest, int64_t batch,
                                   const std::string &artifact,
                                   std::string &error);

/// The prefill function generate() uses for prompts whose longest has
/// `longestPrompt` tokens in the bucket of `decode`: among the functions with
/// a `step <decode.stepBatch> <S>` record, S > 1 and S <= the kv_cache's
/// max_seq, the one with the smallest S >= longestPrompt, else (the prompt
/// is taken in chunks) the one with the largest S. nullptr when the bucket
/// has no prefill function.
const Function *selectPrefillFunction(const Manifest &manifest,
                                      const Function &decode,
                                      int64_t longestPrompt);

/// What one row feeds in one step of a decode function.
struct RowFeed {
  /// The token fed (0 for a padding or finished row).
  int64_t token = 0;
  /// The slot it is written to = positions = kv_pos (0 for padding).
  int64_t slot = 0;
};

/// What one row feeds in one step of a step function with seq S (a prefill
/// chunk; S = 1 is a decode step).
struct RowChunk {
  /// The S tokens fed (0 for padding).
  std::vector<int64_t> tokens;
  /// The slot of tokens[0] (= kv_pos); token s goes to slot start + s, which
  /// is also its position.
  int64_t start = 0;
};

/// Builds the inputs of one step of `fn` in its input order: `tokens`
/// [B, 1] and `positions` [B, 1] in their integer dtypes, `kv_pos` i64 [B],
/// and `mask` [B, max_seq] with 1 for slots <= rows[b].slot and 0 after, in
/// the mask's dtype. `rows` has one entry per bucket row. Fails for an input
/// without a generation role, a role input of the wrong dtype or shape, or a
/// slot >= max_seq.
bool buildStepInputs(const Manifest &manifest, const Function &fn,
                     const std::vector<RowFeed> &rows,
                     std::vector<HostTensor> &ordered, std::string &error);

/// buildStepInputs() for a step function with seq S = fn.stepSeq (S >= 1):
/// `tokens` [B, S] = rows[b].tokens, `positions` [B, S] = rows[b].start + s,
/// `kv_pos` [B] = rows[b].start, and `mask` [B, max_seq] with 1 for slots
/// < rows[b].start + S and 0 after. Fails as buildStepInputs() does, and
/// for a row without S tokens or one whose last slot start + S - 1 is
/// >= max_seq.
bool buildChunkInputs(const Manifest &manifest, const Function &fn,
                      const std::vector<RowChunk> &rows,
                      std::vector<HostTensor> &ordered, std::string &error);

/// Everything generate() checks before it runs a step, so a caller can
/// report it before any device work: the bucket (selectStepFunction()), the
/// step function (a kv_cache record; tokens and kv_pos inputs; one f32
/// [B, 1, V] output with role `logits`; every input with a known role, of
/// its dtype and shape, as buildStepInputs() checks) and every prompt id
/// against the vocabulary V. With `usePrefill` and a prefill function for
/// the bucket (selectPrefillFunction()), also that function (the same
/// checks, logits f32 [B, S, V] with the same V) and that no prompt is
/// longer than max_seq. Returns the decode function generate() will run.
const Function *prepareGeneration(
    const Manifest &manifest, const std::vector<std::vector<int64_t>> &prompts,
    const std::string &artifact, std::string &error, bool usePrefill = true);

/// prepareGeneration() for teacherForce(): one row of `ids`, which must
/// also fit max_seq.
const Function *prepareTeacherForcing(const Manifest &manifest,
                                      const std::vector<int64_t> &ids,
                                      const std::string &artifact,
                                      std::string &error);

/// Progress of a generation, passed to GenerateOptions::progress.
struct GenerateProgress {
  /// Steps run so far (prefill chunks included) and the planned upper
  /// bound.
  int64_t steps = 0, maxSteps = 0;
  /// New tokens sampled so far (all rows).
  int64_t tokens = 0;
  /// Wall time since the first step started.
  double seconds = 0;
};

/// Options of generate().
struct GenerateOptions {
  /// Tokens to generate per row (each row stops earlier at EOS).
  int64_t maxNewTokens = 0;
  /// Stop a row once it produced this id; negative = no EOS.
  int64_t eosId = -1;
  SamplingOptions sampling;
  /// Take the prompts in through the bucket's prefill function when the
  /// artifact has one (selectPrefillFunction()); false: token by token
  /// through the decode function, as without prefill functions
  /// (kiln-run --no-prefill).
  bool prefill = true;
  /// Return the logits that chose each token in GenerateResult::logits.
  /// false: it stays empty, and a runner that samplesOnDevice() chooses the
  /// tokens where the logits are, so only the ids come back each step.
  bool keepLogits = true;
  /// Called after every step, when set.
  std::function<void(const GenerateProgress &)> progress;
};

/// The outcome of generate().
struct GenerateResult {
  /// The decode function that ran.
  std::string function;
  /// The prefill function that took the prompts in; empty when they went
  /// token by token through the decode function.
  std::string prefillFunction;
  /// int64 [batch, N]: N is the most tokens any row produced. A row that
  /// stopped early is padded with the EOS id.
  HostTensor ids;
  /// float32 [batch, N, vocab]: the logits that chose each token; zeros in
  /// the padded entries.
  HostTensor logits;
  /// The new tokens of each row, up to and including its EOS.
  std::vector<std::vector<int64_t>> tokens;
  /// Steps run (prefill chunks included), the prefill chunks among them,
  /// new tokens (all rows), wall seconds of the step loop.
  int64_t steps = 0, prefillSteps = 0, numTokens = 0;
  double seconds = 0;

  /// numTokens / seconds (0 when no time elapsed).
  double tokensPerSecond() const {
    return seconds > 0 ? double(numTokens) / seconds : 0;
  }
};

/// Generates up to options.maxNewTokens tokens for each of `prompts` (non-
/// empty, ids in [0, vocab)) as docs/kv-cache.md "Runtime: generation" and
/// docs/generation.md say: resets the cache and picks the bucket with
/// selectStepFunction(). With options.prefill and a prefill function of
/// seq S for the bucket (selectPrefillFunction()), it first runs that
/// function on chunks of S prompt tokens, chunk c = prompt tokens
/// [c*S, c*S + S) of every row at slots c*S.. (short rows and padding rows
/// feed token 0), as many chunks as the longest prompt needs and max_seq
/// holds, and samples a row's first token from the logits of its last
/// prompt token; a prompt longer than max_seq is refused before any step.
/// Then it runs the decode function once per token with every row together
/// (row b feeds what is left of its prompt, then its sampled tokens;
/// padding and finished rows feed token 0 at slot 0), samples each active
/// row's next token from its logits row once its prompt is in, and refuses
/// a step whose active row would need slot >= max_seq ("KV cache full")
/// before running it. `artifact` names the artifact in messages.
bool generate(const Manifest &manifest, StepRunner &runner,
              const std::vector<std::vector<int64_t>> &prompts,
              const GenerateOptions &options, const std::string &artifact,
              GenerateResult &result, std::string &error);

/// Feeds `ids` one step at a time as row 0 of the smallest bucket's decode
/// function (the other rows pad; never a prefill function, so every
/// token's logits come from a step of its own) after resetting the cache, and
/// returns the logits after each token as float32 [L, vocab] in `logits` (row
/// i: after ids[0..i]). `function` receives the step function's name.
bool teacherForce(const Manifest &manifest, StepRunner &runner,
                  const std::vector<int64_t> &ids, const std::string &artifact,
                  HostTensor &logits, std::string &function,
                  std::string &error);

/// Token ids from a tensor: int64 (or int32) of shape [L] or [1, L], L >= 1,
/// every id >= 0. `what` names the source in messages.
bool tokenIdsFromTensor(const HostTensor &tensor, const std::string &what,
                        std::vector<int64_t> &ids, std::string &error);

/// Token ids from text: non-negative decimal integers separated by spaces,
/// tabs or commas ("1 2 3", "1,2,3"); at least one.
bool parseTokenIdList(const std::string &text, std::vector<int64_t> &ids,
                      std::string &error);

} // namespace kiln::runtime

#endif // KILN_RUNTIME_GENERATE_H
