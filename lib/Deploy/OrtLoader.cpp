//===- OrtLoader.cpp - The Node loader --emit-ort writes ------------------===//
//
// run.js: creates the sessions of a deployment exactly as its session
// files say, runs the strategy the plan simulated (lanes at once, the jobs
// of one lane in order) and prints measured against predicted latencies.
//
//===----------------------------------------------------------------------===//

extern const char *const kChorusOrtLoader;

const char *const kChorusOrtLoader =
    R"js(// Runs the ONNX Runtime deployment chorus-plan --emit-ort wrote beside this
// file with onnxruntime-node: every session created from its .session.json
// exactly as written, the planned strategy run round after round (lanes at
// once, the jobs of one lane in order), measured against predicted.
//
//   node run.js [--ort NODE_MODULES] [--rounds N] [--warmup N] [--json]
//
// --ort: the node_modules folder that holds onnxruntime-node (default:
// Node's own resolution). Inputs are filled with 0.5 (floats) or 1.
'use strict';
const fs = require('fs');
const path = require('path');
const {performance} = require('perf_hooks');
const {Worker, isMainThread, parentPort, workerData} =
    require('worker_threads');

function fail(message) {
  console.error('run.js: ' + message);
  process.exit(1);
}

function parseArgs(argv) {
  const args = {ort: '', rounds: 10, warmup: 3, json: false};
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--ort' || a === '--rounds' || a === '--warmup') {
      if (i + 1 >= argv.length) fail(a + ' needs a value');
      const v = argv[++i];
      if (a === '--ort') args.ort = path.resolve(v);
      else {
        const n = Number(v);
        if (!Number.isInteger(n) || n < (a === '--rounds' ? 1 : 0))
          fail(a + ' ' + v + ' is not a count');
        args[a.slice(2)] = n;
      }
    } else fail('unknown argument ' + a +
                ' (usage: node run.js [--ort NODE_MODULES] [--rounds N] ' +
                '[--warmup N] [--json])');
  }
  return args;
}

function readJSON(file, schema) {
  let value;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    fail('cannot read ' + file + ': ' + e.message);
  }
  if (value.schema !== schema)
    fail(file + ' is not a ' + schema + ' file');
  return value;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function tensor(ort, input) {
  const count = input.dims.reduce((a, b) => a * b, 1);
  const make = {
    float32: () => new Float32Array(count).fill(0.5),
    float64: () => new Float64Array(count).fill(0.5),
    float16: () => new Uint16Array(count).fill(0x3800),
    int8: () => new Int8Array(count).fill(1),
    uint8: () => new Uint8Array(count).fill(1),
    int16: () => new Int16Array(count).fill(1),
    uint16: () => new Uint16Array(count).fill(1),
    int32: () => new Int32Array(count).fill(1),
    uint32: () => new Uint32Array(count).fill(1),
    int64: () => new BigInt64Array(count).fill(1n),
    uint64: () => new BigUint64Array(count).fill(1n),
    bool: () => new Uint8Array(count).fill(1),
  }[input.type];
  if (!make) throw new Error('input ' + input.name + ' has type ' +
                            input.type + ', which run.js cannot fill');
  return new ort.Tensor(input.type, make(), input.dims);
}

// One lane: its sessions, created in this thread from their files, and its
// jobs run in order once per message; replies with when each ended.
async function lane() {
  const {ort: ortPath, jobs, files} = workerData;
  const ort = require(ortPath);
  const sessions = {};
  for (const [name, spec] of Object.entries(files)) {
    try {
      sessions[name] = await ort.InferenceSession.create(
          path.resolve(__dirname, spec.file), spec.session_options);
    } catch (e) {
      throw new Error('onnxruntime-node refused ' + name + '.session.json (' +
                      spec.file + '): ' + e.message);
    }
    const listed = spec.inputs.map((i) => i.name).sort().join(',');
    const real = [...sessions[name].inputNames].sort().join(',');
    if (listed !== real)
      throw new Error(name + '.session.json lists inputs ' + listed +
                      '; the model has ' + real);
  }
  const feeds = jobs.map((job) => {
    const f = {};
    for (const input of job.inputs) f[input.name] = tensor(ort, input);
    return f;
  });
  parentPort.on('message', async () => {
    const ends = [];
    for (const [k, job] of jobs.entries()) {
      await sessions[job.session].run(feeds[k]);
      ends.push(performance.timeOrigin + performance.now());
    }
    parentPort.postMessage({ends});
  });
  parentPort.postMessage({ready: true});
}

