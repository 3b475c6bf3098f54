// Times ONNX Runtime session creation (CPU, default graph optimizations)
// for the models given, one after the other in this process.
//
//   node bench/ort-create.js MODULES_DIR MODEL.onnx...
//
// Prints JSON {create_ms: total}.
const path = require('path');
const {performance} = require('perf_hooks');

async function main() {
  const [modulesDir, ...models] = process.argv.slice(2);
  const ort = require(path.join(modulesDir, 'onnxruntime-node'));
  const start = performance.now();
  for (const model of models)
    await ort.InferenceSession.create(model, {executionProviders: ['cpu']});
  console.log(JSON.stringify({create_ms: performance.now() - start}));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
