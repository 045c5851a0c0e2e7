//===- DimBinding.cpp - values of symbolic graph-input dims ---------------===//
//
// Exporters name a graph input's dynamic dims with `dim_param` strings. Most
// are names (`batch_size`), but Hugging Face Optimum writes expressions of
// them too: the attention mask of a decoder with a past is
// `[batch_size, past_sequence_length + sequence_length]`. This file parses
// those expressions (integers, names, `+`, `-`, `*`, parentheses), evaluates
// them from the `--bind` values, infers a name that no bind gives from an
// expression bound as a whole, and reports every contradiction.
//
//===----------------------------------------------------------------------===//

#include "DimBinding.h"

#include "onnx/onnx_pb.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace mlir;
using namespace kiln::import;

namespace {

/// One node of a dim expression.
struct DimExpr {
  enum Kind { Number, Name, Add, Sub, Mul } kind = Number;
  int64_t number = 0;
  std::string name;
  std::unique_ptr<DimExpr> lhs, rhs;
};

/// Recursive-descent parser of `expr := term (('+'|'-') term)*`,
/// `term := atom ('*' atom)*`, `atom := integer | name | '(' expr ')'`.
/// Names are `[A-Za-z_][A-Za-z0-9_.]*`.
class DimParser {
public:
  explicit DimParser(StringRef text) : text(text) {}

  /// The expression, or null with `error` set.
  std::unique_ptr<DimExpr> parse() {
    auto e = parseExpr();
    if (!e)
      return nullptr;
    skipSpace();
    if (pos != text.size())
      return fail("unexpected '" + text.substr(pos, 1).str() + "'");
    return e;
  }

