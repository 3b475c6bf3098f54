//===- ShapeFolding.cpp - Fold shape computations between inference rounds ===//
//
// ONNX 1.12's data propagation stops at Cast, so exporters' shape arithmetic
// (Shape -> Cast -> Slice -> Concat -> Reshape, as PaddlePaddle writes it)
// leaves Reshape outputs without a shape even when every input dim is bound.
// This folds such integer computations on a copy of the graph, turns their
// results into initializers and lets inference run again.
//
//===----------------------------------------------------------------------===//

#include "chorus/Import/ShapeFolding.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <set>

using namespace chorus;

namespace {

/// A small integer tensor known at import time.
struct IntTensor {
  std::vector<int64_t> dims;
  std::vector<int64_t> values;
  int32_t dataType = onnx::TensorProto::INT64;
};

} // namespace

/// Values larger than this are not folded: shape arithmetic is small.
static constexpr size_t kMaxFoldedElements = 64;

static bool isFoldableType(int32_t type) {
  return type == onnx::TensorProto::INT64 || type == onnx::TensorProto::INT32;
}

/// Booleans fold too (Equal feeding Where in exporters' shape code).
static bool isReadableType(int32_t type) {
  return isFoldableType(type) || type == onnx::TensorProto::BOOL;
}

static std::optional<IntTensor> readTensor(const onnx::TensorProto &t) {
  if (!isReadableType(t.data_type()) ||
      t.data_location() == onnx::TensorProto::EXTERNAL)
    return std::nullopt;
  IntTensor result;
  result.dataType = t.data_type();
  size_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > static_cast<int64_t>(kMaxFoldedElements))
      return std::nullopt;
    count *= d;
    result.dims.push_back(d);
  }
  if (count > kMaxFoldedElements)
    return std::nullopt;
  size_t width = t.data_type() == onnx::TensorProto::INT64  ? 8
                 : t.data_type() == onnx::TensorProto::BOOL ? 1
                                                            : 4;
  if (t.has_raw_data()) {
    if (t.raw_data().size() != count * width)
      return std::nullopt;
    for (size_t i = 0; i < count; ++i) {
      if (width == 8) {
        int64_t v;
        std::memcpy(&v, t.raw_data().data() + 8 * i, 8);
        result.values.push_back(v);
      } else if (width == 1) {
        result.values.push_back(t.raw_data()[i] != 0);
      } else {
        int32_t v;
        std::memcpy(&v, t.raw_data().data() + 4 * i, 4);
        result.values.push_back(v);
      }
    }
  } else if (width == 8) {
    if (static_cast<size_t>(t.int64_data_size()) != count)
      return std::nullopt;
    result.values.assign(t.int64_data().begin(), t.int64_data().end());
  } else {
    // INT32 and BOOL both use int32_data.
    if (static_cast<size_t>(t.int32_data_size()) != count)
      return std::nullopt;
    result.values.assign(t.int32_data().begin(), t.int32_data().end());
  }
  return result;
}

