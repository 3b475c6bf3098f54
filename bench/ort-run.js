// Runs one model with ONNX Runtime (onnxruntime-node, CPU, one intra-op
// thread) and reports its latency; optionally writes a profile.
//
//   node bench/ort-run.js MODULES_DIR MODEL.onnx DIM,DIM,... RUNS OPT \
//        [PROFILE_PREFIX] [--reference REFERENCE.onnx DIM,DIM,...]
//
// OPT is the graph optimization level: disabled | basic | extended | all.
// The latency session is warmed up (3 runs, then until 20 runs or 15 ms),
// then runs RUNS timed runs on an input filled with 0.5; it prints JSON
// {median_ms, runs_ms}. With PROFILE_PREFIX, a second
// session with enableProfiling runs RUNS times and the profile file's path
// is printed too (ONNX Runtime's per-node JSON, for chorus-calibrate).
// With --reference, a second model (chorus-calibrate's speed reference) is
// timed before and after the RUNS (medians of 7): reference_ms, how fast
// this process ran.
const path = require('path');

async function main() {
  const args = process.argv.slice(2);
  // --reference MODEL DIMS: a speed reference timed before and after.
  let reference = null;
  const at = args.indexOf('--reference');
  if (at >= 0) reference = args.splice(at, 3).slice(1);
  const [modulesDir, model, dimsText, runsText, opt, prefix] = args;
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
  // Warmed up as chorus-calibrate --measure warms its sessions: 3 runs,
  // then until 20 runs or 15 ms (a session's first runs are slower).
  const warm = async (f) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 20; ++i) {
      await f();
      if (i >= 2 && Number(process.hrtime.bigint() - start) > 15e6) break;
    }
  };
  const timed = async (s, f, count) => {
    const ms = [];
    for (let i = 0; i < count; ++i) {
      const start = process.hrtime.bigint();
      await s.run(f);
      ms.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return ms;
  };
  const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  let ref = null;
  if (reference) {
    const r = await ort.InferenceSession.create(reference[0], options);
    const rdims = reference[1].split(',').map(Number);
    const rfeeds = {[r.inputNames[0]]: new ort.Tensor(
        'float32', new Float32Array(rdims.reduce((a, b) => a * b)).fill(0.5),
        rdims)};
    await warm(() => r.run(rfeeds));
    ref = {session: r, feeds: rfeeds, ms: []};
    ref.ms.push(median(await timed(r, rfeeds, 7)));
  }
  await warm(() => session.run(feeds));
  const times = await timed(session, feeds, runs);
  const result = {median_ms: median(times), runs_ms: times};
  if (ref) {
    ref.ms.push(median(await timed(ref.session, ref.feeds, 7)));
    result.reference_ms = ref.ms;
  }
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
