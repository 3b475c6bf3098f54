//===- Calibration.cpp - Fit a target's efficiencies to profiles ----------===//

#include "chorus/Target/Calibration.h"

#include "chorus/Target/CostModel.h"
#include "chorus/Target/RuntimeMemory.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

using namespace mlir;
using namespace chorus;

static llvm::Error profileError(llvm::StringRef fileName,
                                const llvm::Twine &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "profile '" + fileName + "': " + what);
}

/// Reads ONNX Runtime's [{"float": [1, 3, 224, 224]}, ...] into `out`.
static bool readShapes(const llvm::json::Array *list,
                       std::vector<KernelTensor> &out) {
  if (!list)
    return true;
  for (const llvm::json::Value &item : *list) {
    const llvm::json::Object *o = item.getAsObject();
    if (!o || o->size() != 1)
      return false;
    const auto &[type, dims] = *o->begin();
    const llvm::json::Array *d = dims.getAsArray();
    if (!d)
      return false;
    KernelTensor t;
    llvm::StringRef ty = type;
    t.elementBytes = ty == "double" || ty.contains("64")    ? 8
                     : ty == "float16" || ty.contains("16") ? 2
                     : ty == "bool" || ty.contains("8")     ? 1
                                                            : 4;
    for (const llvm::json::Value &v : *d) {
      std::optional<int64_t> n = v.getAsInteger();
      if (!n)
        return false;
      t.dims.push_back(*n);
    }
    out.push_back(std::move(t));
  }
  return true;
}

/// Calls `each` with every element of the JSON array `json`, parsed one
/// at a time: a profile holds tens of thousands of events, and parsing
/// the whole array at once spends most of its time growing (and copying)
/// one vector of them.
static llvm::Error forEachElement(
    llvm::StringRef json, llvm::StringRef fileName,
    llvm::function_ref<llvm::Error(size_t, const llvm::json::Value &)> each) {
  auto notJson = [&](const llvm::Twine &what) {
    return profileError(fileName, "not valid JSON: " + what);
  };
  size_t n = json.size(), p = 0;
  auto skipSpace = [&] {
    while (p < n && llvm::isSpace(json[p]))
      ++p;
  };
  skipSpace();
  if (p == n || json[p] != '[') {
    llvm::Expected<llvm::json::Value> value = llvm::json::parse(json);
    if (!value)
      return notJson(llvm::toString(value.takeError()));
    return profileError(fileName, "expected a JSON array of events (ONNX "
                                  "Runtime's profiler format)");
  }
  ++p;
  skipSpace();
  bool closed = p < n && json[p] == ']';
  if (closed)
    ++p;
  for (size_t index = 0; !closed; ++index) {
    // The element's extent: up to the bracket that closes it, or (a
    // scalar) up to the next comma or bracket; strings skipped whole.
    size_t start = p, depth = 0;
    bool inString = false;
    for (; p < n; ++p) {
      char c = json[p];
      if (inString) {
        if (c == '\\')
          ++p;
        else if (c == '"')
          inString = false;
        continue;
      }
      if (c == '"') {
        inString = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0)
          break;
        if (--depth == 0) {
          ++p;
          break;
        }
      } else if (c == ',' && depth == 0) {
        break;
      }
    }
    llvm::Expected<llvm::json::Value> element =
        llvm::json::parse(json.slice(start, p));
    if (!element)
      return notJson("event " + llvm::Twine(index) + ": " +
                     llvm::toString(element.takeError()));
    if (llvm::Error err = each(index, *element))
      return err;
    skipSpace();
    if (p < n && json[p] == ',') {
      ++p;
      skipSpace();
    } else if (p < n && json[p] == ']') {
      ++p;
      closed = true;
    } else {
      return notJson("the event array does not close after event " +
                     llvm::Twine(index));
    }
  }
  skipSpace();
  if (p != n)
    return notJson("text after the event array");
  return llvm::Error::success();
}

llvm::Expected<std::vector<ProfiledNode>>
chorus::readOrtProfile(llvm::StringRef json, llvm::StringRef fileName) {
  llvm::StringMap<std::vector<double>> times;
  llvm::StringMap<std::string> opNames;
  llvm::StringMap<
      std::pair<std::vector<KernelTensor>, std::vector<KernelTensor>>>
      shapes;
  std::vector<std::string> order;
  auto read = [&](size_t index, const llvm::json::Value &event) -> llvm::Error {
    const llvm::json::Object *e = event.getAsObject();
    if (!e)
      return profileError(fileName,
                          "event " + llvm::Twine(index) + " is not an object");
    std::optional<llvm::StringRef> cat = e->getString("cat");
    if (!cat || *cat != "Node")
      return llvm::Error::success();
    std::optional<llvm::StringRef> name = e->getString("name");
    if (!name)
      return profileError(fileName, "node event " + llvm::Twine(index) +
                                        " has no \"name\"");
    if (!name->consume_back("_kernel_time"))
      return llvm::Error::success(); // _fence_before / _fence_after markers
    std::optional<double> dur = e->getNumber("dur");
    if (!dur || *dur < 0)
      return profileError(fileName, "node event " + llvm::Twine(index) + " ('" +
                                        *name +
                                        "') has no non-negative \"dur\"");
    std::string op;
    std::vector<KernelTensor> ins, outs;
    if (const llvm::json::Object *args = e->getObject("args")) {
      if (std::optional<llvm::StringRef> o = args->getString("op_name"))
        op = o->str();
      if (!readShapes(args->getArray("input_type_shape"), ins) ||
          !readShapes(args->getArray("output_type_shape"), outs))
        return profileError(fileName, "node event " + llvm::Twine(index) +
                                          " ('" + *name +
                                          "') has a malformed tensor shape");
    }
    auto [it, inserted] = times.try_emplace(*name);
    if (inserted) {
      order.push_back(name->str());
      opNames[*name] = op;
      shapes[*name] = {std::move(ins), std::move(outs)};
    }
    it->second.push_back(*dur * 1e-6);
    return llvm::Error::success();
  };
  if (llvm::Error err = forEachElement(json, fileName, read))
    return std::move(err);
  std::vector<ProfiledNode> nodes;
  for (const std::string &name : order) {
    std::vector<double> &t = times[name];
    std::sort(t.begin(), t.end());
    // The median: the first run of a session is slower (page faults,
    // allocations) and must not pull the figure.
    double median = t.size() % 2
                        ? t[t.size() / 2]
                        : 0.5 * (t[t.size() / 2 - 1] + t[t.size() / 2]);
    ProfiledNode node{name, opNames[name], median,
                      static_cast<unsigned>(t.size())};
    const std::string &op = node.opName;
    bool blocked = llvm::StringRef(name).contains("_nchwc") ||
                   op == "ReorderInput" || op == "ReorderOutput";
    node.op = (blocked ? "com.microsoft.nchwc:" : "") + op;
    node.inputs = shapes[name].first;
    node.outputs = shapes[name].second;
    nodes.push_back(std::move(node));
  }
  if (nodes.empty())
    return profileError(fileName, "no node events (\"cat\": \"Node\", "
                                  "\"name\": \"..._kernel_time\")");
  return nodes;
}

