//===- CalibrationModels.cpp - Models chorus-calibrate --measure runs -----===//
//
// Small networks that sample every kernel class of ONNX Runtime's CPU
// provider across sizes: convolution chains (dense, depthwise, strided,
// residual, the 3-channel stem), squeeze-and-excitation, matmul chains in
// 2-D and 3-D, attention, normalization, elementwise chains, pools, layout
// and shape ops, memory probes (large weights of each kind, large
// activations), graph probes (many small layers, as mobile networks have)
// and an overhead probe of many tiny kernels. Weights are
// deterministic pseudo-random values, so every run writes the same files.
//
//===----------------------------------------------------------------------===//

#include "CalibrationModels.h"

#include "onnx/onnx_pb.h"

#include <cstring>
#include <functional>

namespace {

class Builder {
public:
  /// With `symbolic`, the input's dims after the channels (and its batch)
  /// are named (N, H, W...), as exported models leave them; the runs feed
  /// `shape`.
  /// Without `payloads`, the weights have their dims and no values, and
  /// the model is not serialized: what fitting to kept measurements needs.
  Builder(bool payloads, const std::string &name, std::vector<int64_t> shape,
          bool symbolic = false)
      : payloads(payloads), shape(shape) {
    model.set_ir_version(8);
    model.set_producer_name("chorus-calibrate");
    onnx::OperatorSetIdProto *opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(17);
    graph = model.mutable_graph();
    graph->set_name(name);
    onnx::ValueInfoProto *in = graph->add_input();
    in->set_name("x");
    auto *tensor = in->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(onnx::TensorProto::FLOAT);
    for (size_t i = 0; i < shape.size(); ++i) {
      auto *dim = tensor->mutable_shape()->add_dim();
      if (symbolic && i != 1)
        dim->set_dim_param(i == 0 ? "N" : "D" + std::to_string(i));
      else
        dim->set_dim_value(shape[i]);
    }
  }

  /// A float scalar initializer.
  std::string scalar(float value) {
    std::string name = "s" + std::to_string(counter++);
    onnx::TensorProto *t = graph->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_float_data(value);
    return name;
  }

  /// Weights made from here on are Constant nodes, as some exporters
  /// write them (PaddleOCR's models hold all their weights so), rather
  /// than initializers.
  void weightsInConstantNodes() { constants = true; }

  /// A float initializer of `dims` holding small pseudo-random values (a
  /// Constant node's tensor after weightsInConstantNodes).
  std::string weight(const std::vector<int64_t> &dims) {
    std::string name = "w" + std::to_string(counter++);
    onnx::TensorProto *t;
    if (constants) {
      onnx::NodeProto *n = graph->add_node();
      n->set_op_type("Constant");
      n->set_name("Constant_" + name);
      n->add_output(name);
      onnx::AttributeProto *a = n->add_attribute();
      a->set_name("value");
      a->set_type(onnx::AttributeProto::TENSOR);
      t = a->mutable_t();
    } else {
      t = graph->add_initializer();
      t->set_name(name);
    }
    last = t;
    t->set_data_type(onnx::TensorProto::FLOAT);
    int64_t n = 1;
    for (int64_t d : dims) {
      t->add_dims(d);
      n *= d;
    }
    if (!payloads) {
      skippedBytes += static_cast<double>(n * sizeof(float));
      return name;
    }
    std::string raw(n * sizeof(float), '\0');
    for (int64_t i = 0; i < n; ++i) {
      seed = seed * 1664525u + 1013904223u;
      float v = (static_cast<float>(seed >> 8) / 16777216.0f - 0.5f) * 0.1f;
      std::memcpy(&raw[i * sizeof(float)], &v, sizeof(float));
    }
    t->set_raw_data(std::move(raw));
    return name;
  }

  /// A float initializer of `channels` values in [0.5, 1.5) (variances).
  std::string positive(int64_t channels) {
    std::string name = weight({channels});
    std::string &raw = *last->mutable_raw_data();
    for (int64_t i = 0; i < channels && payloads; ++i) {
      float v;
      std::memcpy(&v, &raw[i * sizeof(float)], sizeof(float));
      v = 1.0f + 10 * v;
      std::memcpy(&raw[i * sizeof(float)], &v, sizeof(float));
    }
    return name;
  }

  /// BatchNormalization of `channels` channels.
  std::string batchNorm(const std::string &x, int64_t channels) {
    return out(
        node("BatchNormalization", {x, positive(channels), weight({channels}),
                                    weight({channels}), positive(channels)}));
  }

