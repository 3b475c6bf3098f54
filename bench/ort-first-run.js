// How long a session takes to create, to run first and to run again, in
// one onnxruntime-node process where each model's session is released
// before the next is created (as on-demand loading does), with one
// session of the first model kept throughout (the process's runtime set
// up). Two rounds over the models; run it with MALLOC_MMAP_THRESHOLD_ set
// to compare glibc's fixed mmap threshold with its default.
//
//   node bench/ort-first-run.js MODULES_DIR LEVEL MODEL.onnx@D,D,... ...
//
// Prints one line per model and round: create, first and second run (ms).
const path = require('path');

function usage(message) {
  console.error(`ort-first-run.js: ${message}`);
  console.error('usage: node ort-first-run.js MODULES_DIR LEVEL ' +
                'MODEL.onnx@D,D,... ...');
  process.exit(2);
}

async function main() {
  const [modulesDir, level, ...specs] = process.argv.slice(2);
  if (!specs.length) usage('give at least one MODEL.onnx@D,D,...');
  const models = specs.map((spec) => {
    const at = spec.lastIndexOf('@');
    if (at < 0) usage(`'${spec}' is not MODEL.onnx@D,D,...`);
    const dims = spec.slice(at + 1).split(',').map(Number);
    if (dims.some((d) => !Number.isInteger(d) || d < 1))
      usage(`'${spec}': dims must be positive whole numbers`);
    return {file: spec.slice(0, at), dims};
  });
  const ort = require(path.resolve(modulesDir, 'onnxruntime-node'));
  const options = {intraOpNumThreads: 1, interOpNumThreads: 1,
                   executionMode: 'sequential', graphOptimizationLevel: level};
  const now = () => Number(process.hrtime.bigint()) / 1e6;
  const kept = await ort.InferenceSession.create(models[0].file, options);
  for (let round = 1; round <= 2; ++round)
    for (const m of models) {
      const input = new ort.Tensor(
          'float32',
          new Float32Array(m.dims.reduce((a, b) => a * b)).fill(0.5), m.dims);
      const start = now();
      const s = await ort.InferenceSession.create(m.file, options);
      const created = now();
      await s.run({[s.inputNames[0]]: input});
      const first = now();
      await s.run({[s.inputNames[0]]: input});
      const second = now();
      console.log(`round ${round} ${path.basename(m.file)}: create ` +
                  `${(created - start).toFixed(1)} ms, first run ` +
                  `${(first - created).toFixed(1)} ms, second run ` +
                  `${(second - first).toFixed(1)} ms`);
      await s.release();
    }
  await kept.release();
}

main().catch((e) => {
  console.error(`ort-first-run.js: ${e.message || e}`);
  process.exit(1);
});
