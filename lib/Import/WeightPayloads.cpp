//===- WeightPayloads.cpp - Reading weight payloads back ------------------===//

#include "chorus/Import/WeightPayloads.h"
#include "chorus/Import/OnnxFile.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Path.h"

#include "onnx/onnx_pb.h"

using namespace chorus;

struct WeightPayloadReader::Model {
  onnx::ModelProto proto;
  /// Tensors by ONNX name; Constant nodes' tensors are owned by `constants`.
  llvm::StringMap<const onnx::TensorProto *> tensors;
  std::deque<onnx::TensorProto> constants;
  std::string dir;

  void index(const onnx::GraphProto &graph) {
    for (const onnx::TensorProto &init : graph.initializer())
      tensors.try_emplace(init.name(), &init);
    for (const onnx::NodeProto &node : graph.node()) {
      if (std::optional<onnx::TensorProto> tensor = constantToTensor(node)) {
        constants.push_back(std::move(*tensor));
        tensors.try_emplace(node.output(0), &constants.back());
      }
      for (const onnx::AttributeProto &attr : node.attribute()) {
        if (attr.has_g())
          index(attr.g());
        for (const onnx::GraphProto &g : attr.graphs())
          index(g);
      }
    }
  }
};

WeightPayloadReader::WeightPayloadReader() = default;
WeightPayloadReader::~WeightPayloadReader() = default;

llvm::Expected<WeightPayloadReader::Model *>
WeightPayloadReader::load(llvm::StringRef path) {
  std::unique_ptr<Model> &slot = models[path];
  if (slot)
    return slot.get();
  auto model = std::make_unique<Model>();
  // Collect the loader's diagnostic as the error message.
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  std::string message;
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &diag) {
    message = diag.str();
    return mlir::success();
  });
  if (mlir::failed(loadOnnxModel(path, mlir::UnknownLoc::get(&ctx),
                                 OnnxLimits(), model->proto))) {
    models.erase(path);
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  }
  model->dir = llvm::sys::path::parent_path(path).str();
  model->index(model->proto.graph());
  slot = std::move(model);
  return slot.get();
}

llvm::Expected<TensorBytes> WeightPayloadReader::read(llvm::StringRef path,
                                                      llvm::StringRef name) {
  llvm::Expected<Model *> model = load(path);
  if (!model)
    return model.takeError();
  auto it = (*model)->tensors.find(name);
  if (it == (*model)->tensors.end())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "'" + path + "' has no tensor named '" +
                                       name + "'");
  return readTensorBytes(*it->second, (*model)->dir);
}