  std::string error;

private:
  void skipSpace() {
    while (pos < text.size() && text[pos] == ' ')
      ++pos;
  }
  std::unique_ptr<DimExpr> fail(std::string what) {
    error = what + " at column " + std::to_string(pos + 1);
    return nullptr;
  }
  static std::unique_ptr<DimExpr> binary(DimExpr::Kind kind,
                                         std::unique_ptr<DimExpr> l,
                                         std::unique_ptr<DimExpr> r) {
    auto e = std::make_unique<DimExpr>();
    e->kind = kind;
    e->lhs = std::move(l);
    e->rhs = std::move(r);
    return e;
  }
  std::unique_ptr<DimExpr> parseExpr() {
    auto lhs = parseTerm();
    while (lhs) {
      skipSpace();
      if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-'))
        break;
      auto kind = text[pos++] == '+' ? DimExpr::Add : DimExpr::Sub;
      auto rhs = parseTerm();
      if (!rhs)
        return nullptr;
      lhs = binary(kind, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }
  std::unique_ptr<DimExpr> parseTerm() {
    auto lhs = parseAtom();
    while (lhs) {
      skipSpace();
      if (pos >= text.size() || text[pos] != '*')
        break;
      ++pos;
      auto rhs = parseAtom();
      if (!rhs)
        return nullptr;
      lhs = binary(DimExpr::Mul, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }
  std::unique_ptr<DimExpr> parseAtom() {
    skipSpace();
    if (pos >= text.size())
      return fail("expected a name, an integer or '('");
    char c = text[pos];
    if (c == '(') {
      ++pos;
      auto e = parseExpr();
      if (!e)
        return nullptr;
      skipSpace();
      if (pos >= text.size() || text[pos] != ')')
        return fail("expected ')'");
      ++pos;
      return e;
    }
    auto e = std::make_unique<DimExpr>();
    size_t start = pos;
    if (llvm::isDigit(c)) {
      while (pos < text.size() && llvm::isDigit(text[pos]))
        ++pos;
      if (text.substr(start, pos - start).getAsInteger(10, e->number)) {
        pos = start;
        return fail("integer too large");
      }
      return e;
    }
    if (llvm::isAlpha(c) || c == '_') {
      while (pos < text.size() &&
             (llvm::isAlnum(text[pos]) || text[pos] == '_' || text[pos] == '.'))
        ++pos;
      e->kind = DimExpr::Name;
      e->name = text.substr(start, pos - start).str();
      return e;
    }
    return fail(std::string("unexpected '") + c + "'");
  }

  StringRef text;
  size_t pos = 0;
};

void collectNames(const DimExpr &e, SmallVectorImpl<std::string> &names) {
  if (e.kind == DimExpr::Name) {
    if (!llvm::is_contained(names, e.name))
      names.push_back(e.name);
    return;
  }
  if (e.lhs)
    collectNames(*e.lhs, names);
  if (e.rhs)
    collectNames(*e.rhs, names);
}

/// Evaluates `e` with `valueOf` giving each name's value; nullopt on
/// overflow (every name must have a value).
std::optional<int64_t>
evaluate(const DimExpr &e, llvm::function_ref<int64_t(StringRef)> valueOf) {
  switch (e.kind) {
  case DimExpr::Number:
    return e.number;
  case DimExpr::Name:
    return valueOf(e.name);
  default:
    break;
  }
  auto l = evaluate(*e.lhs, valueOf), r = evaluate(*e.rhs, valueOf);
  if (!l || !r)
    return std::nullopt;
  int64_t out;
  bool overflow = e.kind == DimExpr::Add   ? __builtin_add_overflow(*l, *r, &out)
                  : e.kind == DimExpr::Sub ? __builtin_sub_overflow(*l, *r, &out)
                                           : __builtin_mul_overflow(*l, *r, &out);
  if (overflow)
    return std::nullopt;
  return out;
}

/// One dim_param of the graph's inputs, where it is first used.
struct DimUse {
  std::string text;
  std::string input;
  int64_t dim = 0;
  std::unique_ptr<DimExpr> expr; // null: a plain name or unparseable
  std::string parseError;        // set when unparseable
  bool done = false;
};

/// A name's value and where it came from.
struct NameValue {
  int64_t value = 0;
  std::string from; // empty: --bind
};

} // namespace

InputDims kiln::import::resolveInputDims(
    const onnx::GraphProto &graph, llvm::function_ref<bool(StringRef)> skip,
    const std::map<std::string, int64_t> &binds, Location fileLoc) {
  InputDims out;
  // Every distinct dim_param, in order of first use.
  std::vector<DimUse> uses;
  llvm::StringMap<size_t> useIndex;
  for (const auto &in : graph.input()) {
    if (skip(in.name()) || !in.type().has_tensor_type() ||
        !in.type().tensor_type().has_shape())
      continue;
    for (auto [d, dim] : llvm::enumerate(in.type().tensor_type().shape().dim())) {
      if ((dim.has_dim_value() && dim.dim_value() >= 0) || !dim.has_dim_param())
        continue;
      if (useIndex.count(dim.dim_param()))
        continue;
      useIndex[dim.dim_param()] = uses.size();
      DimUse use;
      use.text = dim.dim_param();
      use.input = in.name();
      use.dim = d;
      uses.push_back(std::move(use));
    }
  }

  llvm::StringMap<NameValue> names;
  for (const auto &[name, value] : binds)
    names[name] = NameValue{value, ""};

  auto where = [](const DimUse &u) {
    return "graph input '" + u.input + "' dim " + std::to_string(u.dim) +
           " ('" + u.text + "')";
  };
  auto fail = [&](DimUse &u) -> InFlightDiagnostic {
    out.ok = false;
    out.reported.insert(u.text);
    u.done = true;
    return emitError(fileLoc) << where(u) << ": ";
  };
  // "a=3, b=4 (inferred from ...)" for the names of an expression.
  auto describe = [&](const DimExpr &e) {
    SmallVector<std::string> used;
    collectNames(e, used);
    std::string s;
    for (const std::string &n : used) {
      if (!s.empty())
        s += ", ";
      const NameValue &nv = names[n];
      s += n + "=" + std::to_string(nv.value);
      if (!nv.from.empty())
        s += " inferred from " + nv.from;
    }
    return s;
  };

  for (DimUse &u : uses) {
    DimParser parser(u.text);
    auto e = parser.parse();
    if (!e) {
      u.parseError = parser.error;
      continue;
    }
    if (e->kind != DimExpr::Name)
      u.expr = std::move(e);
  }

  // Evaluate what can be evaluated; solve an expression bound as a whole for
  // its one unknown name; repeat while that gives a new name.
  for (bool changed = true; changed && out.ok;) {
    changed = false;
    for (DimUse &u : uses) {
      if (u.done || !u.expr)
        continue;
      SmallVector<std::string> used, unknown;
      collectNames(*u.expr, used);
      for (const std::string &n : used)
        if (!names.count(n))
          unknown.push_back(n);
      auto bound = binds.find(u.text);
      if (unknown.empty()) {
        u.done = true;
        auto v = evaluate(*u.expr,
                          [&](StringRef n) { return names[n].value; });
        if (!v) {
          fail(u) << "the expression overflows int64 (" << describe(*u.expr)
                  << ")";
          continue;
        }
        if (bound != binds.end() && bound->second != *v) {
          fail(u) << "the expression gives " << *v << " ("
                  << describe(*u.expr) << "), but --bind gives " << bound->second
                  << "; the bindings contradict each other";
          continue;
        }
        if (*v < 0) {
          fail(u) << "the expression gives " << *v << " ("
                  << describe(*u.expr) << "), expected a dim >= 0";
          continue;
        }
        out.values[u.text] = *v;
        continue;
      }
      if (unknown.size() != 1 || bound == binds.end())
        continue;
      // f(x) = c0 + c1 * x when the expression is linear in x: take c0 and
      // c1 from f(0) and f(1), then check f at the solution.
      const std::string &x = unknown.front();
      auto at = [&](int64_t xv) {
        return evaluate(*u.expr, [&](StringRef n) {
          return n == x ? xv : names[n].value;
        });
      };
      auto f0 = at(0), f1 = at(1);
      std::optional<int64_t> solution;
      if (f0 && f1 && *f1 != *f0) {
        int64_t slope = *f1 - *f0, rest = bound->second - *f0;
        if (rest % slope == 0 && rest / slope >= 0) {
          auto check = at(rest / slope);
          if (check && *check == bound->second)
            solution = rest / slope;
        }
      }
      if (!solution) {
        std::string others;
        for (const std::string &n : used)
          if (n != x)
            others += (others.empty() ? "" : ", ") + n + "=" +
                      std::to_string(names[n].value);
        fail(u) << "--bind gives " << bound->second
                << ", which no value of '" << x << "' >= 0 gives"
                << (others.empty() ? "" : " with " + others)
                << "; pass --bind " << x << "=N";
        continue;
      }
      names[x] = NameValue{*solution, where(u) + " = " +
                                          std::to_string(bound->second)};
      changed = true;
    }
  }

  for (DimUse &u : uses) {
    if (u.done)
      continue;
    if (auto bound = binds.find(u.text); bound != binds.end()) {
      out.values[u.text] = bound->second;
      continue;
    }
    if (!u.parseError.empty()) {
      // A string without operators stays a (strange) name: the caller says
      // it is not bound, as for any name.
      if (u.text.find_first_of("+-*()") == std::string::npos)
        continue;
      fail(u) << "not a name or an expression of names and integers with "
                 "+, -, * and parentheses: "
              << u.parseError << "; pass --bind '" << u.text << "=N'";
      continue;
    }
    if (!u.expr) {
      if (auto it = names.find(u.text); it != names.end())
        out.values[u.text] = it->second.value;
      continue; // unbound plain names: the caller reports them
    }
    SmallVector<std::string> used, unknown;
    collectNames(*u.expr, used);
    for (const std::string &n : used)
      if (!names.count(n))
        unknown.push_back(n);
    auto diag = fail(u) << "the expression uses ";
    for (auto [i, n] : llvm::enumerate(unknown))
      diag << (i ? ", " : "") << "'" << n << "'";
    diag << (unknown.size() == 1 ? ", which is" : ", which are")
         << " not bound and not fixed by another input; pass --bind "
         << unknown.front() << "=N";
  }
  return out;
}