ProfileMatch chorus::matchProfile(func::FuncOp func,
                                  llvm::ArrayRef<ProfiledNode> profile) {
  llvm::StringMap<NodeOp> byName;
  for (NodeOp node : func.getBody().front().getOps<NodeOp>())
    if (node.getName())
      byName[*node.getName()] = node;
  ProfileMatch match;
  for (const ProfiledNode &p : profile) {
    auto it = byName.find(p.name);
    std::optional<NodeWork> work;
    if (it != byName.end())
      work = getNodeWork(it->second);
    if (!work) {
      ++match.unmatched;
      match.unmatchedSeconds += p.seconds;
      continue;
    }
    match.matchedSeconds += p.seconds;
    match.samples.push_back({work->opClass, work->flops,
                             work->bytesRead + work->bytesWritten, work->groups,
                             getComputeType(it->second), p.seconds,
                             work->expandedRows});
  }
  return match;
}

/// Least squares over the terms in `mask`: compute seconds at peak, memory
/// seconds at full bandwidth for nodes beyond the last-level cache, the
/// same for nodes within it, 1 (overhead), convolution groups and the rows
/// of a convolution's im2col expansion; false when the system is singular.
static constexpr int kTerms = 6;
/// The efficiency of a term the fit found free (its coefficient 0).
static constexpr double kCap = 1e6;
using Row = std::array<double, kTerms + 1>;

/// Multiplies the time of `e`'s work by `a`: efficiencies divided (a = 0:
/// free), per-group and per-row times multiplied. Capped efficiencies stay
/// capped: work that is free stays free.
static void scaleWork(ClassEfficiency &e, double a) {
  auto scale = [&](double &efficiency) {
    if (efficiency < kCap)
      efficiency = a > 0 ? std::min(kCap, efficiency / a) : kCap;
  };
  scale(e.compute);
  scale(e.memory);
  if (e.cachedMemory)
    scale(*e.cachedMemory);
  e.perGroupSeconds *= a;
  e.perRowSeconds *= a;
}

/// The sum of squared residuals of `coef` over rows of n terms and the
/// target.
static double squaredResidual(const std::vector<std::vector<double>> &rows,
                              const std::vector<double> &coef, unsigned n) {
  double residual = 0;
  for (const std::vector<double> &r : rows) {
    double d = -r[n];
    for (unsigned j = 0; j < n; ++j)
      d += coef[j] * r[j];
    residual += d * d;
  }
  return residual;
}

bool chorus::solveLeastSquares(const std::vector<std::vector<double>> &rows,
                               const std::vector<bool> &active,
                               std::vector<double> &x) {
  size_t n = active.size();
  std::vector<size_t> cols;
  for (size_t j = 0; j < n; ++j)
    if (active[j])
      cols.push_back(j);
  size_t k = cols.size();
  std::vector<std::vector<double>> a(k, std::vector<double>(k + 1, 0));
  for (const std::vector<double> &row : rows) {
    double w = row[n + 1];
    for (size_t p = 0; p < k; ++p) {
      for (size_t q = 0; q < k; ++q)
        a[p][q] += w * row[cols[p]] * row[cols[q]];
      a[p][k] += w * row[cols[p]] * row[n];
    }
  }
  // Gaussian elimination with partial pivoting.
  for (size_t c = 0; c < k; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < k; ++r)
      if (std::fabs(a[r][c]) > std::fabs(a[pivot][c]))
        pivot = r;
    if (!(std::fabs(a[pivot][c]) > 0))
      return false;
    std::swap(a[c], a[pivot]);
    for (size_t r = 0; r < k; ++r) {
      if (r == c)
        continue;
      double f = a[r][c] / a[c][c];
      for (size_t q = c; q <= k; ++q)
        a[r][q] -= f * a[c][q];
    }
  }
  x.assign(n, 0);
  for (size_t p = 0; p < k; ++p)
    x[cols[p]] = a[p][k] / a[p][p];
  return true;
}

bool chorus::solveLeastSquaresNonNegative(
    const std::vector<std::vector<double>> &rows, std::vector<bool> active,
    const std::vector<bool> &nonNegative, std::vector<double> &x) {
  while (solveLeastSquares(rows, active, x)) {
    // The most negative of the terms that may not be: left out, and the
    // rest fitted again (leaving one out can turn another negative).
    size_t worst = active.size();
    for (size_t j = 0; j < active.size(); ++j)
      if (active[j] && j < nonNegative.size() && nonNegative[j] && x[j] < 0 &&
          (worst == active.size() || x[j] < x[worst]))
        worst = j;
    if (worst == active.size())
      return true;
    active[worst] = false;
  }
  return false;
}

/// Non-negative least squares over few unknowns: every subset of the
/// columns solved by the normal equations, the best with no negative
/// coefficient kept. Rows hold the coefficients then the target.
static std::vector<double>
nnlsBySubsets(const std::vector<std::vector<double>> &rows, unsigned n) {
  std::vector<double> best(n, 0.0);
  double bestResidual = INFINITY;
  for (unsigned mask = 1; mask < (1u << n); ++mask) {
    std::vector<unsigned> idx;
    for (unsigned j = 0; j < n; ++j)
      if (mask & (1u << j))
        idx.push_back(j);
    unsigned k = idx.size();
    std::vector<std::vector<double>> a(k, std::vector<double>(k + 1, 0.0));
    for (const std::vector<double> &r : rows)
      for (unsigned i = 0; i < k; ++i) {
        for (unsigned j = 0; j < k; ++j)
          a[i][j] += r[idx[i]] * r[idx[j]];
        a[i][k] += r[idx[i]] * r[n];
      }
    bool singular = false;
    for (unsigned c = 0; c < k && !singular; ++c) {
      unsigned pivot = c;
      for (unsigned r = c + 1; r < k; ++r)
        if (std::fabs(a[r][c]) > std::fabs(a[pivot][c]))
          pivot = r;
      if (std::fabs(a[pivot][c]) < 1e-300)
        singular = true;
      std::swap(a[c], a[pivot]);
      for (unsigned r = 0; r < k && !singular; ++r) {
        if (r == c)
          continue;
        double f = a[r][c] / a[c][c];
        for (unsigned j = c; j <= k; ++j)
          a[r][j] -= f * a[c][j];
      }
    }
    if (singular)
      continue;
    std::vector<double> coef(n, 0.0);
    bool negative = false;
    for (unsigned i = 0; i < k; ++i) {
      coef[idx[i]] = a[i][k] / a[i][i];
      negative |= coef[idx[i]] < 0;
    }
    if (negative)
      continue;
    double residual = squaredResidual(rows, coef, n);
    if (residual < bestResidual) {
      bestResidual = residual;
      best = coef;
    }
  }
  return best;
}

