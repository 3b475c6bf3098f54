//===- ShapeFoldingTest.cpp - Tests of the importer's evaluator -----------===//
//
// Each kernel of the evaluator against values worked out by hand, on graphs
// built directly as protobufs: what folds becomes an initializer.
//
//===----------------------------------------------------------------------===//

#include "chorus/Import/ShapeFolding.h"

#include "onnx/onnx_pb.h"

#include "gtest/gtest.h"

#include <optional>

using namespace chorus;
using onnx::TensorProto;

namespace {

void addInts(onnx::GraphProto &g, const std::string &name,
             std::vector<int64_t> dims, std::vector<int64_t> values) {
  TensorProto *t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(TensorProto::INT64);
  for (int64_t d : dims)
    t->add_dims(d);
  for (int64_t v : values)
    t->add_int64_data(v);
}

void addFloats(onnx::GraphProto &g, const std::string &name,
               std::vector<int64_t> dims, std::vector<float> values) {
  TensorProto *t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(TensorProto::FLOAT);
  for (int64_t d : dims)
    t->add_dims(d);
  for (float v : values)
    t->add_float_data(v);
}

onnx::NodeProto &addNode(onnx::GraphProto &g, const std::string &op,
                         std::vector<std::string> inputs,
                         std::vector<std::string> outputs) {
  onnx::NodeProto &n = *g.add_node();
  n.set_op_type(op);
  for (const std::string &i : inputs)
    n.add_input(i);
  for (const std::string &o : outputs)
    n.add_output(o);
  return n;
}

void setInt(onnx::NodeProto &n, const std::string &name, int64_t value) {
  onnx::AttributeProto *a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void setInts(onnx::NodeProto &n, const std::string &name,
             std::vector<int64_t> values) {
  onnx::AttributeProto *a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values)
    a->add_ints(v);
}

/// The folded value `name` as (dims, int64 values), or nothing.
std::optional<std::pair<std::vector<int64_t>, std::vector<int64_t>>>
folded(const onnx::GraphProto &g, const std::string &name) {
  for (const TensorProto &t : g.initializer())
    if (t.name() == name) {
      std::vector<int64_t> dims(t.dims().begin(), t.dims().end()), values;
      if (t.data_type() == TensorProto::INT64)
        values.assign(t.int64_data().begin(), t.int64_data().end());
      else if (t.data_type() == TensorProto::FLOAT)
        for (float f : t.float_data())
          values.push_back(static_cast<int64_t>(f));
      else
        values.assign(t.int32_data().begin(), t.int32_data().end());
      return std::make_pair(dims, values);
    }
  return std::nullopt;
}

using Dims = std::vector<int64_t>;

/// Folds `g` once; the graph output "out" keeps its node, so each test
/// reads an inner value.
void fold(onnx::GraphProto &g) {
  std::vector<onnx::ValueInfoProto> types;
  foldShapeComputations(g, types);
}

TEST(ShapeFolding, BroadcastArithmeticAndComparison) {
  onnx::GraphProto g;
  addInts(g, "a", {2, 1}, {10, 20});
  addInts(g, "b", {3}, {1, 2, 3});
  addNode(g, "Sub", {"a", "b"}, {"d"});
  addNode(g, "Greater", {"d", "b"}, {"gt"});
  fold(g);
  auto d = folded(g, "d");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->first, (Dims{2, 3}));
  EXPECT_EQ(d->second, (Dims{9, 8, 7, 19, 18, 17}));
  auto gt = folded(g, "gt");
  ASSERT_TRUE(gt);
  EXPECT_EQ(gt->second, (Dims{1, 1, 1, 1, 1, 1}));
}

TEST(ShapeFolding, IntegerDivisionAndModFollowOnnx) {
  onnx::GraphProto g;
  addInts(g, "a", {2}, {-7, 7});
  addInts(g, "b", {}, {2});
  addInts(g, "m", {}, {-3});
  addNode(g, "Div", {"a", "b"}, {"q"});
  addNode(g, "Mod", {"a", "m"}, {"r"});
  auto &fmod = addNode(g, "Mod", {"a", "m"}, {"f"});
  setInt(fmod, "fmod", 1);
  fold(g);
  EXPECT_EQ(folded(g, "q")->second, (Dims{-3, 3}));  // toward zero
  EXPECT_EQ(folded(g, "r")->second, (Dims{-1, -2})); // the divisor's sign
  EXPECT_EQ(folded(g, "f")->second, (Dims{-1, 1}));  // the dividend's
}

TEST(ShapeFolding, OverflowAndDivisionByZeroDoNotFold) {
  onnx::GraphProto g;
  addInts(g, "big", {}, {INT64_MAX});
  addInts(g, "two", {}, {2});
  addInts(g, "zero", {}, {0});
  addNode(g, "Mul", {"big", "two"}, {"o"});
  addNode(g, "Div", {"two", "zero"}, {"z"});
  fold(g);
  EXPECT_FALSE(folded(g, "o"));
  EXPECT_FALSE(folded(g, "z"));
}

TEST(ShapeFolding, WhereKeepsInt64Exactly) {
  // INT64_MAX as a Slice end passes through Where unchanged.
  onnx::GraphProto g;
  addInts(g, "c", {2}, {1, 0});
  addInts(g, "x", {2}, {INT64_MAX, 5});
  addInts(g, "y", {2}, {-1, -2});
  TensorProto *cond = g.mutable_initializer(0);
  cond->set_data_type(TensorProto::BOOL);
  cond->clear_int64_data();
  cond->add_int32_data(1);
  cond->add_int32_data(0);
  addNode(g, "Where", {"c", "x", "y"}, {"w"});
  fold(g);
  EXPECT_EQ(folded(g, "w")->second, (Dims{INT64_MAX, -2}));
}

