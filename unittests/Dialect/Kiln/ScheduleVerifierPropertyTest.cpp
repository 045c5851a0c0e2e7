//===- ScheduleVerifierPropertyTest.cpp - planner vs scheduled verifier ---===//
//
// A randomized property test of the memory planner's placement core together
// with the scheduled level's plan verifier (kiln.graph's region verifier,
// docs/scheduled-ir.md). For each fixed seed it generates a straight-line
// step: a few step inputs, then one launch per produced value reading up to
// three earlier values (sizes tiny, below, at and above the 256-byte
// alignment), with step outputs (bound on the root or through an alias
// view), alias chains (views of views under another shape, read later, so
// they extend their root's liveness) and in-place updates (a kiln.exp launch
// that writes the buffer of a value dead after it). It derives each root's
// live interval, places the roots with kiln::placeIntervalsBest, builds the
// scheduled IR with the generated builders and checks that:
//
//  A. mlir::verify accepts every planned step;
//  B. every hand-broken step is refused with the diagnostic of its problem:
//     a root moved onto a live neighbour's bytes, a misaligned root, an
//     arena shrunk below a buffer's end, a root written twice, a read moved
//     before its write, an in-place update through kiln.softmax, and a root
//     view or a kiln.arena inside kiln.graph.
//
// Seeds are fixed (0..199): deterministic and fast.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/MemoryPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MathExtras.h"

#include "gtest/gtest.h"

#include <random>
#include <string>

using namespace mlir;
using namespace kiln;

