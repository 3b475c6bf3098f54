// Measures ONNX Runtime's resident memory growth for one model, in a fresh
// process: session creation (one intra-op thread, CPU, graph optimization
// LEVEL, default all) and one run on an input of the given shape.
//
//   node bench/ort-memory.js MODULES_DIR MODEL.onnx DIM,DIM,... [LEVEL]
//
// Prints JSON: rss before, after creation, after the run, and the peak
// (VmHWM), all in bytes, read from /proc/self/status.
const fs = require('fs');
const path = require('path');

function status() {
  const text = fs.readFileSync('/proc/self/status', 'utf8');
  const field = (name) =>
    1024 * Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)[1]);
  return {rss: field('VmRSS'), hwm: field('VmHWM')};
}

async function main() {
  const [modulesDir, model, dimsText, level = 'all'] = process.argv.slice(2);
  const ort = require(path.join(modulesDir, 'onnxruntime-node'));
  const dims = dimsText.split(',').map(Number);
  const input = new ort.Tensor(
      'float32', new Float32Array(dims.reduce((a, b) => a * b)).fill(0.5),
      dims);
  const before = status();
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: level,
  });
  const created = status();
  await session.run({[session.inputNames[0]]: input});
  const ran = status();
  console.log(JSON.stringify({
    rss_before: before.rss,
    rss_created: created.rss,
    rss_after_run: ran.rss,
    peak: ran.hwm,
  }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
