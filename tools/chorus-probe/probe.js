// Chorus capability probe: what this browser offers model runtimes, as
// Chorus target JSON (docs/Targets.md, "Probing a browser").
//
// probe() reads navigator.gpu (adapter info, limits, features), navigator.ml
// (createContext per device type, opSupportLimits), hardwareConcurrency,
// deviceMemory and cross-origin isolation, measures the f32 rate of a wasm
// SIMD multiply-add loop and the bandwidth of a 64 MiB typed-array copy,
// and returns {capabilities, targets}: one chorus-target-1 object per
// backend the browser can run (wasm always; webgpu with an adapter; webnn
// with a context). What the browser refuses is reported with the reason it
// gave, never guessed.

// The op-support tables Chorus has for each backend (lib/Target/opsupport/).
const OP_SUPPORT = {
  webgpu: 'onnxruntime-web-1.30.0-webgpu',
  webnn: 'onnxruntime-web-1.30.0-webnn',
};
// wasm32 addresses 4 GiB at most.
const WASM32_MEMORY_BYTES = 4 * 1024 ** 3;

function uleb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function section(id, bytes) {
  return [id, ...uleb(bytes.length), ...bytes];
}

function f32Bytes(x) {
  return [...new Uint8Array(new Float32Array([x]).buffer)];
}

