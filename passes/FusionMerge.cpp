//===- FusionMerge.cpp - merging kiln.fusion ops into one -----------------===//
//
// kiln::mergeFusions (include/kiln/Transforms/FusionMerge.h).
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/FusionMerge.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace kiln;

FusionOp kiln::mergeFusions(ArrayRef<FusionOp> members, Operation *insertBefore,
                           function_ref<bool(FusionOp)> accept,
                           function_ref<bool(Value)> keep) {
  llvm::SmallPtrSet<Operation *, 8> memberSet;
  for (FusionOp f : members)
    memberSet.insert(f);
  llvm::SetVector<Value> inputs;
  for (FusionOp f : members)
    for (Value v : f.getInputs())
      if (!memberSet.contains(v.getDefiningOp()))
        inputs.insert(v);
  SmallVector<Value> kept;
  for (FusionOp f : members)
    for (Value r : f.getResults())
      if ((keep && keep(r)) || llvm::any_of(r.getUsers(), [&](Operation *user) {
            return !memberSet.contains(user);
          }))
        kept.push_back(r);
  OpBuilder b(insertBefore);
  Location loc = members.front()->getLoc();
  SmallVector<Type> resultTypes;
  for (Value r : kept)
    resultTypes.push_back(r.getType());
  auto fusion = FusionOp::create(b, loc, resultTypes, inputs.getArrayRef());
  SmallVector<Type> argTypes;
  SmallVector<Location> locs;
  for (Value v : inputs) {
    argTypes.push_back(v.getType());
    locs.push_back(v.getLoc());
  }
  Block *body = b.createBlock(&fusion.getBody(), {}, argTypes, locs);
  // Outer values (inputs, member results) to their values in `body`.
  IRMapping outer;
  outer.map(inputs.getArrayRef(), body->getArguments());
  for (FusionOp f : members) {
    Block &fb = f.getBody().front();
    IRMapping map;
    for (auto [arg, in] : llvm::zip(fb.getArguments(), f.getInputs()))
      map.map(arg, outer.lookup(in));
    for (Operation &op : fb.without_terminator())
      b.clone(op, map);
    for (auto [r, y] : llvm::zip(f.getResults(), f.getYield().getValues()))
      outer.map(r, map.lookupOrDefault(y));
  }
  SmallVector<Value> yields;
  for (Value r : kept)
    yields.push_back(outer.lookup(r));
  YieldOp::create(b, loc, yields);
  if (!accept(fusion)) {
    fusion.erase();
    return nullptr;
  }
  for (auto [r, n] : llvm::zip(kept, fusion.getResults()))
    r.replaceAllUsesWith(n);
  for (FusionOp f : llvm::reverse(members))
    f.erase();
  return fusion;
}