Target chorus::calibrateTarget(const Target &base,
                               llvm::ArrayRef<CalibrationSample> samples,
                               llvm::StringRef name,
                               std::vector<ClassFit> &fits,
                               unsigned minSamples) {
  Target t = base;
  t.name = name.str();
  t.calibrated = true;
  fits.clear();
  for (OpClass cls : allOpClasses()) {
    ClassFit fit;
    fit.opClass = cls;
    std::vector<Row> rows;
    double limit = base.getCachedBytesLimit();
    for (const CalibrationSample &s : samples) {
      if (s.opClass != cls)
        continue;
      double memory = s.bytes / base.memoryBandwidth;
      bool cached = s.bytes <= limit;
      // Each row is divided by the measured time: the fit minimizes
      // relative errors, so thousands of small nodes weigh as much as a few
      // large ones and no term is bent to fit the largest alone.
      double w = 1 / std::sqrt(std::max(s.seconds, 1e-9));
      rows.push_back({w * s.flops / base.getPeakFlops(s.dtype),
                      w * (cached ? 0.0 : memory), w * (cached ? memory : 0.0),
                      w,
                      w * (cls == OpClass::GroupedConvolution ? s.groups : 0),
                      w * s.expandedRows, w * s.seconds});
      fit.measuredSeconds += s.seconds;
    }
    fit.samples = rows.size();
    if (rows.size() < minSamples) {
      fit.efficiency = base.getEfficiency(cls);
      fits.push_back(fit);
      continue;
    }
    std::vector<std::vector<double>> system;
    for (const Row &r : rows)
      system.emplace_back(r.begin(), r.end());
    std::vector<double> best = nnlsBySubsets(system, kTerms);
    // A zero coefficient means the term explains nothing: the efficiency
    // is capped (the work is as good as free) rather than infinite.
    auto efficiency = [&](double c) {
      return c > 0 ? std::min(kCap, 1 / c) : kCap;
    };
    fit.efficiency.compute = efficiency(best[0]);
    fit.efficiency.memory = efficiency(best[1]);
    fit.efficiency.cachedMemory = efficiency(best[2]);
    fit.efficiency.overheadSeconds = best[3];
    fit.efficiency.perGroupSeconds = best[4];
    fit.efficiency.perRowSeconds = best[5];
    fit.fitted = true;
    for (const Row &r : rows)
      fit.fittedSeconds +=
          (r[0] / fit.efficiency.compute + r[1] / fit.efficiency.memory +
           r[2] / *fit.efficiency.cachedMemory + best[3] * r[3] +
           best[4] * r[4] + best[5] * r[5]) /
          r[3];
    t.efficiency[cls] = fit.efficiency;
    fits.push_back(fit);
  }
  return t;
}

FailureOr<LatencyCorrection> chorus::fitToLatencies(
    Target &target, llvm::ArrayRef<std::pair<func::FuncOp, double>> measured) {
  // Per model, x = predicted / measured and y = kernels / measured; the fit
  // minimizes sum((a x - b y - 1)^2) with a = s and b = s d.
  double xx = 0, xy = 0, yy = 0, x1 = 0, y1 = 0;
  for (auto [func, seconds] : measured) {
    FailureOr<ModelCost> cost = estimateModelCost(func, target);
    if (failed(cost))
      return failure();
    double x = cost->seconds / seconds, y = cost->kernels / seconds;
    xx += x * x;
    xy += x * y;
    yy += y * y;
    x1 += x;
    y1 += y;
  }
  // With one latency (or models too alike to tell the two apart), the
  // profiler time alone: a = 1.
  double a = 1, b = yy > 0 ? std::max(0.0, (xy - y1) / yy) : 0.0;
  double det = xx * yy - xy * xy;
  if (measured.size() >= 2 && det > 1e-9 * xx * yy) {
    // Normal equations: a xx - b xy = x1, a xy - b yy = y1.
    double a2 = (x1 * yy - y1 * xy) / det;
    double b2 = (x1 * xy - y1 * xx) / det;
    if (a2 > 0 && b2 >= 0) {
      a = a2;
      b = b2;
    } else if (b2 < 0 && x1 > 0) {
      // The profiler added nothing measurable: the slowdown alone.
      a = x1 / xx;
      b = 0;
    }
  }
  LatencyCorrection c;
  c.slowdown = a;
  c.perKernelSeconds = b / a;
  for (OpClass cls : allOpClasses()) {
    ClassEfficiency e = target.getEfficiency(cls);
    e.overheadSeconds =
        std::max(0.0, *e.overheadSeconds - c.perKernelSeconds) * a;
    scaleWork(e, a);
    target.efficiency[cls] = e;
  }
  target.kernelOverheadSeconds =
      std::max(0.0, target.kernelOverheadSeconds - c.perKernelSeconds) * a;
  return c;
}

