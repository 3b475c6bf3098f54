// How onnxruntime-node runs sessions at once, and what spinning costs: the
// measurements behind run.js's worker threads and --emit-ort's spinning
// settings (docs/Rationale.md).
//
//   node bench/ort-threading.js MODULES_DIR RUNS A.onnx:D,D,.. [B.onnx:D,..]...
//
// 1. one session of A; two sessions of A started together from one thread
//    (Promise.all); the same two, the second in a worker thread;
// 2. each model alone in a session with two intra-op threads, spinning on
//    and off, each in a fresh process;
// 3. all the models, one after the other, each session with two intra-op
//    threads, spinning on and then off, each in a fresh process.
// Medians of RUNS runs (ms), after 3 warm-up runs; inputs filled with 0.5.
'use strict';
const path = require('path');
const {execFileSync} = require('child_process');
const {Worker, isMainThread, parentPort, workerData} =
    require('worker_threads');

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const time = async (f) => {
  const start = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - start) / 1e6;
};

async function open(ort, spec, options) {
  const colon = spec.lastIndexOf(':');
  const dims = spec.slice(colon + 1).split(',').map(Number);
  const session = await ort.InferenceSession.create(spec.slice(0, colon),
                                                    options);
  const feeds = {[session.inputNames[0]]: new ort.Tensor(
      'float32', new Float32Array(dims.reduce((a, b) => a * b)).fill(0.5),
      dims)};
  for (let i = 0; i < 3; ++i) await session.run(feeds);
  return () => session.run(feeds);
}

const spinning = (on) => on ? {} :
    {extra: {session: {intra_op: {allow_spinning: '0'}}}};

async function main() {
  const [modules, mode, ...rest] = process.argv.slice(2);
  const ort = require(path.join(modules, 'onnxruntime-node'));
  if (!isMainThread) {
    const run = await open(ort, workerData.spec, {intraOpNumThreads: 1});
    parentPort.on('message', async () => {
      await run();
      parentPort.postMessage('done');
    });
    parentPort.postMessage('ready');
    return;
  }
  if (mode === '--threads') {
    // One fresh process: [on|off] RUNS spec...: the specs one after the
    // other, two threads each.
    const [spin, runsText, ...specs] = rest;
    const runs = [];
    for (const spec of specs)
      runs.push(await open(ort, spec, {intraOpNumThreads: 2,
                                       ...spinning(spin === 'on')}));
    const t = [];
    for (let i = 0; i < Number(runsText); ++i)
      t.push(await time(async () => { for (const r of runs) await r(); }));
    console.log(median(t).toFixed(2));
    return;
  }
  const runs = Number(mode);
  const specs = rest;
  const a = await open(ort, specs[0], {intraOpNumThreads: 1});
  const b = await open(ort, specs[0], {intraOpNumThreads: 1});
  const worker = new Worker(__filename, {argv: [modules, 'worker'],
                                         workerData: {spec: specs[0]}});
  await new Promise((resolve) => worker.once('message', resolve));
  const other = () => new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage('run');
  });
  const one = [], together = [], workers = [];
  for (let i = 0; i < runs; ++i) {
    one.push(await time(a));
    together.push(await time(() => Promise.all([a(), b()])));
    workers.push(await time(() => Promise.all([other(), a()])));
  }
  await worker.terminate();
  const name = (spec) => path.basename(spec.slice(0, spec.lastIndexOf(':')));
  console.log(`${name(specs[0])}: one session ${median(one).toFixed(2)} ms; ` +
              `two from one thread ${median(together).toFixed(2)} ms; ` +
              `two, one in a worker thread ${median(workers).toFixed(2)} ms`);
  const child = (args) => Number(execFileSync(
      process.execPath, [__filename, modules, '--threads', ...args]));
  for (const spec of specs)
    console.log(`${name(spec)} alone, two threads: spinning on ` +
                `${child(['on', String(runs), spec]).toFixed(2)} ms, off ` +
                `${child(['off', String(runs), spec]).toFixed(2)} ms`);
  if (specs.length > 1)
    console.log(`${specs.map(name).join(' + ')} one after the other, two ` +
                `threads each: spinning on ` +
                `${child(['on', String(runs), ...specs]).toFixed(2)} ms, off ` +
                `${child(['off', String(runs), ...specs]).toFixed(2)} ms`);
}

main().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
