//===- OpSupport.h - Which operators a runtime backend runs -----*- C++ -*-===//
//
// An op-support table lists the operators one backend of one runtime runs,
// with the opset ranges of each domain in ONNX Runtime's notation
// ("7-12,13,14+"). Chorus embeds the tables of ONNX Runtime Web's WebGPU and
// WebNN execution providers (lib/Target/opsupport/, generated from the
// tables the onnxruntime-web npm package ships by
// utils/op-support-from-ort-web.py). Checking a model against a table
// tells which of its nodes run on the backend and which fall back to the
// runtime's CPU (wasm) kernels, and what crosses between the two.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_TARGET_OPSUPPORT_H
#define CHORUS_TARGET_OPSUPPORT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace chorus {

/// Opset versions [first, last]; last is INT64_MAX for "N+".
struct OpsetRange {
  int64_t first = 0, last = 0;
};

/// A variant of an operator the backend lists but fails to run, found by
/// running it (bench/browser-conformance.py): the run fails, or gives other
/// results than the CPU's kernels. A node matches when it has every
/// property the refusal names.
struct OpRefusal {
  /// INT and STRING attributes by value (an absent one takes its ONNX
  /// default).
  std::map<std::string, std::variant<int64_t, std::string>> attributes;
  /// Attributes that must be absent, or present.
  std::vector<std::string> absent, present;
  /// The element types of the inputs, in order ("float32", "int64", ...;
  /// "-" for an absent optional input).
  std::vector<std::string> inputTypes;
  /// The rank of the first input.
  std::optional<int64_t> rank;
  /// A convolution's group: "depthwise" (one per input channel) or
  /// "grouped".
  std::string group;
  /// The runtime's message, when it failed ("create" or "run"), or what
  /// differed ("result").
  std::string error, stage;
  /// Where it was seen, e.g. "chromium 156, SwiftShader adapter".
  std::string seen;

  /// The condition, e.g. "ceil_mode=1".
  std::string describe() const;
};

struct OpSupportEntry {
  /// Per domain ("ai.onnx", "com.microsoft", ...), the opset ranges.
  std::map<std::string, std::vector<OpsetRange>> domains;
  /// The table's comment (limits on attributes or inputs), if any.
  std::string note;
  /// Inputs, by their names in the operator's ONNX schema, that must be
  /// constants for the backend to run the node (taken from the comment).
  std::vector<std::string> constantInputs;
  /// For WebNN: the WebNN operations the provider builds the operator from
  /// (the table's "WebNN API" column).
  std::vector<std::string> webnnOps;
  /// Variants that fail on the backend though the table lists the operator.
  std::vector<OpRefusal> refusals;
};

struct OpSupportTable {
  std::string name;
  /// The runtime and its version, e.g. "onnxruntime-web 1.30.0".
  std::string runtime;
  /// "webgpu", "webnn", ...
  std::string backend;
  /// Where the table comes from.
  std::string source;
  std::map<std::string, OpSupportEntry> ops;

  /// Whether operator `op` of `domain` ("" is ai.onnx) is in the table for
  /// a model importing `opset` of that domain. ONNX Runtime registers a
  /// kernel for the range of opsets between two versions of an operator's
  /// schema, so the model's opset falls in a listed range exactly when the
  /// version of the operator the model uses does.
  bool supports(llvm::StringRef domain, llvm::StringRef op,
                int64_t opset) const;
};

/// Parses a chorus-op-support-1 table; errors name the file and the field.
llvm::Expected<OpSupportTable> parseOpSupport(llvm::StringRef json,
                                              llvm::StringRef fileName);

/// The names of the embedded tables, sorted.
std::vector<std::string> listBuiltinOpSupport();

llvm::Expected<OpSupportTable> getBuiltinOpSupport(llvm::StringRef name);

/// What running one model on a backend with a CPU fallback looks like.
struct OpSupportVerdict {
  /// Nodes checked (every chorus.node, also inside fused groups and
  /// subgraphs) and how many of them the backend runs.
  unsigned nodes = 0, supported = 0;
  /// Unsupported operators ("domain.Op" outside ai.onnx) and their counts.
  std::map<std::string, unsigned> fallback;
  /// Why nodes of a listed operator fall back: operator -> the inputs the
  /// table requires to be constant that were not, and how many nodes.
  std::map<std::string, std::map<std::string, unsigned>> notConstant;
  /// Required-constant inputs Chorus could not check (ONNX has no schema
  /// for the operator, e.g. contrib operators): operator -> input names.
  std::map<std::string, std::set<std::string>> uncheckedInputs;
  /// WebNN operations the nodes the table lists need (for a WebNN table).
  std::set<std::string> webnnOps;
  /// Operators that fall back because the browser's WebNN context does not
  /// offer WebNN operations they need: operator -> those operations.
  std::map<std::string, std::set<std::string>> notOffered;
  /// Nodes the backend would run but fails on (the table's refusals):
  /// "Op with condition" -> the refusal and how many nodes match it. A
  /// model with any does not run on the backend at all: the runtime does
  /// not fall back to the CPU for a kernel that fails.
  struct Refused {
    const OpRefusal *refusal = nullptr;
    std::string op;
    unsigned count = 0;
  };
  std::map<std::string, Refused> refused;
  /// Maximal runs of top-level nodes, in program order, placed on the same
  /// side (backend or fallback).
  unsigned segments = 0;
  /// Values produced on one side and read on the other, and their bytes
  /// (each value counted once per side it crosses to); bytes of values
  /// whose size is not static are not counted, their number is.
  unsigned crossings = 0, unsizedCrossings = 0;
  int64_t crossingBytes = 0;
};

/// Places every node of `func` on the table's backend when the table runs
/// it, on the fallback otherwise, using the func's chorus.opset_import. A
/// node whose entry names constant inputs runs on the backend only if each
/// of them that is present is a constant: a weight, a Constant node, or a
/// value computed from constants and static shapes alone (Shape and Size
/// of a static tensor, any other node of constant operands), which is what
/// ONNX Runtime's constant folding turns into initializers before it
/// partitions the graph.
///
/// `offeredWebnnOps`, when not empty, are the WebNN operations the browser's
/// context offers (BrowserInfo::webnnOps): a node whose entry needs another
/// one falls back too.
OpSupportVerdict
checkOpSupport(mlir::func::FuncOp func, const OpSupportTable &table,
               llvm::ArrayRef<std::string> offeredWebnnOps = {});

/// Prints the verdict's fallback operators, each as " Op xN", followed by
/// why when inputs were not constant: " Reshape x2 (input 'shape' not
/// constant)".
void printFallback(llvm::raw_ostream &os, const OpSupportVerdict &verdict);

/// Why the model does not run on the backend, from the verdict's refusals:
/// "MaxPool x3 with ceil_mode=1, at run: \"...\" (seen in chromium 156,
/// SwiftShader adapter)", several joined by "; ". Empty when none.
std::string describeRefusals(const OpSupportVerdict &verdict);

} // namespace chorus

#endif // CHORUS_TARGET_OPSUPPORT_H