FailureOr<Target> chorus::calibrateToLatencies(
    const Target &base,
    llvm::ArrayRef<std::pair<func::FuncOp, double>> measured,
    llvm::StringRef name, LatencyOnlyFit &fit, double minWorkShare,
    double timeWeight) {
  // Per model: work seconds per class on the base, and kernels.
  std::vector<std::map<OpClass, double>> work;
  std::vector<double> kernels;
  std::map<OpClass, double> totalWork;
  for (auto [func, seconds] : measured) {
    std::map<OpClass, double> w;
    double count = 0;
    for (Operation &op : func.getBody().front()) {
      if (!isKernel(op))
        continue;
      std::optional<NodeCost> c = estimateKernelCost(&op, base);
      if (!c) {
        op.emitError("cannot estimate the cost of this kernel on '")
            << base.name << "' (are all its shapes static?)";
        return failure();
      }
      OpClass cls = c->work.opClass;
      double fixed = *base.getEfficiency(cls).overheadSeconds;
      w[cls] += c->seconds() - fixed;
      totalWork[cls] += (c->seconds() - fixed) / seconds;
      count += 1;
    }
    work.push_back(std::move(w));
    kernels.push_back(count);
  }
  double allWork = 0;
  for (const auto &[cls, w] : totalWork)
    allWork += w;
  std::vector<OpClass> classes;
  for (OpClass cls : allOpClasses()) {
    double share = allWork > 0 ? totalWork[cls] / allWork : 0.0;
    if (share > 0 && share >= minWorkShare)
      classes.push_back(cls);
    else
      fit.unfitted.push_back({cls, share});
  }
  unsigned n = classes.size() + 1;
  if (measured.empty())
    return failure();
  if (measured.size() < n) {
    func::FuncOp first = measured.front().first;
    emitError(first.getLoc())
        << "fitting " << n << " unknowns (the work of " << classes.size()
        << " op class" << (classes.size() == 1 ? "" : "es")
        << " and the per-kernel overhead) needs at least " << n
        << " measured models; got " << measured.size();
    return failure();
  }
  double meanSeconds = 0;
  for (const auto &m : measured)
    meanSeconds += m.second / measured.size();
  std::vector<std::vector<double>> rows;
  for (auto [i, m] : llvm::enumerate(measured)) {
    // The square root of the weight on the squared relative error.
    double w = std::pow(m.second / meanSeconds, timeWeight / 2);
    std::vector<double> r;
    for (OpClass cls : classes)
      r.push_back(w * work[i][cls] / m.second);
    r.push_back(w * kernels[i] / m.second);
    r.push_back(w);
    rows.push_back(std::move(r));
  }
  std::vector<double> coef = nnlsBySubsets(rows, n);
  double weighted = 0, weight = 0;
  for (auto [j, cls] : llvm::enumerate(classes)) {
    fit.scale[cls] = coef[j];
    weighted += coef[j] * totalWork[cls];
    weight += totalWork[cls];
  }
  double mean = weight > 0 ? weighted / weight : 1.0;
  fit.overheadSeconds = coef[n - 1];

  Target t = base;
  t.name = name.str();
  t.calibrated = true;
  t.kernelOverheadSeconds = fit.overheadSeconds;
  for (OpClass cls : allOpClasses()) {
    double a = fit.scale.count(cls) ? fit.scale[cls] : mean;
    // Transcendental elementwise work the models held too little of runs
    // as the other elementwise work.
    if (cls == OpClass::ElementwiseMath && !fit.scale.count(cls) &&
        fit.scale.count(OpClass::Elementwise))
      a = fit.scale[OpClass::Elementwise];
    ClassEfficiency e = base.getEfficiency(cls);
    scaleWork(e, a);
    e.overheadSeconds = fit.overheadSeconds;
    t.efficiency[cls] = e;
  }
  for (auto [i, m] : llvm::enumerate(measured)) {
    double fitted = fit.overheadSeconds * kernels[i];
    for (auto [j, cls] : llvm::enumerate(classes))
      fitted += coef[j] * work[i][cls];
    fit.models.push_back({fitted, m.second});
  }
  return t;
}

//===----------------------------------------------------------------------===//
// Kernel models
//===----------------------------------------------------------------------===//

