//===- ShapeFolding.cpp - Fold shape computations between inference rounds ===//
//
// ONNX 1.12's data propagation stops at Cast, Where, ConstantOfShape and
// most other ops, so exporters' shape arithmetic (PyTorch's dynamic-batch
// Expand and Reshape chains, tf2onnx's, paddle2onnx's Shape -> Cast ->
// Slice -> Concat -> Reshape) leaves results without a shape even when every
// input dim is bound. This evaluates such computations on a copy of the
// graph: every node that the folding rule (chorus/Support/FoldingRule.h, the
// op table's rule) says folds, whose operands are all known and small, and
// for whose op the evaluator has a kernel. The results become initializers
// and inference runs again.
//
//===----------------------------------------------------------------------===//

#include "chorus/Import/ShapeFolding.h"
#include "chorus/Support/FoldingRule.h"

#include "llvm/Support/MathExtras.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <set>

using namespace chorus;
using onnx::TensorProto;

namespace {

/// A small tensor known at import time. Integer and boolean elements are
/// held exactly in `ints`, floating-point ones in `reals`.
struct Tensor {
  int32_t type = TensorProto::INT64;
  std::vector<int64_t> dims;
  std::vector<int64_t> ints;
  std::vector<double> reals;

  bool isReal() const {
    return type == TensorProto::FLOAT || type == TensorProto::DOUBLE ||
           type == TensorProto::FLOAT16;
  }
  size_t size() const { return isReal() ? reals.size() : ints.size(); }
  double real(size_t i) const {
    return isReal() ? reals[i] : static_cast<double>(ints[i]);
  }
  int64_t integer(size_t i) const {
    return isReal() ? static_cast<int64_t>(reals[i]) : ints[i];
  }
  /// An empty tensor of `type` with `dims`.
  static Tensor make(int32_t type, std::vector<int64_t> dims) {
    Tensor t;
    t.type = type;
    t.dims = std::move(dims);
    return t;
  }
  void push(double value) {
    if (isReal())
      reals.push_back(value);
    else
      ints.push_back(static_cast<int64_t>(value));
  }
  /// Appends element `i` of `from` (of the same type).
  void pushFrom(const Tensor &from, size_t i) {
    if (isReal())
      reals.push_back(from.reals[i]);
    else
      ints.push_back(from.ints[i]);
  }
};

using Inputs = std::vector<const Tensor *>;
using Outputs = std::vector<Tensor>;

} // namespace

/// Values larger than this are not folded: shape arithmetic is small.
static constexpr size_t kMaxFoldedElements = 1024;

static bool isSupportedType(int32_t type) {
  switch (type) {
  case TensorProto::INT64:
  case TensorProto::INT32:
  case TensorProto::INT16:
  case TensorProto::INT8:
  case TensorProto::UINT8:
  case TensorProto::UINT16:
  case TensorProto::UINT32:
  case TensorProto::BOOL:
  case TensorProto::FLOAT:
  case TensorProto::DOUBLE:
    return true;
  default:
    return false;
  }
}

static size_t elementWidth(int32_t type) {
  switch (type) {
  case TensorProto::INT64:
  case TensorProto::UINT64:
  case TensorProto::DOUBLE:
    return 8;
  case TensorProto::INT32:
  case TensorProto::UINT32:
  case TensorProto::FLOAT:
    return 4;
  case TensorProto::INT16:
  case TensorProto::UINT16:
  case TensorProto::FLOAT16:
    return 2;
  default:
    return 1;
  }
}

/// `value` as an element of integer `type` holds it (wrapping as a cast
/// does), or as a bool.
static int64_t wrapInteger(int64_t value, int32_t type) {
  switch (type) {
  case TensorProto::INT32:
    return static_cast<int32_t>(value);
  case TensorProto::INT16:
    return static_cast<int16_t>(value);
  case TensorProto::INT8:
    return static_cast<int8_t>(value);
  case TensorProto::UINT8:
    return static_cast<uint8_t>(value);
  case TensorProto::UINT16:
    return static_cast<uint16_t>(value);
  case TensorProto::UINT32:
    return static_cast<uint32_t>(value);
  case TensorProto::BOOL:
    return value != 0;
  default:
    return value;
  }
}

static std::optional<Tensor> readTensor(const TensorProto &t) {
  if (!isSupportedType(t.data_type()) ||
      t.data_location() == TensorProto::EXTERNAL)
    return std::nullopt;
  Tensor result;
  result.type = t.data_type();
  size_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > static_cast<int64_t>(kMaxFoldedElements))
      return std::nullopt;
    count *= d;
    result.dims.push_back(d);
  }
  if (count > kMaxFoldedElements)
    return std::nullopt;
  size_t width = elementWidth(t.data_type());
  if (t.has_raw_data()) {
    if (t.raw_data().size() != count * width)
      return std::nullopt;
    const char *data = t.raw_data().data();
    for (size_t i = 0; i < count; ++i) {
      const char *at = data + i * width;
      switch (t.data_type()) {
      case TensorProto::FLOAT: {
        float v;
        std::memcpy(&v, at, 4);
        result.reals.push_back(v);
        break;
      }
      case TensorProto::DOUBLE: {
        double v;
        std::memcpy(&v, at, 8);
        result.reals.push_back(v);
        break;
      }
      default: {
        int64_t v = 0;
        std::memcpy(&v, at, width); // little-endian, as ONNX stores it
        result.ints.push_back(wrapInteger(v, t.data_type()));
      }
      }
    }
    return result;
  }
  switch (t.data_type()) {
  case TensorProto::FLOAT:
    if (static_cast<size_t>(t.float_data_size()) != count)
      return std::nullopt;
    result.reals.assign(t.float_data().begin(), t.float_data().end());
    return result;
  case TensorProto::DOUBLE:
    if (static_cast<size_t>(t.double_data_size()) != count)
      return std::nullopt;
    result.reals.assign(t.double_data().begin(), t.double_data().end());
    return result;
  case TensorProto::INT64:
    if (static_cast<size_t>(t.int64_data_size()) != count)
      return std::nullopt;
    result.ints.assign(t.int64_data().begin(), t.int64_data().end());
    return result;
  case TensorProto::UINT32:
    if (static_cast<size_t>(t.uint64_data_size()) != count)
      return std::nullopt;
    result.ints.assign(t.uint64_data().begin(), t.uint64_data().end());
    return result;
  default:
    // The narrow integer types and BOOL are stored in int32_data.
    if (static_cast<size_t>(t.int32_data_size()) != count)
      return std::nullopt;
    for (int32_t v : t.int32_data())
      result.ints.push_back(wrapInteger(v, t.data_type()));
    return result;
  }
}

static TensorProto writeTensor(const Tensor &value, const std::string &name) {
  TensorProto t;
  t.set_name(name);
  t.set_data_type(value.type);
  for (int64_t d : value.dims)
    t.add_dims(d);
  switch (value.type) {
  case TensorProto::FLOAT:
    for (double v : value.reals)
      t.add_float_data(static_cast<float>(v));
    break;
  case TensorProto::DOUBLE:
    for (double v : value.reals)
      t.add_double_data(v);
    break;
  case TensorProto::INT64:
    for (int64_t v : value.ints)
      t.add_int64_data(v);
    break;
  case TensorProto::UINT32:
    for (int64_t v : value.ints)
      t.add_uint64_data(static_cast<uint64_t>(v));
    break;
  default:
    for (int64_t v : value.ints)
      t.add_int32_data(static_cast<int32_t>(v));
  }
  return t;
}

