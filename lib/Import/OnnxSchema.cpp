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
