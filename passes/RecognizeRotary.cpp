//===- RecognizeRotary.cpp - kiln-recognize: rotary idioms -------------===//
//
// Placeholder: no patterns yet.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/Recognize.h"

void kiln::populateRecognizeRotaryPatterns(mlir::RewritePatternSet &) {}