static const onnx::AttributeProto *findAttr(const onnx::NodeProto &node,
                                            const char *name) {
  for (const onnx::AttributeProto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

static int64_t intAttr(const onnx::NodeProto &node, const char *name,
                       int64_t fallback) {
  const onnx::AttributeProto *a = findAttr(node, name);
  return a ? a->i() : fallback;
}

static std::optional<std::vector<int64_t>> intsAttr(const onnx::NodeProto &node,
                                                    const char *name) {
  const onnx::AttributeProto *a = findAttr(node, name);
  if (!a)
    return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

static std::optional<std::vector<int64_t>>
staticShape(const onnx::TypeProto &type) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape())
    return std::nullopt;
  std::vector<int64_t> shape;
  for (const onnx::TensorShapeProto::Dimension &d :
       type.tensor_type().shape().dim()) {
    if (!d.has_dim_value())
      return std::nullopt;
    shape.push_back(d.dim_value());
  }
  return shape;
}

static std::optional<size_t> countOf(const std::vector<int64_t> &dims) {
  size_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || d > static_cast<int64_t>(kMaxFoldedElements))
      return std::nullopt;
    n *= static_cast<size_t>(d);
    if (n > kMaxFoldedElements)
      return std::nullopt;
  }
  return n;
}

static std::vector<int64_t> stridesOf(const std::vector<int64_t> &dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * dims[i + 1];
  return strides;
}

/// Normalizes an axis in [-rank, rank) to [0, rank).
static std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

/// Numpy broadcasting of `shapes`.
static std::optional<std::vector<int64_t>>
broadcastShape(const std::vector<const std::vector<int64_t> *> &shapes) {
  size_t rank = 0;
  for (const auto *s : shapes)
    rank = std::max(rank, s->size());
  std::vector<int64_t> out(rank, 1);
  for (const auto *s : shapes)
    for (size_t i = 0; i < s->size(); ++i) {
      int64_t d = (*s)[i];
      int64_t &o = out[rank - s->size() + i];
      if (d == o || d == 1)
        continue;
      if (o != 1)
        return std::nullopt;
      o = d;
    }
  return out;
}

/// The index into `t` of the element at `index` of the broadcast `shape`.
static size_t broadcastIndex(const Tensor &t, const std::vector<int64_t> &shape,
                             size_t index) {
  std::vector<int64_t> strides = stridesOf(t.dims);
  size_t offset = 0, rest = index;
  size_t lead = shape.size() - t.dims.size();
  std::vector<int64_t> outStrides = stridesOf(shape);
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t coordinate = rest / outStrides[i];
    rest %= outStrides[i];
    if (i < lead)
      continue;
    int64_t d = t.dims[i - lead];
    offset += (d == 1 ? 0 : coordinate) * strides[i - lead];
  }
  return offset;
}

namespace {
/// One element of a result: `real` for floating-point results, `integer`
/// (exact) for integer and boolean ones.
struct Scalar {
  double real = 0;
  int64_t integer = 0;
};
Scalar realScalar(double v) { return {v, 0}; }
Scalar intScalar(int64_t v) { return {static_cast<double>(v), v}; }
} // namespace

/// Applies `fn` elementwise over broadcast operands (each as a double and,
/// for integer operands, exactly); `resultType` is the result's type.
static std::optional<Tensor> broadcastMap(
    const Inputs &in, int32_t resultType,
    const std::function<std::optional<Scalar>(
        const std::vector<double> &, const std::vector<int64_t> &)> &fn) {
  std::vector<const std::vector<int64_t> *> shapes;
  for (const Tensor *t : in)
    shapes.push_back(&t->dims);
  std::optional<std::vector<int64_t>> shape = broadcastShape(shapes);
  if (!shape)
    return std::nullopt;
  std::optional<size_t> count = countOf(*shape);
  if (!count)
    return std::nullopt;
  Tensor out = Tensor::make(resultType, *shape);
  std::vector<double> reals(in.size());
  std::vector<int64_t> ints(in.size());
  for (size_t i = 0; i < *count; ++i) {
    for (size_t k = 0; k < in.size(); ++k) {
      size_t at = broadcastIndex(*in[k], *shape, i);
      reals[k] = in[k]->real(at);
      ints[k] = in[k]->isReal() ? 0 : in[k]->ints[at];
    }
    std::optional<Scalar> r = fn(reals, ints);
    if (!r)
      return std::nullopt;
    if (out.isReal())
      out.reals.push_back(r->real);
    else
      out.ints.push_back(wrapInteger(r->integer, resultType));
  }
  return out;
}

namespace {
/// Evaluates the nodes of one graph in order, keeping every value known.
class Evaluator {
public:
  explicit Evaluator(const onnx::GraphProto &graph) {
    for (const TensorProto &init : graph.initializer())
      if (std::optional<Tensor> t = readTensor(init))
        known[init.name()] = *t;
    auto addShape = [&](const onnx::ValueInfoProto &info) {
      if (std::optional<std::vector<int64_t>> shape = staticShape(info.type()))
        shapes[info.name()] = *shape;
    };
    for (const onnx::ValueInfoProto &info : graph.input())
      addShape(info);
    for (const onnx::ValueInfoProto &info : graph.value_info())
      addShape(info);
    for (const onnx::ValueInfoProto &info : graph.output())
      addShape(info);
  }

  /// `node`'s outputs when it folds.
  std::optional<Outputs> evaluate(const onnx::NodeProto &node);

  std::map<std::string, Tensor> known;
  std::map<std::string, std::vector<int64_t>> shapes;

private:
  std::optional<Outputs> evaluateOp(const onnx::NodeProto &node,
                                    const Inputs &in);
};
} // namespace

static bool hasSubgraph(const onnx::NodeProto &node) {
  for (const onnx::AttributeProto &a : node.attribute())
    if (a.has_g() || a.graphs_size())
      return true;
  return false;
}

