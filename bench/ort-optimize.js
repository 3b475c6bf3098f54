// Writes ONNX Runtime's optimized graph of a model (CPU execution provider,
// graph optimization level "all", the free dims bound as Chorus binds them)
// and times session creation.
//
//   node bench/ort-optimize.js MODULES_DIR MODEL.onnx OUT.onnx [NAME=VALUE...]
//
// NAME=VALUE pairs are free dimension overrides (the --dim bindings). Prints
// JSON {create_ms}.
const path = require('path');

async function main() {
  const [modulesDir, model, out, ...dims] = process.argv.slice(2);
  const ort = require(path.join(modulesDir, 'onnxruntime-node'));
  const overrides = {};
  for (const d of dims) {
    const [name, value] = d.split('=');
    overrides[name] = Number(value);
  }
  const start = process.hrtime.bigint();
  await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    freeDimensionOverrides: overrides,
    optimizedModelFilePath: out,
  });
  const createMs = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(JSON.stringify({create_ms: createMs}));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
