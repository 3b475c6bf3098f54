// Runs one model of bench/cold-kernels.py with ONNX Runtime
// (onnxruntime-node, CPU, one intra-op thread, graph optimizations
// disabled) and writes its profile.
//
//   node bench/ort-cold.js MODULES_DIR MODEL.onnx C,H,W EVICT RUNS PREFIX
//
// The model's input x is [1,C,H,W] and its input y [1,1,1,EVICT] (the
// tensor its eviction kernels add to); both are filled with 0.5. The
// session runs 5 + RUNS times; the profile (PREFIX_<date>.json) holds every
// run, the caller leaves out the first five.
const path = require('path');

async function main() {
  const [modulesDir, model, dimsText, evictText, runsText, prefix] =
      process.argv.slice(2);
  const ort = require(path.join(modulesDir, 'onnxruntime-node'));
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'disabled',
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  const dims = [1, ...dimsText.split(',').map(Number)];
  const evict = Number(evictText);
  const tensor = (d) => new ort.Tensor(
      'float32', new Float32Array(d.reduce((a, b) => a * b)).fill(0.5), d);
  const feeds = {x: tensor(dims), y: tensor([1, 1, 1, evict])};
  for (let i = 0; i < 5 + Number(runsText); ++i)
    await session.run(feeds);
  await session.endProfiling();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
