//===- OrtArena.cpp - ONNX Runtime's CPU arena over a first run -----------===//

#include "chorus/Target/OrtArena.h"

#include "chorus/Analysis/OpTable.h"
#include "chorus/Dialect/ChorusOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <limits>

using namespace mlir;
using namespace chorus;

namespace {

bool isBlockedKernel(llvm::StringRef op) {
  return op.starts_with("com.microsoft.nchwc:") &&
         op != "com.microsoft.nchwc:ReorderOutput";
}

/// Bytes of `v` as a tensor of the arena; in the NCHWc layout the channels
/// (dim 1 of a 4-D tensor) are padded to whole blocks.
std::optional<uint64_t> arenaBytes(Value v, bool blocked, unsigned block) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || !type.hasStaticShape())
    return std::nullopt;
  std::optional<int64_t> element =
      getElementStorageBytes(type.getElementType());
  uint64_t bytes =
      static_cast<uint64_t>(std::max<int64_t>(element.value_or(4), 1));
  for (auto [i, d] : llvm::enumerate(type.getShape())) {
    int64_t dim = d;
    if (blocked && block && type.getRank() == 4 && i == 1)
      dim = (d + block - 1) / block * block;
    bytes *= static_cast<uint64_t>(std::max<int64_t>(dim, 0));
  }
  return bytes;
}

} // namespace

FailureOr<OrtRunAllocations>
chorus::computeOrtRunAllocations(func::FuncOp func,
                                 const OrtCpuSettings &settings) {
  return computeOrtRunAllocations(func, settings,
                                  computeOrtKernels(func, settings));
}

