#!/usr/bin/env node
// Times ONNX models with ONNX Runtime Web in headless Chromium or Firefox.
//
//   node bench/browser-ort.js --backend wasm|webgpu [--browser chromium|firefox]
//        [--runs N] [--warmup N] [--each [--model-s S] [--reference MODEL.onnx[:SHAPE]]
//        | --together | --tabs] [--profiles DIR]
//        [--optimization disabled|all] [--dim NAME=V ...] [--check]
//        MODEL.onnx[:D,D,D,D] [MODEL.onnx[:SHAPE] ...]
//
// With tools/chorus-probe/ort-web.js: serves its page (ort-page.html),
// onnxruntime-web's dist/ (from build/npm/node_modules) and the model files
// on 127.0.0.1 (cross-origin isolated) and starts Debian's chromium through playwright-core with the
// flags of tools/chorus-probe (and --enable-unsafe-webgpu
// --use-webgpu-adapter=swiftshader for webgpu, a CPU-backed adapter), or
// with --browser firefox Debian's firefox-esr headless, on a page that
// times by itself and posts its results back (one page, no --tabs).
// Prints JSON: per model {model, median_ms, runs_ms, inputs: [{name,
// type, dims}]}.
//
// Every model input gets a tensor of its own type (float 0.5, integer and
// bool 1): a SHAPE after the model is its first input's; other dims are
// the model's own or, where symbolic, --dim's.
//
// Warm-up: --warmup runs of every model and at least --warmup-s seconds of
// them (V8 compiles wasm with its baseline compiler first and optimizes
// hot functions as they run, so timing a fresh page measures a mix; timing
// after a few seconds of runs measures the steady state a long-lived page
// reaches; compiling everything optimized up front, --no-liftoff, takes
// minutes for ONNX Runtime Web's 28 MB module). One intra-op thread
// (env.wasm.numThreads = 1), graph optimizations disabled unless
// --optimization. Default: the models one after another in one page, every
// round running each model once. --each: one page, each model's --warmup
// runs and then its timed runs one after another, then the next model's
// (each model timed warm, as a page serving it runs it).
// --together: one page, every round starts all models at once. --tabs:
// each model in its own tab, all tabs timing at the same time.
//
// --model-s S (with --each): each model's timed runs go on for at least S
// seconds (at most 200 runs), its warm-up for S/2. --reference MODEL (with
// --each): a speed reference timed before and after each model's runs (and
// profiled runs); each result gains reference_ms (and
// profile_reference_ms), to bring the times to one pace (as
// tools/chorus-probe/pace.js does).
// --profiles DIR: after the timings, each model runs again (--warmup +
// --runs runs) in a session of its own with ONNX Runtime's profiler on,
// and its profile (the runtime's JSON, one event per kernel per run) is
// written to DIR/MODEL.json (DIR must not exist). On WebGPU the profile
// holds the GPU's timestamps of each node's dispatches in the timed runs
// (the adapter's timestamp-query feature), in the same format, with
// convolutions' and pools' NHWC tensors given in NCHW.
//
// --check times nothing: it creates each model's session, runs it once
// and prints per model {model, ok, outputs: [{name, type, dims, sum,
// absmax, nonfinite}]} or {model, ok: false, stage: 'create'|'run',
// error}, with the runtime's own message; in Chromium each model gets a
// page of its own.
'use strict';
const fs = require('fs');
const path = require('path');
const {runOrtWeb} = require('../tools/chorus-probe/ort-web.js');

const ROOT = path.join(__dirname, '..');
const NPM = path.join(ROOT, 'build', 'npm', 'node_modules');

function fail(message) {
  console.error(`browser-ort: error: ${message}`);
  process.exit(1);
}

// MODEL.onnx or MODEL.onnx:D,D,...
function modelArg(a) {
  const at = a.lastIndexOf(':');
  const hasShape = at >= 0 && /^[0-9,]+$/.test(a.slice(at + 1));
  const file = hasShape ? a.slice(0, at) : a;
  const shape = hasShape ? a.slice(at + 1).split(',').map(Number) : null;
  if (shape && !shape.every((d) => Number.isInteger(d) && d > 0)) fail(`bad shape in '${a}'`);
  if (!fs.existsSync(file)) fail(`no model file '${file}'`);
  return {file: path.resolve(file), shape};
}

