//===- RecognizeNorms.cpp - kiln-recognize: norms idioms -------------===//
//
// Placeholder: no patterns yet.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/Recognize.h"

void kiln::populateRecognizeNormPatterns(mlir::RewritePatternSet &) {}