async function main() {
  if (!isMainThread) return lane();
  const args = parseArgs(process.argv.slice(2));
  const plan = readJSON(path.join(__dirname, 'deployment.json'),
                        'chorus-ort-deployment-1');
  // The environment the plan's runtime was calibrated in (glibc reads
  // MALLOC_MMAP_THRESHOLD_ when the process starts): where this process
  // lacks it, run again in a child process that has it.
  const environment = plan.environment || {};
  if (Object.keys(environment).some((k) => process.env[k] !== environment[k])) {
    const {spawnSync} = require('child_process');
    const child = spawnSync(process.execPath, process.argv.slice(1),
                            {stdio: 'inherit',
                             env: {...process.env, ...environment}});
    if (child.error) fail('cannot run again with ' +
                          JSON.stringify(environment) + ': ' +
                          child.error.message);
    process.exit(child.status === null ? 1 : child.status);
  }
  const rssStart = process.memoryUsage().rss;
  const ortPath = args.ort ? path.join(args.ort, 'onnxruntime-node')
                           : 'onnxruntime-node';
  try {
    require(ortPath);
  } catch (e) {
    fail('cannot load onnxruntime-node' +
         (args.ort ? ' from ' + args.ort : '') +
         ' (npm install onnxruntime-node; then --ort <its node_modules>): ' +
         e.message);
  }
  const specs = {};
  for (const file of plan.sessions) {
    const spec = readJSON(path.join(__dirname, file), 'chorus-ort-session-1');
    specs[spec.model] = spec;
  }
  for (const job of plan.jobs)
    if (!specs[job.session]) fail('a job runs unknown session ' + job.session);
  // onnxruntime-node runs a session on the thread that calls it: each
  // lane runs in a worker thread of its own, with its own sessions.
  const lanes = [];
  for (const [j, job] of plan.jobs.entries()) {
    while (lanes.length <= job.lane) lanes.push([]);
    lanes[job.lane].push(j);
  }
  const workers = await Promise.all(lanes.map((indices) => {
    const jobs = indices.map((j) => plan.jobs[j]);
    const files = {};
    for (const job of jobs) files[job.session] = specs[job.session];
    const worker = new Worker(__filename,
                              {workerData: {ort: ortPath, jobs, files}});
    return new Promise((resolve) => {
      worker.once('message', (m) => {
        if (m.error) fail(m.error);
        resolve(worker);
      });
      worker.once('error', (e) => fail(String(e)));
    });
  }));
  const round = async () => {
    const start = performance.timeOrigin + performance.now();
    const replies = await Promise.all(workers.map((worker) =>
        new Promise((resolve) => {
          worker.once('message', resolve);
          worker.postMessage('run');
        })));
    const end = new Array(plan.jobs.length).fill(0);
    for (const [l, reply] of replies.entries())
      for (const [k, at] of reply.ends.entries())
        end[lanes[l][k]] = at - start;
    const latency = new Array(plan.requests).fill(0);
    for (const [j, job] of plan.jobs.entries())
      for (const r of job.requests) latency[r] = end[j];
    return {end, makespan: Math.max(...end),
            mean: latency.reduce((a, b) => a + b, 0) / latency.length};
  };
  for (let i = 0; i < args.warmup; ++i) await round();
  const rounds = [];
  for (let i = 0; i < args.rounds; ++i) rounds.push(await round());
  const measured = {
    makespan_ms: median(rounds.map((r) => r.makespan)),
    mean_latency_ms: median(rounds.map((r) => r.mean)),
    job_end_ms: plan.jobs.map((_, j) => median(rounds.map((r) => r.end[j]))),
    rss_growth_bytes: process.memoryUsage().rss - rssStart,
  };
  // The planned environment, as this process has it.
  if (Object.keys(environment).length) {
    measured.environment = {};
    for (const k of Object.keys(environment))
      measured.environment[k] = process.env[k];
  }
  await Promise.all(workers.map((w) => w.terminate()));
  const error = (p, m) => (p - m) / m * 100;
  if (args.json) {
    const p = plan.predicted;
    console.log(JSON.stringify({
      strategy: plan.strategy, rounds: args.rounds,
      predicted: {makespan_ms: p.makespan_us / 1e3,
                  mean_latency_ms: p.mean_latency_us / 1e3,
                  job_end_ms: plan.jobs.map((j) => j.predicted_end_us / 1e3),
                  footprint_bytes: p.footprint_bytes},
      measured}));
    return;
  }
  const f = (x) => x.toFixed(3).padStart(10);
  console.log(plan.strategy + ' on onnxruntime-node, median of ' +
              args.rounds + ' rounds (ms):');
  console.log('  job  lane  session                       predicted  measured');
  for (const [j, job] of plan.jobs.entries())
    console.log('  ' + String(j).padStart(3) + String(job.lane).padStart(6) +
                '  ' + job.session.padEnd(28) + f(job.predicted_end_us / 1e3) +
                f(measured.job_end_ms[j]));
  console.log('  makespan      predicted ' + f(plan.predicted.makespan_us / 1e3) +
              '  measured ' + f(measured.makespan_ms) + '  error ' +
              error(plan.predicted.makespan_us / 1e3, measured.makespan_ms)
                  .toFixed(1) + '%');
  console.log('  mean latency  predicted ' +
              f(plan.predicted.mean_latency_us / 1e3) + '  measured ' +
              f(measured.mean_latency_ms) + '  error ' +
              error(plan.predicted.mean_latency_us / 1e3,
                    measured.mean_latency_ms)
                  .toFixed(1) + '%');
  console.log('  memory: this process grew by ' +
              (measured.rss_growth_bytes / 1048576).toFixed(1) +
              ' MiB; the plan predicts a footprint of ' +
              (plan.predicted.footprint_bytes / 1048576).toFixed(1) + ' MiB');
  for (const note of plan.not_applied)
    console.log('  not applied here: ' + note);
}

main().catch((e) => {
  if (isMainThread) fail(e.message || String(e));
  parentPort.postMessage({error: e.message || String(e)});
});
)js";