FailureOr<OrtRunAllocations> chorus::computeOrtRunAllocations(
    func::FuncOp func, const OrtCpuSettings &settings, const OrtKernels &ort) {
  unsigned block = settings.level == OrtLevel::All ? settings.nchwcBlock : 0;
  // A tensor of the arena: a value in one layout.
  struct Buffer {
    uint64_t bytes = 0;
    size_t produced = 0, lastUse = 0;
    size_t handle = 0;
  };
  std::vector<Buffer> buffers;
  // Per value, its buffers by layout (NCHW, blocked); a view's value maps
  // to the buffer it reads.
  llvm::DenseMap<Value, std::array<std::optional<size_t>, 2>> byValue;
  llvm::DenseSet<Value> outputs;
  for (Operation &op : func.getBody().front())
    if (op.hasTrait<OpTrait::IsTerminator>())
      for (Value v : op.getOperands())
        outputs.insert(v);
  constexpr size_t kForever = std::numeric_limits<size_t>::max();
  // Kernel, input buffer, output buffer: where the kernel may write its
  // output over that input.
  struct InPlace {
    size_t kernel, input, output;
  };
  std::vector<InPlace> inPlaceOf;
  auto use = [&](Value v, bool blocked, size_t at) {
    auto it = byValue.find(v);
    if (it == byValue.end())
      return;
    std::optional<size_t> b = it->second[blocked];
    if (!b)
      b = it->second[!blocked];
    if (b && buffers[*b].lastUse != kForever)
      buffers[*b].lastUse = std::max(buffers[*b].lastUse, at);
  };
  for (auto [k, kernel] : llvm::enumerate(ort.kernels)) {
    bool blocked = isBlockedKernel(kernel.op);
    if (kernel.nodes.empty()) {
      // An inserted reorder: a copy of its value in the other layout.
      if (!kernel.value || kernel.op.find("Reorder") == std::string::npos)
        continue;
      bool toBlocked = kernel.op == "com.microsoft.nchwc:ReorderInput";
      use(kernel.value, !toBlocked, k);
      std::optional<uint64_t> bytes =
          arenaBytes(kernel.value, toBlocked, block);
      if (!bytes)
        return failure();
      byValue[kernel.value][toBlocked] = buffers.size();
      buffers.push_back({*bytes, k, k, 0});
      continue;
    }
    for (Value v : getKernelOperands(kernel))
      use(v, blocked, k);
    // A single view node (Reshape, Flatten, Squeeze...) reads its input's
    // buffer in place.
    NodeOp front = kernel.nodes.empty() ? NodeOp() : kernel.nodes.front();
    if (kernel.nodes.size() == 1 && isViewNode(front) &&
        !front.getInputs().empty()) {
      Value in = front.getInputs().front();
      auto it = byValue.find(in);
      if (it != byValue.end()) {
        // A copy: inserting the results may grow the map and move `it`.
        std::array<std::optional<size_t>, 2> buffersOfInput = it->second;
        for (Value r : front->getResults())
          byValue[r] = buffersOfInput;
      }
      continue;
    }
    Value inPlace = getKernelInPlaceInput(kernel);
    for (Value v : getKernelResults(kernel)) {
      std::optional<uint64_t> bytes = arenaBytes(v, blocked, block);
      if (!bytes)
        return failure();
      if (inPlace) {
        auto it = byValue.find(inPlace);
        std::optional<size_t> b;
        if (it != byValue.end())
          b = it->second[blocked] ? it->second[blocked] : it->second[!blocked];
        if (b)
          inPlaceOf.push_back({k, *b, buffers.size()});
        inPlace = Value();
      }
      byValue[v][blocked] = buffers.size();
      buffers.push_back({*bytes, k, k, 0});
    }
  }
  // The model's outputs stay with the caller.
  for (Value v : outputs) {
    auto it = byValue.find(v);
    if (it != byValue.end())
      for (std::optional<size_t> b : it->second)
        if (b)
          buffers[*b].lastUse = kForever;
  }
  // ONNX Runtime's allocation planner writes an output over its input
  // where the kernel allows it, the input's last reader is that kernel, the
  // two have one size and the output is not the model's: the output allocates
  // nothing, and the input's buffer lives on as it.
  std::vector<size_t> aliasOf(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i)
    aliasOf[i] = i;
  for (const InPlace &p : inPlaceOf) {
    size_t in = p.input;
    while (aliasOf[in] != in)
      in = aliasOf[in];
    Buffer &input = buffers[in], &output = buffers[p.output];
    // A model's output is always a buffer of its own.
    if (input.lastUse != p.kernel || input.bytes != output.bytes ||
        input.bytes == 0 || output.lastUse == kForever)
      continue;
    input.lastUse = output.lastUse;
    output.bytes = 0;
    aliasOf[p.output] = in;
  }
  // A kernel's outputs are allocated, then every buffer whose last reader
  // it was is freed. (MLAS's convolutions expand im2col in tiles of 64 KiB
  // per thread: no buffer the size of the image.)
  OrtRunAllocations run;
  run.producedAt.resize(ort.kernels.size());
  run.freedAt.resize(ort.kernels.size());
  for (auto [i, b] : llvm::enumerate(buffers)) {
    run.bytes.push_back(b.bytes);
    if (!b.bytes)
      continue;
    run.producedAt[b.produced].push_back(i);
    if (b.lastUse != kForever)
      run.freedAt[b.lastUse].push_back(i);
    else
      run.kept.push_back(i);
  }
  // ONNX Runtime's memory pattern: every tensor of the run but the
  // outputs at an offset of one block, each placed in the smallest gap
  // between the blocks live when it is allocated (else at the end).
  std::vector<std::pair<uint64_t, uint64_t>> live; // offset, end; sorted
  std::vector<std::optional<std::pair<uint64_t, uint64_t>>> placed(
      buffers.size());
  for (size_t k = 0; k < ort.kernels.size(); ++k) {
    for (size_t i : run.producedAt[k]) {
      if (buffers[i].lastUse == kForever)
        continue;
      uint64_t size = (buffers[i].bytes + 63) / 64 * 64;
      uint64_t bestOffset = 0, bestGap = std::numeric_limits<uint64_t>::max();
      bool found = false;
      uint64_t previousEnd = 0;
      for (auto [offset, end] : live) {
        if (offset >= previousEnd + size && offset - previousEnd < bestGap) {
          bestGap = offset - previousEnd;
          bestOffset = previousEnd;
          found = true;
        }
        previousEnd = std::max(previousEnd, end);
      }
      if (!found)
        bestOffset = previousEnd;
      placed[i] = {bestOffset, bestOffset + size};
      live.insert(llvm::upper_bound(live, *placed[i]), *placed[i]);
      run.patternBytes = std::max(run.patternBytes, bestOffset + size);
    }
    for (size_t i : run.freedAt[k])
      if (placed[i])
        live.erase(llvm::find(live, *placed[i]));
  }
  return run;
}

void OrtArenaSimulator::firstRun(const OrtRunAllocations &run) {
  std::vector<size_t> handles(run.bytes.size(), 0);
  for (size_t k = 0; k < run.producedAt.size(); ++k) {
    for (size_t i : run.producedAt[k])
      handles[i] = arena.allocate(run.bytes[i]);
    for (size_t i : run.freedAt[k])
      arena.free(handles[i]);
  }
  // The outputs go to the caller (onnxruntime-node copies them) after the
  // run.
  for (size_t i : run.kept)
    arena.free(handles[i]);
}

void OrtArenaSimulator::patternRun(const OrtRunAllocations &run) {
  size_t block = run.patternBytes ? arena.allocate(run.patternBytes) : 0;
  std::vector<size_t> outputs;
  for (size_t i : run.kept)
    outputs.push_back(arena.allocate(run.bytes[i]));
  if (run.patternBytes)
    arena.free(block);
  for (size_t h : outputs)
    arena.free(h);
}

FailureOr<uint64_t> chorus::simulateOrtArena(func::FuncOp func,
                                             const OrtCpuSettings &settings) {
  FailureOr<OrtRunAllocations> run = computeOrtRunAllocations(func, settings);
  if (failed(run))
    return failure();
  OrtArenaSimulator simulator;
  simulator.firstRun(*run);
  return simulator.touched();
}