/// Fits one kernel model to `rows` (features, seconds); units scaled so
/// the normal equations stay well conditioned.
static constexpr size_t kLeastPerSide = 8;
static constexpr long kLeastStrided = 4;
static constexpr size_t kLeastDistinctKernels = 12;
static KernelModelFit
fitOneKernelModel(llvm::StringRef kernelClass,
                  llvm::ArrayRef<std::pair<KernelFeatures, double>> rows,
                  double coldAbove, double memoryAbove,
                  double *residualOut = nullptr) {
  // A class profiled at fewer than kLeastDistinctKernels distinct kernels
  // (FLOPs, bytes and the weights of the model they ran in) is fitted with its
  // three terms alone: the further ones (per group, im2col row, strided
  // element, streamed and cold byte) are up to six more numbers, and
  // fitted to the few kernels of one calibration they traded off
  // differently in the next (docs/Rationale.md).
  std::set<std::array<double, 3>> distinct;
  for (const auto &row : rows)
    distinct.insert(
        {row.first.flops, row.first.bytes, row.first.modelWeightBytes});
  bool fewKernels = distinct.size() < kLeastDistinctKernels;
  // Kernels that run groups one by one get a term per group.
  bool grouped = !fewKernels && llvm::any_of(rows, [](const auto &row) {
    return row.first.groups > 0;
  });
  // Convolutions that expand their input get a term per im2col row.
  bool expanded = !fewKernels && llvm::any_of(rows, [](const auto &row) {
    return row.first.rows > 0;
  });
  // And a term per element their im2col copies one at a time (a strided
  // convolution's), where enough kernels stride to tell it apart.
  bool strided = !fewKernels && llvm::count_if(rows, [](const auto &row) {
                                  return row.first.stridedElements > 0;
                                }) >= kLeastStrided;
  // WebGPU programs get a term per workgroup and one per tile step.
  bool withWorkgroups = llvm::any_of(
      rows, [](const auto &row) { return row.first.workgroups > 0; });
  bool withSteps = llvm::any_of(
      rows, [](const auto &row) { return row.first.tileSteps > 0; });
  // Kernels whose bytes outgrow the caches stream them from memory at a
  // lower rate: a term per byte beyond `cache` bytes, where the fit with
  // it is better than without, over a few cache sizes that each leave at
  // least kLeastPerSide kernels on both sides (0: no such term). With 3,
  // the depthwise class took a term from the 3 kernels of one calibration
  // model beyond 32 MiB in one calibration and not in the next, moving
  // PP-OCRv4 det (640x640) by a third. Only for classes
  // bound by their bytes, whose median kernel does less than one FLOP per
  // byte: in convolutions and matmuls the extra term traded off against
  // the FLOP term and mis-timed the small kernels of mobile networks on
  // held-out models. Nor for classes with a term per im2col row: the
  // CPU provider's depthwise convolutions took one in one of two
  // calibrations in a row at level disabled and its bytes term in the
  // other, a PaddleOCR classifier 13.4% apart between them (7.8%
  // without, its FLOPs uncounted too: KernelModel.cpp).
  std::vector<double> intensity;
  for (const auto &[f, seconds] : rows)
    intensity.push_back(f.bytes > 0 ? f.flops / f.bytes : 0);
  std::nth_element(intensity.begin(), intensity.begin() + intensity.size() / 2,
                   intensity.end());
  bool byteBound = intensity[intensity.size() / 2] < 1;
  // Whether at least 3 kernels that read weights have `part` of them and
  // 3 others none: else a term for that part could not be told from the
  // others.
  auto onBothSides = [&](auto part) {
    size_t above = llvm::count_if(
        rows, [&](const auto &row) { return part(row.first) > 0; });
    size_t below = llvm::count_if(rows, [&](const auto &row) {
      return row.first.weightBytes > 0 && part(row.first) == 0;
    });
    return above >= 3 && below >= 3;
  };
  // The weights of models above `coldAbove` bytes come from memory on
  // every run: a term per such byte.
  auto cold = [&](const KernelFeatures &f) {
    return f.modelWeightBytes > coldAbove ? f.weightBytes : 0.0;
  };
  bool withCold = coldAbove > 0 && !fewKernels && onBothSides(cold);
  // And the weights of runs that touch more than `memoryAbove` bytes (the
  // cache the cores share) come from memory, each row of them paying for
  // its first lines: a term per such row and one per such byte. One term
  // more on a class's three: kernels of half the distinct ones the further
  // terms need are enough (a fully connected layer's class has about ten).
  auto far = [&](const KernelFeatures &f) {
    return f.runBytes > memoryAbove ? f.weightRows : 0.0;
  };
  auto farBytes = [&](const KernelFeatures &f) {
    return f.runBytes > memoryAbove ? f.weightBytes : 0.0;
  };
  bool withMemory = memoryAbove > 0 &&
                    distinct.size() >= kLeastDistinctKernels / 2 &&
                    onBothSides(farBytes);
  constexpr double kMiB = 1024.0 * 1024.0;
  KernelModel best;
  double bestResidual = INFINITY;
  for (double cache : {0.0, 0.5 * kMiB, 1 * kMiB, 2 * kMiB, 4 * kMiB, 8 * kMiB,
                       16 * kMiB, 32 * kMiB}) {
    if (cache > 0 && (!byteBound || fewKernels || expanded))
      break;
    if (cache > 0) {
      size_t above = llvm::count_if(
          rows, [&](const auto &row) { return row.first.bytes > cache; });
      if (above < kLeastPerSide || rows.size() - above < kLeastPerSide)
        continue;
    }
    std::vector<std::vector<double>> a;
    for (const auto &[f, seconds] : rows) {
      double us = seconds * 1e6;
      double w = 1 / std::sqrt(std::max(us, 1.0));
      std::vector<double> row = {f.flops * 1e-9 * w, f.bytes * 1e-9 * w, w};
      if (grouped)
        row.push_back(f.groups * w);
      if (expanded)
        row.push_back(f.rows * 1e-3 * w);
      if (strided)
        row.push_back(f.stridedElements * 1e-3 * w);
      if (withWorkgroups)
        row.push_back(f.workgroups * w);
      if (withSteps)
        row.push_back(f.tileSteps * w);
      if (cache > 0)
        row.push_back(std::max(0.0, f.bytes - cache) * 1e-9 * w);
      if (withCold)
        row.push_back(cold(f) * 1e-9 * w);
      if (withMemory) {
        row.push_back(far(f) * w);
        row.push_back(farBytes(f) * 1e-9 * w);
      }
      row.push_back(us * w);
      a.push_back(std::move(row));
    }
    unsigned n = a.front().size() - 1;
    std::vector<double> c = nnlsBySubsets(a, n);
    double residual = squaredResidual(a, c, n);
    // A cache size must earn its two numbers: a tenth less residual.
    if (!(residual < (cache > 0 ? 0.9 : 1.0) * bestResidual))
      continue;
    bestResidual = residual;
    best = {c[0] * 1e-15, c[1] * 1e-15, c[2] * 1e-6,
            static_cast<unsigned>(rows.size())};
    unsigned next = 3;
    if (grouped)
      best.perGroupSeconds = c[next++] * 1e-6;
    if (expanded)
      best.perRowSeconds = c[next++] * 1e-9;
    if (strided)
      best.perStridedElementSeconds = c[next++] * 1e-9;
    if (withWorkgroups)
      best.perWorkgroupSeconds = c[next++] * 1e-6;
    if (withSteps)
      best.perTileStepSeconds = c[next++] * 1e-6;
    unsigned coldColumn = n - (withMemory ? 2 : 0) - (withCold ? 1 : 0);
    unsigned streamed = coldColumn - 1;
    if (cache > 0 && c[streamed] > 0) {
      best.perStreamedByteSeconds = c[streamed] * 1e-15;
      best.cacheBytes = cache;
    }
    if (withCold && c[coldColumn] > 0) {
      best.perColdWeightByteSeconds = c[coldColumn] * 1e-15;
      best.coldWeightsAbove = coldAbove;
    }
    if (withMemory && (c[n - 2] > 0 || c[n - 1] > 0)) {
      best.perMemoryWeightRowSeconds = c[n - 2] * 1e-6;
      best.perMemoryWeightByteSeconds = c[n - 1] * 1e-15;
      best.memoryWeightsAbove = memoryAbove;
    }
  }
  if (residualOut)
    *residualOut = bestResidual;
  KernelModelFit fit;
  fit.kernelClass = kernelClass.str();
  fit.samples = rows.size();
  fit.model = best;
  for (const auto &[f, seconds] : rows) {
    fit.measuredSeconds += seconds;
    std::array<double, 3> terms = getKernelTerms(fit.model, f);
    fit.fittedSeconds += terms[0] + terms[1] + terms[2];
  }
  return fit;
}

