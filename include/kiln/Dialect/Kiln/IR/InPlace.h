//===- InPlace.h - which kernels may write over an input --------*- C++ -*-===//
//
// Which results of a kiln op (or of a kernel body) may be written over the
// bytes of one of its inputs. Shared by the memory planner (kiln::MemoryPlan
// lets such a result take a dead operand's storage), the plan verifier
// (kiln-verify-plan accepts that overlap and no other) and the scheduled
// level's own verifiers (a launch that writes a buffer it also reads). It is
// a property of the kernel alone, from the op kind and types; whether the
// operand is still needed afterwards is the planner's question, not this
// one's.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_KILN_IR_INPLACE_H
#define KILN_DIALECT_KILN_IR_INPLACE_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Region.h"

namespace kiln {

/// True iff `op`'s kernel may write result #resultIndex over the bytes of
/// operand #operandIndex, i.e. the two may occupy the same bytes while the
/// kernel runs. That holds when every thread reads element i of that operand
/// before it writes element i of the result and no thread reads any other
/// element of it, so no thread can see an element another thread has
/// already overwritten:
///
/// - an elementwise kiln op (the unary math ops and kiln.not, the binary
///   arithmetic, comparison and logic ops, kiln.where, kiln.gelu, kiln.cast)
///   whose operand #operandIndex has exactly the result's static shape (no
///   broadcast: a broadcast operand element is read by many threads) and the
///   same element byte width (i1 is one byte; so a kiln.cast qualifies only
///   between types of one width, a comparison only over 1-byte operands);
/// - kiln.scatter_nd, result 0 over operand 0 (`data`): the result is a copy
///   of data with some slices replaced, and copying data onto itself is a
///   no-op;
/// - a kiln.fusion whose body answers kernelMayWriteInPlace for the same
///   result and operand (fusion operand #k is body block argument #k);
/// - a tensor-form kiln.gemm, its result over its `residual` operand (the
///   residual is cuBLASLt's C, the result its D, which may be the same
///   matrix with the same layout).
///
/// False for every other op and for out-of-range indices.
bool mayWriteInPlace(mlir::Operation *op, unsigned resultIndex,
                     unsigned operandIndex);

/// The same question for a kernel body: `body` is a single-block region
/// whose block arguments are the kernel's inputs and whose terminator's
/// operands are its results (kiln.kernel, kiln.fusion). True iff the
/// kernel may write result #resultIndex over input #argIndex: either the
/// terminator returns block argument #argIndex unchanged as that result (a
/// copy: it writes back the bytes it reads, element for element), or the
/// body is exactly one op plus the terminator, that op's result is the
/// returned value, and mayWriteInPlace holds for it over an operand that is
/// block argument #argIndex. Written against the generic Operation / Region
/// API (the terminator is found by its IsTerminator trait), so it applies
/// to any such body.
bool kernelMayWriteInPlace(mlir::Region &body, unsigned resultIndex,
                           unsigned argIndex);

} // namespace kiln

#endif // KILN_DIALECT_KILN_IR_INPLACE_H
