//===- Target.h - Hardware targets for the cost model -----------*- C++ -*-===//
//
// A target is what the cost model knows of a device: peak compute per data
// type, memory bandwidth and capacity, parallel units, caches, per-kernel
// overhead and, per op class, fitted efficiencies. Targets are JSON
// (docs/Targets.md); the built-in ones are embedded in the binary.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_TARGET_TARGET_H
#define CHORUS_TARGET_TARGET_H

#include "chorus/Analysis/OpTable.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chorus {

/// How well one op class uses the device: the fraction of peak compute and
/// of memory bandwidth it reaches, and its per-kernel overhead.
struct ClassEfficiency {
  double compute = 1.0;
  double memory = 1.0;
  /// For nodes whose bytes fit in the target's last-level cache; unset:
  /// `memory`.
  std::optional<double> cachedMemory;
  /// Seconds per kernel; unset: the target's kernel_overhead_s.
  std::optional<double> overheadSeconds;
  /// Seconds per convolution group (grouped convolutions run one inner
  /// kernel per group on some runtimes); 0 by default.
  double perGroupSeconds = 0;
  /// Seconds per row a convolution's im2col expansion copies
  /// (NodeWork::expandedRows); 0 by default.
  double perRowSeconds = 0;
};

/// A WebGPU adapter as the browser reports it (GPUAdapter.info, .limits,
/// .features).
struct WebGpuAdapter {
  std::string vendor, architecture, description;
  /// GPUAdapterInfo.isFallbackAdapter: a software adapter (SwiftShader).
  bool fallbackAdapter = false;
  double maxBufferSize = 0, maxStorageBufferBindingSize = 0;
  std::vector<std::string> features;
};

/// What a browser offers one model runtime backend (kind "browser").
struct BrowserInfo {
  /// chrome, chromium, edge, firefox, safari or other.
  std::string name;
  std::string version;
  /// wasm, webgpu or webnn.
  std::string backend;
  /// The op-support table of the backend (docs/Targets.md); empty for wasm,
  /// which runs every operator.
  std::string opSupport;
  /// Cross-origin isolation (COOP/COEP), which SharedArrayBuffer and so
  /// wasm threads need.
  bool crossOriginIsolated = false;
  bool wasmThreads = false;
  /// The most memory a wasm instance may have (4 GiB for wasm32).
  double wasmMemoryBytes = 0;
  /// navigator.hardwareConcurrency; 0 when not known.
  int64_t hardwareConcurrency = 0;
  /// navigator.deviceMemory in bytes (Chromium only); 0 when not known.
  double deviceMemoryBytes = 0;
  std::optional<WebGpuAdapter> webgpu;
  /// MLContext device type for the webnn backend.
  std::string webnnDevice;
  /// The WebNN operations (MLGraphBuilder methods, e.g. "conv2d") that
  /// context offers, as its opSupportLimits() lists them; empty when not
  /// known (then every operation of the WebNN specification is assumed).
  std::vector<std::string> webnnOps;
  /// Features the probe could not get, with the reason the browser gave.
  std::map<std::string, std::string> unavailable;
};

/// The software that runs the model, when a target describes it: ONNX
/// Runtime's CPU provider with its session settings.
struct RuntimeProfile {
  /// "onnxruntime-cpu".
  std::string name = "onnxruntime-cpu";
  /// The version measured ("1.30.0"); informational.
  std::string version;
  /// graphOptimizationLevel: disabled, basic, extended or all.
  std::string optimizationLevel = "all";
  unsigned intraOpThreads = 1;
  /// MLAS's NCHWc block (8 with AVX2, 16 with AVX-512, 0: none).
  unsigned nchwcBlock = 8;
  /// The time of chorus-calibrate's speed reference at the pace the
  /// kernel models are at (0: not known): `chorus-calibrate --repace`
  /// brings them to the machine's pace of the moment.
  double speedReferenceSeconds = 0;
  /// Which speed reference that time is of (chorus-calibrate's name for
  /// it; empty: its first one, before references were named).
  std::string speedReference;
  /// How each term of a kernel's time moves with the speed reference's
  /// time: a kernel's FLOP, byte and per-kernel time scale as the
  /// reference's ratio to these powers (measured by --measure; 1 when not
  /// known).
  double flopElasticity = 1, byteElasticity = 1, kernelElasticity = 1;
  /// glibc's mmap threshold fixed for the process (the environment
  /// variable MALLOC_MMAP_THRESHOLD_, in bytes; 0: glibc's default, which
  /// rises to the largest block freed). Fixed, every allocation at or
  /// above it gets a mapping of its own and returns to the system when
  /// freed: a released session gives its memory back, and a session keeps
  /// its weights at their size.
  uint64_t mallocMmapThreshold = 0;
};

