//===- Deployment.cpp - The plan as runtime configuration -----------------===//

#include "chorus/Deploy/Deployment.h"
#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Import/OnnxFile.h"
#include "chorus/Support/Format.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "triton_model_config.pb.h"
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cmath>
#include <map>
#include <set>

using namespace mlir;
using namespace chorus;

extern const char *const kChorusOrtLoader;

namespace {

//===----------------------------------------------------------------------===//
// Models as the files declare them
//===----------------------------------------------------------------------===//

/// An input or output: as the file declares it (-1 for a dim of any size)
/// and as the plan binds it.
struct Tensor {
  std::string name;
  int32_t onnxType = 0;
  std::vector<int64_t> declared, planned;
};

/// One model of the plan, with the file it comes from.
struct DeployModel {
  /// The workload's model index (the unbatched variant).
  unsigned index = 0;
  std::string name, path;
  bool binaryFile = true;
  std::vector<Tensor> inputs, outputs;
  /// Every initializer name of the file.
  std::set<std::string> initializers;
  /// The leading dim of every input and output is left open by the file.
  bool batchable = false;
};

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// ONNX Runtime's JavaScript name of an ONNX element type, or "".
llvm::StringRef getOrtTypeName(int32_t type) {
  switch (type) {
  case onnx::TensorProto::FLOAT:
    return "float32";
  case onnx::TensorProto::DOUBLE:
    return "float64";
  case onnx::TensorProto::FLOAT16:
    return "float16";
  case onnx::TensorProto::INT8:
    return "int8";
  case onnx::TensorProto::UINT8:
    return "uint8";
  case onnx::TensorProto::INT16:
    return "int16";
  case onnx::TensorProto::UINT16:
    return "uint16";
  case onnx::TensorProto::INT32:
    return "int32";
  case onnx::TensorProto::UINT32:
    return "uint32";
  case onnx::TensorProto::INT64:
    return "int64";
  case onnx::TensorProto::UINT64:
    return "uint64";
  case onnx::TensorProto::BOOL:
    return "bool";
  case onnx::TensorProto::STRING:
    return "string";
  default:
    return "";
  }
}

/// Triton's data type of an ONNX element type (TYPE_INVALID if none).
inference::DataType getTritonType(int32_t type) {
  switch (type) {
  case onnx::TensorProto::FLOAT:
    return inference::TYPE_FP32;
  case onnx::TensorProto::DOUBLE:
    return inference::TYPE_FP64;
  case onnx::TensorProto::FLOAT16:
    return inference::TYPE_FP16;
  case onnx::TensorProto::BFLOAT16:
    return inference::TYPE_BF16;
  case onnx::TensorProto::INT8:
    return inference::TYPE_INT8;
  case onnx::TensorProto::UINT8:
    return inference::TYPE_UINT8;
  case onnx::TensorProto::INT16:
    return inference::TYPE_INT16;
  case onnx::TensorProto::UINT16:
    return inference::TYPE_UINT16;
  case onnx::TensorProto::INT32:
    return inference::TYPE_INT32;
  case onnx::TensorProto::UINT32:
    return inference::TYPE_UINT32;
  case onnx::TensorProto::INT64:
    return inference::TYPE_INT64;
  case onnx::TensorProto::UINT64:
    return inference::TYPE_UINT64;
  case onnx::TensorProto::BOOL:
    return inference::TYPE_BOOL;
  case onnx::TensorProto::STRING:
    return inference::TYPE_STRING;
  default:
    return inference::TYPE_INVALID;
  }
}

/// The declared tensors of a graph's inputs (initializers left out) or
/// outputs; an error names the file and the tensor that has no tensor type
/// or no shape.
llvm::Error readDeclared(const onnx::GraphProto &graph, bool inputs,
                         const std::set<std::string> &initializers,
                         llvm::StringRef path, std::vector<Tensor> &out) {
  const auto &values = inputs ? graph.input() : graph.output();
  for (const onnx::ValueInfoProto &value : values) {
    if (inputs && initializers.count(value.name()))
      continue;
    const char *what = inputs ? "input" : "output";
    if (!value.type().has_tensor_type())
      return error("'" + path + "': " + what + " '" + value.name() +
                   "' is not a tensor; runtime configurations describe "
                   "tensors only");
    const onnx::TypeProto::Tensor &type = value.type().tensor_type();
    if (!type.has_shape())
      return error("'" + path + "': " + what + " '" + value.name() +
                   "' declares no shape (not even its rank)");
    Tensor t;
    t.name = value.name();
    t.onnxType = type.elem_type();
    for (const onnx::TensorShapeProto::Dimension &dim : type.shape().dim())
      t.declared.push_back(
          dim.has_dim_value() && dim.dim_value() >= 0 ? dim.dim_value() : -1);
    out.push_back(std::move(t));
  }
  return llvm::Error::success();
}

/// The planned dims of a func's argument or result types.
std::vector<int64_t> staticDims(Type type) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (!ranked || !ranked.hasStaticShape())
    return {};
  return std::vector<int64_t>(ranked.getShape().begin(),
                              ranked.getShape().end());
}

