// Loads one model with ONNX Runtime (onnxruntime-node, CPU, its default
// session options) and runs it once on the inputs described; says whether
// it loaded and ran, or what ONNX Runtime said when it refused.
//
//   node bench/ort-check.js MODULES_DIR MODEL.onnx INPUTS_JSON
//
// INPUTS_JSON: {"name": {"type": "float32"|"int64"|..., "shape": [..],
// "value": number (optional, every element; default 0.5 for floats, 1 for
// integers)}}. Prints one JSON line: {"ok": true, "load_ms", "run_ms",
// "outputs": {name: shape}} or {"ok": false, "stage": "load"|"run",
// "error": message}.
const path = require('path');

const ARRAYS = {
  float32: Float32Array, float64: Float64Array, int64: BigInt64Array,
  int32: Int32Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array,
  float16: Uint16Array,
};

async function main() {
  const [modulesDir, model, inputsText] = process.argv.slice(2);
  const ort = require(path.join(modulesDir, 'onnxruntime-node'));
  const inputs = JSON.parse(inputsText);
  let session;
  let start = process.hrtime.bigint();
  try {
    session = await ort.InferenceSession.create(model);
  } catch (e) {
    console.log(JSON.stringify({ok: false, stage: 'load', error: e.message}));
    return;
  }
  const loadMs = Number(process.hrtime.bigint() - start) / 1e6;
  const feeds = {};
  for (const [name, spec] of Object.entries(inputs)) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const Array = ARRAYS[spec.type];
    const data = new Array(count);
    const isInt = spec.type.startsWith('int') || spec.type === 'uint8' ||
        spec.type === 'bool';
    let value = spec.value !== undefined ? spec.value : (isInt ? 1 : 0.5);
    if (spec.type === 'float16') value = 0x3800;  // 0.5
    data.fill(spec.type === 'int64' ? BigInt(value) : value);
    feeds[name] = new ort.Tensor(spec.type, data, spec.shape);
  }
  start = process.hrtime.bigint();
  let results;
  try {
    results = await session.run(feeds);
  } catch (e) {
    console.log(JSON.stringify({ok: false, stage: 'run', error: e.message}));
    return;
  }
  const runMs = Number(process.hrtime.bigint() - start) / 1e6;
  const outputs = {};
  for (const [name, tensor] of Object.entries(results))
    outputs[name] = tensor.dims;
  console.log(JSON.stringify({ok: true, load_ms: loadMs, run_ms: runMs,
                              outputs}));
}

main().catch((e) => {
  console.log(JSON.stringify({ok: false, stage: 'script', error: String(e)}));
  process.exit(1);
});