/// The time of one kernel class of the runtime, fitted from its profiles:
/// seconds = perFlop x FLOPs + perByte x bytes + perKernel
///           + perGroup x groups (an unblocked grouped convolution's)
///           + perRow x im2col rows + perStridedElement x the elements
///             im2col copies one at a time (an unblocked convolution's)
///           + perWorkgroup x workgroups + perTileStep x tile steps (a
///             WebGPU program's, KernelFeatures).
struct KernelModel {
  double perFlopSeconds = 0, perByteSeconds = 0, perKernelSeconds = 0;
  /// The profiled kernels it was fitted on.
  unsigned samples = 0;
  double perGroupSeconds = 0;
  /// Per row MLAS's im2col copies for an unblocked convolution
  /// (KernelFeatures::rows).
  double perRowSeconds = 0;
  /// Per element MLAS's im2col copies one at a time for a convolution
  /// that strides along its last dim (KernelFeatures::stridedElements).
  double perStridedElementSeconds = 0;
  double perWorkgroupSeconds = 0, perTileStepSeconds = 0;
  /// The time of a WebGPU program's workgroups and tile steps.
  double workgroupSeconds(double workgroups, double tileSteps) const {
    return perWorkgroupSeconds * workgroups + perTileStepSeconds * tileSteps;
  }
  /// Per byte beyond `cacheBytes` in one kernel: kernels whose tensors no
  /// longer stay in the caches stream them from memory, at a lower rate.
  double perStreamedByteSeconds = 0, cacheBytes = 0;
  /// The bytes of a kernel that are streamed past the caches.
  double streamedBytes(double bytes) const {
    return perStreamedByteSeconds > 0 ? std::max(0.0, bytes - cacheBytes) : 0;
  }
  /// The time of the kernel's bytes.
  double byteSeconds(double bytes) const {
    return perByteSeconds * bytes +
           perStreamedByteSeconds * streamedBytes(bytes);
  }
  /// Per byte of weights a kernel reads, in models whose weights take
  /// more than `coldWeightsAbove` bytes: their weights no longer stay in
  /// the caches from one run to the next.
  double perColdWeightByteSeconds = 0, coldWeightsAbove = 0;
  /// Per row of weights a kernel reads (KernelFeatures::weightRows), in
  /// runs that touch more than `memoryWeightsAbove` bytes
  /// (KernelFeatures::runBytes): between a weight's use in one run and in
  /// the next that much passes through the caches, and beyond the cache
  /// the cores share each row comes from memory anew, a latency the
  /// hardware prefetcher hides only along the row.
  double perMemoryWeightRowSeconds = 0, memoryWeightsAbove = 0;
  /// And per byte of those weights.
  double perMemoryWeightByteSeconds = 0;
  double coldWeightSeconds(double weightBytes, double modelWeightBytes,
                           double runBytes = 0, double weightRows = 0) const {
    double s =
        perColdWeightByteSeconds > 0 && modelWeightBytes > coldWeightsAbove
            ? perColdWeightByteSeconds * weightBytes
            : 0;
    if (memoryWeightsAbove > 0 && runBytes > memoryWeightsAbove)
      s += perMemoryWeightRowSeconds * weightRows +
           perMemoryWeightByteSeconds * weightBytes;
    return s;
  }
  /// The model's time for a kernel of these features.
  /// The sum of getKernelTerms (KernelModel.h) for a CPU kernel of these
  /// features.
  double seconds(double flops, double bytes, double groups, double rows = 0,
                 double weightBytes = 0, double modelWeightBytes = 0,
                 double stridedElements = 0, double runBytes = 0,
                 double weightRows = 0) const;
};