llvm::Expected<DeployModel> describe(ModuleOp module, const ModelInfo &info,
                                     unsigned index) {
  auto func = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
      module, StringAttr::get(module.getContext(), info.name));
  auto source =
      func ? func->getAttrOfType<StringAttr>("chorus.source") : StringAttr();
  if (!source || source.getValue().empty())
    return error("model '" + info.name +
                 "' names no ONNX file (chorus.source): a deployment runs "
                 "the file a model was imported from");
  DeployModel m;
  m.index = index;
  m.name = info.name;
  m.path = source.getValue().str();
  llvm::SmallString<256> absolute(m.path);
  if (!llvm::sys::fs::make_absolute(absolute))
    m.path = std::string(absolute);
  onnx::ModelProto model;
  if (failed(loadOnnxModel(m.path, UnknownLoc::get(module.getContext()),
                           OnnxLimits(), model)))
    return error("cannot read '" + m.path + "' again");
  m.binaryFile = llvm::StringRef(m.path).ends_with(".onnx");
  for (const onnx::TensorProto &init : model.graph().initializer())
    m.initializers.insert(init.name());
  if (llvm::Error err =
          readDeclared(model.graph(), true, m.initializers, m.path, m.inputs))
    return std::move(err);
  if (llvm::Error err =
          readDeclared(model.graph(), false, m.initializers, m.path, m.outputs))
    return std::move(err);
  if (m.inputs.size() != func.getNumArguments() ||
      m.outputs.size() != func.getNumResults())
    return error("'" + m.path + "' declares " + llvm::Twine(m.inputs.size()) +
                 " inputs and " + llvm::Twine(m.outputs.size()) +
                 " outputs, the imported model other counts");
  for (auto [t, type] : llvm::zip(m.inputs, func.getArgumentTypes()))
    t.planned = staticDims(type);
  for (auto [t, type] : llvm::zip(m.outputs, func.getResultTypes()))
    t.planned = staticDims(type);
  m.batchable = !m.inputs.empty();
  for (const std::vector<Tensor> *list : {&m.inputs, &m.outputs})
    for (const Tensor &t : *list)
      m.batchable &= !t.declared.empty() && t.declared.front() == -1;
  return m;
}

//===----------------------------------------------------------------------===//
// The strategy to deploy
//===----------------------------------------------------------------------===//

struct Deployment {
  const StrategyResult *strategy = nullptr;
  /// Per workload model: the model whose file and session serve it (a
  /// batched variant is served by its unbatched model).
  std::vector<unsigned> servedBy;
  /// The sessions (unbatched models the strategy runs), in first use.
  std::vector<DeployModel> models;
  /// Per session: how many of its jobs can run at once (lanes).
  std::vector<unsigned> concurrent;
  /// Per session: the largest batch one job of it runs, the workload model
  /// that runs it, and the predicted seconds batching it saves over its
  /// requests one by one.
  std::vector<unsigned> batch, batchModel;
  std::vector<double> batchSaving;
  bool sideBySide = false;
  /// Weight symbols read by more than one session: the sessions reading
  /// each, and whether a kernel that pre-packs weights reads it.
  std::map<std::string, std::pair<std::vector<unsigned>, bool>> shared;
};

unsigned sessionIndex(const Deployment &d, unsigned model) {
  for (auto [i, m] : llvm::enumerate(d.models))
    if (m.index == d.servedBy[model])
      return i;
  return 0;
}

llvm::Expected<Deployment> resolve(const DeploymentSource &plan) {
  Deployment d;
  for (const StrategyResult &s : plan.strategies)
    if (s.name == plan.recommendation.strategy)
      d.strategy = &s;
  if (!d.strategy)
    return error("no strategy was recommended (" + plan.recommendation.reason +
                 "): nothing to deploy");
  const Workload &w = plan.workload;
  d.servedBy.resize(w.models.size());
  for (unsigned i = 0; i < w.models.size(); ++i)
    d.servedBy[i] = i;
  for (const Workload::Batch &b : w.batches)
    d.servedBy[b.model] = w.requests[b.requests.front()];
  const StrategyResult &s = *d.strategy;
  for (unsigned model : s.jobModel) {
    unsigned served = d.servedBy[model];
    if (llvm::any_of(d.models,
                     [&](const DeployModel &m) { return m.index == served; }))
      continue;
    llvm::Expected<DeployModel> m =
        describe(plan.module, w.models[served], served);
    if (!m)
      return m.takeError();
    d.models.push_back(std::move(*m));
  }
  d.concurrent.assign(d.models.size(), 0);
  d.batch.assign(d.models.size(), 1);
  d.batchSaving.assign(d.models.size(), 0);
  for (const DeployModel &m : d.models)
    d.batchModel.push_back(m.index);
  std::vector<std::set<unsigned>> lanes(d.models.size());
  for (auto [j, model] : llvm::enumerate(s.jobModel)) {
    unsigned session = sessionIndex(d, model);
    lanes[session].insert(s.jobLane[j]);
    unsigned size = s.jobRequests[j].size();
    if (size > d.batch[session]) {
      d.batch[session] = size;
      d.batchModel[session] = model;
      d.batchSaving[session] =
          std::max(0.0, size * w.models[d.servedBy[model]].seconds() -
                            w.models[model].seconds());
    }
    d.sideBySide |= s.jobLane[j] > 0;
  }
  for (auto [i, l] : llvm::enumerate(lanes))
    d.concurrent[i] = l.size();
  std::map<std::string, std::set<unsigned>> readers;
  std::map<std::string, bool> prepacked;
  for (auto [i, m] : llvm::enumerate(d.models)) {
    const ModelInfo &info = w.models[m.index];
    for (auto [weight, use] : llvm::zip(info.weights, info.weightUses)) {
      readers[weight].insert(i);
      prepacked[weight] |= use != WeightUse::Other;
    }
  }
  for (auto &[weight, sessions] : readers)
    if (sessions.size() > 1)
      d.shared[weight] = {
          std::vector<unsigned>(sessions.begin(), sessions.end()),
          prepacked[weight]};
  return d;
}

/// Intra-op threads of the strategy's sessions.
unsigned intraThreads(const Deployment &d, const Target &target) {
  if (d.strategy->threads)
    return d.strategy->threads;
  return target.runtime ? target.runtime->intraOpThreads : 1;
}

std::string optimizationLevel(const Target &target) {
  return target.predictsRuntime() ? target.runtime->optimizationLevel : "all";
}

