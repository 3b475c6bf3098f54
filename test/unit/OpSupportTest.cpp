//===- OpSupportTest.cpp - Op-support tables ------------------------------===//

#include "chorus/Target/OpSupport.h"

#include "gtest/gtest.h"

using namespace chorus;

namespace {

const char *kTable = R"json({
  "schema": "chorus-op-support-1", "name": "t", "runtime": "rt 1.0",
  "backend": "webgpu", "source": "hand-written",
  "ops": {
    "Add": {"opsets": {"ai.onnx": "7-12,13,14+"}},
    "Pad": {"opsets": {"ai.onnx": "2-10,13+"}, "note": "constant mode"},
    "Tile": {"opsets": {"ai.onnx": "6+"}, "note": "'repeats' constant",
             "constant_inputs": ["repeats"], "webnn_ops": ["tile"]},
    "Gelu": {"opsets": {"ai.onnx": "20+", "com.microsoft": "1+"}}
  }
})json";

std::string errorOf(const char *json) {
  llvm::Expected<OpSupportTable> t = parseOpSupport(json, "x.json");
  if (t)
    return "";
  return llvm::toString(t.takeError());
}

TEST(OpSupport, RangesFollowOnnxRuntimeNotation) {
  llvm::Expected<OpSupportTable> t = parseOpSupport(kTable, "t.json");
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  EXPECT_FALSE(t->supports("", "Add", 6));
  EXPECT_TRUE(t->supports("", "Add", 7));
  EXPECT_TRUE(t->supports("ai.onnx", "Add", 13));
  EXPECT_TRUE(t->supports("", "Add", 22));
  // A gap: opsets 11 and 12 of Pad are not registered.
  EXPECT_TRUE(t->supports("", "Pad", 10));
  EXPECT_FALSE(t->supports("", "Pad", 11));
  EXPECT_FALSE(t->supports("", "Pad", 12));
  EXPECT_TRUE(t->supports("", "Pad", 13));
  // Domains are separate.
  EXPECT_FALSE(t->supports("", "Gelu", 17));
  EXPECT_TRUE(t->supports("com.microsoft", "Gelu", 1));
  EXPECT_FALSE(t->supports("", "Relu", 13));
  EXPECT_EQ(t->ops.at("Pad").note, "constant mode");
  EXPECT_TRUE(t->ops.at("Pad").constantInputs.empty());
  EXPECT_EQ(t->ops.at("Tile").constantInputs,
            std::vector<std::string>{"repeats"});
  EXPECT_EQ(t->ops.at("Tile").webnnOps, std::vector<std::string>{"tile"});
}

TEST(OpSupport, ErrorsNameTheField) {
  EXPECT_NE(errorOf("[1]").find("the top level must be an object"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"schema": "chorus-op-support-2"})")
                .find("field 'schema' must be \"chorus-op-support-1\""),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"schema": "chorus-op-support-1", "name": "t"})")
                .find("field 'runtime' is missing"),
            std::string::npos);
  const char *badRange = R"({"schema": "chorus-op-support-1", "name": "t",
      "runtime": "r", "backend": "b", "source": "s",
      "ops": {"Add": {"opsets": {"ai.onnx": "13-7"}}}})";
  EXPECT_NE(errorOf(badRange).find("field 'ops.Add.opsets.ai.onnx' must be "
                                   "opset ranges"),
            std::string::npos);
  const char *unknown = R"({"schema": "chorus-op-support-1", "name": "t",
      "runtime": "r", "backend": "b", "source": "s",
      "ops": {"Add": {"opsets": {"ai.onnx": "7+"}, "nots": "x"}}})";
  EXPECT_NE(errorOf(unknown).find("field 'ops.Add.nots' is not one of opsets, "
                                  "note, constant_inputs, webnn_ops, "
                                  "refusals"),
            std::string::npos);
  for (std::string field : {"constant_inputs", "webnn_ops"})
    for (const char *names : {"[]", "\"shape\"", "[1]", "[\"\"]"}) {
      std::string json = R"({"schema": "chorus-op-support-1", "name": "t",
        "runtime": "r", "backend": "b", "source": "s", "ops": {"Reshape":
        {"opsets": {"ai.onnx": "5+"}, ")" +
                         field + "\": " + names + "}}}";
      EXPECT_NE(errorOf(json.c_str())
                    .find("field 'ops.Reshape." + field +
                          "' must be a non-empty array of names"),
                std::string::npos)
          << field << " " << names;
    }
  const char *noOps = R"({"schema": "chorus-op-support-1", "name": "t",
      "runtime": "r", "backend": "b", "source": "s", "ops": {}})";
  EXPECT_NE(errorOf(noOps).find("field 'ops' must be a non-empty object"),
            std::string::npos);
}

