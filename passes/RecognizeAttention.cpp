//===- RecognizeAttention.cpp - kiln-recognize: attention idioms -------------===//
//
// Placeholder: no patterns yet.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/Recognize.h"

void kiln::populateRecognizeAttentionPatterns(mlir::RewritePatternSet &) {}