/// The ONNX names, in `m`'s file, of weight symbol `symbol`.
std::vector<std::string> onnxNamesIn(ModuleOp module, llvm::StringRef symbol,
                                     const DeployModel &m) {
  std::vector<std::string> names;
  auto weight = SymbolTable::lookupNearestSymbolFrom<WeightOp>(
      module, StringAttr::get(module.getContext(), symbol));
  if (!weight)
    return names;
  for (Attribute a : weight.getOnnxNames())
    if (auto s = dyn_cast<StringAttr>(a))
      if (m.initializers.count(s.str()) && !llvm::is_contained(names, s.str()))
        names.push_back(s.str());
  llvm::sort(names);
  return names;
}

/// Files already in `dir` among `files` (relative to it).
llvm::Error refuseExisting(llvm::StringRef dir,
                           llvm::ArrayRef<std::string> files,
                           const DeploymentOptions &options) {
  if (llvm::sys::fs::exists(dir) && !llvm::sys::fs::is_directory(dir))
    return error("'" + dir + "' exists and is not a folder");
  if (options.force)
    return llvm::Error::success();
  std::vector<std::string> existing;
  for (const std::string &file : files) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, file);
    if (llvm::sys::fs::exists(path) || llvm::sys::fs::is_symlink_file(path))
      existing.push_back(std::string(path));
  }
  if (existing.empty())
    return llvm::Error::success();
  std::string list = existing.front();
  if (existing.size() > 1)
    list += " and " + std::to_string(existing.size() - 1) + " more";
  return error("'" + dir + "' already holds " + list +
               "; give --force to overwrite");
}

/// The deployment of the plan's recommended strategy, once no file it
/// will write (`shared` and each model's `perModel`) is in the way.
llvm::Expected<Deployment> prepare(
    const DeploymentSource &plan, llvm::StringRef dir,
    const DeploymentOptions &options,
    llvm::function_ref<std::vector<std::string>(const DeployModel &)> perModel,
    std::vector<std::string> shared) {
  llvm::Expected<Deployment> d = resolve(plan);
  if (!d)
    return d.takeError();
  for (const DeployModel &m : d->models)
    for (std::string &file : perModel(m))
      shared.push_back(std::move(file));
  if (llvm::Error err = refuseExisting(dir, shared, options))
    return std::move(err);
  return d;
}

llvm::Error writeFile(llvm::StringRef dir, llvm::StringRef file,
                      llvm::StringRef contents) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, file);
  if (std::error_code ec =
          llvm::sys::fs::create_directories(llvm::sys::path::parent_path(path)))
    return error("cannot create '" + llvm::sys::path::parent_path(path) +
                 "': " + ec.message());
  // A link left by an earlier --emit-triton is replaced, not written
  // through.
  if (llvm::sys::fs::is_symlink_file(path))
    llvm::sys::fs::remove(path);
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return error("cannot write '" + path + "': " + ec.message());
  os << contents;
  os.close();
  if (os.has_error())
    return error("cannot write '" + path + "': " + os.error().message());
  return llvm::Error::success();
}

/// The model in binary form: the file's bytes, or its text parsed and
/// serialized.
llvm::Expected<std::string> binaryModel(const DeployModel &m,
                                        MLIRContext *context) {
  if (m.binaryFile) {
    auto buffer = llvm::MemoryBuffer::getFile(m.path, /*IsText=*/false);
    if (!buffer)
      return error("cannot read '" + m.path +
                   "': " + buffer.getError().message());
    return (*buffer)->getBuffer().str();
  }
  onnx::ModelProto model;
  if (failed(
          loadOnnxModel(m.path, UnknownLoc::get(context), OnnxLimits(), model)))
    return error("cannot read '" + m.path + "' again");
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return error("cannot serialize '" + m.path + "'");
  return bytes;
}

/// Whole microseconds (exact in JSON, unlike fractions of milliseconds).
int64_t us(double seconds) { return std::llround(seconds * 1e6); }

llvm::json::Array dimsJSON(llvm::ArrayRef<int64_t> dims) {
  llvm::json::Array a;
  for (int64_t d : dims)
    a.push_back(d);
  return a;
}

std::string toText(const llvm::json::Value &value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", value) << "\n";
  return text;
}

} // namespace

//===----------------------------------------------------------------------===//
// ONNX Runtime
//===----------------------------------------------------------------------===//