std::map<std::string, KernelModel>
chorus::fitKernelModels(llvm::ArrayRef<ProfiledNode> kernels,
                        unsigned minSamples, std::vector<KernelModelFit> &fits,
                        std::optional<double> coldWeightsAbove,
                        std::optional<double> memoryWeightsAbove) {
  std::map<std::string, std::vector<std::pair<KernelFeatures, double>>> byClass;
  std::vector<std::pair<KernelFeatures, double>> all;
  for (const ProfiledNode &k : kernels) {
    KernelFeatures f = getKernelFeatures(k.op, k.inputs, k.outputs, k.backend);
    f.modelWeightBytes = k.modelWeightBytes;
    f.runBytes = k.runBytes;
    byClass[f.kernelClass].push_back({f, k.seconds});
    all.push_back({f, k.seconds});
  }
  // The size above which a model's weights no longer stay in the caches
  // between runs is the machine's (its last-level cache, as much of it as
  // the other tenants leave): one size for every class, the one of a few
  // whose fits leave the least residual, if a tenth less than none.
  constexpr double kMiB = 1024.0 * 1024.0;
  auto fitAll = [&](double coldAbove, double memoryAbove,
                    std::vector<KernelModelFit> &out, double &residual) {
    residual = 0;
    for (const auto &[cls, rows] : byClass) {
      if (rows.size() < std::max(minSamples, 1u))
        continue;
      double r = 0;
      out.push_back(fitOneKernelModel(cls, rows, coldAbove, memoryAbove, &r));
      residual += r;
    }
    if (!all.empty())
      out.push_back(fitOneKernelModel("default", all, coldAbove, memoryAbove));
  };
  std::vector<KernelModelFit> best;
  double bestResidual = INFINITY;
  std::vector<double> sizes = {0.0,       1 * kMiB,   2 * kMiB,   4 * kMiB,
                               8 * kMiB,  16 * kMiB,  32 * kMiB,  64 * kMiB,
                               96 * kMiB, 128 * kMiB, 192 * kMiB, 256 * kMiB};
  // A size another fit of the same machine chose (the fit at one thread,
  // for those at other thread counts): the caches are the same.
  if (coldWeightsAbove)
    sizes = {*coldWeightsAbove};
  // The run's bytes beyond which weights come from memory: the cache the
  // cores share, as much of it as the other tenants leave (a VM's CPUID
  // may name the whole socket's): the one of a few sizes whose fits leave
  // the least residual, if a tenth less than none.
  std::vector<double> memorySizes = {0.0, 16 * kMiB, 32 * kMiB, 64 * kMiB};
  if (memoryWeightsAbove)
    memorySizes = {*memoryWeightsAbove};
  for (double coldAbove : sizes) {
    double noMemory = INFINITY;
    for (double memoryAbove : memorySizes) {
      std::vector<KernelModelFit> candidate;
      double residual = 0;
      fitAll(coldAbove, memoryAbove, candidate, residual);
      if (memoryAbove == 0)
        noMemory = residual;
      else if (!(residual < 0.9 * noMemory))
        continue;
      if (!(residual < (coldAbove > 0 ? 0.9 : 1.0) * bestResidual))
        continue;
      bestResidual = residual;
      best = std::move(candidate);
    }
  }
  std::map<std::string, KernelModel> models;
  for (KernelModelFit &fit : best) {
    models[fit.kernelClass] = fit.model;
    fits.push_back(std::move(fit));
  }
  return models;
}

void chorus::setProfiledRunBytes(llvm::MutableArrayRef<ProfiledNode> kernels) {
  double runBytes = kernels.empty() ? 0 : kernels.front().modelWeightBytes;
  for (const ProfiledNode &k : kernels)
    for (const KernelTensor &t : k.outputs)
      runBytes += t.elements() * t.elementBytes;
  for (ProfiledNode &k : kernels)
    k.runBytes = runBytes;
}

std::array<double, 3>
chorus::predictProfiledTerms(llvm::ArrayRef<ProfiledNode> kernels,
                             const std::map<std::string, KernelModel> &models) {
  std::array<double, 3> terms = {0, 0, 0};
  for (const ProfiledNode &k : kernels) {
    KernelFeatures f = getKernelFeatures(k.op, k.inputs, k.outputs, k.backend);
    auto it = models.find(f.kernelClass);
    if (it == models.end())
      it = models.find("default");
    if (it == models.end())
      continue;
    f.modelWeightBytes = k.modelWeightBytes;
    f.runBytes = k.runBytes;
    std::array<double, 3> t = getKernelTerms(it->second, f);
    for (size_t i = 0; i < t.size(); ++i)
      terms[i] += t[i];
  }
  return terms;
}

uint64_t chorus::readPrivateCacheBytes(llvm::StringRef cpuDir) {
  // sysfs files say 4096 bytes and hold fewer: read them to their end,
  // not by their size.
  auto read = [](const llvm::Twine &path) -> std::string {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> b =
        llvm::MemoryBuffer::getFileAsStream(path);
    return b ? (*b)->getBuffer().trim().str() : std::string();
  };
  std::string siblings = read(cpuDir + "/topology/thread_siblings_list");
  uint64_t best = 0;
  for (unsigned index = 0;; ++index) {
    std::string dir = (cpuDir + "/cache/index" + llvm::Twine(index)).str();
    std::string type = read(dir + "/type");
    if (type.empty())
      break;
    if (type != "Data" && type != "Unified")
      continue;
    // Shared with other cores: not the core's own.
    std::string shared = read(dir + "/shared_cpu_list");
    if (shared.empty() ||
        (shared != siblings && shared.find_first_of(",-") != std::string::npos))
      continue;
    std::string text = read(dir + "/size");
    llvm::StringRef size = text;
    uint64_t scale = 1;
    if (size.consume_back("K"))
      scale = 1024;
    else if (size.consume_back("M"))
      scale = 1024 * 1024;
    uint64_t n = 0;
    if (size.empty() || size.getAsInteger(10, n))
      continue;
    best = std::max(best, n * scale);
  }
  return best;
}

