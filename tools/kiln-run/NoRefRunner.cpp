//===- NoRefRunner.cpp - kiln-run without the reference backend -----------===//
//
// Linked into kiln-run when the reference backend is not part of the build
// (the runtime-only build, or a full build before tools/kiln-run/RefRunner.cpp
// exists): getRefRunner() and getRefSessionFactory() return nullptr and
// kiln-run says so.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/RefHook.h"

kiln::runtime::RefRunner kiln::runtime::getRefRunner() { return nullptr; }

kiln::runtime::RefSessionFactory kiln::runtime::getRefSessionFactory() {
  return nullptr;
}
