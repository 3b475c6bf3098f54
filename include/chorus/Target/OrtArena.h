//===- OrtArena.h - ONNX Runtime's CPU arena over a first run ---*- C++ -*-===//
//
// ONNX Runtime's CPU provider serves every tensor a run allocates from its
// BFC arena: sizes rounded up to 256 bytes, the best-fitting free chunk
// (split when it is at least twice the request), and, when none fits, a
// new region of the next power of two: regions start at 1 MiB and each one
// that was not enlarged to fit a request doubles the size of the next. The
// memory a session takes in its first run is the part of those regions the
// run touched, not the peak of live tensors Chorus plans: tensors in the
// NCHWc layout are padded to whole channel blocks, reorders add copies,
// and a region is allocated whole when a request does not fit the free
// chunks of the others.
// simulateOrtArena replays a first run's allocations and frees over the
// kernels ONNX Runtime runs (computeOrtKernels) and reports what the
// arena holds afterwards.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_TARGET_ORTARENA_H
#define CHORUS_TARGET_ORTARENA_H

#include "chorus/Analysis/OrtKernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/ADT/STLExtras.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace chorus {

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

  /// Per region in the order allocated: its size and the bytes written.
  std::vector<std::pair<uint64_t, uint64_t>> regionUse() const {
    std::vector<std::pair<uint64_t, uint64_t>> use;
    for (const Region &r : regions)
      use.push_back({r.size, r.touched});
    return use;
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
    uint64_t size = 0, touched = 0;
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
    region.size = next;
    region.chunks.push_back(Chunk{0, next, false, 0});
    regions.push_back(std::move(region));
    if (!increased)
      next = next * 2 < kMaxExtend ? next * 2 : kMaxExtend;
  }

  std::vector<Region> regions;
  uint64_t next = 1ull << 20;
  size_t lastId = 0;
};

/// The allocations of one run of a model's kernels (computeOrtKernels),
/// in order: per kernel, the buffers it allocates and those it frees.
struct OrtRunAllocations {
  std::vector<uint64_t> bytes;
  std::vector<std::vector<size_t>> producedAt, freedAt;
  /// The model's outputs, freed after the run (the caller takes them).
  std::vector<size_t> kept;
  /// ONNX Runtime's memory pattern for the run: the one block a later run
  /// at the same shapes takes for every tensor but the outputs.
  uint64_t patternBytes = 0;
};

/// The allocations of a run of `func` under `settings`; fails where a
/// tensor has no static size.
mlir::FailureOr<OrtRunAllocations>
computeOrtRunAllocations(mlir::func::FuncOp func,
                         const OrtCpuSettings &settings);
/// The same, for the kernels computeOrtKernels(func, settings) gave.
mlir::FailureOr<OrtRunAllocations>
computeOrtRunAllocations(mlir::func::FuncOp func,
                         const OrtCpuSettings &settings,
                         const OrtKernels &kernels);

/// One session's arena over a sequence of runs. ONNX Runtime's arena keeps
/// its regions: a run at new input shapes allocates tensor by tensor
/// (firstRun) and records a memory pattern; a run at shapes seen before
/// takes one block of that pattern (patternRun).
class OrtArenaSimulator {
public:
  void firstRun(const OrtRunAllocations &run);
  void patternRun(const OrtRunAllocations &run);
  std::vector<std::pair<uint64_t, uint64_t>> regionUse() const {
    return arena.regionUse();
  }
  /// The bytes of the regions written so far.
  uint64_t touched() const { return arena.touched(); }

private:
  BfcArena arena;
};

/// The bytes of the arena's regions that the first run of `func`'s kernels
/// under `settings` wrote (per region, up to the highest end of a request
/// served): what stays resident. Fails where a tensor has no static size.
mlir::FailureOr<uint64_t> simulateOrtArena(mlir::func::FuncOp func,
                                           const OrtCpuSettings &settings);

} // namespace chorus

#endif // CHORUS_TARGET_ORTARENA_H
