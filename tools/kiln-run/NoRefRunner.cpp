//===- NoRefRunner.cpp - kiln-run without the reference backend -----------===//
//
// Linked into kiln-run when the reference backend is not part of the build
// (the runtime-only build, or a full build before tools/kiln-run/RefRunner.cpp
// exists): getRefRunner() returns nullptr and kiln-run says so.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/RefHook.h"

kiln::runtime::RefRunner kiln::runtime::getRefRunner() { return nullptr; }