llvm::Error chorus::writeOrtDeployment(const DeploymentSource &plan,
                                       llvm::StringRef dir,
                                       const DeploymentOptions &options,
                                       llvm::raw_ostream &log) {
  const Target &target = plan.target;
  if (target.kind != "cpu")
    return error("--emit-ort writes ONNX Runtime CPU sessions; target '" +
                 target.name + "' is a " + target.kind +
                 " target (use --emit-triton for a GPU server)");
  llvm::Expected<Deployment> resolved =
      prepare(plan, dir, options,
              [](const DeployModel &m) {
                std::vector<std::string> files = {m.name + ".session.json"};
                if (!m.binaryFile)
                  files.push_back(m.name + ".onnx");
                return files;
              },
              {"deployment.json", "run.js"});
  if (!resolved)
    return resolved.takeError();
  Deployment &d = *resolved;
  const StrategyResult &s = *d.strategy;
  const Workload &w = plan.workload;

  unsigned threads = intraThreads(d, target);
  std::string level = optimizationLevel(target);
  std::vector<std::string> notApplied;
  uint64_t duplicatedBytes = 0;
  for (const auto &[weight, entry] : d.shared)
    duplicatedBytes += (entry.first.size() - 1) * w.weightBytes.lookup(weight);
  if (duplicatedBytes)
    notApplied.push_back(
        "weights shared between sessions: onnxruntime-node has no "
        "AddInitializer, so each session loads its own copy (" +
        formatWithSeparators(static_cast<double>(duplicatedBytes)) +
        " bytes more than the plan's memory; the C, C++, C# and Python APIs "
        "can share them as each session file lists)");

  for (auto [i, m] : llvm::enumerate(d.models)) {
    llvm::json::Object sessionOptions{
        {"graphOptimizationLevel", level},
        {"intraOpNumThreads", static_cast<int64_t>(threads)},
        {"interOpNumThreads", 1},
        {"executionMode", "sequential"},
        {"enableCpuMemArena", true},
        {"enableMemPattern", true},
    };
    llvm::json::Object why{
        {"graphOptimizationLevel",
         target.predictsRuntime()
             ? "the level the target's kernel models were calibrated at"
             : "ONNX Runtime's default; the target models no runtime"},
        {"intraOpNumThreads",
         s.threads ? "the strategy runs each session with " +
                         std::to_string(threads) + " threads"
         : target.runtime
             ? "the intra-op threads the target's runtime was calibrated "
               "with"
             : "one per session: the target does not model intra-op "
               "threads"},
        {"interOpNumThreads", "one: nodes run in sequence (executionMode)"},
        {"executionMode", "the runtime's default, which was calibrated"},
        {"enableCpuMemArena",
         "the arena the plan's memory figures assume (runtime_memory)"},
        {"enableMemPattern", "ONNX Runtime's default, which was measured"},
        {"threadAffinities", "not set: the plan does not pin sessions to "
                             "cores"},
    };
    // Spinning off for sessions side by side, and for every session with
    // a pool of threads: the target's thread models were measured so, and
    // several pools that spin after their runs take each other's cores.
    if (d.sideBySide || threads > 1) {
      sessionOptions["extra"] = llvm::json::Object{
          {"session",
           llvm::json::Object{
               {"intra_op", llvm::json::Object{{"allow_spinning", "0"}}},
               {"inter_op", llvm::json::Object{{"allow_spinning", "0"}}}}}};
      why["extra"] =
          d.sideBySide
              ? "sessions run side by side: a thread that spins while "
                "waiting takes a core from the other session"
              : "a pool of " + std::to_string(threads) +
                    " threads, measured with spinning off: pools that spin "
                    "on after their runs take the cores the next session's "
                    "threads need";
    } else {
      why["extra"] = "spinning left on (ONNX Runtime's default): one "
                     "thread per session, no pool to spin";
    }
    llvm::json::Array inputs;
    for (const Tensor &t : m.inputs)
      inputs.push_back(llvm::json::Object{{"name", t.name},
                                          {"type", getOrtTypeName(t.onnxType)},
                                          {"dims", dimsJSON(t.planned)}});
    llvm::json::Array shared;
    for (const auto &[weight, entry] : d.shared) {
      if (!llvm::is_contained(entry.first, i))
        continue;
      llvm::json::Array with;
      for (unsigned other : entry.first)
        if (other != i)
          with.push_back(d.models[other].name);
      llvm::json::Array names;
      for (const std::string &n : onnxNamesIn(plan.module, weight, m))
        names.push_back(n);
      shared.push_back(llvm::json::Object{
          {"initializers", std::move(names)},
          {"bytes", static_cast<int64_t>(w.weightBytes.lookup(weight))},
          {"shared_with", std::move(with)},
          {"prepacked", entry.second}});
    }
    llvm::json::Object session{
        {"schema", "chorus-ort-session-1"},
        {"model", m.name},
        {"file", m.binaryFile ? m.path : m.name + ".onnx"},
        {"session_options", std::move(sessionOptions)},
        {"why", std::move(why)},
        {"inputs", std::move(inputs)},
        {"shared_initializers", std::move(shared)},
    };
    if (!m.binaryFile) {
      llvm::Expected<std::string> bytes =
          binaryModel(m, plan.module.getContext());
      if (!bytes)
        return bytes.takeError();
      if (llvm::Error err = writeFile(dir, m.name + ".onnx", *bytes))
        return err;
    }
    if (llvm::Error err = writeFile(dir, m.name + ".session.json",
                                    toText(std::move(session))))
      return err;
  }

  llvm::json::Array jobs;
  unsigned lanes = 0;
  for (auto [j, model] : llvm::enumerate(s.jobModel)) {
    unsigned session = sessionIndex(d, model);
    // The job's inputs: the planned dims of the model it runs (a batched
    // variant's are larger).
    llvm::json::Array inputs;
    auto func = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
        plan.module,
        StringAttr::get(plan.module.getContext(), w.models[model].name));
    for (auto [t, type] :
         llvm::zip(d.models[session].inputs, func.getArgumentTypes()))
      inputs.push_back(
          llvm::json::Object{{"name", t.name},
                             {"type", getOrtTypeName(t.onnxType)},
                             {"dims", dimsJSON(staticDims(type))}});
    llvm::json::Array requests;
    for (unsigned r : s.jobRequests[j])
      requests.push_back(static_cast<int64_t>(r));
    jobs.push_back(
        llvm::json::Object{{"session", d.models[session].name},
                           {"lane", static_cast<int64_t>(s.jobLane[j])},
                           {"requests", std::move(requests)},
                           {"inputs", std::move(inputs)},
                           {"predicted_end_us", us(s.sim.jobEnd[j])}});
    lanes = std::max(lanes, s.jobLane[j] + 1);
  }
  llvm::json::Array sessions, notes;
  for (const DeployModel &m : d.models)
    sessions.push_back(m.name + ".session.json");
  for (const std::string &n : notApplied)
    notes.push_back(n);
  llvm::json::Object deployment{
      {"schema", "chorus-ort-deployment-1"},
      {"strategy", s.name},
      {"goal", getGoalName(plan.options.goal)},
      {"reason", plan.recommendation.reason},
      {"target", target.name},
      {"calibration", describeCalibration(target)},
      {"sessions", std::move(sessions)},
      {"lanes", static_cast<int64_t>(lanes)},
      {"requests", static_cast<int64_t>(w.requests.size())},
      {"jobs", std::move(jobs)},
      {"predicted", llvm::json::Object{{"makespan_us", us(s.makespan)},
                                       {"mean_latency_us", us(s.meanLatency)},
                                       {"footprint_bytes",
                                        static_cast<int64_t>(s.footprint())}}},
      {"not_applied", std::move(notes)},
  };
  // glibc reads its mmap threshold from the environment when the process
  // starts: run.js runs itself again with it where it is missing.
  uint64_t threshold = target.runtime ? target.runtime->mallocMmapThreshold : 0;
  if (threshold > 0) {
    deployment["environment"] = llvm::json::Object{
        {"MALLOC_MMAP_THRESHOLD_", std::to_string(threshold)}};
    deployment["environment_why"] =
        "the target's runtime was calibrated with glibc's mmap threshold "
        "fixed (runtime.malloc_mmap_threshold): the memory the plan "
        "predicts holds in a process started with it";
  }
  if (llvm::Error err =
          writeFile(dir, "deployment.json", toText(std::move(deployment))))
    return err;
  if (llvm::Error err = writeFile(dir, "run.js", kChorusOrtLoader))
    return err;
  log << "wrote the ONNX Runtime deployment of '" << s.name << "' to " << dir
      << ": " << d.models.size() << " session file"
      << (d.models.size() == 1 ? "" : "s") << ", deployment.json, run.js (node "
      << dir << "/run.js --ort <node_modules>)\n";
  if (threshold > 0)
    log << "  the process needs MALLOC_MMAP_THRESHOLD_=" << threshold
        << " in its environment (run.js sets it, running itself again)\n";
  for (const std::string &n : notApplied)
    log << "  not applied in onnxruntime-node: " << n << "\n";
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Triton
//===----------------------------------------------------------------------===//

