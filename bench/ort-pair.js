// Measures what chorus-plan predicts for pairs and thread counts, with
// ONNX Runtime (onnxruntime-node, CPU) at graph optimization LEVEL.
//
//   node bench/ort-pair.js MODULES_DIR LEVEL RUNS A.onnx:D,D,.. B.onnx:D,D,..
//     Two sessions (one intra-op thread each) in this process: RUNS times
//     in turn, A then B ("sequential") and both at once ("parallel": B in
//     a worker thread, since onnxruntime-node runs a session on the thread
//     that calls it). Prints JSON medians {sequential_ms, parallel_ms}.
//   node bench/ort-pair.js MODULES_DIR LEVEL RUNS A.onnx:D,D,.. --threads T
//     One session with one intra-op thread and one with T (spinning off),
//     RUNS times in turn. Prints JSON medians {one_ms, threads_ms}.
// Every session is warmed up first (3 runs, then until 20 runs or 15 ms);
// inputs are filled with 0.5.
// With --reference MODEL DIMS last, chorus-calibrate's speed reference is
// timed (one thread, medians of 7) before and after the runs, on the main
// thread: reference_ms, how fast this process ran.
const path = require('path');
const {Worker, isMainThread, parentPort, workerData} =
    require('worker_threads');

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  const args = isMainThread ? process.argv.slice(2) : workerData;
  let reference = null;
  const at = args.indexOf('--reference');
  if (at >= 0) reference = args.splice(at, 3).slice(1);
  const [modulesDir, level, runsText, ...rest] = args;
  const ort = require(path.join(modulesDir, 'onnxruntime-node'));
  const runs = Number(runsText);
  // Sessions with a pool of threads spin off, as chorus-calibrate
  // measures them and chorus-plan --emit-ort deploys them.
  const options = (threads) => ({
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: level,
    ...(threads > 1 ? {extra: {session: {intra_op: {allow_spinning: '0'}}}}
                    : {}),
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
    // Warmed up as chorus-calibrate --measure warms its sessions: 3 runs,
    // then until 20 runs or 15 ms (a session's first runs are slower).
    const start = process.hrtime.bigint();
    for (let i = 0; i < 20; ++i) {
      await session.run(feeds);
      if (i >= 2 && Number(process.hrtime.bigint() - start) > 15e6) break;
    }
    return () => session.run(feeds);
  };
  const time = async (f) => {
    const start = process.hrtime.bigint();
    await f();
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const ref = reference ?
      await open(`${reference[0]}:${reference[1]}`, 1) : null;
  const referenceMs = [];
  const timeReference = async () => {
    if (!ref) return;
    const ms = [];
    for (let i = 0; i < 7; ++i) ms.push(await time(ref));
    referenceMs.push(median(ms));
  };
  const report = (result) => console.log(JSON.stringify(
      ref ? {...result, reference_ms: referenceMs} : result));
  if (rest[1] === '--threads') {
    const one = await open(rest[0], 1);
    const many = await open(rest[0], Number(rest[2]));
    await timeReference();
    const a = [], b = [];
    for (let i = 0; i < runs; ++i) {
      a.push(await time(one));
      b.push(await time(many));
    }
    await timeReference();
    report({one_ms: median(a), threads_ms: median(b)});
    return;
  }
  if (!isMainThread) {
    // B's session of the parallel runs: one run per message.
    const run = await open(rest[0], 1);
    parentPort.on('message', async () => {
      await run();
      parentPort.postMessage('done');
    });
    parentPort.postMessage('ready');
    return;
  }
  const runA = await open(rest[0], 1);
  const runB = await open(rest[1], 1);
  const worker = new Worker(__filename, {
    workerData: [modulesDir, level, runsText, rest[1]],
  });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const runOther = () => new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage('run');
  });
  await timeReference();
  const seq = [], par = [];
  for (let i = 0; i < runs; ++i) {
    seq.push(await time(async () => { await runA(); await runB(); }));
    par.push(await time(() => Promise.all([runOther(), runA()])));
  }
  await worker.terminate();
  await timeReference();
  report({sequential_ms: median(seq), parallel_ms: median(par)});
}

main().catch((e) => {
  console.error(String(e));
  process.exit(1);
});
