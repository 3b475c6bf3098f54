//===- LoadWorkload.cpp - From model files to the advisor's workload ------===//

#include "chorus/Advisor/LoadWorkload.h"
#include "chorus/Import/ImportFlags.h"

#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Support/Nesting.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace mlir;
using namespace chorus;

namespace {
struct Request {
  std::string path;
  func::FuncOp func;
  /// The dim_param of the first input's leading dim, "" if fixed.
  std::string batchDim;
};
} // namespace

FailureOr<LoadedWorkload>
chorus::loadWorkload(MLIRContext &context, const WorkloadSpec &spec,
                     const Target &target,
                     llvm::function_ref<LogicalResult(ModuleOp)> runPipeline) {
  auto fail = [&](const llvm::Twine &message) {
    return emitError(UnknownLoc::get(&context)) << message;
  };
  // Requests: the files in order, each --batch adding B - 1 more of one.
  std::vector<std::string> paths = spec.paths;
  for (const std::string &batch : spec.batches) {
    auto [model, count] = llvm::StringRef(batch).rsplit('=');
    unsigned b = 0;
    if (model.empty() || count.getAsInteger(10, b) || b < 1 || b > 4096)
      return fail("--batch '" + batch + "' is not MODEL=B (1 <= B <= 4096)");
    auto it = llvm::find_if(
        paths, [&](const std::string &p) { return namesModel(model, p); });
    if (it == paths.end())
      return fail("--batch names '" + model.str() +
                  "', which is not among the models");
    std::string path = *it;
    for (unsigned i = 1; i < b; ++i)
      paths.push_back(path);
  }

  OwningOpRef<ModuleOp> module;
  std::vector<Request> requests;
  // Per file: its input names and their declared dim names.
  llvm::StringMap<std::pair<std::vector<std::string>,
                            std::vector<std::vector<std::string>>>>
      declaredInputs;
  bool fromMlir =
      paths.size() == 1 && llvm::StringRef(paths[0]).ends_with(".mlir");
  if (fromMlir && !spec.importOptions.dims.empty())
    return fail("--dim binds symbolic dims of ONNX models; '" + paths[0] +
                "' is a .mlir module, whose shapes are already bound");
  if (fromMlir && (!spec.importOptions.inputShapes.empty() ||
                   !spec.importOptions.inputValues.empty() ||
                   !spec.importOptions.tripCounts.empty()))
    return fail("--input-shape, --input-value and --trip-count apply to ONNX "
                "models; '" +
                paths[0] + "' is a .mlir module, already imported");
  if (fromMlir) {
    std::string error;
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
        llvm::MemoryBuffer::getFileOrSTDIN(paths[0]);
    if (!buffer)
      return fail("cannot read '" + paths[0] +
                  "': " + buffer.getError().message());
    if (getMlirNesting((*buffer)->getBuffer()) > 1000)
      return fail("'" + paths[0] + "' nests brackets too deeply");
    module = parseSourceString<ModuleOp>((*buffer)->getBuffer(),
                                         ParserConfig(&context), paths[0]);
    if (!module)
      return failure();
    for (func::FuncOp func : module->getOps<func::FuncOp>())
      requests.push_back({paths[0], func, ""});
    if (requests.empty())
      return fail("'" + paths[0] + "' holds no model (func.func)");
  } else {
    // Each file once; its requests share the func.
    module = ModuleOp::create(UnknownLoc::get(&context));
    std::vector<std::string> files;
    llvm::StringMap<size_t> fileIndex;
    for (const std::string &path : paths) {
      if (llvm::StringRef(path).ends_with(".mlir"))
        return fail("a .mlir module must be the only input ('" + path + "')");
      if (fileIndex.try_emplace(path, files.size()).second)
        files.push_back(path);
    }
    FailureOr<std::vector<ImportedModel>> models =
        importOnnxFiles(*module, files, spec.importOptions);
    if (failed(models))
      return failure();
    if (llvm::Error err =
            checkImportBindings(spec.importOptions, files, *models))
      return fail(llvm::toString(std::move(err)));
    for (auto [path, model] : llvm::zip(files, *models))
      declaredInputs[path] = {model.inputNames, model.inputDimParams};
    for (const std::string &path : paths) {
      const ImportedModel &model = (*models)[fileIndex[path]];
      std::string batchDim;
      if (!model.inputDimParams.empty() &&
          !model.inputDimParams.front().empty())
        batchDim = model.inputDimParams.front().front();
      requests.push_back({path, model.func, batchDim});
    }
  }

  // Batched variants: a model requested k > 1 times, imported again with
  // its leading input dim k times larger.
  std::vector<std::pair<std::vector<unsigned>, func::FuncOp>> batchFuncs;
  std::string noBatchReason =
      "no model is requested more than once (give it twice or use --batch)";
  if (!fromMlir) {
    llvm::StringMap<std::vector<unsigned>> byPath;
    std::vector<std::string> order;
    for (auto [i, r] : llvm::enumerate(requests)) {
      if (!byPath.count(r.path))
        order.push_back(r.path);
      byPath[r.path].push_back(i);
    }
    for (const std::string &path : order) {
      std::vector<unsigned> &group = byPath[path];
      if (group.size() < 2)
        continue;
      func::FuncOp first = requests[group.front()].func;
      std::string dim = requests[group.front()].batchDim;
      auto type = first.getNumArguments()
                      ? dyn_cast<RankedTensorType>(first.getArgumentTypes()[0])
                      : RankedTensorType();
      if (dim.empty() || !type || type.getRank() == 0 || type.isDynamicDim(0)) {
        noBatchReason = "the leading input dim of '" +
                        first.getSymName().str() +
                        "' is not a bound symbolic dim";
        continue;
      }
      ImportOptions batched = spec.importOptions;
      llvm::erase_if(batched.dims,
                     [&](const DimBinding &b) { return b.name == dim; });
      batched.dims.push_back(
          {"", dim, type.getDimSize(0) * static_cast<int64_t>(group.size())});
      // An --input-shape that set the dim scales with it.
      const auto &[names, params] = declaredInputs[path];
      for (InputShape &shape : batched.inputShapes)
        for (auto [name, dims] : llvm::zip(names, params))
          if (inputShapeApplies(shape, name, path) && !dims.empty() &&
              dims.front() == dim && !shape.dims.empty())
            shape.dims.front() *= group.size();
      FailureOr<ImportedModel> model = importOnnxFile(*module, path, batched);
      if (failed(model))
        return failure();
      batchFuncs.push_back({group, model->func});
    }
  } else {
    noBatchReason = "batching needs the ONNX files (the input is a module)";
  }
  if (failed(verify(*module)))
    return fail("the imported module does not verify");

  if (failed(runPipeline(*module)))
    return failure();

  Workload workload;
  for (WeightOp weight : module->getOps<WeightOp>())
    workload.weightBytes[weight.getSymName()] = weight.getByteSize();
  llvm::DenseMap<Operation *, unsigned> modelIndex;
  auto addModel = [&](func::FuncOp func) -> FailureOr<unsigned> {
    auto it = modelIndex.find(func);
    if (it != modelIndex.end())
      return it->second;
    FailureOr<ModelInfo> info = describeModel(func, target);
    if (failed(info))
      return failure();
    workload.models.push_back(std::move(*info));
    modelIndex[func] = workload.models.size() - 1;
    return workload.models.size() - 1;
  };
  for (const Request &r : requests) {
    FailureOr<unsigned> index = addModel(r.func);
    if (failed(index))
      return failure();
    workload.requests.push_back(*index);
  }
  for (auto &[group, func] : batchFuncs) {
    FailureOr<unsigned> index = addModel(func);
    if (failed(index))
      return failure();
    workload.batches.push_back({group, *index});
  }
  workload.noBatchReason = noBatchReason;
  std::vector<func::FuncOp> requested;
  for (const Request &r : requests)
    if (!llvm::is_contained(requested, r.func))
      requested.push_back(r.func);
  return LoadedWorkload{std::move(module), std::move(workload),
                        std::move(requested)};
}