namespace {

void setParameter(inference::ModelConfig &config, const std::string &key,
                  const std::string &value) {
  (*config.mutable_parameters())[key].set_string_value(value);
}

/// The Triton configuration of session `i` under strategy `s`.
inference::ModelConfig tritonConfig(const Deployment &d, unsigned i,
                                    const Target &target, bool batched,
                                    bool limitConcurrency) {
  const DeployModel &m = d.models[i];
  inference::ModelConfig config;
  config.set_name(m.name);
  config.set_backend("onnxruntime");
  unsigned maxBatch = m.batchable ? d.batch[i] : 0;
  config.set_max_batch_size(static_cast<int32_t>(maxBatch));
  auto dimsOf = [&](const Tensor &t) {
    std::vector<int64_t> dims = t.declared;
    if (maxBatch > 0)
      dims.erase(dims.begin());
    return dims;
  };
  for (const Tensor &t : m.inputs) {
    inference::ModelInput *in = config.add_input();
    in->set_name(t.name);
    in->set_data_type(getTritonType(t.onnxType));
    for (int64_t dim : dimsOf(t))
      in->add_dims(dim);
  }
  for (const Tensor &t : m.outputs) {
    inference::ModelOutput *out = config.add_output();
    out->set_name(t.name);
    out->set_data_type(getTritonType(t.onnxType));
    for (int64_t dim : dimsOf(t))
      out->add_dims(dim);
  }
  std::string level = optimizationLevel(target);
  if (level != "all")
    config.mutable_optimization()->mutable_graph()->set_level(
        level == "basic"      ? -1
        : level == "extended" ? 1
                              : 2);
  if (batched && maxBatch > 1) {
    inference::ModelDynamicBatching *batching =
        config.mutable_dynamic_batching();
    batching->add_preferred_batch_size(static_cast<int32_t>(maxBatch));
    // Waiting for a full batch pays off for at most the time batching
    // saves.
    batching->set_max_queue_delay_microseconds(
        static_cast<uint64_t>(us(d.batchSaving[i])));
  }
  inference::ModelInstanceGroup *group = config.add_instance_group();
  group->set_name(m.name);
  group->set_count(static_cast<int32_t>(std::max(1u, d.concurrent[i])));
  group->set_kind(target.kind == "gpu"
                      ? inference::ModelInstanceGroup::KIND_GPU
                      : inference::ModelInstanceGroup::KIND_CPU);
  if (limitConcurrency) {
    inference::ModelRateLimiter::Resource *r =
        group->mutable_rate_limiter()->add_resources();
    r->set_name("chorus_one_at_a_time");
    r->set_global(true);
    r->set_count(1);
  }
  setParameter(config, "intra_op_thread_count",
               std::to_string(intraThreads(d, target)));
  setParameter(config, "inter_op_thread_count", "1");
  setParameter(config, "execution_mode", "0");
  setParameter(config, "enable_mem_arena", "1");
  setParameter(config, "enable_mem_pattern", "1");
  inference::ModelWarmup *warmup = config.add_model_warmup();
  warmup->set_name("planned_shape");
  // Triton wants a batch size of at least 1, and exactly 1 for a model
  // that does not batch.
  warmup->set_batch_size(1);
  warmup->set_count(3);
  for (const Tensor &t : m.inputs) {
    inference::ModelWarmup::Input &in = (*warmup->mutable_inputs())[t.name];
    in.set_data_type(getTritonType(t.onnxType));
    std::vector<int64_t> dims = t.planned;
    if (maxBatch > 0 && !dims.empty())
      dims.erase(dims.begin());
    for (int64_t dim : dims)
      in.add_dims(dim);
    in.set_zero_data(true);
  }
  return config;
}

std::string printConfig(const inference::ModelConfig &config) {
  google::protobuf::TextFormat::Printer printer;
  std::string text;
  printer.PrintToString(config, &text);
  return text;
}

/// What Triton's server holds for the deployment's instances, each a
/// session with its own weights and arena (a batching instance the arena
/// of its largest batch), in service: on a target that models the
/// runtime's memory, the sessions of one process as predictSetMemory has
/// them (the runtime's process included); else weights plus arena each.
double tritonInstanceBytes(const Deployment &d, const Workload &w,
                           const Target &target) {
  std::vector<SessionMemory> sessions;
  double bytes = 0;
  for (unsigned i = 0; i < d.models.size(); ++i) {
    const ModelInfo &info = w.models[d.batchModel[i]];
    for (unsigned k = 0; k < std::max(1u, d.concurrent[i]); ++k) {
      if (target.runtimeMemory) {
        sessions.push_back(
            predictSession(*target.runtimeMemory, info.memoryFeatures));
        continue;
      }
      for (const std::string &weight : info.weights)
        bytes += w.weightBytes.lookup(weight);
      bytes += info.memoryFeatures.arenaBytes;
    }
  }
  return target.runtimeMemory
             ? predictSetMemory(*target.runtimeMemory, sessions).inService
             : bytes;
}

/// Ranks the available, feasible strategies for the goal (best first).
std::vector<const StrategyResult *> ranked(const DeploymentSource &plan) {
  std::vector<const StrategyResult *> list;
  for (const StrategyResult &s : plan.strategies)
    if (s.available && s.feasible)
      list.push_back(&s);
  llvm::stable_sort(list,
                    [&](const StrategyResult *a, const StrategyResult *b) {
                      return goalMetric(*a, plan.options.goal) <
                             goalMetric(*b, plan.options.goal);
                    });
  return list;
}

} // namespace

