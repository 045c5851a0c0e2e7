//===- FusionMerge.h - merging kiln.fusion ops into one ---------*- C++ -*-===//
//
// The step shared by the passes that merge fusions after kiln-form-fusions
// (kiln-gemv's epilogues, siblings and prologues; kiln-fuse-kv-attention's
// decode attention): several fusions of one block become one, kept only if
// the caller's kernel analysis accepts the merged body.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TRANSFORMS_FUSIONMERGE_H
#define KILN_TRANSFORMS_FUSIONMERGE_H

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "llvm/ADT/STLFunctionalExtras.h"

namespace kiln {

/// Replaces `members` (fusions of one block, producers before consumers) by
/// one fusion created before `insertBefore`, if `accept` takes it (else
/// changes nothing and returns null): its inputs are the members' inputs
/// that no member computes (each once), its body the members' bodies in
/// order, and its results, in the members' order, the members' results that
/// something outside the members reads or that `keep` names (a result the
/// kernel writes even when nothing reads it, such as the KV cache). Every
/// input must dominate `insertBefore`.
FusionOp mergeFusions(llvm::ArrayRef<FusionOp> members,
                      mlir::Operation *insertBefore,
                      llvm::function_ref<bool(FusionOp)> accept,
                      llvm::function_ref<bool(mlir::Value)> keep = nullptr);

} // namespace kiln

#endif // KILN_TRANSFORMS_FUSIONMERGE_H