uint64_t chorus::privateCacheBytesFromCpuid(CpuidFn cpuid) {
  std::array<unsigned, 4> r = {0, 0, 0, 0};
  if (!cpuid(0, 0, r))
    return 0;
  unsigned maxLeaf = r[0];
  // The vendor string, in EBX, EDX, ECX.
  auto is = [&](unsigned b, unsigned d, unsigned c) {
    return r[1] == b && r[3] == d && r[2] == c;
  };
  bool intel = is(0x756e6547, 0x49656e69, 0x6c65746e); // GenuineIntel
  bool amd = is(0x68747541, 0x69746e65, 0x444d4163);   // AuthenticAMD
  if (!intel && !amd)
    return 0;
  unsigned maxExtended = cpuid(0x80000000, 0, r) ? r[0] : 0;
  unsigned leaf = 0;
  if (intel && maxLeaf >= 4)
    leaf = 4;
  else if (amd && maxExtended >= 0x8000001D && cpuid(0x80000001, 0, r) &&
           (r[2] >> 22 & 1))
    leaf = 0x8000001D;
  uint64_t best = 0;
  if (leaf) {
    // (sharing logical processors, bytes) of each data or unified cache;
    // the level-1 data cache is a core's own, so its sharing is the
    // number of hardware threads a core runs.
    std::vector<std::pair<unsigned, uint64_t>> caches;
    unsigned threadsPerCore = 1;
    for (unsigned sub = 0; sub < 16 && cpuid(leaf, sub, r); ++sub) {
      unsigned type = r[0] & 0x1f; // 1 data, 2 instruction, 3 unified
      if (type == 0)
        break;
      if (type == 2)
        continue;
      unsigned level = (r[0] >> 5) & 0x7, sharing = ((r[0] >> 14) & 0xfff) + 1;
      if (level == 1 && type == 1)
        threadsPerCore = sharing;
      uint64_t ways = (r[1] >> 22) + 1, partitions = ((r[1] >> 12) & 0x3ff) + 1,
               line = (r[1] & 0xfff) + 1, sets = uint64_t(r[2]) + 1;
      caches.push_back({sharing, ways * partitions * line * sets});
    }
    for (auto [sharing, bytes] : caches)
      if (sharing <= threadsPerCore)
        best = std::max(best, bytes);
    return best;
  }
  // AMD's L2 (ECX[31:16], KiB) is each core's own.
  if (amd && maxExtended >= 0x80000006 && cpuid(0x80000006, 0, r))
    best = uint64_t(r[2] >> 16) * 1024;
  return best;
}

uint64_t chorus::readCpuidPrivateCacheBytes() {
#if defined(__x86_64__) || defined(__i386__)
  return privateCacheBytesFromCpuid([](unsigned leaf, unsigned subleaf,
                                       std::array<unsigned, 4> &r) {
    // __get_cpuid_count checks the leaf against the highest one the
    // processor answers (basic or extended).
    return __get_cpuid_count(leaf, subleaf, &r[0], &r[1], &r[2], &r[3]) != 0;
  });
#else
  return 0;
#endif
}

llvm::Expected<CoRunModel>
chorus::fitCoRun(llvm::ArrayRef<CoRunSample> samples) {
  std::vector<std::vector<double>> rows;
  std::vector<double> weights;
  for (const CoRunSample &s : samples) {
    double predicted = s.terms[0] + s.terms[1] + s.terms[2];
    if (!(predicted > 0) || !(s.aloneSeconds > 0))
      continue;
    rows.push_back({s.terms[0] / predicted, s.terms[1] / predicted,
                    s.terms[2] / predicted, 1e-3 / s.aloneSeconds,
                    (s.pairSeconds - s.aloneSeconds) / s.aloneSeconds});
    weights.push_back(std::pow(s.aloneSeconds * 1e3, 0.6));
  }
  // The extra time of a co-run, relative to the run alone: each term's
  // share of the model's kernels slowed by its own factor, plus what
  // handing the second session's run to its worker thread and back costs
  // once per run (150 to 260 us on a 2-core VM: as much as a small
  // model's run, which without the term was read as its kernels slowing
  // by half again, and parallel pairs of large models predicted slow).
  if (rows.size() < 4)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "co-runs need at least 4 measured models to fit; got " +
            std::to_string(rows.size()));
  // Each model's row weighed by how far its ratio can be trusted: one
  // over the spread a co-run ratio shows between two calibrations of one
  // machine, which falls with the model's time alone (about 0.2 x
  // ms^-0.6 over 376 models of 2-vCPU VMs: 0.77 below 0.2 ms, 0.15 at 1
  // to 2 ms, 0.04 beyond 5 ms; docs/Rationale.md). Unweighed, the ratios
  // of models of a fraction of a millisecond steered the fit: the
  // calibrations of one VM read a kernel's FLOPs as slowing by 0.10 to
  // 0.67 of their time beside a second session (0.67 and 0.26 in two in a
  // row), where held-out CNNs slowed by about a tenth.
  for (auto [row, w] : llvm::zip(rows, weights))
    for (double &x : row)
      x *= w;
  std::vector<double> c = nnlsBySubsets(rows, 4);
  CoRunModel m;
  m.perFlop = c[0];
  m.perByte = c[1];
  m.perKernel = c[2];
  m.perRunSeconds = c[3] * 1e-3;
  m.samples = rows.size();
  return m;
}

double
chorus::predictProfiledRun(llvm::ArrayRef<ProfiledNode> kernels,
                           const std::map<std::string, KernelModel> &models) {
  std::array<double, 3> terms = predictProfiledTerms(kernels, models);
  return terms[0] + terms[1] + terms[2];
}

//===----------------------------------------------------------------------===//
// Runtime memory
//===----------------------------------------------------------------------===//