TEST(ShapeFolding, ReshapeWithZeroAndMinusOne) {
  onnx::GraphProto g;
  addInts(g, "x", {2, 3, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  addInts(g, "shape", {2}, {0, -1});
  addNode(g, "Reshape", {"x", "shape"}, {"r"});
  fold(g);
  auto r = folded(g, "r");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, (Dims{2, 6}));
}

TEST(ShapeFolding, SliceWithNegativeStepAndAxes) {
  onnx::GraphProto g;
  addInts(g, "x", {2, 4}, {0, 1, 2, 3, 4, 5, 6, 7});
  addInts(g, "starts", {1}, {-1});
  addInts(g, "ends", {1}, {INT64_MIN});
  addInts(g, "axes", {1}, {1});
  addInts(g, "steps", {1}, {-2});
  addNode(g, "Slice", {"x", "starts", "ends", "axes", "steps"}, {"s"});
  fold(g);
  auto s = folded(g, "s");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->first, (Dims{2, 2}));
  EXPECT_EQ(s->second, (Dims{3, 1, 7, 5}));
}

TEST(ShapeFolding, GatherTransposeConcatAlongInnerAxes) {
  onnx::GraphProto g;
  addInts(g, "x", {2, 3}, {0, 1, 2, 3, 4, 5});
  addInts(g, "i", {2}, {2, -3});
  auto &gather = addNode(g, "Gather", {"x", "i"}, {"gth"});
  setInt(gather, "axis", 1);
  auto &transpose = addNode(g, "Transpose", {"x"}, {"t"});
  setInts(transpose, "perm", {1, 0});
  auto &cat = addNode(g, "Concat", {"x", "x"}, {"c"});
  setInt(cat, "axis", 1);
  fold(g);
  EXPECT_EQ(folded(g, "gth")->second, (Dims{2, 0, 5, 3}));
  EXPECT_EQ(folded(g, "t")->first, (Dims{3, 2}));
  EXPECT_EQ(folded(g, "t")->second, (Dims{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(folded(g, "c")->second, (Dims{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5}));
}

TEST(ShapeFolding, FloatsFloorAndCastBack) {
  // paddle2onnx's resize sizes: floor(14 * 1.5) = 21.
  onnx::GraphProto g;
  addInts(g, "hw", {2}, {10, 14});
  addFloats(g, "scale", {}, {1.5f});
  auto &toFloat = addNode(g, "Cast", {"hw"}, {"f"});
  setInt(toFloat, "to", TensorProto::FLOAT);
  addNode(g, "Mul", {"f", "scale"}, {"m"});
  addNode(g, "Floor", {"m"}, {"fl"});
  auto &toInt = addNode(g, "Cast", {"fl"}, {"sizes"});
  setInt(toInt, "to", TensorProto::INT64);
  fold(g);
  EXPECT_EQ(folded(g, "sizes")->second, (Dims{15, 21}));
}

TEST(ShapeFolding, RangeTileExpandReduce) {
  onnx::GraphProto g;
  addInts(g, "start", {}, {0});
  addInts(g, "limit", {}, {5});
  addInts(g, "delta", {}, {2});
  addNode(g, "Range", {"start", "limit", "delta"}, {"r"});
  addInts(g, "reps", {1}, {2});
  addNode(g, "Tile", {"r", "reps"}, {"t"});
  addInts(g, "shape", {2}, {2, 3});
  addNode(g, "Expand", {"r", "shape"}, {"e"});
  auto &prod = addNode(g, "ReduceProd", {"shape"}, {"p"});
  setInt(prod, "keepdims", 0);
  fold(g);
  EXPECT_EQ(folded(g, "r")->second, (Dims{0, 2, 4}));
  EXPECT_EQ(folded(g, "t")->second, (Dims{0, 2, 4, 0, 2, 4}));
  EXPECT_EQ(folded(g, "e")->first, (Dims{2, 3}));
  auto p = folded(g, "p");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->first, (Dims{}));
  EXPECT_EQ(p->second, (Dims{6}));
}

TEST(ShapeFolding, RandomOpsAndOtherDomainsNeverFold) {
  onnx::GraphProto g;
  addInts(g, "shape", {1}, {3});
  addNode(g, "RandomUniformLike", {"shape"}, {"u"});
  auto &custom = addNode(g, "Identity", {"shape"}, {"c"});
  custom.set_domain("com.example");
  fold(g);
  EXPECT_FALSE(folded(g, "u"));
  EXPECT_FALSE(folded(g, "c"));
}

TEST(ShapeFolding, TakenBranchIsInlined) {
  onnx::GraphProto g;
  TensorProto *cond = g.add_initializer();
  cond->set_name("cond");
  cond->set_data_type(TensorProto::BOOL);
  cond->add_int32_data(0);
  onnx::NodeProto &node = addNode(g, "If", {"cond"}, {"y"});
  for (const char *name : {"then_branch", "else_branch"}) {
    onnx::AttributeProto *a = node.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::GRAPH);
    onnx::GraphProto *body = a->mutable_g();
    addNode(*body, name[0] == 't' ? "Relu" : "Neg", {"x"},
            {std::string(name) + "_out"});
    body->add_output()->set_name(std::string(name) + "_out");
  }
  FoldingNotes notes;
  ASSERT_TRUE(inlineTakenBranches(g, notes));
  ASSERT_EQ(g.node_size(), 2);
  EXPECT_EQ(g.node(0).op_type(), "Neg");
  EXPECT_EQ(g.node(1).op_type(), "Identity");
  EXPECT_EQ(g.node(1).output(0), "y");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].second, "y=else");
}

} // namespace
