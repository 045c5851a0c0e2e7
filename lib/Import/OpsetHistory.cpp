//===- OpsetHistory.cpp - which op definition a model's opset selects -----===//
//
// ONNX versions each op separately: a model importing opset N uses, for each
// op, the newest definition whose since-version is <= N. The table of
// since-versions is generated from the onnx package's schema
// (utils/gen_opset_history.py) so that the importer, which owns per-op
// semantics, knows when a newer opset changed an op and when it did not.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "llvm/ADT/StringMap.h"

#include <initializer_list>
#include <vector>

using namespace kiln;

namespace {
struct History {
  int64_t schema = 0;
  llvm::StringMap<std::vector<int64_t>> versions;
  History() {
#define KILN_SCHEMA_OPSET(N) schema = N;
#define KILN_OP_HISTORY(NAME, ...)                                             \
  versions[NAME] = std::vector<int64_t>(__VA_ARGS__);
#include "OpsetHistory.inc"
#undef KILN_SCHEMA_OPSET
#undef KILN_OP_HISTORY
  }
};
const History &history() {
  static const History h;
  return h;
}
} // namespace

int64_t import::resolveOpVersion(llvm::StringRef opType, int64_t opset) {
  auto it = history().versions.find(opType);
  if (it == history().versions.end())
    return -1;
  int64_t selected = -1;
  for (int64_t v : it->second)
    if (v <= opset)
      selected = v;
  return selected;
}

int64_t import::schemaOpset() { return history().schema; }
