// How a session's run times settle after its creation: runs one model
// RUNS times in a fresh session and prints the median of each window of
// WINDOW consecutive runs, from the first run on.
//
//   node bench/ort-first-runs.js MODULES_DIR MODEL.onnx DIMS [LEVEL] [RUNS]
//                                [WINDOW]
//
// DIMS are comma-separated input dims (filled with 0.5); LEVEL is the graph
// optimization level (default all); RUNS default 400, WINDOW default 20.
// CPU, one intra-op thread. Prints JSON {window, medians_ms}.
const path = require('path');

async function main() {
  const [modulesDir, model, dimsText, level = 'all', runsText = '400',
         windowText = '20'] = process.argv.slice(2);
  if (!modulesDir || !model || !dimsText) {
    console.error('usage: node bench/ort-first-runs.js MODULES_DIR ' +
                  'MODEL.onnx DIMS [LEVEL] [RUNS] [WINDOW]');
    process.exit(2);
  }
  const ort = require(path.resolve(modulesDir, 'onnxruntime-node'));
  const dims = dimsText.split(',').map(Number);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: level});
  const feeds = {[session.inputNames[0]]: new ort.Tensor(
      'float32', new Float32Array(dims.reduce((a, b) => a * b)).fill(0.5),
      dims)};
  const runs = Number(runsText), window = Number(windowText);
  const ms = [];
  for (let i = 0; i < runs; ++i) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  const medians = [];
  for (let i = 0; i + window <= runs; i += window)
    medians.push(Number(median(ms.slice(i, i + window)).toFixed(3)));
  console.log(JSON.stringify({window, medians_ms: medians}));
}

main().catch((e) => {
  console.error(String(e));
  process.exit(1);
});