function parseArgs(argv) {
  const args = {backend: '', browser: 'chromium', firefox: '/usr/bin/firefox-esr', runs: 10,
                warmup: 3, warmupSeconds: 5, mode: 'sequential', optimization: 'disabled',
                timeout: 600, dims: {}, models: [], eachSeconds: 0, reference: null};
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : fail(`${a} needs a value`));
    if (a === '--backend') args.backend = value();
    else if (a === '--browser') args.browser = value();
    else if (a === '--firefox') args.firefox = value();
    else if (a === '--timeout') args.timeout = Number(value());
    else if (a === '--dim') {
      const m = /^([^=]+)=([0-9]+)$/.exec(value());
      if (!m || !(Number(m[2]) > 0)) fail(`--dim takes NAME=V with V a positive integer, not '${argv[i]}'`);
      args.dims[m[1]] = Number(m[2]);
    }
    else if (a === '--runs') args.runs = Number(value());
    else if (a === '--warmup') args.warmup = Number(value());
    else if (a === '--warmup-s') args.warmupSeconds = Number(value());
    else if (a === '--optimization') args.optimization = value();
    else if (a === '--together') args.mode = 'together';
    else if (a === '--each') args.mode = 'each';
    else if (a === '--profiles') args.profiles = value();
    else if (a === '--model-s') args.eachSeconds = Number(value());
    else if (a === '--reference') args.reference = modelArg(value());
    else if (a === '--check') args.check = true;
    else if (a === '--tabs') args.mode = 'tabs';
    else if (a.startsWith('--')) fail(`unknown option '${a}'`);
    else args.models.push(modelArg(a));
  }
  if (!['wasm', 'webgpu'].includes(args.backend)) fail('--backend must be wasm or webgpu');
  if (!['chromium', 'firefox'].includes(args.browser))
    fail('--browser must be chromium or firefox');
  if (args.browser === 'firefox' && !fs.existsSync(args.firefox))
    fail(`no browser at ${args.firefox} (apt install firefox-esr, or give --firefox PATH)`);
  if (args.browser === 'firefox' && args.mode === 'tabs')
    fail('--tabs needs Chromium (--browser chromium)');
  if (!(args.timeout > 0)) fail('--timeout must be a positive number of seconds');
  if (args.check && args.mode !== 'sequential')
    fail('--check times nothing: no --together, --each or --tabs');
  if (!args.models.length) fail('no model given');
  if ((args.reference || args.eachSeconds) && args.mode !== 'each')
    fail('--reference and --model-s go with --each');
  if (!(args.eachSeconds >= 0)) fail('--model-s must not be negative');
  if (args.profiles) {
    if (args.check || args.mode === 'tabs') fail('--profiles goes with timings in one page (no --check, --tabs)');
    if (fs.existsSync(args.profiles)) fail(`--profiles '${args.profiles}' exists: name a new folder`);
    const stems = args.models.map((m) => path.basename(m.file, '.onnx'));
    const twice = stems.find((s, i) => stems.indexOf(s) !== i);
    if (twice) fail(`--profiles names each profile after its model: '${twice}' is given twice`);
  }
  if (!(args.runs > 0) || !(args.warmup >= 0)) fail('--runs must be positive, --warmup not negative');
  if (!['disabled', 'basic', 'extended', 'all'].includes(args.optimization))
    fail('--optimization must be disabled, basic, extended or all');
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const results = await runOrtWeb({
    models: args.models, backend: args.backend, browser: args.browser, firefox: args.firefox,
    npm: NPM, runs: args.runs, warmup: args.warmup, warmupSeconds: args.warmupSeconds,
    optimization: args.optimization, dims: args.dims, mode: args.mode, check: Boolean(args.check),
    profile: Boolean(args.profiles), reference: args.reference, eachSeconds: args.eachSeconds,
    timeout: args.timeout, onError: (e) => console.error(e)});
  if (args.profiles) {
    fs.mkdirSync(args.profiles, {recursive: true});
    results.forEach((r, i) => {
      const file = path.join(args.profiles, `${path.basename(args.models[i].file, '.onnx')}.json`);
      fs.writeFileSync(file, r.profile + '\n');
      delete r.profile;
      r.profile_file = file;
    });
  }
  console.log(JSON.stringify(results.map((r, i) => ({
    model: path.basename(args.models[i].file), ...r}))));
}

main().catch((e) => fail(e && e.message || String(e)));