std::optional<Outputs> Evaluator::evaluate(const onnx::NodeProto &node) {
  Folding rule =
      getFoldingRule(node.domain(), node.op_type(), hasSubgraph(node));
  if (rule == Folding::Never)
    return std::nullopt;
  const std::string &op = node.op_type();
  if (rule == Folding::FromShape) {
    auto it =
        node.input_size() >= 1 ? shapes.find(node.input(0)) : shapes.end();
    if (it == shapes.end())
      return std::nullopt;
    const std::vector<int64_t> &shape = it->second;
    if (op == "Size") {
      Tensor t;
      size_t n = 1;
      for (int64_t d : shape)
        n *= d;
      t.ints = {static_cast<int64_t>(n)};
      return Outputs{t};
    }
    int64_t rank = shape.size();
    int64_t start = intAttr(node, "start", 0), end = intAttr(node, "end", rank);
    start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
    end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
    Tensor t =
        Tensor::make(TensorProto::INT64, {std::max<int64_t>(0, end - start)});
    for (int64_t i = start; i < end; ++i)
      t.ints.push_back(shape[i]);
    return Outputs{t};
  }
  Inputs in;
  for (const std::string &name : node.input()) {
    if (name.empty()) {
      in.push_back(nullptr);
      continue;
    }
    auto it = known.find(name);
    if (it == known.end())
      return std::nullopt;
    in.push_back(&it->second);
  }
  std::optional<Outputs> out = evaluateOp(node, in);
  if (!out || out->size() != static_cast<size_t>(node.output_size()))
    return std::nullopt;
  for (const Tensor &t : *out)
    if (t.size() > kMaxFoldedElements || countOf(t.dims) != t.size())
      return std::nullopt;
  return out;
}

/// An optional operand's values as integers (axes, pads, starts...).
static std::optional<std::vector<int64_t>> intsOf(const Tensor *t) {
  if (!t || t->isReal())
    return std::nullopt;
  return t->ints;
}

static std::optional<Tensor> transpose(const Tensor &x,
                                       std::vector<int64_t> perm) {
  size_t rank = x.dims.size();
  if (perm.empty())
    for (size_t i = 0; i < rank; ++i)
      perm.push_back(rank - 1 - i);
  if (perm.size() != rank)
    return std::nullopt;
  std::vector<int64_t> dims;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(rank))
      return std::nullopt;
    dims.push_back(x.dims[p]);
  }
  Tensor out = Tensor::make(x.type, dims);
  std::vector<int64_t> inStrides = stridesOf(x.dims),
                       outStrides = stridesOf(dims);
  for (size_t i = 0; i < x.size(); ++i) {
    size_t rest = i, from = 0;
    for (size_t k = 0; k < rank; ++k) {
      int64_t c = rest / outStrides[k];
      rest %= outStrides[k];
      from += c * inStrides[perm[k]];
    }
    out.pushFrom(x, from);
  }
  return out;
}

/// Gathers along `axis`: `pick(outer, index, inner)` per output element.
static std::optional<Tensor> gather(const Tensor &x, int64_t axis,
                                    const Tensor &indices) {
  int64_t rank = x.dims.size();
  std::optional<int64_t> a = normalizeAxis(axis, rank);
  if (!a || indices.isReal())
    return std::nullopt;
  std::vector<int64_t> dims(x.dims.begin(), x.dims.begin() + *a);
  dims.insert(dims.end(), indices.dims.begin(), indices.dims.end());
  dims.insert(dims.end(), x.dims.begin() + *a + 1, x.dims.end());
  int64_t outer = 1, inner = 1, size = x.dims[*a];
  for (int64_t i = 0; i < *a; ++i)
    outer *= x.dims[i];
  for (int64_t i = *a + 1; i < rank; ++i)
    inner *= x.dims[i];
  Tensor out = Tensor::make(x.type, dims);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t index : indices.ints) {
      if (index < 0)
        index += size;
      if (index < 0 || index >= size)
        return std::nullopt;
      for (int64_t i = 0; i < inner; ++i)
        out.pushFrom(x, (o * size + index) * inner + i);
    }
  return out;
}

static std::optional<Tensor> concat(const Inputs &in, int64_t axis) {
  if (in.empty() || !in[0])
    return std::nullopt;
  int64_t rank = in[0]->dims.size();
  std::optional<int64_t> a = normalizeAxis(axis, rank);
  if (!a)
    return std::nullopt;
  std::vector<int64_t> dims = in[0]->dims;
  dims[*a] = 0;
  for (const Tensor *t : in) {
    if (!t || t->type != in[0]->type ||
        static_cast<int64_t>(t->dims.size()) != rank)
      return std::nullopt;
    for (int64_t i = 0; i < rank; ++i)
      if (i != *a && t->dims[i] != dims[i])
        return std::nullopt;
    dims[*a] += t->dims[*a];
  }
  int64_t outer = 1;
  for (int64_t i = 0; i < *a; ++i)
    outer *= dims[i];
  Tensor out = Tensor::make(in[0]->type, dims);
  for (int64_t o = 0; o < outer; ++o)
    for (const Tensor *t : in) {
      int64_t chunk = outer ? t->size() / outer : 0;
      for (int64_t i = 0; i < chunk; ++i)
        out.pushFrom(*t, o * chunk + i);
    }
  return out;
}

static std::optional<Tensor> slice(const Tensor &x, std::vector<int64_t> starts,
                                   std::vector<int64_t> ends,
                                   std::vector<int64_t> axes,
                                   std::vector<int64_t> steps) {
  int64_t rank = x.dims.size();
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (starts.size() != ends.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return std::nullopt;
  std::vector<int64_t> begin(rank, 0), step(rank, 1), dims = x.dims;
  for (size_t k = 0; k < axes.size(); ++k) {
    std::optional<int64_t> a = normalizeAxis(axes[k], rank);
    if (!a || steps[k] == 0)
      return std::nullopt;
    int64_t size = x.dims[*a], s = starts[k], e = ends[k], st = steps[k];
    if (s < 0)
      s += size;
    if (e < 0)
      e += size;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, size);
      e = std::clamp<int64_t>(e, 0, size);
      dims[*a] = e > s ? (e - s + st - 1) / st : 0;
    } else {
      s = std::clamp<int64_t>(s, -1, size - 1);
      e = std::clamp<int64_t>(e, -1, size - 1);
      dims[*a] = s > e ? (s - e - st - 1) / -st : 0;
    }
    begin[*a] = s;
    step[*a] = st;
  }
  Tensor out = Tensor::make(x.type, dims);
  std::optional<size_t> count = countOf(dims);
  if (!count)
    return std::nullopt;
  std::vector<int64_t> inStrides = stridesOf(x.dims),
                       outStrides = stridesOf(dims);
  for (size_t i = 0; i < *count; ++i) {
    size_t rest = i, from = 0;
    for (int64_t k = 0; k < rank; ++k) {
      int64_t c = rest / outStrides[k];
      rest %= outStrides[k];
      from += (begin[k] + c * step[k]) * inStrides[k];
    }
    out.pushFrom(x, from);
  }
  return out;
}

static std::optional<Tensor> reshapeTo(const Tensor &x,
                                       std::vector<int64_t> dims) {
  if (countOf(dims) != x.size())
    return std::nullopt;
  Tensor out = x;
  out.dims = std::move(dims);
  return out;
}