/// What the runtime holds in resident memory, fitted to the growth of a
/// process's resident set measured during calibration:
///   after load = session + Σ weight bytes × the factor of their kind
///   after the first run = after load + run + perArena × planned arena
/// and loading the runtime itself costs `process` once per process.
struct RuntimeMemoryModel {
  double processBytes = 0, sessionBytes = 0, runBytes = 0;
  /// Per byte of weights read by Conv/ConvTranspose, MatMul/Gemm, others,
  /// in tensors under 32 MiB; per byte of larger tensors.
  double perConvWeightByte = 1, perMatMulWeightByte = 1, perOtherWeightByte = 1,
         perLargeWeightByte = 1;
  /// Per node of the graph (each node's kernel and bookkeeping; 0 in
  /// targets fitted before it was measured).
  double perNodeBytes = 0;
  /// Per weight byte the file holds in Constant nodes, beside its kind's
  /// factor: the runtime makes each such node an initializer on load, a
  /// copy initializers do not cost (0 in targets fitted before it was
  /// measured).
  double perConstantNodeByte = 0;
  /// Per byte of the model's largest convolution weight tensor under
  /// 32 MiB: the heap's high-water mark while the load rewrites filters
  /// into the NCHWc layout, where glibc keeps the copies' blocks resident
  /// (0 in targets fitted before it was measured).
  double perLargestConvTensorByte = 0;
  /// Per byte of the runtime's arena after a first run (or, without a
  /// runtime to replay, the arena Chorus plans for the model alone).
  double perArenaByte = 1;
  /// Per byte of the model's outputs: onnxruntime-node copies each run's
  /// outputs into buffers of its own.
  double perOutputByte = 0;
  /// The measurements it was fitted to.
  unsigned samples = 0;
  /// What a session keeps once its load is done, where measured (a second
  /// session of a model created beside the first): the same terms as
  /// after load, less the transient copies the load frees. The process's
  /// heap keeps those freed bytes resident, and the next session's load
  /// reuses them; so several sessions take less than the sum of each one
  /// alone (predictSetMemory). Unset: a session keeps all it takes.
  struct Retained {
    double sessionBytes = 0, perConvWeightByte = 1, perMatMulWeightByte = 1,
           perOtherWeightByte = 1, perLargeWeightByte = 1;
    unsigned samples = 0;
    double perNodeBytes = 0, perConstantNodeByte = 0,
           perLargestConvTensorByte = 0;
  };
  std::optional<Retained> retained;
  /// What a load holds for a moment above what it leaves, where measured
  /// (the process's VmHWM while a session loads), the higher of two
  /// phases: copying the initializers, per byte of the model's largest
  /// weight tensor (its copy glibc maps apart and the load frees back to
  /// the system before it ends); and the layout rewrites of the
  /// convolutions, per byte of its convolution weights (copied while the
  /// originals are still held) and per byte of its largest convolution
  /// weight (held more than twice at once while it is reordered). Where
  /// glibc's default threshold keeps the copies in the heap they stay
  /// resident after the load and the convolution terms fit near 0.
  struct LoadPeak {
    double perLargestTensorByte = 0;
    unsigned samples = 0;
    double perConvWeightByte = 0;
    double perLargestConvTensorByte = 0;
  };
  std::optional<LoadPeak> loadPeak;
  /// The runtime profile's mallocMmapThreshold (0: glibc's default);
  /// set from it where the target is read, not a field of its own.
  uint64_t fixedMmapThreshold = 0;
};

