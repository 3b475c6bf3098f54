//===- ShapeInference.cpp - ONNX shape inference, isolated ----------------===//

#include "chorus/Import/ShapeInference.h"
#include "chorus/Import/ShapeFolding.h"

#include "llvm/ADT/StringRef.h"

#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <stdexcept>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

using namespace chorus;

/// Initializer payloads above this size stay in the parent: inference reads
/// only types and the small constants that data propagation folds.
static constexpr size_t kMaxPayloadSentToChild = 4096;

/// A tensor whose payload is moved out of the model while the child runs:
/// `original` holds the whole tensor, the model a skeleton with its name,
/// type and dims. `original` lives on the tensor's arena (or the heap when
/// it has none), so that the swaps are O(1) and nothing is copied.
struct MovedPayload {
  onnx::TensorProto *tensor;
  onnx::TensorProto *original;
  std::unique_ptr<onnx::TensorProto> owned;
};

static size_t payloadBytes(const onnx::TensorProto &t) {
  return t.raw_data().size() + 4 * (t.float_data_size() + t.int32_data_size()) +
         8 * (t.int64_data_size() + t.double_data_size() +
              t.uint64_data_size());
}

static void moveOut(onnx::TensorProto &tensor,
                    std::deque<MovedPayload> &moved) {
  if (payloadBytes(tensor) <= kMaxPayloadSentToChild)
    return;
  MovedPayload &slot = moved.emplace_back();
  slot.tensor = &tensor;
  if (google::protobuf::Arena *arena = tensor.GetArena()) {
    slot.original =
        google::protobuf::Arena::CreateMessage<onnx::TensorProto>(arena);
  } else {
    slot.owned = std::make_unique<onnx::TensorProto>();
    slot.original = slot.owned.get();
  }
  slot.original->Swap(&tensor);
  tensor.set_name(slot.original->name());
  *tensor.mutable_dims() = slot.original->dims();
  tensor.set_data_type(slot.original->data_type());
  tensor.set_data_location(onnx::TensorProto::EXTERNAL);
}

/// Moves large payloads of initializers and tensor attributes out of `graph`
/// and its subgraphs, leaving what inference reads: types and dims, and the
/// small constants that data propagation folds.
static void movePayloadsOut(onnx::GraphProto &graph,
                            std::deque<MovedPayload> &moved) {
  for (onnx::TensorProto &init : *graph.mutable_initializer())
    moveOut(init, moved);
  for (onnx::NodeProto &node : *graph.mutable_node())
    for (onnx::AttributeProto &attr : *node.mutable_attribute()) {
      if (attr.has_t())
        moveOut(*attr.mutable_t(), moved);
      if (attr.has_g())
        movePayloadsOut(*attr.mutable_g(), moved);
      for (onnx::GraphProto &g : *attr.mutable_graphs())
        movePayloadsOut(g, moved);
    }
}

static void movePayloadsBack(std::deque<MovedPayload> &moved) {
  for (MovedPayload &payload : moved)
    payload.tensor->Swap(payload.original);
  moved.clear();
}

/// Copies what inference added to `inferred` (same structure as `graph`).
static void mergeTypes(onnx::GraphProto &graph,
                       const onnx::GraphProto &inferred) {
  *graph.mutable_value_info() = inferred.value_info();
  // Subgraph inputs can be refined too (a Loop's carried values).
  for (int i = 0; i < graph.input_size() && i < inferred.input_size(); ++i)
    if (inferred.input(i).has_type())
      *graph.mutable_input(i)->mutable_type() = inferred.input(i).type();
  for (int i = 0; i < graph.output_size() && i < inferred.output_size(); ++i)
    if (inferred.output(i).has_type())
      *graph.mutable_output(i)->mutable_type() = inferred.output(i).type();
  for (int n = 0; n < graph.node_size() && n < inferred.node_size(); ++n) {
    onnx::NodeProto &node = *graph.mutable_node(n);
    const onnx::NodeProto &other = inferred.node(n);
    for (int a = 0; a < node.attribute_size() && a < other.attribute_size();
         ++a) {
      onnx::AttributeProto &attr = *node.mutable_attribute(a);
      const onnx::AttributeProto &otherAttr = other.attribute(a);
      if (attr.has_g() && otherAttr.has_g())
        mergeTypes(*attr.mutable_g(), otherAttr.g());
      for (int g = 0; g < attr.graphs_size() && g < otherAttr.graphs_size();
           ++g)
        mergeTypes(*attr.mutable_graphs(g), otherAttr.graphs(g));
    }
  }
}

