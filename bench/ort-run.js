// Runs one model with ONNX Runtime (onnxruntime-node, CPU, one intra-op
// thread) and reports its latency; optionally writes a profile.
//
//   node bench/ort-run.js MODULES_DIR MODEL.onnx DIM,DIM,... RUNS OPT \
//        [PROFILE_PREFIX]
//
// OPT is the graph optimization level: disabled | basic | extended | all.
// The latency session runs 3 warm-up runs then RUNS timed runs on an input
// filled with 0.5; it prints JSON {median_ms, runs_ms}. With PROFILE_PREFIX, a second
// session with enableProfiling runs RUNS times and the profile file's path
// is printed too (ONNX Runtime's per-node JSON, for chorus-calibrate).
const path = require('path');

async function main() {
  const [modulesDir, model, dimsText, runsText, opt, prefix] =
      process.argv.slice(2);
  const ort = require(path.join(modulesDir, 'onnxruntime-node'));
  const dims = dimsText.split(',').map(Number);
  const runs = Number(runsText);
  const options = {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: opt,
  };
  const input = new ort.Tensor(
      'float32', new Float32Array(dims.reduce((a, b) => a * b)).fill(0.5),
      dims);
  const session = await ort.InferenceSession.create(model, options);
  const feeds = {[session.inputNames[0]]: input};
  for (let i = 0; i < 3; ++i)
    await session.run(feeds);
  const times = [];
  for (let i = 0; i < runs; ++i) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const result = {median_ms: sorted[Math.floor(sorted.length / 2)],
                  runs_ms: times};
  if (prefix) {
    const profiled = await ort.InferenceSession.create(
        model, {...options, enableProfiling: true, profileFilePrefix: prefix});
    const pfeeds = {[profiled.inputNames[0]]: input};
    for (let i = 0; i < runs; ++i)
      await profiled.run(pfeeds);
    // endProfiling writes PROFILE_PREFIX_<date>.json (some versions do not
    // return the name: the caller finds the file by its prefix).
    result.profile = (await profiled.endProfiling()) || null;
  }
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