/// What a session's creation time is predicted from: the bytes of the
/// model's weight tensors under 32 MiB and of larger ones (copied into
/// fresh mappings, page by page), its graph's nodes, those of them in a
/// graph whose file leaves input dims other than the batch symbolic (the
/// runtime's shape inference and graph rewrites then cost several times as
/// much per node) and its weight tensors; and the runtime's arena after a
/// first run, whose pages that run writes for the first time.
struct SessionLoadFeatures {
  double weightBytes = 0, largeWeightBytes = 0, nodes = 0, symbolicNodes = 0,
         weightTensors = 0, arenaBytes = 0;
  /// Of weightBytes, those convolutions read.
  double convWeightBytes = 0;
};
/// How long the runtime takes to create a session of a model (reading its
/// file, which the page cache holds, parsing it, optimizing the graph,
/// pre-packing the weights), in a process that already holds a session:
/// seconds = perSession + perWeightByte x weight bytes in tensors under
///           32 MiB + perLargeWeightByte x those in larger ones
///           + perNode x the graph's nodes + perSymbolicNode x those in
///           a graph of symbolic dims + perWeightTensor x its weight
///           tensors
///           + perConvWeightByte x the weight bytes under 32 MiB that
///           convolutions read (their filters reordered into the
///           runtime's blocked layout, beyond what any weight costs)
///           + perArenaByte x its arena after a first run: what that first
///           run takes beyond a later one (its arena's pages written for
///           the first time), so that the model's first result comes one
///           steady run after `seconds`.
/// Measured by chorus-calibrate --measure (a second session of each
/// calibration model, created, then run once).
struct SessionLoadModel {
  double perSessionSeconds = 0, perWeightByteSeconds = 0,
         perLargeWeightByteSeconds = 0, perNodeSeconds = 0,
         perSymbolicNodeSeconds = 0, perWeightTensorSeconds = 0;
  unsigned samples = 0;
  /// 0 in targets fitted before the first run was timed.
  double perArenaByteSeconds = 0;
  /// 0 in targets fitted before convolution weights were told apart.
  double perConvWeightByteSeconds = 0;
  double seconds(const SessionLoadFeatures &f) const {
    return perSessionSeconds + perWeightByteSeconds * f.weightBytes +
           perConvWeightByteSeconds * f.convWeightBytes +
           perLargeWeightByteSeconds * f.largeWeightBytes +
           perNodeSeconds * f.nodes + perSymbolicNodeSeconds * f.symbolicNodes +
           perWeightTensorSeconds * f.weightTensors +
           perArenaByteSeconds * f.arenaBytes;
  }
};

/// How much longer a kernel of the runtime takes while another session's
/// kernel runs at the same time, per term of its kernel model, as a
/// fraction of that term alone: cores shared (FLOPs), memory bandwidth
/// and caches shared (bytes), the runtime's per-kernel work (per kernel).
/// Measured from pairs of sessions of one model run at once.
struct CoRunModel {
  double perFlop = 0, perByte = 0, perKernel = 0;
  /// What a co-run adds once per run, whatever the model: handing the
  /// run to the second session's worker thread and back.
  double perRunSeconds = 0;
  unsigned samples = 0;
  /// The fraction a kernel with these terms (seconds) is slowed by.
  double slowdown(double flopSeconds, double byteSeconds,
                  double kernelSeconds) const {
    double total = flopSeconds + byteSeconds + kernelSeconds;
    return total > 0 ? (perFlop * flopSeconds + perByte * byteSeconds +
                        perKernel * kernelSeconds) /
                           total
                     : 0;
  }
};

/// The bytes of a model's inputs and of its outputs.
struct RunIoBytes {
  double inputs = 0, outputs = 0;
  /// Pages of new memory the run's results are copied into, each faulted
  /// in on first touch: onnxruntime-node hands every result over in a new
  /// buffer, and until the JavaScript engine first collects them (some
  /// tens of MB of results later) every run's are fresh pages. Predicted
  /// as the results' whole pages; calibration counts them (page faults).
  double pages = 0;
};

/// What a run costs beside its kernels: the runtime's own work per run,
/// and handing over the model's inputs and outputs, per byte of each
/// (ONNX Runtime Web copies every input into the WebAssembly memory and
/// every output out of it into a new JavaScript array on each run).
/// Fitted from whole-run latencies against the profiled kernels.
struct RunIoModel {
  double perRunSeconds = 0, perInputByteSeconds = 0, perOutputByteSeconds = 0;
  /// What faulting in one page of new memory costs (1 us or less on most
  /// machines; 10 to 15 us in some VMs).
  double perPageFaultSeconds = 0;
  unsigned samples = 0;
  double seconds(const RunIoBytes &io) const {
    return perRunSeconds + perInputByteSeconds * io.inputs +
           perOutputByteSeconds * io.outputs + perPageFaultSeconds * io.pages;
  }
};