static std::optional<Tensor> reduce(const std::string &op, const Tensor &x,
                                    std::vector<int64_t> axes, bool keepdims,
                                    bool noopWithEmptyAxes) {
  int64_t rank = x.dims.size();
  if (axes.empty()) {
    if (noopWithEmptyAxes)
      return x;
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  std::vector<bool> reduced(rank, false);
  for (int64_t a : axes) {
    std::optional<int64_t> n = normalizeAxis(a, rank);
    if (!n)
      return std::nullopt;
    reduced[*n] = true;
  }
  std::vector<int64_t> dims, kept;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced[i])
      kept.push_back(x.dims[i]);
    if (!reduced[i] || keepdims)
      dims.push_back(reduced[i] ? 1 : x.dims[i]);
  }
  std::optional<size_t> count = countOf(kept);
  if (!count)
    return std::nullopt;
  std::vector<double> acc(*count, op == "ReduceProd"  ? 1.0
                                  : op == "ReduceMin" ? INFINITY
                                  : op == "ReduceMax" ? -INFINITY
                                                      : 0.0);
  std::vector<int64_t> strides = stridesOf(x.dims),
                       keptStrides = stridesOf(kept);
  size_t per = *count ? x.size() / *count : 0;
  for (size_t i = 0; i < x.size(); ++i) {
    size_t rest = i, to = 0, k = 0;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t c = rest / strides[d];
      rest %= strides[d];
      if (!reduced[d])
        to += c * keptStrides[k++];
    }
    double v = x.real(i);
    if (op == "ReduceProd")
      acc[to] *= v;
    else if (op == "ReduceMin")
      acc[to] = std::min(acc[to], v);
    else if (op == "ReduceMax")
      acc[to] = std::max(acc[to], v);
    else
      acc[to] += v;
  }
  Tensor out = Tensor::make(x.type, dims);
  for (double v : acc)
    out.push(op == "ReduceMean" && per ? v / per : v);
  return out;
}

