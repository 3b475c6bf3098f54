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

/// BFCArena with ONNX Runtime's defaults: 256-byte granules, a first
/// region of 1 MiB, next-power-of-two growth up to 1 GiB per region,
/// chunks split when at least twice the request (or 128 MiB over it).
class BfcArena {
public:
  /// Allocates `bytes`; returns a handle for free().
  size_t allocate(uint64_t bytes) {
    uint64_t n = std::max<uint64_t>(256, (bytes + 255) / 256 * 256);
    std::optional<std::pair<size_t, size_t>> best;
    for (auto [r, region] : llvm::enumerate(regions))
      for (auto [c, chunk] : llvm::enumerate(region.chunks))
        if (!chunk.used && chunk.size >= n &&
            (!best ||
             chunk.size < regions[best->first].chunks[best->second].size))
          best = {r, c};
    if (!best) {
      extend(n);
      best = {regions.size() - 1, 0};
    }
    Region &region = regions[best->first];
    Chunk chunk = region.chunks[best->second];
    if (chunk.size >= 2 * n || chunk.size - n >= (128ull << 20)) {
      region.chunks.insert(region.chunks.begin() + best->second + 1,
                           Chunk{chunk.offset + n, chunk.size - n, false, 0});
      chunk.size = n;
    }
    chunk.used = true;
    chunk.id = ++lastId;
    region.chunks[best->second] = chunk;
    // Pages are resident once written: up to the request's end (a chunk
    // used whole may be larger than the request).
    region.touched = std::max(region.touched, chunk.offset + n);
    return chunk.id;
  }

  void free(size_t id) {
    for (Region &region : regions)
      for (size_t c = 0; c < region.chunks.size(); ++c) {
        if (region.chunks[c].id != id || !region.chunks[c].used)
          continue;
        region.chunks[c].used = false;
        region.chunks[c].id = 0;
        // Coalesce with free neighbours.
        if (c + 1 < region.chunks.size() && !region.chunks[c + 1].used) {
          region.chunks[c].size += region.chunks[c + 1].size;
          region.chunks.erase(region.chunks.begin() + c + 1);
        }
        if (c > 0 && !region.chunks[c - 1].used) {
          region.chunks[c - 1].size += region.chunks[c].size;
          region.chunks.erase(region.chunks.begin() + c);
        }
        return;
      }
  }

  /// Bytes written, over all regions.
  uint64_t touched() const {
    uint64_t bytes = 0;
    for (const Region &r : regions)
      bytes += r.touched;
    return bytes;
  }

private:
  struct Chunk {
    uint64_t offset, size;
    bool used;
    size_t id;
  };
  struct Region {
    uint64_t touched = 0;
    std::vector<Chunk> chunks;
  };

  void extend(uint64_t n) {
    constexpr uint64_t kMaxExtend = 1ull << 30;
    bool increased = false;
    while (n > next) {
      next *= 2;
      increased = true;
    }
    Region region;
    region.chunks.push_back(Chunk{0, next, false, 0});
    regions.push_back(std::move(region));
    if (!increased)
      next = next * 2 < kMaxExtend ? next * 2 : kMaxExtend;
  }

  std::vector<Region> regions;
  uint64_t next = 1ull << 20;
  size_t lastId = 0;
};

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

FailureOr<uint64_t> chorus::simulateOrtArena(func::FuncOp func,
                                             const OrtCpuSettings &settings) {
  OrtKernels ort = computeOrtKernels(func, settings);
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
    if (kernel.nodes.size() == 1 && isViewNode(kernel.nodes.front()) &&
        !kernel.nodes.front().getInputs().empty()) {
      Value in = kernel.nodes.front().getInputs().front();
      auto it = byValue.find(in);
      if (it != byValue.end()) {
        // A copy: inserting the results may grow the map and move `it`.
        std::array<std::optional<size_t>, 2> buffersOfInput = it->second;
        for (Value r : kernel.nodes.front()->getResults())
          byValue[r] = buffersOfInput;
      }
      continue;
    }
    for (Value v : getKernelResults(kernel)) {
      std::optional<uint64_t> bytes = arenaBytes(v, blocked, block);
      if (!bytes)
        return failure();
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
  // Replay: a kernel's outputs are allocated, then every buffer whose last
  // reader it was is freed. (MLAS's convolutions expand im2col in tiles of
  // 64 KiB per thread: no buffer the size of the image.)
  std::vector<std::vector<size_t>> producedAt(ort.kernels.size()),
      freedAt(ort.kernels.size());
  for (auto [i, b] : llvm::enumerate(buffers)) {
    if (!b.bytes)
      continue;
    producedAt[b.produced].push_back(i);
    if (b.lastUse != kForever)
      freedAt[b.lastUse].push_back(i);
  }
  BfcArena arena;
  for (size_t k = 0; k < ort.kernels.size(); ++k) {
    for (size_t i : producedAt[k])
      buffers[i].handle = arena.allocate(buffers[i].bytes);
    for (size_t i : freedAt[k])
      arena.free(buffers[i].handle);
  }
  return arena.touched();
}
