//===- Recognize.h - kiln-recognize's pattern groups ------------*- C++ -*-===//
//
// kiln-recognize rewrites the idioms exporters write (RMSNorm as
// Pow/ReduceMean/Add/Sqrt/Reciprocal/Mul, attention as
// MatMul/Mul/Add/Softmax/MatMul, ...) into the dialect's high-level ops,
// structurally (op kinds, shapes, constants), never by names. Each idiom
// family lives in its own file and adds its patterns here.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TRANSFORMS_RECOGNIZE_H
#define KILN_TRANSFORMS_RECOGNIZE_H

#include "mlir/IR/PatternMatch.h"

namespace kiln {

/// RMSNorm and LayerNorm (passes/RecognizeNorms.cpp).
void populateRecognizeNormPatterns(mlir::RewritePatternSet &patterns);
/// SiLU and GELU (erf and tanh forms) (passes/RecognizeActivations.cpp).
void populateRecognizeActivationPatterns(mlir::RewritePatternSet &patterns);
/// Rotary embedding (passes/RecognizeRotary.cpp).
void populateRecognizeRotaryPatterns(mlir::RewritePatternSet &patterns);
/// Attention (passes/RecognizeAttention.cpp).
void populateRecognizeAttentionPatterns(mlir::RewritePatternSet &patterns);

/// Every kiln-recognize pattern.
void populateRecognizePatterns(mlir::RewritePatternSet &patterns);

} // namespace kiln

#endif // KILN_TRANSFORMS_RECOGNIZE_H
