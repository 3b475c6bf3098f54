// Runs a request stream with onnxruntime-node as chorus-plan's on-demand
// strategy plans it (docs/PlanFormat.md, "on_demand"): the resident
// models' sessions are created first, then run once each, and kept; a request for another model
// releases the session in the one slot (if it holds another model) and
// creates its own there. One session runs at a time, first come first
// served, each request waiting for its arrival time (relative to the
// stream's start).
//
//   node bench/ort-on-demand.js MODULES_DIR LEVEL SPEC.json
//
// SPEC.json: {"models": [{"name", "file", "shape": [..]}...],
//             "resident": [names], "requests": [[arrival_s, model index]...]}
// Prints JSON: per request its latency (s), whether it loaded, and the
// process's resident memory growth after it; the growth of the process's
// resident memory from before onnxruntime-node was loaded to the peak
// (VmHWM).
const fs = require('fs');
const path = require('path');

function status() {
  const text = fs.readFileSync('/proc/self/status', 'utf8');
  const field = (name) =>
    1024 * Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)[1]);
  return {rss: field('VmRSS'), hwm: field('VmHWM')};
}
const processStart = status().rss;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const [modulesDir, level, specFile] = process.argv.slice(2);
  if (!specFile) {
    console.error('usage: node ort-on-demand.js MODULES_DIR LEVEL SPEC.json');
    process.exit(2);
  }
  const ort = require(path.resolve(modulesDir, 'onnxruntime-node'));
  const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'));
  const options = {intraOpNumThreads: 1, interOpNumThreads: 1,
                   executionMode: 'sequential', graphOptimizationLevel: level};
  const feeds = spec.models.map((m) => ({
    input: new ort.Tensor('float32',
                          new Float32Array(m.shape.reduce((a, b) => a * b))
                              .fill(0.5),
                          m.shape)}));
  const sessions = new Array(spec.models.length).fill(null);
  const resident = spec.models.map((m) => spec.resident.includes(m.name));
  // Every resident session created, then each run once, as the plan's
  // memory has them (predictSetMemory: the loads, then the first runs).
  for (let i = 0; i < spec.models.length; ++i)
    if (resident[i])
      sessions[i] = await ort.InferenceSession.create(spec.models[i].file,
                                                      options);
  for (let i = 0; i < spec.models.length; ++i)
    if (resident[i])
      await sessions[i].run({[sessions[i].inputNames[0]]: feeds[i].input});
  let slot = -1;
  const results = [];
  const start = process.hrtime.bigint();
  const now = () => Number(process.hrtime.bigint() - start) * 1e-9;
  for (const [arrival, model] of spec.requests) {
    const wait = arrival - now();
    if (wait > 0) await sleep(wait * 1e3);
    let loaded = false;
    if (!resident[model] && slot !== model) {
      if (slot >= 0) {
        await sessions[slot].release();
        sessions[slot] = null;
      }
      sessions[model] = await ort.InferenceSession.create(
          spec.models[model].file, options);
      slot = model;
      loaded = true;
    }
    const s = sessions[model];
    await s.run({[s.inputNames[0]]: feeds[model].input});
    const latency = now() - arrival;
    results.push({model, loaded, latency_s: latency,
                  rss_growth: status().rss - processStart});
  }
  console.log(JSON.stringify({requests: results,
                              peak_growth: status().hwm - processStart}));
}

main().catch((e) => {
  console.error(`ort-on-demand.js: ${e.message || e}`);
  process.exit(1);
});