std::optional<Outputs> Evaluator::evaluateOp(const onnx::NodeProto &node,
                                             const Inputs &in) {
  const std::string &op = node.op_type();
  auto one = [](std::optional<Tensor> t) -> std::optional<Outputs> {
    if (!t)
      return std::nullopt;
    return Outputs{std::move(*t)};
  };
  if (op == "Constant") {
    if (const onnx::AttributeProto *a = findAttr(node, "value"))
      return one(readTensor(a->t()));
    Tensor t;
    if (const onnx::AttributeProto *a = findAttr(node, "value_int")) {
      t.ints = {a->i()};
    } else if (const onnx::AttributeProto *a = findAttr(node, "value_ints")) {
      t.dims = {a->ints_size()};
      t.ints.assign(a->ints().begin(), a->ints().end());
    } else if (const onnx::AttributeProto *a = findAttr(node, "value_float")) {
      t.type = TensorProto::FLOAT;
      t.reals = {a->f()};
    } else if (const onnx::AttributeProto *a = findAttr(node, "value_floats")) {
      t.type = TensorProto::FLOAT;
      t.dims = {a->floats_size()};
      t.reals.assign(a->floats().begin(), a->floats().end());
    } else {
      return std::nullopt;
    }
    return Outputs{t};
  }
  // Every other kernel needs its first operand.
  if (in.empty() || !in[0])
    return std::nullopt;
  const Tensor &x = *in[0];
  auto operand = [&](size_t i) -> const Tensor * {
    return i < in.size() ? in[i] : nullptr;
  };

  if (op == "Identity")
    return Outputs{x};
  if (op == "Cast" || op == "CastLike") {
    int32_t to = op == "Cast" ? static_cast<int32_t>(intAttr(node, "to", 0))
                 : operand(1) ? operand(1)->type
                              : 0;
    if (!isSupportedType(to))
      return std::nullopt;
    Tensor out = Tensor::make(to, x.dims);
    for (size_t i = 0; i < x.size(); ++i) {
      if (out.isReal())
        out.reals.push_back(to == TensorProto::FLOAT
                                ? static_cast<float>(x.real(i))
                                : x.real(i));
      else if (to == TensorProto::BOOL)
        out.ints.push_back(x.real(i) != 0);
      else
        out.ints.push_back(wrapInteger(x.integer(i), to));
    }
    return Outputs{out};
  }

  // Elementwise unary ops.
  static const std::map<std::string, std::function<double(double)>> unary = {
      {"Neg", [](double v) { return -v; }},
      {"Abs", [](double v) { return std::fabs(v); }},
      {"Floor", [](double v) { return std::floor(v); }},
      {"Ceil", [](double v) { return std::ceil(v); }},
      {"Round", [](double v) { return std::nearbyint(v); }},
      {"Sqrt", [](double v) { return std::sqrt(v); }},
      {"Reciprocal", [](double v) { return 1.0 / v; }},
      {"Relu", [](double v) { return std::max(v, 0.0); }},
      {"Sign", [](double v) { return double((v > 0) - (v < 0)); }},
      {"Not", [](double v) { return double(v == 0); }},
      {"Exp", [](double v) { return std::exp(v); }},
      {"Log", [](double v) { return std::log(v); }},
  };
  if (auto it = unary.find(op); it != unary.end()) {
    if ((op == "Floor" || op == "Ceil" || op == "Round" || op == "Sqrt" ||
         op == "Reciprocal" || op == "Exp" || op == "Log") &&
        !x.isReal())
      return std::nullopt;
    Tensor out = Tensor::make(x.type, x.dims);
    for (size_t i = 0; i < x.size(); ++i) {
      if (x.isReal())
        out.reals.push_back(it->second(x.reals[i]));
      else if (op == "Neg")
        out.ints.push_back(wrapInteger(-x.ints[i], x.type));
      else if (op == "Abs")
        out.ints.push_back(wrapInteger(std::llabs(x.ints[i]), x.type));
      else
        out.ints.push_back(
            wrapInteger(static_cast<int64_t>(it->second(x.ints[i])), x.type));
    }
    return Outputs{out};
  }

  // Elementwise binary and variadic ops, with broadcasting.
  static const std::set<std::string> comparisons = {
      "Equal",          "Less", "Greater", "LessOrEqual",
      "GreaterOrEqual", "And",  "Or",      "Xor"};
  static const std::set<std::string> arithmetic = {"Add", "Sub", "Mul",
                                                   "Div", "Mod", "Pow"};
  static const std::set<std::string> variadic = {"Min", "Max", "Sum", "Mean"};
  if (comparisons.count(op) || arithmetic.count(op) || variadic.count(op)) {
    for (const Tensor *t : in)
      if (!t || (op != "Pow" && t->type != x.type))
        return std::nullopt;
    if (!variadic.count(op) && in.size() != 2)
      return std::nullopt;
    bool real = x.isReal();
    bool fmodAttr = intAttr(node, "fmod", 0) != 0;
    int32_t type = comparisons.count(op) ? TensorProto::BOOL : x.type;
    return one(broadcastMap(
        in, type,
        [&](const std::vector<double> &r,
            const std::vector<int64_t> &n) -> std::optional<Scalar> {
          if (variadic.count(op)) {
            if (!real) {
              int64_t acc = n[0];
              for (size_t k = 1; k < n.size(); ++k)
                acc = op == "Min"   ? std::min(acc, n[k])
                      : op == "Max" ? std::max(acc, n[k])
                                    : acc + n[k];
              return intScalar(op == "Mean" ? acc / int64_t(n.size()) : acc);
            }
            double acc = r[0];
            for (size_t k = 1; k < r.size(); ++k)
              acc = op == "Min"   ? std::min(acc, r[k])
                    : op == "Max" ? std::max(acc, r[k])
                                  : acc + r[k];
            return realScalar(op == "Mean" ? acc / r.size() : acc);
          }
          double a = r[0], b = r[1];
          auto truth = [](bool v) { return intScalar(v); };
          if (op == "Equal")
            return truth(real ? a == b : n[0] == n[1]);
          if (op == "Less")
            return truth(real ? a < b : n[0] < n[1]);
          if (op == "Greater")
            return truth(real ? a > b : n[0] > n[1]);
          if (op == "LessOrEqual")
            return truth(real ? a <= b : n[0] <= n[1]);
          if (op == "GreaterOrEqual")
            return truth(real ? a >= b : n[0] >= n[1]);
          if (op == "And")
            return truth((a != 0) && (b != 0));
          if (op == "Or")
            return truth((a != 0) || (b != 0));
          if (op == "Xor")
            return truth((a != 0) != (b != 0));
          if (op == "Pow")
            return real ? realScalar(std::pow(a, b))
                        : intScalar(static_cast<int64_t>(std::pow(a, b)));
          if (real) {
            if (op == "Add")
              return realScalar(a + b);
            if (op == "Sub")
              return realScalar(a - b);
            if (op == "Mul")
              return realScalar(a * b);
            if (op == "Div")
              return realScalar(a / b);
            return realScalar(std::fmod(a, b));
          }
          int64_t p = n[0], q = n[1], v;
          if (op == "Add")
            return llvm::AddOverflow(p, q, v) ? std::nullopt
                                              : std::optional(intScalar(v));
          if (op == "Sub")
            return llvm::SubOverflow(p, q, v) ? std::nullopt
                                              : std::optional(intScalar(v));
          if (op == "Mul")
            return llvm::MulOverflow(p, q, v) ? std::nullopt
                                              : std::optional(intScalar(v));
          if (q == 0 || (p == INT64_MIN && q == -1))
            return std::nullopt;
          if (op == "Div")
            return intScalar(p / q); // truncates toward zero, as ORT does
          int64_t m = p % q;         // Mod: the divisor's sign unless fmod
          if (!fmodAttr && m != 0 && ((m < 0) != (q < 0)))
            m += q;
          return intScalar(m);
        }));
  }
  if (op == "Where") {
    if (in.size() != 3 || !in[1] || !in[2] || in[1]->type != in[2]->type)
      return std::nullopt;
    return one(broadcastMap(
        in, in[1]->type,
        [&](const std::vector<double> &r,
            const std::vector<int64_t> &n) -> std::optional<Scalar> {
          if (in[1]->isReal())
            return realScalar(r[0] != 0 ? r[1] : r[2]);
          return intScalar(r[0] != 0 ? n[1] : n[2]);
        }));
  }

  if (op == "ConstantOfShape") {
    if (x.dims.size() != 1 || x.isReal())
      return std::nullopt;
    std::optional<size_t> count = countOf(x.ints);
    if (!count)
      return std::nullopt;
    Tensor fill = Tensor::make(TensorProto::FLOAT, {1});
    fill.reals = {0.0};
    if (const onnx::AttributeProto *a = findAttr(node, "value")) {
      std::optional<Tensor> v = readTensor(a->t());
      if (!v || v->size() != 1)
        return std::nullopt;
      fill = *v;
    }
    Tensor out = Tensor::make(fill.type, x.ints);
    for (size_t i = 0; i < *count; ++i)
      out.pushFrom(fill, 0);
    return Outputs{out};
  }
  if (op == "Reshape") {
    std::optional<std::vector<int64_t>> shape = intsOf(operand(1));
    if (!shape)
      return std::nullopt;
    bool allowZero = intAttr(node, "allowzero", 0) != 0;
    std::vector<int64_t> dims = *shape;
    int64_t known = 1, inferred = -1;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] == 0 && !allowZero) {
        if (i >= x.dims.size())
          return std::nullopt;
        dims[i] = x.dims[i];
      }
      if (dims[i] == -1) {
        if (inferred >= 0)
          return std::nullopt;
        inferred = i;
      } else if (dims[i] < 0) {
        return std::nullopt;
      } else {
        known *= dims[i];
      }
    }
    if (inferred >= 0) {
      if (known == 0 || x.size() % known)
        return std::nullopt;
      dims[inferred] = x.size() / known;
    }
    return one(reshapeTo(x, dims));
  }
  if (op == "Flatten") {
    int64_t rank = x.dims.size();
    int64_t axis = intAttr(node, "axis", 1);
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis > rank)
      return std::nullopt;
    int64_t a = 1, b = 1;
    for (int64_t i = 0; i < rank; ++i)
      (i < axis ? a : b) *= x.dims[i];
    return one(reshapeTo(x, {a, b}));
  }
  if (op == "Squeeze" || op == "Unsqueeze") {
    std::optional<std::vector<int64_t>> axes = intsAttr(node, "axes");
    if (!axes && operand(1))
      axes = intsOf(operand(1));
    std::vector<int64_t> dims;
    if (op == "Squeeze") {
      int64_t rank = x.dims.size();
      std::vector<bool> drop(rank, false);
      if (!axes) {
        for (int64_t i = 0; i < rank; ++i)
          drop[i] = x.dims[i] == 1;
      } else {
        for (int64_t a : *axes) {
          std::optional<int64_t> n = normalizeAxis(a, rank);
          if (!n || x.dims[*n] != 1)
            return std::nullopt;
          drop[*n] = true;
        }
      }
      for (int64_t i = 0; i < rank; ++i)
        if (!drop[i])
          dims.push_back(x.dims[i]);
    } else {
      if (!axes)
        return std::nullopt;
      int64_t rank = x.dims.size() + axes->size();
      std::vector<bool> add(rank, false);
      for (int64_t a : *axes) {
        std::optional<int64_t> n = normalizeAxis(a, rank);
        if (!n || add[*n])
          return std::nullopt;
        add[*n] = true;
      }
      size_t k = 0;
      for (int64_t i = 0; i < rank; ++i)
        dims.push_back(add[i] ? 1 : x.dims[k++]);
    }
    return one(reshapeTo(x, dims));
  }
  if (op == "Transpose")
    return one(
        transpose(x, intsAttr(node, "perm").value_or(std::vector<int64_t>{})));
  if (op == "Concat")
    return one(concat(in, intAttr(node, "axis", 0)));
  if (op == "Gather") {
    if (!operand(1))
      return std::nullopt;
    return one(gather(x, intAttr(node, "axis", 0), *operand(1)));
  }
  if (op == "Slice") {
    std::vector<int64_t> starts, ends, axes, steps;
    if (std::optional<std::vector<int64_t>> attr = intsAttr(node, "starts")) {
      starts = *attr;
      ends = intsAttr(node, "ends").value_or(std::vector<int64_t>{});
      axes = intsAttr(node, "axes").value_or(std::vector<int64_t>{});
    } else {
      std::optional<std::vector<int64_t>> s = intsOf(operand(1)),
                                          e = intsOf(operand(2));
      if (!s || !e)
        return std::nullopt;
      starts = *s;
      ends = *e;
      if (operand(3)) {
        std::optional<std::vector<int64_t>> a = intsOf(operand(3));
        if (!a)
          return std::nullopt;
        axes = *a;
      }
      if (operand(4)) {
        std::optional<std::vector<int64_t>> st = intsOf(operand(4));
        if (!st)
          return std::nullopt;
        steps = *st;
      }
    }
    return one(slice(x, starts, ends, axes, steps));
  }
  if (op == "Expand") {
    std::optional<std::vector<int64_t>> shape = intsOf(operand(1));
    if (!shape)
      return std::nullopt;
    Tensor target = Tensor::make(x.type, *shape);
    std::optional<std::vector<int64_t>> dims =
        broadcastShape({&x.dims, &target.dims});
    if (!dims || !countOf(*dims))
      return std::nullopt;
    Tensor out = Tensor::make(x.type, *dims);
    for (size_t i = 0; i < *countOf(*dims); ++i)
      out.pushFrom(x, broadcastIndex(x, *dims, i));
    return Outputs{out};
  }
  if (op == "Tile") {
    std::optional<std::vector<int64_t>> repeats = intsOf(operand(1));
    if (!repeats || repeats->size() != x.dims.size())
      return std::nullopt;
    std::vector<int64_t> dims;
    for (size_t i = 0; i < x.dims.size(); ++i)
      dims.push_back(x.dims[i] * (*repeats)[i]);
    std::optional<size_t> count = countOf(dims);
    if (!count)
      return std::nullopt;
    Tensor out = Tensor::make(x.type, dims);
    std::vector<int64_t> outStrides = stridesOf(dims),
                         inStrides = stridesOf(x.dims);
    for (size_t i = 0; i < *count; ++i) {
      size_t rest = i, from = 0;
      for (size_t k = 0; k < dims.size(); ++k) {
        int64_t c = rest / outStrides[k];
        rest %= outStrides[k];
        from += (c % x.dims[k]) * inStrides[k];
      }
      out.pushFrom(x, from);
    }
    return Outputs{out};
  }
  if (op == "Range") {
    if (!operand(1) || !operand(2) || x.size() != 1 ||
        operand(1)->size() != 1 || operand(2)->size() != 1)
      return std::nullopt;
    double start = x.real(0), limit = operand(1)->real(0),
           delta = operand(2)->real(0);
    if (delta == 0)
      return std::nullopt;
    double n = std::ceil((limit - start) / delta);
    if (n > kMaxFoldedElements)
      return std::nullopt;
    int64_t count = std::max<int64_t>(0, static_cast<int64_t>(n));
    Tensor out = Tensor::make(x.type, {count});
    for (int64_t i = 0; i < count; ++i) {
      if (out.isReal())
        out.reals.push_back(start + i * delta);
      else
        out.ints.push_back(x.ints[0] + i * operand(2)->ints[0]);
    }
    return Outputs{out};
  }
  if (op == "ReduceProd" || op == "ReduceSum" || op == "ReduceMin" ||
      op == "ReduceMax" || op == "ReduceMean") {
    std::vector<int64_t> axes =
        intsAttr(node, "axes").value_or(std::vector<int64_t>{});
    if (operand(1)) {
      std::optional<std::vector<int64_t>> a = intsOf(operand(1));
      if (!a)
        return std::nullopt;
      axes = *a;
    }
    return one(reduce(op, x, axes, intAttr(node, "keepdims", 1) != 0,
                      intAttr(node, "noop_with_empty_axes", 0) != 0));
  }
  if (op == "Split") {
    int64_t rank = x.dims.size();
    std::optional<int64_t> axis = normalizeAxis(intAttr(node, "axis", 0), rank);
    if (!axis)
      return std::nullopt;
    std::vector<int64_t> sizes =
        intsAttr(node, "split").value_or(std::vector<int64_t>{});
    if (operand(1)) {
      std::optional<std::vector<int64_t>> s = intsOf(operand(1));
      if (!s)
        return std::nullopt;
      sizes = *s;
    }
    int64_t parts = node.output_size(), size = x.dims[*axis];
    if (sizes.empty()) {
      int64_t chunk = (size + parts - 1) / parts;
      for (int64_t p = 0, left = size; p < parts; ++p, left -= chunk)
        sizes.push_back(std::max<int64_t>(0, std::min(chunk, left)));
    }
    if (static_cast<int64_t>(sizes.size()) != parts ||
        std::accumulate(sizes.begin(), sizes.end(), int64_t(0)) != size)
      return std::nullopt;
    Outputs outs;
    int64_t at = 0;
    for (int64_t s : sizes) {
      std::optional<Tensor> part = slice(x, {at}, {at + s}, {*axis}, {1});
      if (!part)
        return std::nullopt;
      outs.push_back(std::move(*part));
      at += s;
    }
    return outs;
  }
  if (op == "NonZero") {
    std::vector<std::vector<int64_t>> coordinates(x.dims.size());
    std::vector<int64_t> strides = stridesOf(x.dims);
    int64_t found = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      if (x.real(i) == 0)
        continue;
      ++found;
      size_t rest = i;
      for (size_t k = 0; k < x.dims.size(); ++k) {
        coordinates[k].push_back(rest / strides[k]);
        rest %= strides[k];
      }
    }
    Tensor out = Tensor::make(TensorProto::INT64,
                              {static_cast<int64_t>(x.dims.size()), found});
    for (const std::vector<int64_t> &c : coordinates)
      out.ints.insert(out.ints.end(), c.begin(), c.end());
    return Outputs{out};
  }
  return std::nullopt;
}