namespace {

constexpr int64_t kAlign = kArenaAlignment;

/// A uniformly random integer in [lo, hi].
int64_t uniform(std::mt19937_64 &rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

/// A random byte size, a multiple of 4 (f32 elements): tiny ones, sizes below
/// the alignment, multiples of it and sizes above it that are not.
int64_t randomBytes(std::mt19937_64 &rng) {
  int64_t kind = uniform(rng, 0, 99);
  if (kind < 15)
    return 4 * uniform(rng, 1, 4);
  if (kind < 45)
    return 4 * uniform(rng, 5, 63);
  if (kind < 55)
    return kAlign * uniform(rng, 1, 4);
  if (kind < 90)
    return 4 * uniform(rng, 65, 2048);
  return 4 * uniform(rng, 1, 16384);
}

/// What a launch's kernel computes.
enum class Body {
  /// Any kernel: kiln.exp of its first input when that has the result's
  /// type, else a constant; never launched in place.
  Generic,
  /// kiln.exp, launched in place (ins and outs name the same buffer).
  Exp,
  /// kiln.softmax, which may not run in place.
  Softmax,
};

/// A buffer of the step: a root view of the arena or an alias view.
struct Buffer {
  /// The buffer's f32 shape.
  SmallVector<int64_t> shape;
  /// The root (index in Schedule::roots) whose bytes it names.
  int root = 0;
  /// For an alias: the buffer it is a view of; -1 for a root view.
  int base = -1;
  /// Step input / output names bound on this view ("" when none).
  std::string input, output;
};

/// One root buffer: its bytes, its offset in the arena and its root view.
struct Root {
  int64_t bytes = 0;
  int64_t offset = 0;
  int buffer = 0;
};

/// One launch: its kernel kind, the buffers it reads and the one it writes.
struct Launch {
  Body body = Body::Generic;
  SmallVector<int> ins;
  int out = 0;
};

/// The whole step, as data from which buildModule makes the IR. Buffers are
/// in creation order (an alias after its base).
struct Schedule {
  int64_t arenaBytes = 0;
  SmallVector<Root> roots;
  SmallVector<Buffer> buffers;
  SmallVector<Launch> launches;
  /// A root buffer whose view is built inside kiln.graph (-1: none).
  int rootInGraph = -1;
  /// Whether kiln.graph holds a second kiln.arena.
  bool arenaInGraph = false;
};

/// How often the generator produced each feature, over all seeds.
struct FeatureCounts {
  int aliases = 0, aliasChains = 0, inPlace = 0, outputAliases = 0, inputs = 0,
      reusedPlans = 0;
};

/// A random reshape of `elements` f32s: [d, elements / d] or the reverse.
SmallVector<int64_t> randomShape(std::mt19937_64 &rng, int64_t elements) {
  int64_t d = 1;
  for (int tries = 0; tries < 4; ++tries) {
    int64_t c = uniform(rng, 1, std::min<int64_t>(elements, 16));
    if (elements % c == 0) {
      d = c;
      break;
    }
  }
  if (uniform(rng, 0, 1))
    return {d, elements / d};
  return {elements / d, d};
}

/// Generates a random step (offsets not yet planned).
Schedule generate(std::mt19937_64 &rng, FeatureCounts &counts) {
  Schedule s;
  /// One value of the program: the buffers it can be read through (the
  /// first is its root view), how many launches read it, and whether it may
  /// still be read (not dead after an in-place update over it).
  struct Val {
    SmallVector<int> buffers;
    int reads = 0;
    bool input = false, output = false, dead = false;
  };
  SmallVector<Val> vals;
  auto newRoot = [&](int64_t bytes, std::string input) {
    s.roots.push_back({bytes, 0, static_cast<int>(s.buffers.size())});
    Buffer b;
    b.shape = {bytes / 4};
    b.root = s.roots.size() - 1;
    b.input = std::move(input);
    s.buffers.push_back(b);
    return static_cast<int>(s.buffers.size() - 1);
  };
  auto newAlias = [&](int base) {
    Buffer b;
    int64_t elements = s.roots[s.buffers[base].root].bytes / 4;
    b.shape = randomShape(rng, elements);
    b.root = s.buffers[base].root;
    b.base = base;
    counts.aliasChains += s.buffers[base].base >= 0;
    ++counts.aliases;
    s.buffers.push_back(b);
    return static_cast<int>(s.buffers.size() - 1);
  };
  auto maybeAliases = [&](Val &v) {
    while (v.buffers.size() < 4 && uniform(rng, 0, 99) < 25)
      v.buffers.push_back(
          newAlias(v.buffers[uniform(rng, 0, v.buffers.size() - 1)]));
  };

  int64_t n = uniform(rng, 5, 40);
  int64_t numInputs = uniform(rng, 1, 3);
  int outputs = 0;
  for (int64_t i = 0; i < numInputs; ++i) {
    Val v;
    v.input = true;
    v.buffers.push_back(newRoot(randomBytes(rng), "i" + std::to_string(i)));
    maybeAliases(v);
    vals.push_back(v);
    ++counts.inputs;
  }
  int64_t numLaunches = n - numInputs;
  for (int64_t k = 0; k < numLaunches; ++k) {
    Val v;
    v.output = k == numLaunches - 1 || uniform(rng, 0, 99) < 20;
    // In place: over a produced value that nothing reads afterwards.
    SmallVector<int> dying;
    for (auto [i, u] : llvm::enumerate(vals))
      if (!u.input && !u.output && !u.dead)
        dying.push_back(i);
    if (!dying.empty() && uniform(rng, 0, 99) < 20) {
      Val &u = vals[dying[uniform(rng, 0, dying.size() - 1)]];
      u.dead = true;
      int buffer = u.buffers.front();
      s.launches.push_back({Body::Exp, {buffer}, buffer});
      v.buffers.push_back(buffer);
      ++counts.inPlace;
    } else {
      Launch launch;
      int64_t reads = uniform(rng, 1, 3);
      for (int64_t r = 0; r < reads; ++r) {
        SmallVector<int> live;
        for (auto [i, u] : llvm::enumerate(vals))
          if (!u.dead && u.reads < 3)
            live.push_back(i);
        if (live.empty())
          break;
        // Mostly recent values, sometimes any.
        int pick =
            uniform(rng, 0, 1)
                ? live[uniform(rng, std::max<int64_t>(0, live.size() - 4),
                               live.size() - 1)]
                : live[uniform(rng, 0, live.size() - 1)];
        Val &u = vals[pick];
        ++u.reads;
        launch.ins.push_back(u.buffers[uniform(rng, 0, u.buffers.size() - 1)]);
      }
      launch.out = newRoot(randomBytes(rng), "");
      v.buffers.push_back(launch.out);
      s.launches.push_back(launch);
    }
    maybeAliases(v);
    if (v.output) {
      std::string name = "o" + std::to_string(outputs++);
      Buffer &root = s.buffers[v.buffers.front()];
      // On the root itself when it is the value's own, else on an alias.
      bool own = s.launches.back().body == Body::Generic;
      if (own && root.output.empty() && uniform(rng, 0, 1)) {
        root.output = name;
      } else {
        int alias = newAlias(v.buffers[uniform(rng, 0, v.buffers.size() - 1)]);
        s.buffers[alias].output = name;
        ++counts.outputAliases;
      }
    }
    vals.push_back(v);
  }
  return s;
}

/// Per root, the index of the launch that first writes it (-1 for inputs).
SmallVector<int> firstWriters(const Schedule &s) {
  SmallVector<int> writer(s.roots.size(), -1);
  for (auto [k, launch] : llvm::enumerate(s.launches)) {
    int r = s.buffers[launch.out].root;
    if (writer[r] < 0 && s.buffers[s.roots[r].buffer].input.empty())
      writer[r] = k;
  }
  return writer;
}

/// Each root's storage interval, as the planner derives it: from the launch
/// that writes it (0 for inputs) to the last launch that reads or updates it
/// through any of its views (numLaunches + 1 when any view is an output).
/// Program points are those of the plan verifier: launch k is point k + 1.
SmallVector<LiveInterval> storageIntervals(const Schedule &s) {
  SmallVector<LiveInterval> intervals;
  for (const Root &root : s.roots)
    intervals.push_back({root.bytes, -1, -1});
  int64_t end = static_cast<int64_t>(s.launches.size()) + 1;
  for (const Buffer &b : s.buffers) {
    if (!b.input.empty())
      intervals[b.root].first = 0;
    if (!b.output.empty())
      intervals[b.root].last = end;
  }
  for (auto [k, launch] : llvm::enumerate(s.launches)) {
    int64_t point = static_cast<int64_t>(k) + 1;
    for (int in : launch.ins) {
      LiveInterval &i = intervals[s.buffers[in].root];
      i.last = std::max(i.last, point);
    }
    LiveInterval &o = intervals[s.buffers[launch.out].root];
    if (o.first < 0)
      o.first = point;
    o.last = std::max(o.last, point);
  }
  for (LiveInterval &i : intervals)
    i.last = std::max(i.last, i.first);
  return intervals;
}

/// Builds the scheduled IR of `s`: kernels, then func.func @main with the
/// arena, the views and the graph.
OwningOpRef<ModuleOp> buildModule(MLIRContext *context, const Schedule &s) {
  OpBuilder b(context);
  Location loc = UnknownLoc::get(context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(b, loc, "main", b.getFunctionType({}, {}));
  Block *body = func.addEntryBlock();

  // One kernel per body kind and signature.
  llvm::StringMap<std::string> kernels;
  auto kernelFor = [&](Body kind, TypeRange ins, Type out) -> std::string {
    std::string key;
    llvm::raw_string_ostream os(key);
    os << static_cast<int>(kind);
    for (Type t : ins)
      os << " " << t;
    os << " -> " << out;
    auto it = kernels.find(key);
    if (it != kernels.end())
      return it->second;
    std::string name = "k" + std::to_string(kernels.size());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(func);
    auto kernel = KernelOp::create(b, loc, name, b.getFunctionType(ins, out),
                                   /*arg_attrs=*/nullptr,
                                   /*res_attrs=*/nullptr);
    SmallVector<Location> locs(ins.size(), loc);
    Block *block = b.createBlock(&kernel.getBody(), {}, ins, locs);
    Value result;
    if (kind == Body::Softmax)
      result = SoftmaxOp::create(b, loc, block->getArgument(0), uint64_t(0));
    else if (!ins.empty() && ins.front() == out)
      result = ExpOp::create(b, loc, block->getArgument(0));
    else
      result = ConstantOp::create(
          b, loc, DenseElementsAttr::get(cast<ShapedType>(out), 1.0f));
    YieldOp::create(b, loc, result);
    kernels[key] = name;
    return name;
  };

  b.setInsertionPointToStart(body);
  Type i8 = b.getIntegerType(8);
  auto arenaType = MemRefType::get({s.arenaBytes}, i8);
  Value arena = ArenaOp::create(b, loc, arenaType);
  SmallVector<Value> views(s.buffers.size());
  auto makeView = [&](int i) {
    const Buffer &buffer = s.buffers[i];
    auto str = [&](const std::string &v) {
      return v.empty() ? StringAttr() : b.getStringAttr(v);
    };
    bool root = buffer.base < 0;
    views[i] =
        ViewOp::create(b, loc, MemRefType::get(buffer.shape, b.getF32Type()),
                       root ? arena : views[buffer.base],
                       root ? s.roots[buffer.root].offset : 0, Value(),
                       str(buffer.input), str(buffer.output));
  };
  for (int i = 0, e = s.buffers.size(); i < e; ++i)
    if (i != s.rootInGraph)
      makeView(i);

  auto graph = GraphOp::create(b, loc);
  graph.getBody().emplaceBlock();
  b.setInsertionPointToStart(&graph.getBody().front());
  if (s.arenaInGraph)
    ArenaOp::create(b, loc, arenaType);
  if (s.rootInGraph >= 0)
    makeView(s.rootInGraph);
  for (const Launch &launch : s.launches) {
    SmallVector<Value> ins;
    for (int in : launch.ins)
      ins.push_back(views[in]);
    Value out = views[launch.out];
    SmallVector<Type> inTypes;
    for (Value v : ins) {
      auto m = cast<MemRefType>(v.getType());
      inTypes.push_back(
          RankedTensorType::get(m.getShape(), m.getElementType()));
    }
    auto m = cast<MemRefType>(out.getType());
    std::string kernel =
        kernelFor(launch.body, inTypes,
                  RankedTensorType::get(m.getShape(), m.getElementType()));
    LaunchOp::create(b, loc, kernel, ArrayRef<int64_t>{1, 1, 1},
                     ArrayRef<int64_t>{256, 1, 1}, 0, ins, ValueRange{out});
  }
  b.setInsertionPointAfter(graph);
  func::ReturnOp::create(b, loc);
  return module;
}

/// Builds and verifies `s`; returns the diagnostics (with their notes),
/// joined by newlines, and sets `ok` to the verifier's answer.
std::string verifySchedule(MLIRContext *context, const Schedule &s, bool &ok) {
  OwningOpRef<ModuleOp> module = buildModule(context, s);
  std::string messages;
  ScopedDiagnosticHandler handler(context, [&](Diagnostic &diag) {
    messages += diag.str() + "\n";
    for (Diagnostic &note : diag.getNotes())
      messages += "  note: " + note.str() + "\n";
    return success();
  });
  ok = succeeded(verify(*module));
  return messages;
}

/// How many broken steps of each kind were checked, over all seeds.
struct BreakCounts {
  int overlap = 0, misaligned = 0, shrunk = 0, writtenTwice = 0, readEarly = 0,
      softmaxInPlace = 0, rootInGraph = 0, arenaInGraph = 0;
};

/// Expects the verifier to refuse `s` with a diagnostic containing `what`.
void expectRefused(MLIRContext *context, const Schedule &s, StringRef what,
                   StringRef breakName) {
  bool ok = true;
  std::string messages = verifySchedule(context, s, ok);
  EXPECT_FALSE(ok) << breakName.str() << ": the broken step verified";
  EXPECT_NE(messages.find(what.str()), std::string::npos)
      << breakName.str() << ": expected a diagnostic containing '" << what.str()
      << "', got:\n"
      << messages;
}

/// Breaks the planned step `s` in every way that applies and checks that
/// each is refused for the right reason.
void breakSchedule(std::mt19937_64 &rng, MLIRContext *context,
                   const Schedule &s, BreakCounts &counts) {
  SmallVector<LiveInterval> intervals = storageIntervals(s);
  SmallVector<int> writer = firstWriters(s);
  auto pick = [&](auto &candidates) {
    return candidates[uniform(rng, 0, candidates.size() - 1)];
  };
  auto rootReadBy = [&](const Launch &launch, int root) {
    return llvm::any_of(launch.ins,
                        [&](int in) { return s.buffers[in].root == root; });
  };

  // (a) A root moved onto the bytes of a root live at the same time.
  SmallVector<std::pair<int, int>> neighbours;
  for (int i = 0, e = s.roots.size(); i < e; ++i)
    for (int j = 0; j < e; ++j)
      if (i != j && intervals[i].overlaps(intervals[j]))
        neighbours.push_back({i, j});
  if (!neighbours.empty()) {
    auto [i, j] = pick(neighbours);
    Schedule t = s;
    t.roots[j].offset = s.roots[i].offset;
    t.arenaBytes = std::max<int64_t>(
        t.arenaBytes,
        llvm::alignTo(s.roots[i].offset + s.roots[j].bytes, kAlign));
    expectRefused(context, t, "overlap bytes", "moved onto a live root");
    ++counts.overlap;
  }

  int victim = uniform(rng, 0, s.roots.size() - 1);
  // (b) A root off the alignment (the arena grown so it still fits).
  {
    Schedule t = s;
    t.roots[victim].offset += kAlign / 2;
    t.arenaBytes += kAlign;
    expectRefused(context, t, "is not a multiple of 256", "misaligned root");
    ++counts.misaligned;
  }
  // (c) The arena shrunk below the end of a root.
  {
    Schedule t = s;
    const Root &root = s.roots[victim];
    t.arenaBytes = uniform(rng, std::max<int64_t>(1, root.offset),
                           root.offset + root.bytes - 1);
    expectRefused(context, t, "are outside its base", "arena shrunk");
    ++counts.shrunk;
  }
  // (d) A launch that writes a root an earlier launch wrote (and that it
  // does not read, which would make it an in-place update).
  SmallVector<std::pair<int, int>> rewrites;
  for (auto [k, launch] : llvm::enumerate(s.launches))
    for (auto [r, w] : llvm::enumerate(writer))
      if (launch.body == Body::Generic && w >= 0 && w < static_cast<int>(k) &&
          !rootReadBy(launch, r))
        rewrites.push_back({k, r});
  if (!rewrites.empty()) {
    auto [k, r] = pick(rewrites);
    Schedule t = s;
    t.launches[k].out = s.roots[r].buffer;
    expectRefused(context, t, "which an earlier launch already wrote",
                  "root written twice");
    ++counts.writtenTwice;
  }
  // (e) A launch moved before the launch that writes a root it reads.
  SmallVector<std::pair<int, int>> early;
  for (auto [k, launch] : llvm::enumerate(s.launches))
    for (int in : launch.ins)
      if (int w = writer[s.buffers[in].root]; w >= 0 && w < static_cast<int>(k))
        early.push_back({k, w});
  if (!early.empty()) {
    auto [k, w] = pick(early);
    Schedule t = s;
    Launch moved = t.launches[k];
    t.launches.erase(t.launches.begin() + k);
    t.launches.insert(t.launches.begin() + w, moved);
    expectRefused(context, t, "before any launch writes it",
                  "read before write");
    ++counts.readEarly;
  }
  // (f) An in-place update through a kernel that may not run in place.
  SmallVector<int> inPlace;
  for (auto [k, launch] : llvm::enumerate(s.launches))
    if (launch.body == Body::Exp)
      inPlace.push_back(k);
  if (!inPlace.empty()) {
    Schedule t = s;
    t.launches[pick(inPlace)].body = Body::Softmax;
    expectRefused(context, t, "which this kernel may not update in place",
                  "softmax in place");
    ++counts.softmaxInPlace;
  }
  // (g) A root view built inside kiln.graph (one no alias views, so the IR
  // stays well-formed), and a second kiln.arena there.
  SmallVector<int> plainRoots;
  for (const Root &root : s.roots)
    if (llvm::none_of(s.buffers,
                      [&](const Buffer &b) { return b.base == root.buffer; }))
      plainRoots.push_back(root.buffer);
  if (!plainRoots.empty()) {
    Schedule t = s;
    t.rootInGraph = pick(plainRoots);
    expectRefused(context, t, "declares a root buffer inside kiln.graph",
                  "root view in graph");
    ++counts.rootInGraph;
  }
  {
    Schedule t = s;
    t.arenaInGraph = true;
    expectRefused(context, t, "allocates or frees memory inside kiln.graph",
                  "arena in graph");
    ++counts.arenaInGraph;
  }
}

TEST(ScheduleVerifierProperty, PlannedStepsVerifyAndBrokenOnesAreRefused) {
  MLIRContext context;
  context.loadDialect<KilnDialect, func::FuncDialect>();
  FeatureCounts features;
  BreakCounts counts;
  constexpr int kSeeds = 200;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Schedule s = generate(rng, features);

    // Plan the roots on their storage intervals, as the planner does.
    SmallVector<LiveInterval> intervals = storageIntervals(s);
    Placement placement = placeIntervalsBest(intervals, kAlign);
    ASSERT_EQ(placement.offsets.size(), s.roots.size());
    for (auto [root, offset] : llvm::zip_equal(s.roots, placement.offsets))
      root.offset = offset;
    s.arenaBytes = placement.arenaBytes;
    features.reusedPlans +=
        placement.arenaBytes < arenaNaiveBytes(intervals, kAlign);

    // A: the planned step verifies.
    bool ok = false;
    std::string messages = verifySchedule(&context, s, ok);
    EXPECT_TRUE(ok) << "the planned step was refused:\n" << messages;
    EXPECT_TRUE(messages.empty()) << messages;
    if (!ok)
      continue;

    // B: every break is refused, for its reason.
    breakSchedule(rng, &context, s, counts);
  }
  RecordProperty("aliases", features.aliases);
  RecordProperty("alias_chains", features.aliasChains);
  RecordProperty("in_place", features.inPlace);
  RecordProperty("output_aliases", features.outputAliases);
  RecordProperty("reused_plans", features.reusedPlans);
  RecordProperty("broken_overlap", counts.overlap);
  RecordProperty("broken_written_twice", counts.writtenTwice);
  RecordProperty("broken_read_early", counts.readEarly);
  RecordProperty("broken_softmax_in_place", counts.softmaxInPlace);
  RecordProperty("broken_root_in_graph", counts.rootInGraph);
  // The generator must exercise every feature and every break (measured at
  // seeds 0..199: 2067 aliases, 267 chains, 777 in place, 584 output
  // aliases, reuse in 200 plans; breaks 200, 197, 199, 180 and 200).
  EXPECT_GT(features.aliases, 1500);
  EXPECT_GT(features.aliasChains, 200);
  EXPECT_GT(features.inPlace, 600);
  EXPECT_GT(features.outputAliases, 400);
  EXPECT_GT(features.reusedPlans, 190);
  EXPECT_GE(counts.overlap, 195);
  EXPECT_EQ(counts.misaligned, kSeeds);
  EXPECT_EQ(counts.shrunk, kSeeds);
  EXPECT_GE(counts.writtenTwice, 190);
  EXPECT_GE(counts.readEarly, 190);
  EXPECT_GE(counts.softmaxInPlace, 160);
  EXPECT_GE(counts.rootInGraph, 190);
  EXPECT_EQ(counts.arenaInGraph, kSeeds);
}

} // namespace
