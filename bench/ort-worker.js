// One worker of bench/plan-vs-ort.py: creates ONNX Runtime sessions (CPU,
// one intra-op thread, graph optimizations disabled as in the cost
// benchmarks) for the models given, warms them up, then for each start
// time (ms since the epoch, from the parent) runs the models once each as
// a warm-up that ends shortly before it, waits for it, and runs the models
// once each, one after the other, printing when each run ended. The
// warm-up makes every timed run as warm as the back-to-back runs the cost
// model is calibrated on: after an idle gap this virtual machine runs the
// same model 10-70% slower (cold caches, an idle vCPU).
//
//   node bench/ort-worker.js MODULES_DIR START_MS,START_MS,... \
//        MODEL.onnx:D,D,D,D [MODEL.onnx:D,...]
//
// Prints JSON {ends: [[end of model 1, end of model 2...] per start]}.
const path = require('path');
const {performance} = require('perf_hooks');

function nowMs() { return performance.timeOrigin + performance.now(); }

async function main() {
  const [modulesDir, startsText, ...specs] = process.argv.slice(2);
  const ort = require(path.join(modulesDir, 'onnxruntime-node'));
  const starts = startsText.split(',').map(Number);
  const jobs = [];
  for (const spec of specs) {
    const colon = spec.lastIndexOf(':');
    const dims = spec.slice(colon + 1).split(',').map(Number);
    const session = await ort.InferenceSession.create(spec.slice(0, colon), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'disabled',
    });
    const input = new ort.Tensor(
        'float32', new Float32Array(dims.reduce((a, b) => a * b)).fill(0.5),
        dims);
    const feeds = {[session.inputNames[0]]: input};
    for (let i = 0; i < 3; ++i)
      await session.run(feeds);
    jobs.push({session, feeds});
  }
  const runAll = async () => {
    for (const job of jobs)
      await job.session.run(job.feeds);
  };
  const t0 = nowMs();
  await runAll();
  // Room for the warm-up even when another worker runs beside it.
  const warmMs = 2.5 * (nowMs() - t0) + 2;
  const ends = [];
  for (const start of starts) {
    const wait = start - warmMs - nowMs();
    if (wait > 0)
      await new Promise((r) => setTimeout(r, wait));
    await runAll();
    // Spin to the start: both workers leave the wait together.
    while (nowMs() < start) {
    }
    const round = [];
    for (const job of jobs) {
      await job.session.run(job.feeds);
      round.push(nowMs());
    }
    ends.push(round);
  }
  console.log(JSON.stringify({ends}));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