bool chorus::foldShapeComputations(onnx::GraphProto &graph,
                                   std::vector<onnx::ValueInfoProto> &folded) {
  Evaluator evaluator(graph);
  std::set<std::string> graphOutputs;
  for (const onnx::ValueInfoProto &out : graph.output())
    graphOutputs.insert(out.name());

  bool changed = false;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (onnx::NodeProto &node : *graph.mutable_node()) {
    std::optional<Outputs> values = evaluator.evaluate(node);
    if (!values) {
      kept.Add()->Swap(&node);
      continue;
    }
    bool keep = node.op_type() == "Constant";
    for (int i = 0; i < node.output_size(); ++i) {
      const std::string &name = node.output(i);
      evaluator.known[name] = (*values)[i];
      evaluator.shapes[name] = (*values)[i].dims;
      // Graph outputs stay computed by their nodes: only inner values fold.
      keep |= graphOutputs.count(name) != 0 || name.empty();
    }
    if (keep) {
      kept.Add()->Swap(&node);
      continue;
    }
    for (int i = 0; i < node.output_size(); ++i) {
      const Tensor &value = (*values)[i];
      const std::string &name = node.output(i);
      *graph.add_initializer() = writeTensor(value, name);
      onnx::ValueInfoProto &info = folded.emplace_back();
      info.set_name(name);
      onnx::TypeProto_Tensor *tensorType =
          info.mutable_type()->mutable_tensor_type();
      tensorType->set_elem_type(value.type);
      onnx::TensorShapeProto *shape = tensorType->mutable_shape();
      for (int64_t d : value.dims)
        shape->add_dim()->set_dim_value(d);
    }
    changed = true;
  }
  graph.mutable_node()->Swap(&kept);
  if (changed) {
    // Types of folded values now come from their initializers.
    std::set<std::string> foldedNames;
    for (const onnx::ValueInfoProto &info : folded)
      foldedNames.insert(info.name());
    google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> infos;
    for (onnx::ValueInfoProto &info : *graph.mutable_value_info())
      if (!foldedNames.count(info.name()))
        infos.Add()->Swap(&info);
    graph.mutable_value_info()->Swap(&infos);
  }
  return changed;
}