llvm::Error chorus::writeTritonRepository(const DeploymentSource &plan,
                                          llvm::StringRef dir,
                                          const DeploymentOptions &options,
                                          llvm::raw_ostream &log) {
  const Target &target = plan.target;
  if (target.kind == "browser")
    return error("--emit-triton configures a Triton server; target '" +
                 target.name + "' is a browser");
  llvm::Expected<Deployment> resolved =
      prepare(plan, dir, options,
              [](const DeployModel &m) {
                return std::vector<std::string>{m.name + "/config.pbtxt",
                                                m.name + "/1/model.onnx"};
              },
              {"model-analyzer.yaml", "chorus-notes.txt"});
  if (!resolved)
    return resolved.takeError();
  Deployment &d = *resolved;
  const StrategyResult &s = *d.strategy;
  const Workload &w = plan.workload;
  llvm::SmallString<256> absoluteDir(dir);
  llvm::sys::fs::make_absolute(absoluteDir);

  bool batched = s.name == "batched";
  // One job at a time where the strategy runs more than one.
  bool limit = !d.sideBySide && s.jobModel.size() > 1;
  std::vector<std::string> notes;
  if (limit)
    notes.push_back(
        "one model at a time: each instance holds the global rate-limiter "
        "resource 'chorus_one_at_a_time' (count 1); start tritonserver with "
        "--rate-limit=execution_count. Triton orders requests as they "
        "arrive; the plan's order (" +
        s.name + ", shortest first) is the client's to keep");
  if (!d.shared.empty()) {
    double plannedWeights = 0, tritonWeights = 0;
    for (const auto &[weight, entry] : d.shared) {
      plannedWeights += w.weightBytes.lookup(weight);
      tritonWeights += entry.first.size() * w.weightBytes.lookup(weight);
    }
    notes.push_back(
        "weights shared between models: Triton gives every model and "
        "instance its own copy (" +
        formatWithSeparators(tritonWeights - plannedWeights) +
        " bytes of weights more than the plan, which loads them once)");
  }
  double tritonBytes = tritonInstanceBytes(d, w, target);
  notes.push_back("memory under Triton: " + formatWithSeparators(tritonBytes) +
                  " bytes (every instance its own weights and arena" +
                  (target.runtimeMemory
                       ? ", the runtime's footprint as the target "
                         "models it"
                       : ", weights plus each model's arena") +
                  ") against the plan's " +
                  formatWithSeparators(static_cast<double>(
                      s.runtimeBytes ? s.runtimeBytes : s.footprint())) +
                  " bytes" + (s.runtimeBytes ? " in service" : "") +
                  "; Triton's own server process is not included");
  for (auto [i, m] : llvm::enumerate(d.models))
    if (!m.batchable && d.batch[i] > 1)
      notes.push_back("'" + m.name +
                      "' cannot batch in Triton: its file fixes the leading "
                      "dim of an input or output");
  if (intraThreads(d, target) > 1)
    notes.push_back("the ONNX Runtime backend has no documented setting to "
                    "turn the intra-op threads' spinning off, which the "
                    "target's thread models assume and --emit-ort sets");

  for (auto [i, m] : llvm::enumerate(d.models)) {
    inference::ModelConfig config = tritonConfig(d, i, target, batched, limit);
    if (llvm::Error err =
            writeFile(dir, m.name + "/config.pbtxt", printConfig(config)))
      return err;
    llvm::SmallString<256> version(dir);
    llvm::sys::path::append(version, m.name, "1");
    if (std::error_code ec = llvm::sys::fs::create_directories(version))
      return error("cannot create '" + version + "': " + ec.message());
    llvm::SmallString<256> model(version);
    llvm::sys::path::append(model, "model.onnx");
    if (!options.copyModels && m.binaryFile) {
      llvm::sys::fs::remove(model);
      if (std::error_code ec = llvm::sys::fs::create_link(m.path, model))
        return error("cannot link '" + model + "' to '" + m.path +
                     "': " + ec.message());
    } else {
      llvm::Expected<std::string> bytes =
          binaryModel(m, plan.module.getContext());
      if (!bytes)
        return bytes.takeError();
      if (llvm::Error err = writeFile(dir, m.name + "/1/model.onnx", *bytes))
        return err;
    }
  }

  // Model Analyzer: the few configurations the plan ranks best, as a
  // manual sweep (no automatic search).
  std::vector<const StrategyResult *> best = ranked(plan);
  if (best.size() > 3)
    best.resize(3);
  std::string yaml;
  llvm::raw_string_ostream os(yaml);
  os << "# Triton Model Analyzer seed from chorus-plan: the configurations "
        "the plan\n# ranks best for "
     << getGoalName(plan.options.goal) << " (";
  for (auto [k, b] : llvm::enumerate(best))
    os << (k ? ", " : "") << b->name;
  os << ").\n#   model-analyzer profile -f model-analyzer.yaml\n";
  os << "model_repository: " << absoluteDir << "\n";
  os << "run_config_search_disable: true\n";
  os << "profile_models:\n";
  for (auto [i, m] : llvm::enumerate(d.models)) {
    std::set<int64_t> counts, batches, threads;
    for (const StrategyResult *b : best) {
      threads.insert(b->threads       ? b->threads
                     : target.runtime ? target.runtime->intraOpThreads
                                      : 1);
      std::set<unsigned> lanes;
      int64_t batch = 1;
      for (auto [j, model] : llvm::enumerate(b->jobModel))
        if (d.servedBy[model] == m.index) {
          lanes.insert(b->jobLane[j]);
          batch = std::max<int64_t>(batch, b->jobRequests[j].size());
        }
      counts.insert(std::max<int64_t>(1, lanes.size()));
      batches.insert(m.batchable ? batch : 0);
    }
    auto list = [](const std::set<int64_t> &values) {
      std::string text = "[";
      for (int64_t v : values)
        text += (text.size() > 1 ? ", " : "") + std::to_string(v);
      return text + "]";
    };
    os << "  " << m.name << ":\n";
    os << "    cpu_only: " << (target.kind == "gpu" ? "false" : "true") << "\n";
    os << "    model_config_parameters:\n";
    os << "      max_batch_size: " << list(batches) << "\n";
    if (batches.size() > 1 || *batches.rbegin() > 1)
      os << "      dynamic_batching:\n        max_queue_delay_microseconds: ["
         << us(d.batchSaving[i]) << "]\n";
    std::string quoted = "[";
    for (int64_t t : threads)
      quoted += (quoted.size() > 1 ? ", \"" : "\"") + std::to_string(t) + "\"";
    os << "      parameters:\n        intra_op_thread_count:\n"
       << "          string_value: " << quoted << "]\n";
    os << "      instance_group:\n        - kind: "
       << (target.kind == "gpu" ? "KIND_GPU" : "KIND_CPU")
       << "\n          count: " << list(counts) << "\n";
    os << "    parameters:\n      concurrency: " << list(counts)
       << "\n      batch_sizes: [1]\n";
  }
  if (llvm::Error err = writeFile(dir, "model-analyzer.yaml", yaml))
    return err;
  std::string text;
  for (const std::string &n : notes)
    text += "- " + n + "\n";
  if (llvm::Error err = writeFile(dir, "chorus-notes.txt", text))
    return err;
  log << "wrote a Triton model repository for '" << s.name << "' to " << dir
      << ": " << d.models.size() << " model"
      << (d.models.size() == 1 ? "" : "s")
      << ", model-analyzer.yaml, chorus-notes.txt\n";
  for (const std::string &n : notes)
    log << "  triton: " << n << "\n";
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Checking a repository
//===----------------------------------------------------------------------===//

namespace {

/// Collects parse errors with their line and column.
class ErrorCollector : public google::protobuf::io::ErrorCollector {
public:
  void AddError(int line, int column, const std::string &message) override {
    errors.push_back(
        llvm::formatv("{0}:{1}: {2}", line + 1, column + 1, message).str());
  }
  void AddWarning(int line, int column, const std::string &message) override {
    AddError(line, column, message);
  }
  std::vector<std::string> errors;
};

void checkModel(llvm::StringRef modelDir, llvm::StringRef name,
                std::vector<std::string> &problems, MLIRContext &context) {
  llvm::SmallString<256> configPath(modelDir);
  llvm::sys::path::append(configPath, "config.pbtxt");
  std::string where = std::string(configPath);
  auto problem = [&](const llvm::Twine &message) {
    problems.push_back(where + ": " + message.str());
  };
  auto buffer = llvm::MemoryBuffer::getFile(configPath, /*IsText=*/true);
  if (!buffer) {
    problem("cannot read: " + buffer.getError().message());
    return;
  }
  inference::ModelConfig config;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector collector;
  parser.RecordErrorsTo(&collector);
  if (!parser.ParseFromString((*buffer)->getBuffer().str(), &config)) {
    for (const std::string &e : collector.errors)
      problems.push_back(where + ":" + e);
    if (collector.errors.empty())
      problem("does not parse as a Triton model configuration");
    return;
  }
  if (!config.name().empty() && config.name() != name)
    problem("name '" + config.name() + "' is not the folder's, '" + name + "'");
  bool ensemble = config.platform() == "ensemble";
  if (ensemble) {
    if (config.instance_group_size() > 0)
      problem("an ensemble takes no instance_group");
    if (config.model_warmup_size() > 0)
      problem("an ensemble takes no model_warmup");
    return;
  }
  if (config.backend() != "onnxruntime" &&
      config.platform() != "onnxruntime_onnx") {
    problem("neither backend \"onnxruntime\" nor platform "
            "\"onnxruntime_onnx\": not an ONNX Runtime model");
    return;
  }
  int32_t maxBatch = config.max_batch_size();
  if (maxBatch < 0)
    problem("max_batch_size " + llvm::Twine(maxBatch) + " is negative");
  if (config.has_dynamic_batching()) {
    if (maxBatch == 0)
      problem("dynamic_batching needs max_batch_size > 0");
    for (int32_t size : config.dynamic_batching().preferred_batch_size())
      if (size < 1 || size > maxBatch)
        problem("preferred_batch_size " + llvm::Twine(size) +
                " is not within 1.." + llvm::Twine(maxBatch) +
                " (max_batch_size)");
  }
  for (const inference::ModelInstanceGroup &g : config.instance_group()) {
    if (g.count() < 0)
      problem("instance_group '" + g.name() + "' has a negative count");
    if (g.kind() == inference::ModelInstanceGroup::KIND_CPU &&
        g.gpus_size() > 0)
      problem("instance_group '" + g.name() + "' is KIND_CPU but lists gpus");
  }

  // The model file.
  std::string file = config.default_model_filename().empty()
                         ? "model.onnx"
                         : config.default_model_filename();
  llvm::SmallString<256> modelPath(modelDir);
  llvm::sys::path::append(modelPath, "1", file);
  onnx::ModelProto model;
  // Errors of the file itself go to the context's handler as well.
  ScopedDiagnosticHandler silence(&context,
                                  [](Diagnostic &) { return success(); });
  if (failed(loadOnnxModel(modelPath, UnknownLoc::get(&context), OnnxLimits(),
                           model))) {
    problem("its model '" + modelPath + "' cannot be read as ONNX");
    return;
  }
  std::set<std::string> initializers;
  for (const onnx::TensorProto &init : model.graph().initializer())
    initializers.insert(init.name());
  std::vector<Tensor> inputs, outputs;
  if (llvm::Error err =
          readDeclared(model.graph(), true, initializers, modelPath, inputs)) {
    problem(llvm::toString(std::move(err)));
    return;
  }
  if (llvm::Error err = readDeclared(model.graph(), false, initializers,
                                     modelPath, outputs)) {
    problem(llvm::toString(std::move(err)));
    return;
  }
  auto dimsText = [](auto &&dims) {
    std::string text = "[";
    for (int64_t d : dims)
      text += (text.size() > 1 ? ", " : "") + std::to_string(d);
    return text + "]";
  };
  // Declared dims against the configuration's (-1 matches any size; with
  // batching the file's leading dim must be open and is not listed).
  auto compare = [&](const char *what, const std::string &tensor, int32_t type,
                     const auto &configDims, const Tensor &declared) {
    if (getTritonType(declared.onnxType) != type)
      problem(llvm::Twine(what) + " '" + tensor + "' is " +
              inference::DataType_Name(static_cast<inference::DataType>(type)) +
              "; the model's is " +
              inference::DataType_Name(getTritonType(declared.onnxType)));
    std::vector<int64_t> expected = declared.declared;
    if (maxBatch > 0) {
      if (expected.empty() || expected.front() != -1) {
        problem(llvm::Twine(what) + " '" + tensor +
                "': max_batch_size > 0, but the model fixes its leading dim");
        return;
      }
      expected.erase(expected.begin());
    }
    std::vector<int64_t> got(configDims.begin(), configDims.end());
    bool match = got.size() == expected.size();
    for (size_t k = 0; match && k < got.size(); ++k)
      match = got[k] == expected[k] || (expected[k] == -1 && got[k] >= -1);
    if (!match)
      problem(llvm::Twine(what) + " '" + tensor + "' has dims " +
              dimsText(got) + "; the model declares " + dimsText(expected) +
              (maxBatch > 0 ? " after the batch dim" : ""));
  };
  auto findTensor = [](const std::vector<Tensor> &list,
                       const std::string &n) -> const Tensor * {
    for (const Tensor &t : list)
      if (t.name == n)
        return &t;
    return nullptr;
  };
  for (const inference::ModelInput &in : config.input()) {
    const Tensor *t = findTensor(inputs, in.name());
    if (!t)
      problem("input '" + in.name() + "' is not an input of the model");
    else
      compare("input", in.name(), in.data_type(), in.dims(), *t);
  }
  for (const Tensor &t : inputs)
    if (llvm::none_of(config.input(), [&](const inference::ModelInput &in) {
          return in.name() == t.name;
        }))
      problem("the model's input '" + t.name + "' is not listed");
  for (const inference::ModelOutput &out : config.output()) {
    const Tensor *t = findTensor(outputs, out.name());
    if (!t)
      problem("output '" + out.name() + "' is not an output of the model");
    else
      compare("output", out.name(), out.data_type(), out.dims(), *t);
  }
  for (const inference::ModelWarmup &warmup : config.model_warmup()) {
    if (warmup.batch_size() < 1 ||
        static_cast<int64_t>(warmup.batch_size()) > std::max(maxBatch, 1))
      problem("model_warmup '" + warmup.name() + "' has batch_size " +
              llvm::Twine(warmup.batch_size()) + " (max_batch_size " +
              llvm::Twine(maxBatch) + ")");
    for (const inference::ModelInput &in : config.input()) {
      auto it = warmup.inputs().find(in.name());
      if (it == warmup.inputs().end()) {
        problem("model_warmup '" + warmup.name() + "' gives no input '" +
                in.name() + "'");
        continue;
      }
      const inference::ModelWarmup::Input &sample = it->second;
      bool match = sample.dims_size() == in.dims_size() &&
                   sample.data_type() == in.data_type();
      for (int k = 0; match && k < in.dims_size(); ++k)
        match = sample.dims(k) >= 0 &&
                (in.dims(k) == -1 || in.dims(k) == sample.dims(k));
      if (!match)
        problem("model_warmup '" + warmup.name() + "': input '" + in.name() +
                "' " + inference::DataType_Name(sample.data_type()) + " " +
                dimsText(sample.dims()) + " does not fit " +
                inference::DataType_Name(in.data_type()) + " " +
                dimsText(in.dims()));
    }
  }
}

} // namespace

std::vector<std::string>
chorus::checkTritonRepository(llvm::StringRef dir, unsigned &modelsChecked) {
  std::vector<std::string> problems;
  modelsChecked = 0;
  std::error_code ec;
  std::vector<std::string> models;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (llvm::sys::fs::is_directory(it->path()))
      models.push_back(it->path());
  }
  if (ec) {
    problems.push_back("'" + dir.str() + "': " + ec.message());
    return problems;
  }
  llvm::sort(models);
  MLIRContext context;
  for (const std::string &model : models) {
    checkModel(model, llvm::sys::path::filename(model), problems, context);
    ++modelsChecked;
  }
  if (models.empty())
    problems.push_back("'" + dir.str() + "' holds no model folder");
  return problems;
}
