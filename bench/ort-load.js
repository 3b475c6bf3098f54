// What loading one model costs in a fresh onnxruntime-node process: the
// resident memory the first session leaves (VmRSS growth), the most the
// process held meanwhile (VmHWM growth), and how long creating a further
// session takes (the median of 4 after the first, the file in the page
// cache), as chorus-calibrate --measure measures its calibration models.
//
//   node bench/ort-load.js MODULES_DIR LEVEL MODEL.onnx [once]
//
// Prints JSON: {model, load_bytes, load_peak_bytes, create_ms}; with `once`,
// only the first session is created (no create_ms), so that a trace of the
// process's allocations (bench/load-heap.py) holds one load.
// (bench/ort-memory.js reads the peak after a run as well, and
// bench/ort-create.js times first sessions at ONNX Runtime's defaults;
// this takes the load's own peak and the creation the calibration fits.)
const fs = require('fs');
const path = require('path');

function status(field) {
  const text = fs.readFileSync('/proc/self/status', 'utf8');
  return 1024 * Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)[1]);
}

async function main() {
  const [modulesDir, level, model, mode] = process.argv.slice(2);
  if (!model || (mode !== undefined && mode !== 'once')) {
    console.error('usage: node ort-load.js MODULES_DIR LEVEL MODEL.onnx [once]');
    process.exit(2);
  }
  const ort = require(path.resolve(modulesDir, 'onnxruntime-node'));
  const options = {intraOpNumThreads: 1, interOpNumThreads: 1,
                   executionMode: 'sequential', graphOptimizationLevel: level};
  const before = status('VmRSS');
  const first = await ort.InferenceSession.create(model, options);
  const loaded = status('VmRSS');
  const peak = Math.max(status('VmHWM'), loaded);
  if (mode === 'once') {
    console.log(JSON.stringify({
      model: path.basename(model), load_bytes: loaded - before,
      load_peak_bytes: peak - before}));
    return;
  }
  const ms = [];
  for (let i = 0; i < 5; ++i) {
    const start = process.hrtime.bigint();
    const s = await ort.InferenceSession.create(model, options);
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
    await s.release();
  }
  const later = ms.slice(1).sort((a, b) => a - b);
  console.log(JSON.stringify({
    model: path.basename(model), load_bytes: loaded - before,
    load_peak_bytes: peak - before,
    create_ms: (later[1] + later[2]) / 2}));
  await first.release();
}

main().catch((e) => {
  console.error(`ort-load.js: ${e.message || e}`);
  process.exit(1);
});