/// Writes all of `data` to `fd`.
static void writeAll(int fd, const std::string &data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    done += n;
  }
}

/// Rounds of folding and inference: each round can make more Shape nodes
/// foldable (a Reshape typed by the previous round feeds the next Shape),
/// so a deep model may need a few per layer (ViT-B/16 with a dynamic batch:
/// 26). Rounds stop as soon as one changes nothing.
static constexpr int kMaxFoldingRounds = 256;

/// Copies the types inference found inside the subgraphs of `scratch`'s
/// nodes to the same nodes of `graph` (found by their first named result:
/// the scratch copy has fewer nodes), input types of the bodies included.
static void copySubgraphTypes(const onnx::GraphProto &scratch,
                              onnx::GraphProto &graph) {
  std::map<std::string, onnx::NodeProto *> byOutput;
  for (onnx::NodeProto &node : *graph.mutable_node())
    for (const std::string &output : node.output())
      if (!output.empty()) {
        byOutput[output] = &node;
        break;
      }
  for (const onnx::NodeProto &node : scratch.node()) {
    if (node.output_size() == 0)
      continue;
    auto it = byOutput.find(node.output(0));
    if (it == byOutput.end() || it->second->op_type() != node.op_type())
      continue;
    onnx::NodeProto &target = *it->second;
    for (const onnx::AttributeProto &attr : node.attribute()) {
      if (!attr.has_g())
        continue;
      for (onnx::AttributeProto &mine : *target.mutable_attribute()) {
        if (mine.name() != attr.name() || !mine.has_g())
          continue;
        mergeTypes(*mine.mutable_g(), attr.g());
      }
    }
  }
}

/// Input values the user gave (`--input-value`) travel to the child in the
/// model's metadata under this key, as "NAME=V,V,...".
static constexpr const char *kInputValueKey = "chorus.input_value";

/// Makes each input value in `model`'s metadata an initializer of
/// `graph` (the scratch copy), typed and shaped as the input declares.
static void addInputValues(const onnx::ModelProto &model,
                           onnx::GraphProto &graph) {
  for (const onnx::StringStringEntryProto &entry : model.metadata_props()) {
    if (entry.key() != kInputValueKey)
      continue;
    const std::string &text = entry.value();
    size_t eq = text.rfind('=');
    if (eq == std::string::npos)
      continue;
    std::string name = text.substr(0, eq);
    std::vector<double> values;
    size_t at = eq + 1;
    while (at <= text.size()) {
      size_t comma = text.find(',', at);
      if (comma == std::string::npos)
        comma = text.size();
      values.push_back(std::strtod(text.c_str() + at, nullptr));
      at = comma + 1;
    }
    for (const onnx::ValueInfoProto &input : graph.input()) {
      if (input.name() != name || !input.type().has_tensor_type())
        continue;
      onnx::TensorProto *t = graph.add_initializer();
      t->set_name(name);
      int32_t type = input.type().tensor_type().elem_type();
      t->set_data_type(type);
      size_t count = 1;
      for (const auto &d : input.type().tensor_type().shape().dim()) {
        t->add_dims(d.has_dim_value() ? d.dim_value() : 0);
        count *= d.has_dim_value() ? d.dim_value() : 0;
      }
      if (count != values.size()) {
        // A shape the user did not give: the values' own length.
        t->clear_dims();
        if (values.size() != 1 || input.type().tensor_type().shape().dim_size())
          t->add_dims(values.size());
      }
      for (double v : values) {
        // Integer values outside int64 are not represented: not folded.
        if (type != onnx::TensorProto::FLOAT &&
            type != onnx::TensorProto::DOUBLE &&
            !(v >= -9.2e18 && v <= 9.2e18)) {
          graph.mutable_initializer()->RemoveLast();
          break;
        }
        if (type == onnx::TensorProto::FLOAT)
          t->add_float_data(static_cast<float>(v));
        else if (type == onnx::TensorProto::DOUBLE)
          t->add_double_data(v);
        else if (type == onnx::TensorProto::INT64)
          t->add_int64_data(static_cast<int64_t>(v));
        else
          t->add_int32_data(static_cast<int32_t>(v));
      }
    }
  }
}