// A wasm module exporting run(n): n iterations of 8 independent f32x4
// multiply-add chains, 64 FLOPs per iteration (a[i] = a[i] * k + c, which
// converges to 1 and never leaves the normal range).
function flopsModule() {
  const ACC = 8, K = ACC + 1, C = ACC + 2;
  const body = [1, C, 0x7b];  // locals 1..10: v128
  const splat = (local, value) =>
      body.push(0x43, ...f32Bytes(value), 0xfd, 0x13, 0x21, local);
  for (let i = 1; i <= ACC; ++i) splat(i, i);
  splat(K, 0.999);
  splat(C, 0.001);
  // block; loop; br_if (n == 0) out
  body.push(0x02, 0x40, 0x03, 0x40, 0x20, 0, 0x45, 0x0d, 1);
  for (let i = 1; i <= ACC; ++i)
    body.push(0x20, i, 0x20, K, 0xfd, 0xe6, 0x01,   // f32x4.mul
              0x20, C, 0xfd, 0xe4, 0x01, 0x21, i);  // f32x4.add
  // n -= 1; br loop; end; end
  body.push(0x20, 0, 0x41, 1, 0x6b, 0x21, 0, 0x0c, 0, 0x0b, 0x0b);
  body.push(0x20, 1);
  for (let i = 2; i <= ACC; ++i) body.push(0x20, i, 0xfd, 0xe4, 0x01);
  body.push(0xfd, 0x1f, 0, 0x0b);  // f32x4.extract_lane 0; end
  return new Uint8Array([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]),  // (i32) -> f32
    ...section(3, [1, 0]),
    ...section(7, [1, 3, 0x72, 0x75, 0x6e, 0, 0]),  // export "run"
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

// Best of `reps` timed runs of fn(), after one untimed (tier-up) run.
function best(fn, reps) {
  fn();
  let top = 0;
  for (let i = 0; i < reps; ++i) top = Math.max(top, fn());
  return top;
}

async function measureWasmFlops() {
  const bytes = flopsModule();
  if (!WebAssembly.validate(bytes))
    return {error: 'this browser has no WebAssembly SIMD'};
  const {instance} = await WebAssembly.instantiate(bytes);
  const n = 4_000_000;
  const rate = best(() => {
    const t0 = performance.now();
    instance.exports.run(n);
    return 64 * n / ((performance.now() - t0) / 1e3);
  }, 5);
  return {flops: rate};
}

function measureCopyBandwidth() {
  const elements = 16 * 1024 * 1024;  // 64 MiB of f32
  const src = new Float32Array(elements).fill(1);
  const dst = new Float32Array(elements);
  const rate = best(() => {
    const t0 = performance.now();
    dst.set(src);
    return 2 * src.byteLength / ((performance.now() - t0) / 1e3);
  }, 5);
  return {bytesPerSecond: rate};
}

function browserName() {
  const brands = (navigator.userAgentData && navigator.userAgentData.brands) || [];
  const has = (name) => brands.find((b) => b.brand === name);
  for (const [brand, name] of [['Microsoft Edge', 'edge'], ['Google Chrome', 'chrome'],
                               ['Chromium', 'chromium']])
    if (has(brand)) return {name, version: has(brand).version};
  const ua = navigator.userAgent;
  let m;
  if ((m = ua.match(/Firefox\/([\d.]+)/))) return {name: 'firefox', version: m[1]};
  if ((m = ua.match(/Version\/([\d.]+).*Safari/))) return {name: 'safari', version: m[1]};
  return {name: 'other', version: ''};
}

async function probeWebGpu() {
  if (!navigator.gpu)
    return {error: 'navigator.gpu is absent (no WebGPU in this browser, or not a secure context)'};
  let adapter;
  try {
    adapter = await navigator.gpu.requestAdapter();
  } catch (e) {
    return {error: `requestAdapter failed: ${e}`};
  }
  if (!adapter) return {error: 'requestAdapter returned null (no usable adapter)'};
  const info = adapter.info || {};
  return {
    adapter: {
      vendor: info.vendor || '',
      architecture: info.architecture || '',
      description: info.description || '',
      fallback_adapter: Boolean(info.isFallbackAdapter),
      max_buffer_size: adapter.limits.maxBufferSize,
      max_storage_buffer_binding_size: adapter.limits.maxStorageBufferBindingSize,
      features: [...adapter.features].sort(),
    },
  };
}

async function probeWebNn() {
  if (!navigator.ml) return {error: 'navigator.ml is absent (no WebNN in this browser)'};
  const devices = {};
  const errors = [];
  for (const deviceType of ['cpu', 'gpu', 'npu']) {
    try {
      const context = await navigator.ml.createContext({deviceType});
      const limits = context.opSupportLimits ? context.opSupportLimits() : null;
      // Per-operation entries are objects keyed by the MLGraphBuilder
      // method; input, constant and output describe operands, and
      // preferredInputLayout, maxTensorByteLength... are scalars.
      const ops = limits ? Object.keys(limits).filter((k) =>
        limits[k] !== null && typeof limits[k] === 'object' &&
        !['input', 'constant', 'output'].includes(k)).sort() : null;
      devices[deviceType] = {ops};
    } catch (e) {
      errors.push(`${deviceType}: ${e.name}: ${e.message}`);
    }
  }
  // The same refusal for every device type is said once.
  const reasons = new Set(errors.map((e) => e.slice(e.indexOf(':') + 2)));
  const said = reasons.size === 1 && errors.length > 1 ?
      `${errors.map((e) => e.slice(0, e.indexOf(':'))).join(', ')}: ${[...reasons][0]}` :
      errors.join('; ');
  if (!Object.keys(devices).length) return {error: said};
  return {devices, errors: said};
}

function baseTarget(name, caps, backend) {
  const b = caps.browser;
  const threads = caps.wasm_threads ? caps.hardware_concurrency : 1;
  const memory = caps.device_memory_bytes ?
      Math.min(WASM32_MEMORY_BYTES, caps.device_memory_bytes) : WASM32_MEMORY_BYTES;
  const browser = {
    name: b.name,
    version: b.version,
    backend,
    cross_origin_isolated: caps.cross_origin_isolated,
    wasm_threads: caps.wasm_threads,
    wasm_memory_bytes: WASM32_MEMORY_BYTES,
  };
  if (!b.version) delete browser.version;
  if (OP_SUPPORT[backend]) browser.op_support = OP_SUPPORT[backend];
  if (caps.hardware_concurrency) browser.hardware_concurrency = caps.hardware_concurrency;
  if (caps.device_memory_bytes) browser.device_memory_bytes = caps.device_memory_bytes;
  if (caps.webgpu) browser.webgpu = caps.webgpu;
  if (Object.keys(caps.unavailable).length) browser.unavailable = caps.unavailable;
  const measured = caps.measured;
  return {
    schema: 'chorus-target-1',
    name: `${name}-${backend}`,
    kind: 'browser',
    description: `${b.name} ${b.version} ${backend}, probed by tools/chorus-probe: ` +
        'peak_flops is a wasm SIMD multiply-add loop on one thread, ' +
        'memory_bandwidth a 64 MiB typed-array copy' +
        (backend === 'webgpu' ? '; the adapter\'s own compute is not measured' : '') +
        '; efficiencies and per-kernel overhead not calibrated (calibrate from ' +
        'ONNX Runtime Web runs, docs/Targets.md)',
    sources: ['tools/chorus-probe: navigator.userAgentData, navigator.gpu, navigator.ml, ' +
              'navigator.hardwareConcurrency, navigator.deviceMemory, crossOriginIsolated'],
    peak_flops: {f32: measured.wasm_simd_f32_flops},
    memory_bandwidth: measured.copy_bytes_per_second,
    memory_capacity: memory,
    parallel_units: threads,
    kernel_overhead_s: 0,
    calibrated: false,
    browser,
  };
}

export async function probe(name) {
  const b = browserName();
  const caps = {
    browser: b,
    user_agent: navigator.userAgent,
    secure_context: self.isSecureContext,
    cross_origin_isolated: Boolean(self.crossOriginIsolated),
    shared_array_buffer: typeof SharedArrayBuffer !== 'undefined',
    hardware_concurrency: navigator.hardwareConcurrency || 0,
    // navigator.deviceMemory is in GiB, rounded down to a power of two.
    device_memory_bytes: navigator.deviceMemory ? navigator.deviceMemory * 1024 ** 3 : 0,
    unavailable: {},
  };
  caps.wasm_threads = caps.cross_origin_isolated && caps.shared_array_buffer;
  if (!caps.wasm_threads)
    caps.unavailable.wasm_threads = caps.cross_origin_isolated ?
        'SharedArrayBuffer is absent' :
        'the page is not cross-origin isolated (serve it with COOP/COEP headers)';
  if (!caps.device_memory_bytes)
    caps.unavailable.device_memory = 'navigator.deviceMemory is absent';
  const flops = await measureWasmFlops();
  if (flops.error) throw new Error(flops.error);
  caps.measured = {
    wasm_simd_f32_flops: Math.round(flops.flops),
    copy_bytes_per_second: Math.round(measureCopyBandwidth().bytesPerSecond),
  };
  const gpu = await probeWebGpu();
  if (gpu.error) caps.unavailable.webgpu = gpu.error;
  else caps.webgpu = gpu.adapter;
  const nn = await probeWebNn();
  if (nn.error) caps.unavailable.webnn = nn.error;
  else caps.webnn = nn;

  const prefix = name || b.name;
  const targets = [baseTarget(prefix, caps, 'wasm')];
  if (caps.webgpu) targets.push(baseTarget(prefix, caps, 'webgpu'));
  for (const device of Object.keys((caps.webnn && caps.webnn.devices) || {})) {
    const t = baseTarget(`${prefix}-${device}`, caps, 'webnn');
    t.browser.webnn_device = device;
    if (caps.webnn.devices[device].ops) t.browser.webnn_ops = caps.webnn.devices[device].ops;
    targets.push(t);
  }
  return {capabilities: caps, targets};
}
