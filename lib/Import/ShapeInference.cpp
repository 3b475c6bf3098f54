//===- ShapeInference.cpp - ONNX shape inference, isolated ----------------===//

#include "chorus/Import/ShapeInference.h"

#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

#include <cerrno>
#include <cstring>
#include <exception>

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

static void stripPayloads(onnx::GraphProto &graph) {
  for (onnx::TensorProto &init : *graph.mutable_initializer())
    if (init.raw_data().size() > kMaxPayloadSentToChild) {
      init.clear_raw_data();
      // Keep the tensor well-formed for inference: its type and dims say
      // all that inference reads of it.
      init.set_data_location(onnx::TensorProto::EXTERNAL);
    }
  for (onnx::NodeProto &node : *graph.mutable_node())
    for (onnx::AttributeProto &attr : *node.mutable_attribute()) {
      if (attr.has_g())
        stripPayloads(*attr.mutable_g());
      for (onnx::GraphProto &g : *attr.mutable_graphs())
        stripPayloads(g);
    }
}

/// Copies what inference added to `inferred` (same structure as `graph`).
static void mergeTypes(onnx::GraphProto &graph,
                       const onnx::GraphProto &inferred) {
  *graph.mutable_value_info() = inferred.value_info();
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

/// The child: infer, then send 'M' and the model, or 'E' and the error.
[[noreturn]] static void runChild(onnx::ModelProto &model, int fd) {
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
    onnx::shape_inference::InferShapes(
        model, onnx::OpSchemaRegistry::Instance(),
        onnx::ShapeInferenceOptions(/*check_type_val=*/false,
                                    /*strict_mode_val=*/0,
                                    /*data_prop_val=*/true));
    reply = "M" + model.SerializeAsString();
  } catch (const std::exception &e) {
    reply = std::string("E") + e.what();
  }
  writeAll(fd, reply);
  close(fd);
  _exit(0);
}

bool chorus::inferShapesIsolated(onnx::ModelProto &model,
                                 unsigned timeoutSeconds,
                                 std::string &problem) {
  onnx::ModelProto stripped = model;
  stripPayloads(*stripped.mutable_graph());

  int fds[2];
  if (pipe(fds) != 0) {
    problem = std::string("cannot create a pipe: ") + std::strerror(errno);
    return false;
  }
  pid_t child = fork();
  if (child < 0) {
    problem = std::string("cannot fork: ") + std::strerror(errno);
    close(fds[0]);
    close(fds[1]);
    return false;
  }
  if (child == 0) {
    close(fds[0]);
    runChild(stripped, fds[1]);
  }
  close(fds[1]);

  std::string reply;
  bool timedOut = false;
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  char buffer[65536];
  while (true) {
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsedMs = (now.tv_sec - start.tv_sec) * 1000 +
                     (now.tv_nsec - start.tv_nsec) / 1000000;
    long leftMs = static_cast<long>(timeoutSeconds) * 1000 - elapsedMs;
    if (leftMs <= 0) {
      timedOut = true;
      break;
    }
    pollfd pfd = {fds[0], POLLIN, 0};
    int ready = poll(&pfd, 1, static_cast<int>(leftMs));
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready <= 0) {
      timedOut = ready == 0;
      break;
    }
    ssize_t n = read(fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    reply.append(buffer, n);
  }
  close(fds[0]);
  if (timedOut)
    kill(child, SIGKILL);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }

  if (timedOut) {
    problem = "ONNX shape inference ran longer than " +
              std::to_string(timeoutSeconds) + " s and was stopped";
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
  return true;
}