//===----------------------------------------------------------------------===//
// Control flow and data-dependent extents
//===----------------------------------------------------------------------===//

/// The value of a small initializer of `graph` named `name`.
static std::optional<Tensor> knownInitializer(const onnx::GraphProto &graph,
                                              const std::string &name) {
  if (name.empty())
    return std::nullopt;
  for (const TensorProto &init : graph.initializer())
    if (init.name() == name)
      return readTensor(init);
  return std::nullopt;
}

/// The first named result of `node`, which names it in notes ("" if none).
static std::string firstOutput(const onnx::NodeProto &node) {
  for (const std::string &output : node.output())
    if (!output.empty())
      return output;
  return "";
}

static std::string nodeLabel(const onnx::NodeProto &node) {
  return (node.name().empty() ? "the node writing '" + firstOutput(node) + "'"
                              : "node '" + node.name() + "'") +
         " (" + node.op_type() + ")";
}

bool chorus::inlineTakenBranches(onnx::GraphProto &graph, FoldingNotes &notes) {
  bool changed = false;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (onnx::NodeProto &node : *graph.mutable_node()) {
    std::optional<Tensor> cond;
    if (node.op_type() == "If" &&
        (node.domain().empty() || node.domain() == "ai.onnx") &&
        node.input_size() == 1)
      cond = knownInitializer(graph, node.input(0));
    if (!cond || cond->size() != 1) {
      nodes.Add()->Swap(&node);
      continue;
    }
    bool taken = cond->real(0) != 0;
    const onnx::AttributeProto *branch =
        findAttr(node, taken ? "then_branch" : "else_branch");
    if (!branch || !branch->has_g() ||
        branch->g().output_size() != node.output_size()) {
      nodes.Add()->Swap(&node);
      continue;
    }
    const onnx::GraphProto &body = branch->g();
    for (const onnx::NodeProto &inner : body.node())
      *nodes.Add() = inner;
    for (const TensorProto &init : body.initializer())
      *graph.add_initializer() = init;
    for (const onnx::ValueInfoProto &info : body.value_info())
      *graph.add_value_info() = info;
    for (int i = 0; i < node.output_size(); ++i) {
      if (node.output(i).empty())
        continue;
      onnx::NodeProto *rename = nodes.Add();
      rename->set_op_type("Identity");
      rename->add_input(body.output(i).name());
      rename->add_output(node.output(i));
    }
    notes.push_back({"chorus.taken_branch",
                     firstOutput(node) + "=" + (taken ? "then" : "else")});
    changed = true;
  }
  graph.mutable_node()->Swap(&nodes);
  return changed;
}

namespace {
/// Shapes and element types of the values of one graph, as inference left
/// them: dims < 0 are unknown.
struct KnownTypes {
  std::map<std::string, std::pair<int32_t, std::vector<int64_t>>> values;

  explicit KnownTypes(const onnx::GraphProto &graph) {
    auto add = [&](const std::string &name, const onnx::TypeProto &type) {
      if (!type.has_tensor_type() || !type.tensor_type().has_shape())
        return;
      std::vector<int64_t> dims;
      for (const auto &d : type.tensor_type().shape().dim())
        dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
      values[name] = {type.tensor_type().elem_type(), dims};
    };
    for (const onnx::ValueInfoProto &info : graph.input())
      add(info.name(), info.type());
    for (const onnx::ValueInfoProto &info : graph.value_info())
      add(info.name(), info.type());
    for (const onnx::ValueInfoProto &info : graph.output())
      add(info.name(), info.type());
    for (const TensorProto &init : graph.initializer())
      values[init.name()] = {init.data_type(),
                             {init.dims().begin(), init.dims().end()}};
  }

  /// The static dims of `name`, or nothing.
  std::optional<std::vector<int64_t>> shape(const std::string &name) const {
    auto it = values.find(name);
    if (it == values.end())
      return std::nullopt;
    for (int64_t d : it->second.second)
      if (d < 0)
        return std::nullopt;
    return it->second.second;
  }
  /// Whether `name`'s shape is static.
  bool isStatic(const std::string &name) const {
    return shape(name).has_value();
  }
  int32_t type(const std::string &name, int32_t fallback) const {
    auto it = values.find(name);
    return it == values.end() || it->second.first == 0 ? fallback
                                                       : it->second.first;
  }
};
} // namespace

static int64_t product(const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

/// Sets `name`'s type in `graph`'s value_info to `type` with `dims`.
static void pinType(onnx::GraphProto &graph, const std::string &name,
                    int32_t type, const std::vector<int64_t> &dims) {
  onnx::ValueInfoProto *info = nullptr;
  for (onnx::ValueInfoProto &existing : *graph.mutable_value_info())
    if (existing.name() == name)
      info = &existing;
  if (!info) {
    info = graph.add_value_info();
    info->set_name(name);
  }
  onnx::TypeProto_Tensor *tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(type);
  tensor->mutable_shape()->clear_dim();
  for (int64_t d : dims)
    tensor->mutable_shape()->add_dim()->set_dim_value(d);
}

static std::string dimsText(const std::vector<int64_t> &dims) {
  std::string text;
  for (int64_t d : dims)
    text += (text.empty() ? "" : "x") + std::to_string(d);
  return text.empty() ? "scalar" : text;
}

/// The dims of a tensor type (-1 for unknown ones), or nothing.
static std::optional<std::vector<int64_t>>
typeDims(const onnx::TypeProto &type) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape())
    return std::nullopt;
  std::vector<int64_t> dims;
  for (const auto &d : type.tensor_type().shape().dim())
    dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return dims;
}