/// Folds shape computations on a scratch copy of `model` and infers again
/// until nothing more folds: each round folds what it can, else takes the
/// branch of an If whose condition folded, else gives data-dependent
/// results their largest shape. The top-level types found replace
/// `model`'s, and what was learnt (branches taken, trip counts,
/// assumptions) is added to its metadata under "chorus." keys. The model
/// itself keeps all its nodes.
static void refineByFolding(onnx::ModelProto &model,
                            const onnx::ShapeInferenceOptions &options) {
  onnx::ModelProto scratch = model;
  addInputValues(model, *scratch.mutable_graph());
  std::vector<onnx::ValueInfoProto> folded;
  FoldingNotes notes;
  bool changed = false;
  for (int round = 0; round < kMaxFoldingRounds; ++round) {
    onnx::GraphProto &graph = *scratch.mutable_graph();
    if (!foldShapeComputations(graph, folded) &&
        !inlineTakenBranches(graph, notes) && !pinUnknownExtents(graph, notes))
      break;
    changed = true;
    try {
      onnx::shape_inference::InferShapes(
          scratch, onnx::OpSchemaRegistry::Instance(), options);
    } catch (const std::exception &) {
      // A later round can meet a contradiction the first could not see
      // (a declared type that disagrees with the folded shapes): keep what
      // the first round found rather than lose all types.
      return;
    }
  }
  noteTripCounts(scratch.graph(), notes);
  for (auto &[key, value] : notes) {
    onnx::StringStringEntryProto *entry = model.add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }
  if (!changed)
    return;
  onnx::GraphProto &graph = *model.mutable_graph();
  copySubgraphTypes(scratch.graph(), graph);
  *graph.mutable_value_info() = scratch.graph().value_info();
  for (onnx::ValueInfoProto &info : folded)
    *graph.add_value_info() = std::move(info);
  for (int i = 0; i < graph.output_size(); ++i)
    if (scratch.graph().output(i).has_type())
      *graph.mutable_output(i)->mutable_type() =
          scratch.graph().output(i).type();
}

/// The opset version of each domain the model imports ("" for ai.onnx).
std::map<std::string, int>
chorus::opsetVersions(const onnx::ModelProto &model) {
  std::map<std::string, int> versions;
  for (const onnx::OperatorSetIdProto &opset : model.opset_import())
    versions[opset.domain() == "ai.onnx" ? "" : opset.domain()] =
        static_cast<int>(opset.version());
  return versions;
}

