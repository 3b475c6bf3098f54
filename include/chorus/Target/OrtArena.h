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

#include <cstdint>

namespace chorus {

/// The bytes of the arena's regions that the first run of `func`'s kernels
/// under `settings` wrote (per region, up to the highest end of a request
/// served): what stays resident. Fails where a tensor has no static size.
mlir::FailureOr<uint64_t> simulateOrtArena(mlir::func::FuncOp func,
                                           const OrtCpuSettings &settings);

} // namespace chorus

#endif // CHORUS_TARGET_ORTARENA_H