/// A Loop's carried values keep their shape from one iteration to the next
/// unless the body says otherwise: a carried body input of unknown shape
/// whose initial value is static takes the initial shape when the body's
/// matching output does not contradict it, and the Loop's result takes it
/// once the body's output is known to agree.
static bool refineLoopCarried(onnx::NodeProto &node, const KnownTypes &known,
                              onnx::GraphProto &graph) {
  onnx::AttributeProto *body = nullptr;
  for (onnx::AttributeProto &attr : *node.mutable_attribute())
    if (attr.name() == "body" && attr.has_g())
      body = &attr;
  if (!body)
    return false;
  onnx::GraphProto &g = *body->mutable_g();
  bool changed = false;
  int carried = node.input_size() - 2;
  for (int i = 0; i < carried; ++i) {
    if (2 + i >= g.input_size() || 1 + i >= g.output_size())
      break;
    std::optional<std::vector<int64_t>> init = known.shape(node.input(2 + i));
    if (!init)
      continue;
    std::optional<std::vector<int64_t>> out = typeDims(g.output(1 + i).type());
    bool compatible = !out || out->size() == init->size();
    for (size_t d = 0; compatible && out && d < out->size(); ++d)
      compatible = (*out)[d] < 0 || (*out)[d] == (*init)[d];
    if (!compatible)
      continue;
    int32_t type = known.type(node.input(2 + i), TensorProto::FLOAT);
    onnx::ValueInfoProto &input = *g.mutable_input(2 + i);
    std::optional<std::vector<int64_t>> declared = typeDims(input.type());
    if (!declared || *declared != *init) {
      onnx::TypeProto_Tensor *t = input.mutable_type()->mutable_tensor_type();
      t->set_elem_type(type);
      t->mutable_shape()->clear_dim();
      for (int64_t d : *init)
        t->mutable_shape()->add_dim()->set_dim_value(d);
      changed = true;
    }
    if (out && *out == *init && i < node.output_size() &&
        !node.output(i).empty() && !known.isStatic(node.output(i))) {
      pinType(graph, node.output(i), type, *init);
      changed = true;
    }
  }
  return changed;
}

bool chorus::pinUnknownExtents(onnx::GraphProto &graph, FoldingNotes &notes) {
  KnownTypes known(graph);
  bool changed = false;
  auto pin = [&](const onnx::NodeProto &node, int output, int32_t type,
                 const std::vector<int64_t> &dims, const std::string &why) {
    if (output >= node.output_size() || node.output(output).empty() ||
        known.isStatic(node.output(output)))
      return;
    pinType(graph, node.output(output), type, dims);
    notes.push_back(
        {"chorus.assumption", nodeLabel(node) + ": '" + node.output(output) +
                                  "' taken at its largest possible shape " +
                                  dimsText(dims) + " (" + why + ")"});
    changed = true;
  };
  for (onnx::NodeProto &mutableNode : *graph.mutable_node()) {
    const onnx::NodeProto &node = mutableNode;
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      continue;
    const std::string &op = node.op_type();
    if (op == "Loop")
      changed |= refineLoopCarried(mutableNode, known, graph);
    auto in = [&](int i) -> std::optional<std::vector<int64_t>> {
      if (i >= node.input_size() || node.input(i).empty())
        return std::nullopt;
      return known.shape(node.input(i));
    };
    if (op == "NonZero") {
      if (std::optional<std::vector<int64_t>> x = in(0))
        pin(node, 0, TensorProto::INT64,
            {static_cast<int64_t>(x->size()), product(*x)},
            "how many elements are non-zero depends on the data");
    } else if (op == "NonMaxSuppression") {
      std::optional<std::vector<int64_t>> boxes = in(0), scores = in(1);
      if (!boxes || !scores || boxes->size() != 3 || scores->size() != 3)
        continue;
      int64_t perClass = (*boxes)[1];
      if (node.input_size() > 2)
        if (std::optional<Tensor> m = knownInitializer(graph, node.input(2)))
          if (m->size() == 1 && m->integer(0) >= 0)
            perClass = std::min(perClass, m->integer(0));
      pin(node, 0, TensorProto::INT64,
          {(*scores)[0] * (*scores)[1] * perClass, 3},
          "how many boxes are kept depends on the data");
    } else if (op == "Compress") {
      std::optional<std::vector<int64_t>> x = in(0), cond = in(1);
      if (!x || !cond || cond->size() != 1)
        continue;
      int64_t rank = x->size();
      const onnx::AttributeProto *axisAttr = findAttr(node, "axis");
      std::vector<int64_t> dims;
      if (!axisAttr) {
        dims = {std::min(product(*x), (*cond)[0])};
      } else {
        std::optional<int64_t> axis = normalizeAxis(axisAttr->i(), rank);
        if (!axis)
          continue;
        dims = *x;
        dims[*axis] = std::min(dims[*axis], (*cond)[0]);
      }
      pin(node, 0, known.type(node.input(0), TensorProto::FLOAT), dims,
          "how many elements are selected depends on the data");
    } else if (op == "Unique") {
      std::optional<std::vector<int64_t>> x = in(0);
      if (!x || findAttr(node, "axis"))
        continue;
      int64_t n = product(*x);
      pin(node, 0, known.type(node.input(0), TensorProto::FLOAT), {n},
          "how many elements are distinct depends on the data");
      pin(node, 1, TensorProto::INT64, {n}, "as the unique values");
      pin(node, 2, TensorProto::INT64, {n}, "one per input element");
      pin(node, 3, TensorProto::INT64, {n}, "as the unique values");
    } else if (op == "TopK") {
      std::optional<std::vector<int64_t>> x = in(0);
      if (!x)
        continue;
      std::optional<int64_t> axis =
          normalizeAxis(intAttr(node, "axis", -1), x->size());
      if (!axis)
        continue;
      pin(node, 0, known.type(node.input(0), TensorProto::FLOAT), *x,
          "K is computed at run time; at most the axis' length");
      pin(node, 1, TensorProto::INT64, *x,
          "K is computed at run time; at most the axis' length");
    } else if (op == "Loop") {
      std::optional<Tensor> trips = node.input_size() > 0
                                        ? knownInitializer(graph, node.input(0))
                                        : std::nullopt;
      const onnx::AttributeProto *body = findAttr(node, "body");
      if (!trips || trips->size() != 1 || !body || !body->has_g())
        continue;
      int64_t count = trips->integer(0);
      if (count < 0 || count > (int64_t(1) << 31))
        continue;
      int carried = node.input_size() - 2;
      const onnx::GraphProto &g = body->g();
      for (int i = carried; i < node.output_size(); ++i) {
        // Scan output i: the body's output 1 + i, stacked count times.
        if (1 + i >= g.output_size())
          break;
        const onnx::TypeProto &type = g.output(1 + i).type();
        if (!type.has_tensor_type() || !type.tensor_type().has_shape())
          continue;
        std::vector<int64_t> dims = {count};
        bool ok = true;
        for (const auto &d : type.tensor_type().shape().dim()) {
          ok &= d.has_dim_value();
          dims.push_back(d.has_dim_value() ? d.dim_value() : 0);
        }
        if (ok && !node.output(i).empty() && !known.isStatic(node.output(i))) {
          pinType(graph, node.output(i), type.tensor_type().elem_type(), dims);
          changed = true;
        }
      }
    }
  }
  return changed;
}

void chorus::noteTripCounts(const onnx::GraphProto &graph,
                            FoldingNotes &notes) {
  for (const onnx::NodeProto &node : graph.node()) {
    if (node.op_type() != "Loop" || node.input_size() < 1 ||
        firstOutput(node).empty())
      continue;
    std::optional<Tensor> trips = knownInitializer(graph, node.input(0));
    if (trips && trips->size() == 1 && trips->integer(0) >= 0)
      notes.push_back(
          {"chorus.trip_count",
           firstOutput(node) + "=" + std::to_string(trips->integer(0))});
  }
}