/// The first node, in `graph` or its subgraphs, that does not match the ONNX
/// schema of its operator (input or output counts, missing or mistyped
/// attributes), described; std::nullopt when all match or have no schema.
/// ONNX's shape inference trusts the schema, and on such a node some of its
/// inference functions read through null pointers.
std::optional<std::string>
chorus::findSchemaMismatch(const onnx::GraphProto &graph,
                           const std::map<std::string, int> &versions) {
  for (const onnx::NodeProto &node : graph.node()) {
    std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
    auto version = versions.find(domain);
    const onnx::OpSchema *schema =
        version == versions.end()
            ? nullptr
            : onnx::OpSchemaRegistry::Schema(node.op_type(), version->second,
                                             domain);
    if (schema) {
      try {
        schema->Verify(node);
      } catch (const std::exception &e) {
        std::string what = e.what();
        // ONNX appends the whole node; the first line says what is wrong.
        what = what.substr(0, what.find('\n'));
        return "node '" + node.name() + "' (" + node.op_type() +
               ") does not match its ONNX schema: " + what;
      }
    }
    for (const onnx::AttributeProto &attr : node.attribute()) {
      if (attr.has_g())
        if (std::optional<std::string> inner =
                findSchemaMismatch(attr.g(), versions))
          return inner;
      for (const onnx::GraphProto &g : attr.graphs())
        if (std::optional<std::string> inner = findSchemaMismatch(g, versions))
          return inner;
    }
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Newer opsets, lowered for ONNX 1.12's schemas
//===----------------------------------------------------------------------===//

static const char *const kReduceOps[] = {
    "ReduceMean",   "ReduceMax",       "ReduceMin",
    "ReduceProd",   "ReduceL1",        "ReduceL2",
    "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};

bool chorus::canLowerOpsetForInference(const onnx::ModelProto &model) {
  const auto &known =
      onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  for (const onnx::OperatorSetIdProto &opset : model.opset_import()) {
    std::string domain = opset.domain() == "ai.onnx" ? "" : opset.domain();
    auto it = known.find(domain);
    if (it != known.end() && opset.version() > it->second.second &&
        !domain.empty())
      return false;
  }
  return true;
}

/// The small integer constants of `graph` (initializers and Constant
/// nodes), by name.
static void
collectIntConstants(const onnx::GraphProto &graph,
                    std::map<std::string, std::vector<int64_t>> &out) {
  auto read =
      [](const onnx::TensorProto &t) -> std::optional<std::vector<int64_t>> {
    if (t.data_type() != onnx::TensorProto::INT64)
      return std::nullopt;
    if (t.has_raw_data()) {
      std::vector<int64_t> v(t.raw_data().size() / 8);
      std::memcpy(v.data(), t.raw_data().data(), v.size() * 8);
      return v;
    }
    return std::vector<int64_t>(t.int64_data().begin(), t.int64_data().end());
  };
  for (const onnx::TensorProto &init : graph.initializer())
    if (auto v = read(init))
      out[init.name()] = *v;
  for (const onnx::NodeProto &node : graph.node())
    if (node.op_type() == "Constant" && node.output_size() == 1)
      for (const onnx::AttributeProto &a : node.attribute())
        if (a.name() == "value" && a.has_t())
          if (auto v = read(a.t()))
            out[node.output(0)] = *v;
}

static void removeAttribute(onnx::NodeProto &node, const std::string &name) {
  auto *attrs = node.mutable_attribute();
  for (int i = 0; i < attrs->size(); ++i)
    if (attrs->Get(i).name() == name) {
      attrs->DeleteSubrange(i, 1);
      return;
    }
}

static void lowerGraph(onnx::GraphProto &graph,
                       std::map<std::string, std::vector<int64_t>> constants) {
  collectIntConstants(graph, constants);
  for (onnx::NodeProto &node : *graph.mutable_node()) {
    for (onnx::AttributeProto &attr : *node.mutable_attribute()) {
      if (attr.has_g())
        lowerGraph(*attr.mutable_g(), constants);
      for (onnx::GraphProto &g : *attr.mutable_graphs())
        lowerGraph(g, constants);
    }
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      continue;
    const std::string &op = node.op_type();
    if (std::find(std::begin(kReduceOps), std::end(kReduceOps), op) !=
            std::end(kReduceOps) &&
        node.input_size() >= 2) {
      // Opset 18 moved axes from an attribute to an input.
      auto it = constants.find(node.input(1));
      if (node.input(1).empty() || it != constants.end()) {
        if (!node.input(1).empty()) {
          onnx::AttributeProto *axes = node.add_attribute();
          axes->set_name("axes");
          axes->set_type(onnx::AttributeProto::INTS);
          for (int64_t a : it->second)
            axes->add_ints(a);
        }
        node.mutable_input()->DeleteSubrange(1, node.input_size() - 1);
        removeAttribute(node, "noop_with_empty_axes");
      }
    } else if (op == "Split") {
      removeAttribute(node, "num_outputs");
    } else if (op == "Resize") {
      removeAttribute(node, "antialias");
      removeAttribute(node, "keep_aspect_ratio_policy");
    } else if (op == "Cast" || op == "CastLike") {
      removeAttribute(node, "saturate");
    }
  }
}

static void lowerOpsetForInference(onnx::ModelProto &model) {
  for (onnx::OperatorSetIdProto &opset : *model.mutable_opset_import())
    if ((opset.domain().empty() || opset.domain() == "ai.onnx") &&
        opset.version() > kLowestInferenceOpset)
      opset.set_version(kLowestInferenceOpset);
  lowerGraph(*model.mutable_graph(), {});
}

/// The child: infer, then send 'M' and the model, or 'E' and the error.
[[noreturn]] static void runChild(onnx::ModelProto &model, int fd, bool lower) {
  // A crash here is expected on some inputs and reported by the parent: die
  // quietly, without the crash handlers the parent installed.
  for (int sig : {SIGSEGV, SIGFPE, SIGBUS, SIGILL, SIGABRT, SIGTRAP})
    signal(sig, SIG_DFL);
  int devNull = open("/dev/null", O_WRONLY);
  if (devNull >= 0) {
    dup2(devNull, STDERR_FILENO);
    dup2(devNull, STDOUT_FILENO);
  }
  std::string reply;
  try {
    if (lower) {
      lowerOpsetForInference(model);
      if (std::optional<std::string> mismatch =
              findSchemaMismatch(model.graph(), opsetVersions(model)))
        throw std::runtime_error(*mismatch + " once rewritten to opset " +
                                 std::to_string(kLowestInferenceOpset));
    }
    onnx::ShapeInferenceOptions options(/*check_type_val=*/false,
                                        /*strict_mode_val=*/0,
                                        /*data_prop_val=*/true);
    onnx::shape_inference::InferShapes(
        model, onnx::OpSchemaRegistry::Instance(), options);
    refineByFolding(model, options);
    reply = "M" + model.SerializeAsString();
  } catch (const std::exception &e) {
    reply = std::string("E") + e.what();
  }
  writeAll(fd, reply);
  close(fd);
  _exit(0);
}

chorus::ShapeInferenceJob::~ShapeInferenceJob() {
  if (fd >= 0)
    close(fd);
  if (child > 0) {
    kill(child, SIGKILL);
    while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

chorus::ShapeInferenceJob::ShapeInferenceJob(ShapeInferenceJob &&other)
    : child(other.child), fd(other.fd), startMs(other.startMs),
      timeoutSeconds(other.timeoutSeconds) {
  other.child = -1;
  other.fd = -1;
}

chorus::ShapeInferenceJob &
chorus::ShapeInferenceJob::operator=(ShapeInferenceJob &&other) {
  std::swap(child, other.child);
  std::swap(fd, other.fd);
  std::swap(startMs, other.startMs);
  std::swap(timeoutSeconds, other.timeoutSeconds);
  return *this;
}

/// Milliseconds on the monotonic clock.
static long nowMs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

std::optional<chorus::ShapeInferenceJob>
chorus::startShapeInference(onnx::ModelProto &model, unsigned timeoutSeconds,
                            std::string &problem, bool lowerOpset) {
  int fds[2];
  if (pipe(fds) != 0) {
    problem = std::string("cannot create a pipe: ") + std::strerror(errno);
    return std::nullopt;
  }
  // The child sees the model without its large payloads (fork shares the
  // rest copy-on-write); the parent puts them back at once.
  std::deque<MovedPayload> moved;
  movePayloadsOut(*model.mutable_graph(), moved);
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    runChild(model, fds[1], lowerOpset);
  }
  movePayloadsBack(moved);
  if (child < 0) {
    problem = std::string("cannot fork: ") + std::strerror(errno);
    close(fds[0]);
    close(fds[1]);
    return std::nullopt;
  }
  close(fds[1]);
  ShapeInferenceJob job;
  job.child = child;
  job.fd = fds[0];
  job.startMs = nowMs();
  job.timeoutSeconds = timeoutSeconds;
  return job;
}

bool chorus::finishShapeInference(ShapeInferenceJob &job,
                                  onnx::ModelProto &model,
                                  std::string &problem) {
  std::string reply;
  bool timedOut = false;
  char buffer[65536];
  while (true) {
    long leftMs =
        static_cast<long>(job.timeoutSeconds) * 1000 - (nowMs() - job.startMs);
    if (leftMs <= 0) {
      timedOut = true;
      break;
    }
    pollfd pfd = {job.fd, POLLIN, 0};
    int ready = poll(&pfd, 1, static_cast<int>(leftMs));
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready <= 0) {
      timedOut = ready == 0;
      break;
    }
    ssize_t n = read(job.fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    reply.append(buffer, n);
  }
  close(job.fd);
  job.fd = -1;
  if (timedOut)
    kill(job.child, SIGKILL);
  int status = 0;
  while (waitpid(job.child, &status, 0) < 0 && errno == EINTR) {
  }
  job.child = -1;

  if (timedOut) {
    problem = "ONNX shape inference ran longer than " +
              std::to_string(job.timeoutSeconds) + " s and was stopped";
    return false;
  }
  if (WIFSIGNALED(status)) {
    problem = "ONNX shape inference crashed on this model (signal " +
              std::to_string(WTERMSIG(status)) + ")";
    return false;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || reply.empty()) {
    problem = "ONNX shape inference crashed on this model (exit status " +
              std::to_string(WEXITSTATUS(status)) + ")";
    return false;
  }
  if (reply[0] == 'E') {
    problem = "ONNX shape inference stopped: " + reply.substr(1);
    return false;
  }
  onnx::ModelProto inferred;
  if (reply[0] != 'M' ||
      !inferred.ParseFromArray(reply.data() + 1, reply.size() - 1)) {
    problem = "ONNX shape inference returned an unreadable result";
    return false;
  }
  mergeTypes(*model.mutable_graph(), inferred.graph());
  for (const onnx::StringStringEntryProto &entry : inferred.metadata_props())
    if (llvm::StringRef(entry.key()).starts_with("chorus.") &&
        entry.key() != kInputValueKey)
      *model.add_metadata_props() = entry;
  return true;
}

bool chorus::inferShapesIsolated(onnx::ModelProto &model,
                                 unsigned timeoutSeconds,
                                 std::string &problem) {
  std::optional<ShapeInferenceJob> job =
      startShapeInference(model, timeoutSeconds, problem);
  return job && finishShapeInference(*job, model, problem);
}