struct Target {
  std::string name;
  /// "cpu", "gpu" or "browser".
  std::string kind;
  std::string description;
  std::vector<std::string> sources;
  /// FLOP/s per data type name (f64, f32, tf32, f16, bf16, f8, int8).
  std::map<std::string, double> peakFlops;
  /// Bytes per second.
  double memoryBandwidth = 0;
  /// Bytes.
  double memoryCapacity = 0;
  /// Cores on a CPU, SMs on a GPU.
  int64_t parallelUnits = 1;
  /// What each kernel running concurrently with others adds to the
  /// device's throughput, as a fraction of one kernel alone (1: perfect
  /// scaling over parallelUnits; 0: none). Measured, not implied by the
  /// unit count; 0 when not known.
  double concurrencyGain = 0;
  double kernelOverheadSeconds = 0;
  std::map<std::string, double> cacheBytes;
  /// Per op class; classes absent use the default (1, 1, overhead).
  std::map<OpClass, ClassEfficiency> efficiency;
  /// Whether the efficiencies were fitted from measurements.
  bool calibrated = false;
  /// How the calibration was made (command, machine, profiles).
  std::string calibration;
  /// For kind "browser" (required there, rejected elsewhere).
  std::optional<BrowserInfo> browser;
  /// The runtime the kernel models describe; with them, a model's kernels
  /// are the runtime's own (computeOrtKernels), not chorus-fuse's.
  std::optional<RuntimeProfile> runtime;
  /// Per kernel class (getKernelClasses, "default" for the rest).
  std::map<std::string, KernelModel> kernelModels;
  /// The runtime's memory (needs `runtime`).
  std::optional<RuntimeMemoryModel> runtimeMemory;
  /// With a runtime: how long creating a session takes.
  std::optional<SessionLoadModel> sessionLoad;
  /// Kernel models of sessions with other intra-op thread counts than the
  /// runtime's, by count (needs `kernel_models`).
  std::map<unsigned, std::map<std::string, KernelModel>> threadKernelModels;
  /// Co-run slowdown of the runtime's kernels (needs `kernel_models`).
  std::optional<CoRunModel> coRun;
  /// What each run costs outside its kernels (needs `kernel_models`).
  std::optional<RunIoModel> runIo;

  /// Embedded in Chorus rather than read from a file: its figures describe
  /// the machine they were measured on (or a spec sheet), not the user's.
  bool builtin = false;

  /// Whether predictions use the runtime's kernels and kernel models.
  bool predictsRuntime() const { return runtime && !kernelModels.empty(); }

  /// The efficiency of `opClass` (defaults when absent).
  ClassEfficiency getEfficiency(OpClass opClass) const;
  /// Peak FLOP/s for data type `dtype`, falling back to f32.
  double getPeakFlops(llvm::StringRef dtype) const;
  /// Bytes a node may touch and still count as cached: the size of the
  /// last cache level the target names (l3, else l2, else l1), or 0.
  double getCachedBytesLimit() const;
};

/// Reads a target from JSON text. Errors name the file and the field:
/// "target 'x.json': field 'memory_bandwidth' must be a positive number".
llvm::Expected<Target> parseTarget(llvm::StringRef json,
                                   llvm::StringRef fileName);

/// Writes `target` as JSON (the format parseTarget reads), keys sorted.
llvm::json::Value targetToJSON(const Target &target);

/// The names of the built-in targets.
std::vector<std::string> listBuiltinTargets();

/// A built-in target by name.
llvm::Expected<Target> getBuiltinTarget(llvm::StringRef name);

/// A target from a built-in name or a file (exactly one non-empty).
llvm::Expected<Target> loadTarget(llvm::StringRef name,
                                  llvm::StringRef fileName);

} // namespace chorus

#endif // CHORUS_TARGET_TARGET_H