static onnx::TensorProto writeTensor(const IntTensor &value,
                                     const std::string &name) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(value.dataType);
  for (int64_t d : value.dims)
    t.add_dims(d);
  for (int64_t v : value.values) {
    if (value.dataType == onnx::TensorProto::INT64)
      t.add_int64_data(v);
    else
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

static size_t elementCount(const std::vector<int64_t> &dims) {
  size_t n = 1;
  for (int64_t d : dims)
    n *= static_cast<size_t>(d);
  return n;
}

static IntTensor vector1D(std::vector<int64_t> values, int32_t type) {
  IntTensor t;
  t.dims = {static_cast<int64_t>(values.size())};
  t.values = std::move(values);
  t.dataType = type;
  return t;
}

/// Normalizes `index` in [-size, size] (clamped) as Slice does.
static int64_t clampIndex(int64_t index, int64_t size, bool isEnd,
                          int64_t step) {
  if (index < 0)
    index += size;
  if (step > 0)
    return std::max<int64_t>(0, std::min(index, size));
  return std::max<int64_t>(-1, std::min(index, size - 1));
}

namespace {
class Folder {
public:
  explicit Folder(const onnx::GraphProto &graph) {
    for (const onnx::TensorProto &init : graph.initializer())
      if (std::optional<IntTensor> t = readTensor(init))
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

  /// Evaluates `node`; returns its single output's value when foldable.
  std::optional<IntTensor> evaluate(const onnx::NodeProto &node) {
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      return std::nullopt;
    if (node.output_size() != 1)
      return std::nullopt;
    const std::string &op = node.op_type();
    if (op == "Constant") {
      if (const onnx::AttributeProto *a = findAttr(node, "value"))
        return readTensor(a->t());
      if (const onnx::AttributeProto *a = findAttr(node, "value_int")) {
        IntTensor t;
        t.values = {a->i()};
        return t;
      }
      if (const onnx::AttributeProto *a = findAttr(node, "value_ints"))
        if (static_cast<size_t>(a->ints_size()) <= kMaxFoldedElements)
          return vector1D({a->ints().begin(), a->ints().end()},
                          onnx::TensorProto::INT64);
      return std::nullopt;
    }
    if (op == "Shape") {
      auto it =
          node.input_size() == 1 ? shapes.find(node.input(0)) : shapes.end();
      if (it == shapes.end())
        return std::nullopt;
      int64_t rank = it->second.size();
      int64_t start = 0, end = rank;
      if (const onnx::AttributeProto *a = findAttr(node, "start"))
        start = a->i();
      if (const onnx::AttributeProto *a = findAttr(node, "end"))
        end = a->i();
      start = clampIndex(start, rank, false, 1);
      end = clampIndex(end, rank, true, 1);
      std::vector<int64_t> dims;
      for (int64_t i = start; i < end; ++i)
        dims.push_back(it->second[i]);
      return vector1D(dims, onnx::TensorProto::INT64);
    }
    if (op == "Size") {
      auto it =
          node.input_size() == 1 ? shapes.find(node.input(0)) : shapes.end();
      if (it == shapes.end())
        return std::nullopt;
      IntTensor t;
      t.values = {static_cast<int64_t>(elementCount(it->second))};
      return t;
    }

    std::vector<const IntTensor *> in;
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
    if (in.empty() || !in[0])
      return std::nullopt;

    if (op == "Identity")
      return *in[0];
    if (op == "Cast") {
      const onnx::AttributeProto *to = findAttr(node, "to");
      if (!to || !isFoldableType(to->i()))
        return std::nullopt;
      IntTensor t = *in[0];
      t.dataType = to->i();
      if (t.dataType == onnx::TensorProto::INT32)
        for (int64_t &v : t.values)
          v = static_cast<int32_t>(v);
      return t;
    }
    if (op == "Unsqueeze" || op == "Squeeze") {
      // Only the shape changes; 0-D and 1-D are what shape arithmetic uses.
      std::vector<int64_t> axes;
      if (const onnx::AttributeProto *a = findAttr(node, "axes"))
        axes.assign(a->ints().begin(), a->ints().end());
      else if (in.size() > 1 && in[1])
        axes = in[1]->values;
      IntTensor t = *in[0];
      if (op == "Unsqueeze") {
        if (t.dims.empty() && axes.size() == 1 &&
            (axes[0] == 0 || axes[0] == -1)) {
          t.dims = {1};
          return t;
        }
        return std::nullopt;
      }
      if (t.dims == std::vector<int64_t>{1} &&
          (axes.empty() ||
           (axes.size() == 1 && (axes[0] == 0 || axes[0] == -1)))) {
        t.dims.clear();
        return t;
      }
      return std::nullopt;
    }
    if (op == "Concat") {
      std::vector<int64_t> values;
      for (const IntTensor *t : in) {
        if (!t || t->dims.size() != 1 || t->dataType != in[0]->dataType)
          return std::nullopt;
        values.insert(values.end(), t->values.begin(), t->values.end());
      }
      if (values.size() > kMaxFoldedElements)
        return std::nullopt;
      return vector1D(values, in[0]->dataType);
    }
    if (op == "Gather") {
      const onnx::AttributeProto *axis = findAttr(node, "axis");
      if ((axis && axis->i() != 0) || in.size() != 2 || !in[1] ||
          in[0]->dims.size() != 1 || in[1]->dims.size() > 1)
        return std::nullopt;
      int64_t size = in[0]->values.size();
      IntTensor t;
      t.dataType = in[0]->dataType;
      t.dims = in[1]->dims;
      for (int64_t index : in[1]->values) {
        if (index < 0)
          index += size;
        if (index < 0 || index >= size)
          return std::nullopt;
        t.values.push_back(in[0]->values[index]);
      }
      return t;
    }
    if (op == "Slice") {
      if (in[0]->dims.size() != 1)
        return std::nullopt;
      int64_t start, end, step = 1;
      auto single = [](const IntTensor *t) -> std::optional<int64_t> {
        if (!t || t->values.size() != 1)
          return std::nullopt;
        return t->values[0];
      };
      if (const onnx::AttributeProto *s = findAttr(node, "starts")) {
        const onnx::AttributeProto *e = findAttr(node, "ends");
        const onnx::AttributeProto *a = findAttr(node, "axes");
        if (!e || s->ints_size() != 1 || e->ints_size() != 1 ||
            (a &&
             (a->ints_size() != 1 || (a->ints(0) != 0 && a->ints(0) != -1))))
          return std::nullopt;
        start = s->ints(0);
        end = e->ints(0);
      } else {
        if (in.size() < 3)
          return std::nullopt;
        std::optional<int64_t> first = single(in[1]), last = single(in[2]);
        if (!first || !last)
          return std::nullopt;
        start = *first;
        end = *last;
        if (in.size() > 3 && in[3]) {
          std::optional<int64_t> axis = single(in[3]);
          if (!axis || (*axis != 0 && *axis != -1))
            return std::nullopt;
        }
        if (in.size() > 4 && in[4]) {
          std::optional<int64_t> st = single(in[4]);
          if (!st || *st == 0)
            return std::nullopt;
          step = *st;
        }
      }
      int64_t size = in[0]->values.size();
      start = clampIndex(start, size, false, step);
      end = clampIndex(end, size, true, step);
      std::vector<int64_t> values;
      for (int64_t i = start; step > 0 ? i < end : i > end; i += step)
        values.push_back(in[0]->values[i]);
      return vector1D(values, in[0]->dataType);
    }
    if (op == "Where") {
      // Same-shape operands or single elements, as shape code writes it.
      if (in.size() != 3 || !in[1] || !in[2] ||
          in[1]->dataType != in[2]->dataType)
        return std::nullopt;
      size_t n = std::max(
          {in[0]->values.size(), in[1]->values.size(), in[2]->values.size()});
      for (const IntTensor *t : in)
        if (t->values.size() != n && t->values.size() != 1)
          return std::nullopt;
      IntTensor t;
      t.dataType = in[1]->dataType;
      t.dims = {static_cast<int64_t>(n)};
      for (const IntTensor *x : in)
        if (x->values.size() == n)
          t.dims = x->dims;
      auto at = [&](const IntTensor *x, size_t i) {
        return x->values[x->values.size() == 1 ? 0 : i];
      };
      for (size_t i = 0; i < n; ++i)
        t.values.push_back(at(in[0], i) ? at(in[1], i) : at(in[2], i));
      return t;
    }
    if (op == "ConstantOfShape") {
      if (in[0]->dims.size() != 1)
        return std::nullopt;
      size_t count = 1;
      for (int64_t d : in[0]->values) {
        if (d < 0 || d > static_cast<int64_t>(kMaxFoldedElements))
          return std::nullopt;
        count *= d;
      }
      if (count > kMaxFoldedElements)
        return std::nullopt;
      IntTensor t;
      t.dims = in[0]->values;
      t.dataType = onnx::TensorProto::FLOAT; // the default value is 0.0f
      int64_t fill = 0;
      if (const onnx::AttributeProto *a = findAttr(node, "value")) {
        std::optional<IntTensor> v = readTensor(a->t());
        if (!v || v->values.size() != 1)
          return std::nullopt;
        t.dataType = v->dataType;
        fill = v->values[0];
      } else {
        return std::nullopt; // float zeros are not shape arithmetic
      }
      t.values.assign(count, fill);
      return t;
    }
    if (op == "Equal" || op == "Less" || op == "Greater") {
      if (in.size() != 2 || !in[1] || in[0]->dataType != in[1]->dataType)
        return std::nullopt;
      const IntTensor &a = *in[0], &b = *in[1];
      size_t n = std::max(a.values.size(), b.values.size());
      if ((a.values.size() != n && a.values.size() != 1) ||
          (b.values.size() != n && b.values.size() != 1))
        return std::nullopt;
      IntTensor t;
      t.dataType = onnx::TensorProto::BOOL;
      t.dims = a.values.size() == n ? a.dims : b.dims;
      for (size_t i = 0; i < n; ++i) {
        int64_t x = a.values[a.values.size() == 1 ? 0 : i];
        int64_t y = b.values[b.values.size() == 1 ? 0 : i];
        t.values.push_back(op == "Equal"  ? x == y
                           : op == "Less" ? x < y
                                          : x > y);
      }
      return t;
    }
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
      if (in.size() != 2 || !in[1] || in[0]->dataType != in[1]->dataType)
        return std::nullopt;
      const IntTensor &a = *in[0], &b = *in[1];
      // Same shape, or one side a single element.
      bool aScalar = a.values.size() == 1 && a.dims.size() <= 1;
      bool bScalar = b.values.size() == 1 && b.dims.size() <= 1;
      if (a.dims != b.dims && !aScalar && !bScalar)
        return std::nullopt;
      IntTensor t = a.dims.size() >= b.dims.size() && !aScalar ? a : b;
      if (aScalar && bScalar)
        t = a.dims.size() >= b.dims.size() ? a : b;
      t.values.clear();
      size_t n = std::max(a.values.size(), b.values.size());
      for (size_t i = 0; i < n; ++i) {
        int64_t x = a.values[aScalar ? 0 : i], y = b.values[bScalar ? 0 : i];
        int64_t r;
        if (op == "Add")
          r = x + y;
        else if (op == "Sub")
          r = x - y;
        else if (op == "Mul")
          r = x * y;
        else {
          if (y == 0)
            return std::nullopt;
          // ONNX integer Div truncates toward zero, as C++ does.
          r = x / y;
        }
        t.values.push_back(r);
      }
      return t;
    }
    return std::nullopt;
  }

  std::map<std::string, IntTensor> known;
  std::map<std::string, std::vector<int64_t>> shapes;
};
} // namespace

bool chorus::foldShapeComputations(onnx::GraphProto &graph,
                                   std::vector<onnx::ValueInfoProto> &folded) {
  Folder folder(graph);
  std::set<std::string> graphOutputs;
  for (const onnx::ValueInfoProto &out : graph.output())
    graphOutputs.insert(out.name());

  onnx::GraphProto rewritten;
  bool changed = false;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (onnx::NodeProto &node : *graph.mutable_node()) {
    std::optional<IntTensor> value = folder.evaluate(node);
    if (!value) {
      kept.Add()->Swap(&node);
      continue;
    }
    const std::string &name = node.output(0);
    folder.known[name] = *value;
    folder.shapes[name] = value->dims;
    // Graph outputs stay computed by their nodes: only inner values fold.
    if (graphOutputs.count(name) || node.op_type() == "Constant") {
      kept.Add()->Swap(&node);
      continue;
    }
    *graph.add_initializer() = writeTensor(*value, name);
    onnx::ValueInfoProto &info = folded.emplace_back();
    info.set_name(name);
    onnx::TypeProto_Tensor *tensorType =
        info.mutable_type()->mutable_tensor_type();
    tensorType->set_elem_type(value->dataType);
    onnx::TensorShapeProto *shape = tensorType->mutable_shape();
    for (int64_t d : value->dims)
      shape->add_dim()->set_dim_value(d);
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
