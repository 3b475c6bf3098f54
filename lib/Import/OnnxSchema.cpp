//===- OnnxSchema.cpp - Questions to ONNX's operator schemas --------------===//

#include "chorus/Import/OnnxSchema.h"

#include "onnx/defs/schema.h"

chorus::OnnxInputLookup chorus::findOnnxInput(llvm::StringRef domain,
                                              llvm::StringRef opType,
                                              int64_t opset,
                                              llvm::StringRef inputName) {
  std::string d = domain == "ai.onnx" ? "" : domain.str();
  const onnx::OpSchema *schema =
      onnx::OpSchemaRegistry::Schema(opType.str(), static_cast<int>(opset), d);
  OnnxInputLookup found;
  if (!schema)
    return found;
  found.schemaFound = true;
  const auto &inputs = schema->inputs();
  for (unsigned i = 0; i < inputs.size(); ++i)
    if (inputs[i].GetName() == inputName)
      found.index = i;
  return found;
}

std::optional<std::variant<int64_t, std::string>>
chorus::findOnnxAttributeDefault(llvm::StringRef domain, llvm::StringRef opType,
                                 int64_t opset, llvm::StringRef attrName) {
  std::string d = domain == "ai.onnx" ? "" : domain.str();
  const onnx::OpSchema *schema =
      onnx::OpSchemaRegistry::Schema(opType.str(), static_cast<int>(opset), d);
  if (!schema)
    return std::nullopt;
  auto it = schema->attributes().find(attrName.str());
  if (it == schema->attributes().end())
    return std::nullopt;
  const onnx::AttributeProto &v = it->second.default_value;
  if (v.has_i() && v.type() == onnx::AttributeProto::INT)
    return v.i();
  if (v.has_s() && v.type() == onnx::AttributeProto::STRING)
    return v.s();
  return std::nullopt;
}