std::string refusalError(const std::string &refusal) {
  std::string json = R"({"schema": "chorus-op-support-1", "name": "t",
      "runtime": "r", "backend": "b", "source": "s", "ops": {"MaxPool":
      {"opsets": {"ai.onnx": "1+"}, "refusals": [)" +
                     refusal + "]}}}";
  return errorOf(json.c_str());
}

TEST(OpSupport, RefusalsParse) {
  const char *json = R"({"schema": "chorus-op-support-1", "name": "t",
      "runtime": "r", "backend": "webgpu", "source": "s", "ops": {"MaxPool":
      {"opsets": {"ai.onnx": "1+"}, "refusals": [
        {"when": {"attributes": {"ceil_mode": 1, "auto_pad": "SAME_UPPER"},
                  "absent": ["dilations"], "input_types": ["float16"],
                  "rank": 4},
         "error": "not implemented", "stage": "run", "seen": "chromium 156"},
        {"when": {"group": "depthwise"}, "error": "sum 2, wasm 1",
         "stage": "result", "seen": "firefox 153"}]}}})";
  llvm::Expected<OpSupportTable> t = parseOpSupport(json, "t.json");
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  const std::vector<OpRefusal> &r = t->ops.at("MaxPool").refusals;
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].describe(), "auto_pad=\"SAME_UPPER\", ceil_mode=1, no "
                             "dilations, inputs float16, rank 4");
  EXPECT_EQ(r[0].error, "not implemented");
  EXPECT_EQ(r[0].stage, "run");
  EXPECT_EQ(r[0].seen, "chromium 156");
  EXPECT_EQ(r[1].describe(), "depthwise");
  EXPECT_EQ(r[1].stage, "result");
}

TEST(OpSupport, RefusalErrorsNameTheField) {
  EXPECT_NE(refusalError("1").find(
                "field 'ops.MaxPool.refusals[0]' must be an object"),
            std::string::npos);
  EXPECT_NE(refusalError(R"({"when": {"rank": 4}, "stage": "run",
                             "seen": "x"})")
                .find("field 'ops.MaxPool.refusals[0].error' is missing"),
            std::string::npos);
  EXPECT_NE(refusalError(R"({"when": {"rank": 4}, "error": "e",
                             "stage": "later", "seen": "x"})")
                .find("field 'ops.MaxPool.refusals[0].stage' must be "
                      "create, run or result, not 'later'"),
            std::string::npos);
  EXPECT_NE(refusalError(R"({"when": {}, "error": "e", "stage": "run",
                             "seen": "x"})")
                .find("field 'ops.MaxPool.refusals[0].when' must be a "
                      "non-empty object"),
            std::string::npos);
  EXPECT_NE(refusalError(R"({"when": {"ceil": 1}, "error": "e",
                             "stage": "run", "seen": "x"})")
                .find("field 'ops.MaxPool.refusals[0].when.ceil' is not one "
                      "of attributes, absent, present, input_types, rank, "
                      "group"),
            std::string::npos);
  EXPECT_NE(refusalError(R"({"when": {"attributes": {"pads": [1, 1]}},
                             "error": "e", "stage": "run", "seen": "x"})")
                .find("field 'ops.MaxPool.refusals[0].when.attributes.pads' "
                      "must be a whole number or a string"),
            std::string::npos);
  EXPECT_NE(refusalError(R"({"when": {"group": "all"}, "error": "e",
                             "stage": "run", "seen": "x"})")
                .find("field 'ops.MaxPool.refusals[0].when.group' must be "
                      "\"depthwise\" or \"grouped\""),
            std::string::npos);
  EXPECT_NE(refusalError(R"({"when": {"rank": 4}, "error": "e",
                             "stage": "run", "seen": "x", "why": "y"})")
                .find("field 'ops.MaxPool.refusals[0].why' is not one of "
                      "when, error, stage, seen"),
            std::string::npos);
}

TEST(OpSupport, BuiltinTablesParse) {
  std::vector<std::string> names = listBuiltinOpSupport();
  ASSERT_EQ(names.size(), 2u);
  for (const std::string &name : names) {
    llvm::Expected<OpSupportTable> t = getBuiltinOpSupport(name);
    ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
    EXPECT_EQ(t->name, name);
    EXPECT_TRUE(t->supports("", "Conv", 11)) << name;
  }
  // What running ONNX Runtime Web's WebGPU kernels found.
  llvm::Expected<OpSupportTable> webgpu =
      getBuiltinOpSupport("onnxruntime-web-1.30.0-webgpu");
  ASSERT_TRUE(static_cast<bool>(webgpu));
  ASSERT_EQ(webgpu->ops.at("MaxPool").refusals.size(), 1u);
  EXPECT_EQ(webgpu->ops.at("MaxPool").refusals[0].describe(), "ceil_mode=1");
  llvm::Expected<OpSupportTable> missing = getBuiltinOpSupport("nope");
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_NE(llvm::toString(missing.takeError()).find("built-in: "),
            std::string::npos);
}

} // namespace