llvm::Expected<RuntimeMemoryModel>
chorus::fitRuntimeMemory(llvm::ArrayRef<MemorySample> samples) {
  if (samples.size() < 6)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "the runtime's memory needs at least 6 measured sessions to fit; got " +
            std::to_string(samples.size()));
  // In megabytes, each row weighted by 1 / measured: relative errors.
  constexpr double kMB = 1e-6;
  // Copies of the outputs a run leaves (onnxruntime-node's, one each).
  constexpr double kOutputCopies = 1;
  std::vector<std::vector<double>> load, run;
  std::vector<double> process;
  for (const MemorySample &s : samples) {
    double y = std::max(s.afterLoadBytes * kMB, 1.0);
    double w = 1 / y;
    const double *wb = s.features.weightBytes;
    load.push_back({w, wb[0] * kMB * w, wb[1] * kMB * w, wb[2] * kMB * w,
                    wb[3] * kMB * w, s.features.nodes * kMB * w,
                    s.features.constantNodeBytes * kMB * w,
                    s.features.largestHeapConvTensorBytes * kMB * w,
                    s.afterLoadBytes * kMB * w});
    double added = (s.afterRunBytes - s.afterLoadBytes) * kMB;
    // What the first run adds is small next to the load for most models:
    // weighted by the whole session's size, so that a few hundred
    // kilobytes of noise on a small model do not steer the fit.
    double wr = 1 / std::max(s.afterRunBytes * kMB, 1.0);
    // onnxruntime-node copies every output into a buffer of its own: those
    // bytes come off before the fit (fitted, the term traded off against
    // the arena's, the largest tensor of most models being their output).
    added -= kOutputCopies * s.features.outputBytes * kMB;
    run.push_back({wr, s.features.firstRunArenaBytes() * kMB * wr, added * wr});
    process.push_back(s.processBytes);
  }
  // The copy of weights held in Constant nodes is fitted where at least
  // two models hold a megabyte or more so; elsewhere (measurements kept
  // before the calibration had such models) it is not measured and stays
  // 0, rather than fitted to the noise of a few scalars.
  bool constantNodes = llvm::count_if(samples, [](const MemorySample &s) {
                         return s.features.constantNodeBytes >= 1e6;
                       }) >= 2;
  auto fitLoadTerms = [&](std::vector<std::vector<double>> rows) {
    constexpr unsigned kTerms = 8, kConstantNodes = 6;
    if (constantNodes)
      return nnlsBySubsets(rows, kTerms);
    for (std::vector<double> &r : rows)
      r.erase(r.begin() + kConstantNodes);
    std::vector<double> c = nnlsBySubsets(rows, kTerms - 1);
    c.insert(c.begin() + kConstantNodes, 0.0);
    return c;
  };
  std::vector<double> a = fitLoadTerms(load);
  std::vector<double> b = nnlsBySubsets(run, 2);
  // What a session keeps: the same terms, fitted to the second sessions.
  std::vector<std::vector<double>> retained;
  for (const MemorySample &s : samples) {
    if (!s.retainedBytes)
      continue;
    double y = std::max(*s.retainedBytes * kMB, 1.0);
    double w = 1 / y;
    const double *wb = s.features.weightBytes;
    retained.push_back({w, wb[0] * kMB * w, wb[1] * kMB * w, wb[2] * kMB * w,
                        wb[3] * kMB * w, s.features.nodes * kMB * w,
                        s.features.constantNodeBytes * kMB * w,
                        s.features.largestHeapConvTensorBytes * kMB * w,
                        *s.retainedBytes * kMB * w});
  }
  llvm::sort(process);
  RuntimeMemoryModel m;
  m.processBytes = process[process.size() / 2];
  m.sessionBytes = a[0] / kMB;
  m.perConvWeightByte = a[1];
  m.perMatMulWeightByte = a[2];
  m.perOtherWeightByte = a[3];
  m.perLargeWeightByte = a[4];
  m.perNodeBytes = a[5];
  m.perConstantNodeByte = a[6];
  m.perLargestConvTensorByte = a[7];
  m.runBytes = b[0] / kMB;
  m.perArenaByte = b[1];
  m.perOutputByte = kOutputCopies;
  m.samples = samples.size();
  if (retained.size() >= 6) {
    std::vector<double> c = fitLoadTerms(retained);
    RuntimeMemoryModel::Retained r;
    r.sessionBytes = c[0] / kMB;
    r.perConvWeightByte = c[1];
    r.perMatMulWeightByte = c[2];
    r.perOtherWeightByte = c[3];
    r.perLargeWeightByte = c[4];
    r.perNodeBytes = c[5];
    r.perConstantNodeByte = c[6];
    r.perLargestConvTensorByte = c[7];
    r.samples = retained.size();
    m.retained = r;
  }
  // The load's peak above what it leaves (predictLoadTransient): the
  // initializers' copies per byte of the largest tensor, fitted through
  // the origin on the models without convolution weights; then the
  // convolutions' reorders, per byte of their weights and of the largest
  // of them, non-negative least squares through the origin on the models
  // whose peak the copies do not explain. Unweighted, so that the models
  // whose large tensors make the peak decide it.
  struct PeakSample {
    double largest, conv, largestConv, transient;
  };
  std::vector<PeakSample> peaks;
  for (const MemorySample &s : samples)
    if (s.loadPeakBytes)
      peaks.push_back(
          {static_cast<double>(s.features.largestTensorBytes) * kMB,
           s.features.weightBytes[0] * kMB,
           static_cast<double>(s.features.largestConvTensorBytes) * kMB,
           std::max(*s.loadPeakBytes - s.afterLoadBytes, 0.0) * kMB});
  if (peaks.size() >= 6) {
    RuntimeMemoryModel::LoadPeak p;
    p.samples = peaks.size();
    double xy = 0, xx = 0;
    for (const PeakSample &s : peaks)
      if (s.conv == 0) {
        xy += s.largest * s.transient;
        xx += s.largest * s.largest;
      }
    p.perLargestTensorByte = xx > 0 ? std::max(xy / xx, 0.0) : 0;
    std::vector<std::vector<double>> rows;
    for (const PeakSample &s : peaks)
      if (s.conv > 0 && s.transient > p.perLargestTensorByte * s.largest)
        rows.push_back({s.conv, s.largestConv, s.transient});
    if (rows.size() >= 2) {
      std::vector<double> c = nnlsBySubsets(rows, 2);
      p.perConvWeightByte = c[0];
      p.perLargestConvTensorByte = c[1];
    }
    m.loadPeak = p;
  }
  return m;
}

SessionLoadModel chorus::fitSessionLoad(llvm::ArrayRef<LoadSample> samples) {
  // In milliseconds and megabytes, each row weighted by 1 / measured.
  std::vector<std::vector<double>> rows;
  for (const LoadSample &l : samples) {
    double y = std::max(l.seconds * 1e3, 1e-3);
    double w = 1 / y;
    const SessionLoadFeatures &f = l.features;
    rows.push_back({w, f.weightBytes * 1e-6 * w, f.largeWeightBytes * 1e-6 * w,
                    f.nodes * w, f.symbolicNodes * w, f.weightTensors * w,
                    f.convWeightBytes * 1e-6 * w, y * w});
  }
  std::vector<double> c = nnlsBySubsets(rows, 7);
  SessionLoadModel m;
  m.perSessionSeconds = c[0] * 1e-3;
  m.perWeightByteSeconds = c[1] * 1e-9;
  m.perLargeWeightByteSeconds = c[2] * 1e-9;
  m.perNodeSeconds = c[3] * 1e-3;
  m.perSymbolicNodeSeconds = c[4] * 1e-3;
  m.perWeightTensorSeconds = c[5] * 1e-3;
  m.perConvWeightByteSeconds = c[6] * 1e-9;
  m.samples = samples.size();
  // The first run's extra time against the arena's bytes: least squares
  // through the origin, unweighted, so that the large arenas, whose pages
  // take the time, decide it.
  double xy = 0, xx = 0;
  unsigned timed = 0;
  for (const LoadSample &l : samples) {
    if (l.firstRunExtraSeconds < 0)
      continue;
    double x = l.features.arenaBytes * 1e-6;
    xy += x * std::max(l.firstRunExtraSeconds, 0.0) * 1e3;
    xx += x * x;
    ++timed;
  }
  if (timed >= 6 && xx > 0)
    m.perArenaByteSeconds = std::max(0.0, xy / xx) * 1e-9;
  return m;
}
