//===- KvRoles.h - KV-cache roles of a decoder's inputs ---------*- C++ -*-===//
//
// Internal to lib/Import: finding the token ids, positions, mask and past
// inputs of a decoder by their role in the ONNX graph, binding their dims for
// a KV-cache step, and checking that nothing but an attention mask depends
// on the past length (KvRoles.cpp, docs/kv-cache.md).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_IMPORT_KVROLES_H
#define KILN_LIB_IMPORT_KVROLES_H

#include "kiln/Import/OnnxImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Location.h"

#include <string>
#include <vector>

namespace onnx {
class GraphProto;
} // namespace onnx

namespace kiln::import {

/// The inputs (by ONNX name) and dims a KV-cache step found.
struct KvRoleInfo {
  std::string tokens, positions, mask;
  std::vector<std::string> past;
  /// The symbolic dims of the past and total lengths (total may be empty).
  std::string pastParam, totalParam;
};

/// Finds the roles in `graph` and adds the step's binds to `options.binds`.
/// Errors (at `fileLoc`) when a role is missing or a bind conflicts.
mlir::LogicalResult bindKvRoles(const onnx::GraphProto &graph,
                                mlir::Location fileLoc,
                                const KvStepShape &step,
                                ImportOptions &options, KvRoleInfo &info);

/// Sets `kiln.role` on the arguments of `func` that play a role.
void tagKvRoles(mlir::func::FuncOp func, const KvRoleInfo &info);

/// Compares `func` with `longer` (the same model imported with the past one
/// longer) and sets `kiln.kv_unsafe` on `func` when a constant that depends
/// on the past length is used other than as a key-uniform attention mask
/// (uniform over the keys each query may attend, for `seq` new tokens).
void checkKvSoundness(mlir::func::FuncOp func, mlir::func::FuncOp longer,
                      int64_t seq);

} // namespace kiln::import

#endif // KILN_LIB_IMPORT_KVROLES_H
