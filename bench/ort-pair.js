// Measures what chorus-plan predicts for pairs and thread counts, with
// ONNX Runtime (onnxruntime-node, CPU) at graph optimization LEVEL.
//
//   node bench/ort-pair.js MODULES_DIR LEVEL RUNS A.onnx:D,D,.. B.onnx:D,D,..
//     Two sessions (one intra-op thread each) in this process: RUNS times
//     in turn, A then B ("sequential") and both at once ("parallel": each
//     run is asynchronous, on its own worker thread). Prints JSON medians
//     {sequential_ms, parallel_ms}.
//   node bench/ort-pair.js MODULES_DIR LEVEL RUNS A.onnx:D,D,.. --threads T
//     One session with one intra-op thread and one with T, RUNS times in
//     turn. Prints JSON medians {one_ms, threads_ms}.
// Every session runs 3 warm-up runs first; inputs are filled with 0.5.
const path = require('path');

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  const [modulesDir, level, runsText, ...rest] = process.argv.slice(2);
  const ort = require(path.join(modulesDir, 'onnxruntime-node'));
  const runs = Number(runsText);
  const options = (threads) => ({
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: level,
  });
  const open = async (spec, threads) => {
    const colon = spec.lastIndexOf(':');
    const dims = spec.slice(colon + 1).split(',').map(Number);
    const session =
        await ort.InferenceSession.create(spec.slice(0, colon), options(threads));
    const input = new ort.Tensor(
        'float32', new Float32Array(dims.reduce((a, b) => a * b)).fill(0.5),
        dims);
    const feeds = {[session.inputNames[0]]: input};
    for (let i = 0; i < 3; ++i) await session.run(feeds);
    return () => session.run(feeds);
  };
  const time = async (f) => {
    const start = process.hrtime.bigint();
    await f();
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  if (rest[1] === '--threads') {
    const one = await open(rest[0], 1);
    const many = await open(rest[0], Number(rest[2]));
    const a = [], b = [];
    for (let i = 0; i < runs; ++i) {
      a.push(await time(one));
      b.push(await time(many));
    }
    console.log(JSON.stringify({one_ms: median(a), threads_ms: median(b)}));
    return;
  }
  const runA = await open(rest[0], 1);
  const runB = await open(rest[1], 1);
  const seq = [], par = [];
  for (let i = 0; i < runs; ++i) {
    seq.push(await time(async () => { await runA(); await runB(); }));
    par.push(await time(() => Promise.all([runA(), runB()])));
  }
  console.log(JSON.stringify(
      {sequential_ms: median(seq), parallel_ms: median(par)}));
}

main().catch((e) => {
  console.error(String(e));
  process.exit(1);
});
