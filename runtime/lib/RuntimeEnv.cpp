//===- RuntimeEnv.cpp - the executor's environment knobs, host half -------===//
//
// Parsing of the KILN_RUNTIME_* values that are more than a switch, kept out
// of CudaExecutor.cpp so both builds (with and without CUDA) and the unit
// tests share it.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/CudaExecutor.h"

#include <cctype>
#include <string>

namespace kiln::runtime {

bool parseSharedMemoryCarveout(const char *text, int &percent,
                               std::string &error) {
  percent = -1;
  if (!text || !*text)
    return true;
  std::string s(text);
  bool digits = s.size() <= 3;
  for (char c : s)
    digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (!digits || std::stoi(s) > 100) {
    error = "KILN_RUNTIME_CARVEOUT: expected the percentage (0-100) of each "
            "SM's unified L1/shared memory to give shared memory, got '" +
            s + "'";
    return false;
  }
  percent = std::stoi(s);
  return true;
}

} // namespace kiln::runtime
