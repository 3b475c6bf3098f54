//===- OnnxValidation.h - Checks before an ONNX graph is read ---*- C++ -*-===//
//
// Internal to lib/Import: the structural checks the importer runs before it
// reads a graph, and the locations both use to name what they report on.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_LIB_IMPORT_ONNXVALIDATION_H
#define CHORUS_LIB_IMPORT_ONNXVALIDATION_H

#include "chorus/Import/OnnxFile.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "mlir/Support/LogicalResult.h"

#include "onnx/onnx_pb.h"

namespace chorus {

/// Locations of a model file's parts: "file: value 'x'", "file: node 'n'
/// (Op)" or "file: node #12 (Op)" when the node has no name.
class OnnxLocations {
public:
  OnnxLocations(mlir::MLIRContext *ctx, llvm::StringRef path)
      : ctx(ctx), fileLoc(mlir::FileLineColLoc::get(ctx, path, 0, 0)) {}

  mlir::Location file() const { return fileLoc; }
  mlir::Location label(const llvm::Twine &text) const {
    return mlir::NameLoc::get(mlir::StringAttr::get(ctx, text), fileLoc);
  }
  mlir::Location node(const onnx::NodeProto &node, int index) const {
    if (node.name().empty())
      return label("node #" + llvm::Twine(index) + " (" + node.op_type() + ")");
    return label("node '" + node.name() + "' (" + node.op_type() + ")");
  }

private:
  mlir::MLIRContext *ctx;
  mlir::Location fileLoc;
};

/// Checks structure before anything else reads the graph: values defined
/// before use and once (in this graph or an enclosing one), the limits,
/// attribute kinds, declared dims. Errors name the value or node.
mlir::LogicalResult validateOnnxGraph(const onnx::GraphProto &graph,
                                      const OnnxLimits &limits,
                                      const OnnxLocations &locs);

/// Puts the nodes of `graph` and of its subgraphs in a topological order,
/// as ONNX Runtime does when it loads a model: the file's order wherever it
/// is already valid (the node that comes first in the file goes first among
/// those that are ready). A node with subgraphs depends on the producers of
/// every outer value its subgraphs read. A cycle is an error that names the
/// nodes on it.
mlir::LogicalResult sortOnnxGraph(onnx::GraphProto &graph,
                                  const OnnxLocations &locs);

} // namespace chorus

#endif // CHORUS_LIB_IMPORT_ONNXVALIDATION_H
