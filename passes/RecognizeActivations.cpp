//===- RecognizeActivations.cpp - kiln-recognize: activations idioms -------------===//
//
// Placeholder: no patterns yet.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/Recognize.h"

void kiln::populateRecognizeActivationPatterns(mlir::RewritePatternSet &) {}