  /// An int64 initializer.
  std::string ints(const std::vector<int64_t> &values) {
    std::string name = "i" + std::to_string(counter++);
    onnx::TensorProto *t = graph->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(values.size());
    for (int64_t v : values)
      t->add_int64_data(v);
    return name;
  }

  onnx::NodeProto *node(const std::string &op,
                        const std::vector<std::string> &inputs) {
    onnx::NodeProto *n = graph->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(counter));
    for (const std::string &i : inputs)
      n->add_input(i);
    n->add_output("v" + std::to_string(counter++));
    return n;
  }
  static std::string out(onnx::NodeProto *n) { return n->output(0); }

  static void attr(onnx::NodeProto *n, const std::string &name, int64_t v) {
    onnx::AttributeProto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(onnx::NodeProto *n, const std::string &name,
                   const std::vector<int64_t> &v) {
    onnx::AttributeProto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
      a->add_ints(x);
  }
  static void attrf(onnx::NodeProto *n, const std::string &name, float v) {
    onnx::AttributeProto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }

  std::string conv(const std::string &x, int64_t in, int64_t channels,
                   int64_t k, int64_t stride = 1, int64_t groups = 1) {
    onnx::NodeProto *n = node(
        "Conv", {x, weight({channels, in / groups, k, k}), weight({channels})});
    attr(n, "kernel_shape", std::vector<int64_t>{k, k});
    attr(n, "pads", std::vector<int64_t>{k / 2, k / 2, k / 2, k / 2});
    attr(n, "strides", std::vector<int64_t>{stride, stride});
    if (groups > 1)
      attr(n, "group", groups);
    return out(n);
  }
  std::string unary(const std::string &op, const std::string &x) {
    return out(node(op, {x}));
  }
  std::string binary(const std::string &op, const std::string &a,
                     const std::string &b) {
    return out(node(op, {a, b}));
  }
  /// A fully connected layer, x [.., in] times an [in, out] weight plus an
  /// [out] bias (MatMul then Add), its weight written before its bias as
  /// exporters write a layer's parameters. The order is the allocator's:
  /// ONNX Runtime reads initializers in file order, and where each small
  /// bias sits between the large weights decides whether glibc can hand
  /// the load's freed copies back; with the bias first, these models kept
  /// about 1.0x their MatMul weights after load where exported
  /// transformers keep 1.7x. (Two weight() calls as arguments of one call
  /// would also leave the order to the compiler.)
  std::string linear(const std::string &x, int64_t in, int64_t out) {
    std::string w = weight({in, out});
    std::string bias = weight({out});
    return binary("Add", binary("MatMul", x, w), bias);
  }

  chorus::CalibrationModel finish(const std::string &result) {
    onnx::ValueInfoProto *o = graph->add_output();
    o->set_name(result);
    o->mutable_type()->mutable_tensor_type()->set_elem_type(
        onnx::TensorProto::FLOAT);
    chorus::CalibrationModel m;
    m.name = graph->name();
    m.weightBytes = skippedBytes;
    for (const onnx::TensorProto &t : graph->initializer())
      m.weightBytes += static_cast<double>(t.raw_data().size());
    for (const onnx::NodeProto &n : graph->node())
      if (n.op_type() == "Constant")
        m.weightBytes +=
            static_cast<double>(n.attribute(0).t().raw_data().size());
    m.scalingOnce = m.weightBytes >= 32.0 * 1024 * 1024;
    m.inputShape = shape;
    if (payloads)
      model.SerializeToString(&m.bytes);
    return m;
  }

private:
  bool payloads;
  onnx::ModelProto model;
  onnx::GraphProto *graph;
  std::vector<int64_t> shape;
  /// The bytes of the weights left without values.
  double skippedBytes = 0;
  /// Whether weight() makes Constant nodes; the tensor it made last.
  bool constants = false;
  onnx::TensorProto *last = nullptr;
  uint32_t seed = 12345;
  int counter = 0;
};

std::string name(const char *base, std::initializer_list<int64_t> parts) {
  std::string s = base;
  for (int64_t p : parts)
    s += "_" + std::to_string(p);
  return s;
}

} // namespace

std::vector<chorus::CalibrationModel>
chorus::generateCalibrationModels(bool payloads) {
  std::vector<CalibrationModel> models;
  // Dense convolution chains: channels, size, kernel.
  for (auto [c, hw, k] :
       std::vector<std::tuple<int64_t, int64_t, int64_t>>{{16, 112, 3},
                                                          {32, 56, 3},
                                                          {64, 56, 1},
                                                          {64, 28, 3},
                                                          {128, 28, 1},
                                                          {128, 14, 3},
                                                          {256, 14, 1},
                                                          {256, 7, 3},
                                                          {512, 7, 1},
                                                          {24, 56, 1},
                                                          {40, 28, 3}}) {
    Builder b(payloads, name("conv", {c, hw, k}), {1, c, hw, hw});
    std::string x = "x";
    for (int i = 0; i < 4; ++i)
      x = b.unary("Relu", b.conv(x, c, c, k));
    models.push_back(b.finish(x));
  }
  // Depthwise chains with their pointwise convolutions.
  for (auto [c, hw, k] :
       std::vector<std::tuple<int64_t, int64_t, int64_t>>{{32, 112, 3},
                                                          {96, 56, 3},
                                                          {144, 28, 5},
                                                          {240, 14, 5},
                                                          {576, 7, 3},
                                                          {72, 28, 3}}) {
    Builder b(payloads, name("depthwise", {c, hw, k}), {1, c, hw, hw});
    std::string x = "x";
    for (int i = 0; i < 3; ++i) {
      x = b.unary("Relu", b.conv(x, c, c, k, 1, c));
      x = b.conv(x, c, c, 1);
    }
    models.push_back(b.finish(x));
  }
  // Depthwise chains on wide, short maps (a text line's, as OCR networks
  // run them): many channels of a few rows each. The square maps above
  // give a depthwise kernel at least 7 rows; without these, a term per
  // group and one per im2col row traded off from one calibration to the
  // next, and a held-out text classifier's 5x5 depthwise layers (on maps
  // of a few rows) came out 21% to 41% over their time (docs/Rationale.md).
  for (auto [c, h, w, k] :
       std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>>{
           {192, 4, 32, 5}, {64, 12, 96, 3}}) {
    Builder b(payloads, name("depthwise_wide", {c, h, w, k}), {1, c, h, w});
    std::string x = "x";
    for (int i = 0; i < 3; ++i) {
      x = b.unary("Relu", b.conv(x, c, c, k, 1, c));
      x = b.conv(x, c, c, 1);
    }
    models.push_back(b.finish(x));
  }
  // Convolutions ONNX Runtime leaves in NCHW, run by MLAS group by group:
  // depthwise and pointwise ones whose channels are no multiple of the
  // NCHWc block (ShuffleNet's 58 and 116), and grouped ones with 8
  // channels per group (RegNet's, its four widths) or 32 groups
  // (ResNeXt's 4 and 8 channels a group): with only RegNet's first three,
  // the 6 kernels of the class fitted its four terms differently from one
  // calibration to the next, and RegNet's time by a tenth.
  for (auto [c, hw] :
       std::vector<std::pair<int64_t, int64_t>>{{58, 28}, {116, 14}}) {
    Builder b(payloads, name("unblocked", {c, hw}), {1, c, hw, hw});
    std::string x = "x";
    for (int i = 0; i < 3; ++i)
      x = b.unary("Relu", b.conv(b.conv(x, c, c, 3, 1, c), c, c, 1));
    models.push_back(b.finish(x));
  }
  for (auto [c, hw, groups] :
       std::vector<std::tuple<int64_t, int64_t, int64_t>>{{48, 56, 6},
                                                          {104, 28, 13},
                                                          {208, 14, 26},
                                                          {440, 7, 55},
                                                          {128, 56, 32},
                                                          {256, 28, 32}}) {
    Builder b(payloads, name("grouped", {c, hw}), {1, c, hw, hw});
    std::string x = "x";
    for (int i = 0; i < 2; ++i)
      x = b.unary("Relu", b.conv(b.unary("Relu", b.conv(x, c, c, 3, 1, groups)),
                                 c, c, 1));
    models.push_back(b.finish(x));
  }
  // Inverted residual blocks (MobileNet's): expand 1x1, depthwise (the
  // first one strided), project 1x1, with the shortcut where shapes allow.
  for (auto [c, hw, k] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {24, 56, 3}, {40, 56, 5}, {80, 28, 3}, {16, 112, 3}}) {
    Builder b(payloads, name("inverted", {c, hw, k}), {1, c, hw, hw});
    std::string x = "x";
    for (int i = 0; i < 3; ++i) {
      int64_t stride = i == 0 ? 2 : 1;
      std::string y = b.unary("Relu", b.conv(x, c, 6 * c, 1));
      y = b.unary("Relu", b.conv(y, 6 * c, 6 * c, k, stride, 6 * c));
      y = b.conv(y, 6 * c, c, 1);
      x = stride == 1 ? b.binary("Add", y, x) : y;
    }
    models.push_back(b.finish(x));
  }
  // The 3-channel stem and strided convolutions.
  {
    Builder b(payloads, "stem", {1, 3, 224, 224});
    std::string x = b.unary("Relu", b.conv("x", 3, 32, 3, 2));
    x = b.unary("Relu", b.conv(x, 32, 64, 3, 2));
    x = b.unary("Relu", b.conv(x, 64, 128, 3, 2));
    models.push_back(b.finish(x));
  }
  // Strided convolutions at several sizes: the CPU provider's im2col
  // copies a strided row element by element, a term of its own in the
  // unblocked classes that the few strided kernels above cannot fit alone
  // (it traded off against the per-row term from one calibration to the
  // next). A 7x7 stem and 3x3 and 1x1 downsamplings, and depthwise ones
  // halving the map three times, each with its pointwise convolution.
  {
    Builder b(payloads, "strided", {1, 3, 224, 224});
    std::string x = b.unary("Relu", b.conv("x", 3, 48, 7, 2));
    x = b.unary("Relu", b.conv(x, 48, 64, 3, 2));
    x = b.unary("Relu", b.conv(x, 64, 128, 1, 2));
    x = b.unary("Relu", b.conv(x, 128, 160, 3, 2));
    models.push_back(b.finish(x));
  }
  for (auto [c, hw, k] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {48, 112, 3}, {120, 56, 5}}) {
    Builder b(payloads, name("strided_depthwise", {c, hw, k}), {1, c, hw, hw});
    std::string x = "x";
    for (int i = 0; i < 3; ++i)
      x = b.conv(b.unary("Relu", b.conv(x, c, c, k, 2, c)), c, c, 1);
    models.push_back(b.finish(x));
  }
  // Residual blocks: the second Conv adds the shortcut.
  for (auto [c, hw] :
       std::vector<std::pair<int64_t, int64_t>>{{64, 56}, {256, 14}}) {
    Builder b(payloads, name("residual", {c, hw}), {1, c, hw, hw});
    std::string x = "x";
    for (int i = 0; i < 2; ++i) {
      std::string y = b.unary("Relu", b.conv(x, c, c, 3));
      x = b.unary("Relu", b.binary("Add", b.conv(y, c, c, 3), x));
    }
    models.push_back(b.finish(x));
  }
  // A whole network of inverted residual blocks at 160x160, its own
  // widths, depths and kernel sizes (no held-out model's): the op chains
  // above run their few weights and tensors from warm caches, a network
  // reads each layer's after all the others'.
  {
    Builder b(payloads, "network_inverted", {1, 3, 160, 160});
    std::string x = b.unary("Relu", b.conv("x", 3, 16, 3, 2));
    int64_t in = 16;
    for (auto [c, stride, blocks, k, t] :
         std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t>>{
             {24, 2, 2, 3, 4},
             {40, 2, 2, 5, 4},
             {80, 2, 3, 3, 4},
             {112, 1, 2, 5, 6},
             {192, 2, 2, 3, 6}})
      for (int64_t i = 0; i < blocks; ++i) {
        int64_t s = i == 0 ? stride : 1;
        std::string y = b.unary("Relu", b.conv(x, in, t * in, 1));
        y = b.unary("Relu", b.conv(y, t * in, t * in, k, s, t * in));
        y = b.conv(y, t * in, c, 1);
        x = s == 1 && in == c ? b.binary("Add", y, x) : y;
        in = c;
      }
    x = b.unary("GlobalAveragePool", b.unary("Relu", b.conv(x, in, 960, 1)));
    onnx::NodeProto *flat = b.node("Flatten", {x});
    x = b.linear(Builder::out(flat), 960, 500);
    models.push_back(b.finish(x));
  }
  // Squeeze-and-excitation.
  {
    Builder b(payloads, "squeeze_excite", {1, 240, 14, 14});
    std::string x = "x";
    for (int i = 0; i < 3; ++i) {
      std::string s = b.unary("GlobalAveragePool", x);
      s = b.unary("Relu", b.conv(s, 240, 64, 1));
      s = b.unary("HardSigmoid", b.conv(s, 64, 240, 1));
      x = b.binary("Mul", x, s);
    }
    models.push_back(b.finish(x));
  }
  // Squeeze-and-excitation whose channels are no multiple of the NCHWc
  // block: ONNX Runtime leaves its 1x1 convolutions on 1x1 maps in NCHW,
  // kernels of a few microseconds that the unblocked and grouped chains
  // above (tens to hundreds) cannot time.
  {
    Builder b(payloads, "squeeze_excite_unblocked", {1, 100, 14, 14});
    std::string x = "x";
    for (auto [c, r] :
         std::vector<std::pair<int64_t, int64_t>>{{100, 26}, {100, 42}}) {
      std::string s = b.unary("GlobalAveragePool", x);
      s = b.unary("Relu", b.conv(s, c, r, 1));
      s = b.unary("HardSigmoid", b.conv(s, r, c, 1));
      x = b.binary("Mul", x, s);
    }
    models.push_back(b.finish(x));
  }
  // Matmul chains with bias and activation, 3-D (tokens x features).
  for (auto [s, d] : std::vector<std::pair<int64_t, int64_t>>{
           {64, 128}, {197, 384}, {50, 768}, {16, 1024}, {196, 96}}) {
    Builder b(payloads, name("matmul", {s, d}), {1, s, d});
    std::string x = "x";
    for (int i = 0; i < 3; ++i)
      x = b.unary("Relu", b.linear(x, d, d));
    models.push_back(b.finish(x));
  }
  // A transformer's MLP blocks (tokens x features, widened 4x and back):
  // a ViT's 50 tokens of 768 with its weights beyond the last-level
  // cache, and a hierarchical one's stages (196 x 384, 3136 x 96). The
  // chains above are square and of few tokens; these give the fit
  // products that read more than they compute, and the reverse.
  for (auto [s, d, blocks] : std::vector<std::tuple<int64_t, int64_t, int>>{
           {50, 768, 4}, {196, 384, 2}, {3136, 96, 2}}) {
    Builder b(payloads, name("mlp", {s, d}), {1, s, d});
    std::string x = "x";
    for (int i = 0; i < blocks; ++i) {
      x = b.unary("Relu", b.linear(x, d, 4 * d));
      x = b.linear(x, 4 * d, d);
    }
    models.push_back(b.finish(x));
  }
  // Fully connected layers as exporters write them (torch.nn.Linear): one
  // Gemm with the weight [out, in], transposed (transB).
  for (auto [in, out] : std::vector<std::pair<int64_t, int64_t>>{
           {1024, 4096}, {4096, 4096}, {4096, 1000}, {256, 256}}) {
    Builder b(payloads, name("dense", {in, out}), {1, in});
    std::string w = b.weight({out, in});
    onnx::NodeProto *g = b.node("Gemm", {"x", w, b.weight({out})});
    Builder::attr(g, "transB", int64_t(1));
    models.push_back(b.finish(b.unary("Relu", Builder::out(g))));
  }
  // Transposed convolutions as a segmentation or detection head's
  // upsampling writes them (2x2, stride 2): ONNX Runtime's CPU provider
  // runs them through an SGEMM and col2im, an element at a time.
  {
    Builder b(payloads, "transposed_24_80", {1, 24, 80, 80});
    std::string x = "x";
    for (int64_t c : {24, 1}) {
      onnx::NodeProto *t =
          b.node("ConvTranspose", {x, b.weight({24, c, 2, 2})});
      Builder::attr(t, "kernel_shape", std::vector<int64_t>{2, 2});
      Builder::attr(t, "strides", std::vector<int64_t>{2, 2});
      x = Builder::out(t);
    }
    models.push_back(b.finish(x));
  }
  // Attention: scores, softmax, weighted sum.
  for (auto [h, s, d] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {12, 50, 64}, {6, 197, 64}, {3, 49, 32}}) {
    Builder b(payloads, name("attention", {h, s, d}), {1, h, s, d});
    onnx::NodeProto *t = b.node("Transpose", {"x"});
    Builder::attr(t, "perm", std::vector<int64_t>{0, 1, 3, 2});
    std::string scores = b.binary("MatMul", "x", Builder::out(t));
    onnx::NodeProto *sm = b.node("Softmax", {scores});
    Builder::attr(sm, "axis", int64_t(-1));
    models.push_back(b.finish(b.binary("MatMul", Builder::out(sm), "x")));
  }
  // Normalization.
  for (auto [s, d] :
       std::vector<std::pair<int64_t, int64_t>>{{197, 768}, {50, 384}}) {
    Builder b(payloads, name("layernorm", {s, d}), {1, s, d});
    std::string x = "x";
    for (int i = 0; i < 3; ++i) {
      onnx::NodeProto *n =
          b.node("LayerNormalization", {x, b.weight({d}), b.weight({d})});
      Builder::attr(n, "axis", int64_t(-1));
      x = Builder::out(n);
    }
    models.push_back(b.finish(x));
  }
  // Elementwise chains at five sizes: tensors from 4 KiB, which stay in
  // the caches, to 6 MiB, which do not. Plain arithmetic (hard-swish's
  // Add, Clip, Div and Mul, as mobile networks write it) and transcendental
  // functions come in chains of their own: some runtimes run the second
  // several times slower per element (ONNX Runtime Web's wasm), and a fit
  // to whole-model latencies can only tell the two apart from models that
  // do not hold both in one proportion.
  for (auto shape : std::vector<std::vector<int64_t>>{{1, 128, 112, 112},
                                                      {1, 64, 112, 112},
                                                      {1, 64, 56, 56},
                                                      {1, 256, 14, 14},
                                                      {1, 16, 8, 8}}) {
    Builder b(payloads, name("elementwise", {shape[1], shape[2]}), shape);
    std::string x = b.binary("Mul", "x", "x");
    x = b.binary("Add", x, b.weight({shape[1], 1, 1}));
    x = Builder::out(b.node("Clip", {x, b.weight({}), b.weight({})}));
    x = b.binary("Div", x, b.weight({1}));
    x = b.binary("Mul", x, "x");
    models.push_back(b.finish(x));
  }
  for (auto shape : std::vector<std::vector<int64_t>>{
           {1, 64, 112, 112}, {1, 256, 14, 14}, {1, 16, 8, 8}}) {
    Builder b(payloads, name("elementwise_math", {shape[1], shape[2]}), shape);
    std::string x = b.unary("Sigmoid", "x");
    x = b.unary("Tanh", x);
    x = b.unary("Erf", x);
    models.push_back(b.finish(x));
  }
  // Pools.
  {
    Builder b(payloads, "pools", {1, 64, 112, 112});
    onnx::NodeProto *m = b.node("MaxPool", {"x"});
    Builder::attr(m, "kernel_shape", std::vector<int64_t>{3, 3});
    Builder::attr(m, "strides", std::vector<int64_t>{2, 2});
    Builder::attr(m, "pads", std::vector<int64_t>{1, 1, 1, 1});
    onnx::NodeProto *a = b.node("AveragePool", {Builder::out(m)});
    Builder::attr(a, "kernel_shape", std::vector<int64_t>{2, 2});
    Builder::attr(a, "strides", std::vector<int64_t>{2, 2});
    models.push_back(b.finish(b.unary("GlobalAveragePool", Builder::out(a))));
  }
  // Layout and shape ops: channel shuffle, concat, slice.
  for (auto [c, hw] : std::vector<std::pair<int64_t, int64_t>>{
           {116, 28}, {232, 14}, {58, 56}}) {
    Builder b(payloads, name("shuffle", {c, hw}), {1, c, hw, hw});
    onnx::NodeProto *r =
        b.node("Reshape", {"x", b.ints({1, 2, c / 2, hw, hw})});
    onnx::NodeProto *t = b.node("Transpose", {Builder::out(r)});
    Builder::attr(t, "perm", std::vector<int64_t>{0, 2, 1, 3, 4});
    onnx::NodeProto *back =
        b.node("Reshape", {Builder::out(t), b.ints({1, c, hw, hw})});
    onnx::NodeProto *cat = b.node("Concat", {Builder::out(back), "x"});
    Builder::attr(cat, "axis", int64_t(1));
    onnx::NodeProto *s = b.node(
        "Slice", {Builder::out(cat), b.ints({0}), b.ints({c}), b.ints({1})});
    onnx::NodeProto *nhwc = b.node("Transpose", {Builder::out(s)});
    Builder::attr(nhwc, "perm", std::vector<int64_t>{0, 2, 3, 1});
    models.push_back(b.finish(Builder::out(nhwc)));
  }
  // Memory probes: large weights read by convolutions and by matmuls, and
  // large activations with few weights, so that the runtime's memory fit
  // sees each kind at the sizes real models have.
  // Convolution weights come in the sizes a ResNet's stages have: 3x3
  // and 1x1 filters of 64 to 2048 channels.
  auto convWeights = [](Builder &b, int64_t n) {
    std::string x = "x";
    int64_t in = 64;
    for (int64_t c : {64, 128, 256, 512})
      for (int64_t i = 0; i < n; ++i) {
        x = b.unary("Relu", b.conv(x, in, c, 3));
        x = b.unary("Relu", b.conv(x, c, 4 * c, 1));
        x = b.unary("Relu", b.conv(x, 4 * c, c, 1));
        in = c;
      }
    return x;
  };
  for (int64_t n : {1, 3}) {
    Builder b(payloads, name("weights_conv", {n}), {1, 64, 4, 4});
    models.push_back(b.finish(convWeights(b, n)));
  }
  // A ResNet's basic blocks (two 3x3 filters per block, two blocks per
  // stage): the filters come in fewer sizes, each many times.
  {
    Builder b(payloads, "weights_conv_basic", {1, 64, 4, 4});
    std::string x = "x";
    int64_t in = 64;
    for (int64_t c : {64, 128, 256, 512})
      for (int64_t i = 0; i < 4; ++i) {
        x = b.unary("Relu", b.conv(x, in, c, 3));
        in = c;
      }
    models.push_back(b.finish(x));
  }
  // Filters as a DenseNet holds them: many of middling size, each of its
  // own (the 1x1 filters of a dense block read a concatenation that grows
  // by a fixed number of channels per layer). Here 40 channels a layer
  // and 1x1 filters of 160, in blocks of 6, 12, 18 and 12 layers (no
  // torchvision DenseNet's): 31 MB in 99 tensors of 41 KB to 2.1 MB.
  // Their reorders leave the heap's high-water mark near 2.9 times their
  // bytes, where a few large filters of the same bytes leave 2.5 to 3.5
  // times (docs/Rationale.md).
  {
    Builder b(payloads, "weights_conv_dense", {1, 3, 4, 4});
    std::string x = b.unary("Relu", b.conv("x", 3, 64, 7));
    int64_t c = 64;
    const int blocks[] = {6, 12, 18, 12};
    for (int block = 0; block < 4; ++block) {
      for (int layer = 0; layer < blocks[block]; ++layer) {
        std::string y = b.unary("Relu", b.conv(x, c, 160, 1));
        y = b.unary("Relu", b.conv(y, 160, 40, 3));
        onnx::NodeProto *cat = b.node("Concat", {x, y});
        Builder::attr(cat, "axis", int64_t(1));
        x = Builder::out(cat);
        c += 40;
      }
      if (block < 3) {
        x = b.unary("Relu", b.conv(x, c, c / 2, 1));
        c /= 2;
      }
    }
    models.push_back(b.finish(x));
  }
  // Convolutions whose weights come from memory on every run, at the map
  // sizes where a network holds most of its weights (7x7 and 14x14): the
  // chains above keep theirs in the caches between runs, a network's
  // layers read each filter after the rest of the run has passed through
  // them. A pointwise filter of short rows (few input channels, many
  // output channels) then takes half again its time: each row is a
  // stream of its own the prefetcher barely starts on. Filters beyond the
  // cache the cores share, of sizes no held-out network has.
  for (auto [in, out, hw, pairs] :
       std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>>{
           {176, 1056, 7, 28}, {104, 624, 14, 72}}) {
    Builder b(payloads, name("cold_pointwise", {hw}), {1, in, hw, hw});
    std::string x = "x";
    for (int64_t i = 0; i < pairs; ++i)
      x = b.conv(b.unary("Relu", b.conv(x, in, out, 1)), out, in, 1);
    models.push_back(b.finish(x));
    models.back().scalingOnce = true;
  }
  {
    Builder b(payloads, "cold_conv_7", {1, 256, 7, 7});
    std::string x = "x";
    for (int64_t i = 0; i < 16; ++i)
      x = b.unary("Relu", b.conv(x, 256, 256, 3));
    models.push_back(b.finish(x));
    models.back().scalingOnce = true;
  }
  // Matmul weights as a transformer's MLP blocks hold them (3-D tokens,
  // bias added), and as fully connected layers do (2-D).
  // Twelve blocks (226 MB) outgrow the caches between runs, as a
  // transformer's weights do.
  auto matmulWeights = [](Builder &b, int64_t n) {
    std::string x = "x";
    for (int64_t i = 0; i < n; ++i) {
      x = b.linear(x, 768, 3072);
      x = b.unary("Relu", x);
      x = b.linear(x, 3072, 768);
    }
    return x;
  };
  for (int64_t n : {1, 4, 12}) {
    Builder b(payloads, name("weights_matmul", {n}), {1, 16, 768});
    models.push_back(b.finish(matmulWeights(b, n)));
  }
  // The smallest of each as an exporter may write them, every weight in a
  // Constant node: the runtime makes each an initializer on load, a copy
  // the models above do not cost (RuntimeMemoryModel::perConstantNodeByte).
  {
    Builder b(payloads, "constants_conv", {1, 64, 4, 4});
    b.weightsInConstantNodes();
    models.push_back(b.finish(convWeights(b, 1)));
  }
  {
    Builder b(payloads, "constants_matmul", {1, 16, 768});
    b.weightsInConstantNodes();
    models.push_back(b.finish(matmulWeights(b, 1)));
  }
  {
    Builder b(payloads, "weights_dense", {1, 2048});
    std::string x = "x";
    for (int64_t i = 0; i < 3; ++i)
      x = b.unary("Relu", b.binary("MatMul", x, b.weight({2048, 2048})));
    models.push_back(b.finish(x));
  }
  for (int64_t n : {1, 3}) {
    Builder b(payloads, name("weights_large", {n}), {1, 4096});
    std::string x = "x";
    for (int64_t i = 0; i < n; ++i)
      x = b.unary("Relu", b.binary("MatMul", x, b.weight({4096, 4096})));
    models.push_back(b.finish(x));
  }
  {
    Builder b(payloads, "weights_other", {1, 4194304});
    std::string x = b.binary("Mul", "x", b.weight({1, 4194304}));
    models.push_back(b.finish(b.binary("Add", x, b.weight({1, 4194304}))));
  }
  for (auto [c, hw] :
       std::vector<std::pair<int64_t, int64_t>>{{8, 512}, {16, 384}}) {
    Builder b(payloads, name("activations", {c, hw}), {1, c, hw, hw});
    std::string x = "x";
    std::string first = b.unary("Relu", b.conv(x, c, c, 3));
    x = b.unary("Relu", b.conv(first, c, c, 3));
    x = b.unary("Relu", b.conv(x, c, c, 3));
    models.push_back(b.finish(b.binary("Add", x, first)));
    models.back().scalingOnce = true;
  }
  // Graph probes: a mobile network's many small layers (depthwise and
  // pointwise convolutions, each with its batch normalization and
  // activation, the weights in small tensors), so that session creation
  // is seen at the nodes and weight tensors real networks have.
  for (int64_t n : {40, 120}) {
    Builder b(payloads, name("graph", {n}), {1, 16, 16, 16});
    std::string x = "x";
    for (int64_t i = 0; i < n; ++i) {
      x = i % 2 ? b.conv(x, 16, 16, 1) : b.conv(x, 16, 16, 3, 1, 16);
      x = b.unary("HardSwish", b.batchNorm(x, 16));
    }
    models.push_back(b.finish(x));
  }
  // The same as an exporter leaves it: dims named, the activation spelled
  // out (x * clip(x + 3, 0, 6) / 6) with scalar constants.
  for (int64_t n : {30, 90}) {
    Builder b(payloads, name("graph_exported", {n}), {1, 16, 16, 16}, true);
    std::string x = "x";
    for (int64_t i = 0; i < n; ++i) {
      x = i % 2 ? b.conv(x, 16, 16, 1) : b.conv(x, 16, 16, 3, 1, 16);
      x = b.batchNorm(x, 16);
      std::string c = b.out(b.node(
          "Clip", {b.binary("Add", x, b.scalar(3)), b.scalar(0), b.scalar(6)}));
      x = b.binary("Div", b.binary("Mul", x, c), b.scalar(6));
    }
    models.push_back(b.finish(x));
  }
  // The overhead probe: many kernels that do almost nothing.
  {
    Builder b(payloads, "overhead", {1, 16});
    std::string x = "x";
    for (int i = 0; i < 100; ++i)
      x = b.unary(i % 2 ? "Relu" : "Neg", x);
    models.push_back(b.finish(x));
  }
  return models;
}

chorus::CalibrationModel chorus::generateSpeedReference() {
  // Convolutions (bound by arithmetic) and elementwise adds over 200 KB
  // (bound by the caches): about half a millisecond, timed beside every
  // calibration model. Its output is pooled to 64 values: a 200 KB
  // output is a new buffer of the caller's every run, and whether its
  // pages fault in again each time depends on what the process allocated
  // before (measured: 0.6 ms against 1.2 ms a run, set by the model
  // loaded beside it), which is no measure of the machine's pace.
  Builder b(/*payloads=*/true, kSpeedReferenceName, {1, 64, 28, 28});
  std::string x = b.unary("Relu", b.conv("x", 64, 64, 3));
  x = b.binary("Add", b.conv(x, 64, 64, 3), "x");
  return b.finish(b.unary("GlobalAveragePool", b.binary("Add", x, "x")));
}
