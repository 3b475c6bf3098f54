#!/usr/bin/env node
// Calibrates a browser target in one command: runs Chorus's calibration
// models with ONNX Runtime Web in a real browser and fits a target to
// their latencies.
//
//   node tools/chorus-probe/calibrate-browser.js -o TARGET.json
//        [--browser chromium|firefox] [--backend wasm|webgpu]
//        [--optimization all|extended|basic|disabled] [--rounds R]
//        [--runs N] [--warmup-s S] [--model-s S] [--fit kernels|latency]
//        [--base NAME | --base-file FILE] [--time-weight W]
//        [--keep DIR | --from DIR] [--chorus-calibrate PATH]
//        [--npm NODE_MODULES] [--firefox PATH] [--name NAME]
//
// 1. chorus-calibrate --write-calibration-models: the models chorus-calibrate
//    --measure runs natively (convolution, depthwise, matrix, elementwise,
//    pooling, normalization and attention chains across sizes, whole
//    generated networks, the overhead probe);
// 2. the capability probe (run-probe.js) in the same browser, for the
//    target's browser object (kind, backend, op-support table, adapter);
// 3. --rounds rounds, each a fresh browser timing every model in one page
//    (--warmup-s seconds of warm-up runs of them all, then model by model
//    warm-up runs and timed runs, at least --runs and --model-s seconds of
//    them), with chorus-calibrate's speed reference timed before and after
//    each model. With --fit kernels each model then runs again with ONNX
//    Runtime's profiler on, which ONNX Runtime Web writes to the page's
//    console: one event per kernel per run (on WebGPU, the GPU's own
//    timestamps of each kernel's dispatches, which the adapter gives with
//    its timestamp-query feature, as SwiftShader's does). Every time is brought to the
//    run's median pace of the speed reference (pace.js); a model's latency
//    is the median of all its timed runs;
// 4. --fit kernels (the default): chorus-calibrate --kernel-models
//    fits the runtime's kernel models to the profiles (of each model's
//    median round) and the latencies, as chorus-calibrate --measure does
//    natively: per kernel class of ONNX Runtime's own optimized graph, time
//    from its FLOPs, bytes and kernels (on WebGPU also the workgroups and
//    tile steps of the program the provider picks), the profiler's own
//    time per kernel taken off (on WebGPU, the time a run takes beyond its
//    kernels' GPU time, per kernel, put on; on wasm, what a run costs
//    beside its kernels per byte of input and of output, run_io, fitted
//    with it from each model's shapes); the target predicts ONNX
//    Runtime Web's kernels (runtime onnxruntime-web, no NCHWc; on WebGPU in
//    NHWC with its layout Transposes). --fit latency (the fit for a WebGPU
//    adapter without timestamp-query): chorus-calibrate --latency-only on the base target (default the
//    built-in host), on the kernels ONNX Runtime's own fusions make: per op
//    class a factor on the base's work and one overhead per kernel, every
//    class with work its own factor (--min-work-share 0: the calibration
//    models give each class chains of its own); --time-weight W weighs
//    each model's relative error by its time to the power W (default 0,
//    every model alike: what predicted the held-out networks best of 0,
//    0.5 and 1, docs/Targets.md).
// Writes TARGET.json (and, with --keep, the models, the probe and the
// latencies in DIR); nothing else. --from DIR fits again to what --keep
// kept there, timing nothing.
'use strict';
const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {runOrtWeb} = require('./ort-web.js');
const {median, paceOf, scaleProfile, describePace} = require('./pace.js');

const HERE = __dirname;
const ROOT = path.join(HERE, '..', '..');
const USAGE = 'usage: calibrate-browser.js -o TARGET.json [--browser chromium|firefox] ' +
    '[--backend wasm|webgpu] [--optimization LEVEL] [--rounds R] [--runs N] [--warmup-s S] ' +
    '[--model-s S] ' +
    '[--fit kernels|latency] ' +
    '[--base NAME | --base-file FILE] [--time-weight W] [--keep DIR | --from DIR] ' +
    '[--chorus-calibrate PATH] [--npm NODE_MODULES] [--firefox PATH] [--name NAME]';

function fail(message) {
  console.error(`calibrate-browser: error: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const args = {browser: 'chromium', backend: 'wasm', optimization: 'all', rounds: 3, runs: 5,
                warmupSeconds: 2, eachSeconds: 0.3, base: 'host', baseFile: '', timeWeight: 0, keep: '',
                chorusCalibrate: path.join(ROOT, 'build', 'bin', 'chorus-calibrate'),
                npm: path.join(ROOT, 'build', 'npm', 'node_modules'),
                firefox: '/usr/bin/firefox-esr', name: '', out: ''};
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : fail(`${a} needs a value\n${USAGE}`));
    if (a === '-o') args.out = value();
    else if (a === '--browser') args.browser = value();
    else if (a === '--backend') args.backend = value();
    else if (a === '--optimization') args.optimization = value();
    else if (a === '--rounds') args.rounds = Number(value());
    else if (a === '--runs') args.runs = Number(value());
    else if (a === '--warmup-s') args.warmupSeconds = Number(value());
    else if (a === '--model-s') args.eachSeconds = Number(value());
    else if (a === '--fit') { args.fit = value(); args.fitGiven = true; }
    else if (a === '--base') args.base = value();
    else if (a === '--base-file') args.baseFile = value();
    else if (a === '--time-weight') args.timeWeight = Number(value());
    else if (a === '--keep') args.keep = value();
    else if (a === '--from') args.from = value();
    else if (a === '--chorus-calibrate') args.chorusCalibrate = value();
    else if (a === '--npm') args.npm = value();
    else if (a === '--firefox') args.firefox = value();
    else if (a === '--name') { args.name = value(); args.nameGiven = true; }
    else if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0); }
    else fail(`unknown argument '${a}'\n${USAGE}`);
  }
  if (!args.out) fail(`-o is required\n${USAGE}`);
  if (!['chromium', 'firefox'].includes(args.browser))
    fail(`--browser must be chromium or firefox, not '${args.browser}'`);
  if (!['wasm', 'webgpu'].includes(args.backend))
    fail(`--backend must be wasm or webgpu, not '${args.backend}'`);
  if (args.browser === 'firefox' && args.backend === 'webgpu')
    fail('--backend webgpu needs --browser chromium (its SwiftShader adapter); Firefox offers ' +
         'no WebGPU adapter without a GPU');
  // On WebGPU the kernel fit (the GPU's timestamps) predicted held-out
  // networks worse than the latency fit on SwiftShader (docs/Targets.md).
  if (!args.fit) args.fit = 'kernels';
  if (!['kernels', 'latency'].includes(args.fit))
    fail(`--fit must be kernels or latency, not '${args.fit}'`);
  if (!['disabled', 'basic', 'extended', 'all'].includes(args.optimization))
    fail('--optimization must be disabled, basic, extended or all');
  if (!(Number.isInteger(args.rounds) && args.rounds >= 1)) fail('--rounds must be at least 1');
  if (!(Number.isInteger(args.runs) && args.runs >= 3)) fail('--runs must be at least 3');
  if (!(args.warmupSeconds >= 0)) fail('--warmup-s must not be negative');
  if (!(args.eachSeconds >= 0)) fail('--model-s must not be negative');
  if (!(args.timeWeight >= 0 && args.timeWeight <= 2)) fail('--time-weight must be in [0, 2]');
  if (!fs.existsSync(args.chorusCalibrate))
    fail(`no chorus-calibrate at ${args.chorusCalibrate} (build Chorus, or give ` +
         '--chorus-calibrate PATH)');
  if (args.keep && fs.existsSync(args.keep)) fail(`--keep '${args.keep}' exists: name a new folder`);
  if (args.from && args.keep) fail('--from refits what --keep kept: give one');
  if (args.from && !fs.existsSync(path.join(args.from, 'latencies.json')))
    fail(`--from '${args.from}' holds no latencies.json (a folder --keep wrote)`);
  if (!args.name) args.name = `${args.browser}-${args.backend}-calibrated`;
  args.ortVersion = ortWebVersion(args.npm);
  return args;
}

function run(program, argv, what) {
  const r = childProcess.spawnSync(program, argv, {encoding: 'utf8'});
  if (r.error) fail(`${what}: ${r.error.message}`);
  if (r.status !== 0) fail(`${what} failed:\n${(r.stderr || '') + (r.stdout || '')}`.trim());
  return r.stdout;
}

// Fits the target to the latencies (by model name) of the models kept in
// work/models, with the browser object the probe wrote in work/probe.
function fit(args, work, latency, t0) {
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
  const modelsDir = path.join(work, 'models');
  const manifest = JSON.parse(fs.readFileSync(path.join(modelsDir, 'models.json'), 'utf8'));
  const models = manifest.models.map((m) => ({name: m.name, file: path.join(modelsDir, m.file),
                                              shape: m.shape}));
  const browserFile = path.join(work, 'probe', `${args.browser}-${args.backend}.json`);
  for (const m of models)
    if (!(latency[m.name] > 0)) fail(`no latency for calibration model ${m.name}`);
  console.log(`fitting [${elapsed()}]`);
  if (args.fit === 'kernels') return fitKernels(args, work, models, latency, browserFile, t0);
  const fitArgs = ['--latency-only', '--browser-file', browserFile, '--min-work-share', '0',
                   '--time-weight', String(args.timeWeight), '--name', args.name, '--note',
                   `calibrate-browser.js: ${models.length} calibration models in ` +
                       `${args.browser} ${args.backend}, onnxruntime-web, optimization ` +
                       `${args.optimization}, median of ${args.rounds} rounds x ${args.runs} runs`,
                   '-o', path.resolve(args.out)];
  if (args.baseFile) fitArgs.push('--base-file', args.baseFile);
  else fitArgs.push('--base', args.base);
  // The generated models take their input, x, at the shape they were
  // timed with.
  for (const m of models)
    fitArgs.push(m.file, '--latency', `${m.file}=${latency[m.name]}`, '--input-shape',
                 `${m.name}:x=${m.shape.join('x')}`);
  process.stdout.write(run(args.chorusCalibrate, fitArgs, 'chorus-calibrate --latency-only'));
  console.log(`wrote ${args.out} [${elapsed()}]`);
}

// The version of onnxruntime-web under args.npm.
function ortWebVersion(npm) {
  try {
    return JSON.parse(fs.readFileSync(path.join(npm, 'onnxruntime-web', 'package.json'),
                                      'utf8')).version;
  } catch (e) {
    return '';
  }
}

// --fit kernels: the runtime's kernel models, fitted to the profiles kept
// in work/profiles (one per model, its median round) and the latencies.
function fitKernels(args, work, models, latency, browserFile, t0) {
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
  const fitArgs = ['--kernel-models', '--browser-file', browserFile, '--ort-level',
                   args.optimization, '--nchwc-block', '0', '--name', args.name, '--note',
                   `calibrate-browser.js: ${models.length} calibration models in ` +
                       `${args.browser} ${args.backend}, onnxruntime-web ${args.ortVersion}, ` +
                       `optimization ${args.optimization}, profiled, median of ${args.rounds} ` +
                       `rounds x ${args.runs} runs`,
                   '-o', path.resolve(args.out)];
  if (args.ortVersion) fitArgs.push('--ort-version', args.ortVersion);
  if (args.baseFile) fitArgs.push('--base-file', args.baseFile);
  else fitArgs.push('--base', args.base);
  for (const m of models) {
    const profile = path.join(work, 'profiles', `${m.name}.json`);
    if (!fs.existsSync(profile)) fail(`no profile for calibration model ${m.name} (${profile})`);
    // Each at the shape it was timed with: on wasm the fit weighs the bytes
    // a run copies in and out.
    fitArgs.push(m.file, profile, '--latency', `${m.file}=${latency[m.name]}`,
                 '--input-shape', `${m.name}:x=${m.shape.join('x')}`);
  }
  const out = run(args.chorusCalibrate, fitArgs, 'chorus-calibrate --kernel-models');
  // The per-model lines name the scratch folder; the fit's table is what
  // tells.
  process.stdout.write(out.split('\n').filter((l) => !l.includes(' kernels (')).join('\n'));
  console.log(`wrote ${args.out} [${elapsed()}]`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const work = args.from || args.keep ||
      fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-calibrate-browser-'));
  if (args.keep) fs.mkdirSync(work, {recursive: true});
  if (args.from) {
    // Fit again to what was measured, as it was measured.
    const kept = JSON.parse(fs.readFileSync(path.join(work, 'latencies.json'), 'utf8'));
    Object.assign(args, {browser: kept.browser, backend: kept.backend,
                         optimization: kept.optimization, rounds: kept.rounds,
                         runs: kept.runs, ortVersion: kept.ort_version || '',
                         fit: args.fitGiven ? args.fit : (kept.fit || 'latency')});
    if (!args.nameGiven) args.name = `${args.browser}-${args.backend}-calibrated`;
    if (args.fit === 'kernels' && !fs.existsSync(path.join(work, 'profiles')))
      fail(`--from '${work}' holds no profiles: it was timed for --fit latency`);
    return fit(args, work, kept.latency_ms, Date.now());
  }
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
  try {
    const modelsDir = path.join(work, 'models');
    run(args.chorusCalibrate, ['--write-calibration-models', modelsDir],
        'chorus-calibrate --write-calibration-models');
    const manifest = JSON.parse(fs.readFileSync(path.join(modelsDir, 'models.json'), 'utf8'));
    const models = manifest.models.map((m) => ({name: m.name, file: path.join(modelsDir, m.file),
                                                shape: m.shape}));
    console.log(`${models.length} calibration models; probing ${args.browser}`);
    const probeDir = path.join(work, 'probe');
    const probeArgs = [path.join(HERE, 'run-probe.js'), '--out', probeDir, '--browser',
                       args.browser, '--playwright', args.npm, '--firefox', args.firefox];
    if (args.backend === 'webgpu') probeArgs.push('--webgpu-swiftshader');
    run(process.execPath, probeArgs, 'the capability probe');
    const browserFile = path.join(probeDir, `${args.browser}-${args.backend}.json`);
    if (!fs.existsSync(browserFile))
      fail(`${args.browser} offers no ${args.backend} backend here (see ` +
           `${path.join(probeDir, 'capabilities.json')})`);
    const reference = {file: path.join(modelsDir, manifest.speed_reference.file),
                       shape: manifest.speed_reference.shape};
    // Per model, each round: its runs, the reference beside them, its
    // profile and the reference beside that.
    const rounds = models.map(() => []);
    const profiling = args.fit === 'kernels';
    for (let r = 0; r < args.rounds; ++r) {
      console.log(`round ${r + 1} of ${args.rounds}: timing ${models.length} models in ` +
                  `${args.browser} (${args.backend}, optimization ${args.optimization})` +
                  `${profiling ? ', then profiling them' : ''} [${elapsed()}]`);
      const results = await runOrtWeb({
        models: models.map((m) => ({file: m.file, shape: m.shape})), backend: args.backend,
        browser: args.browser, firefox: args.firefox, npm: args.npm, runs: args.runs,
        warmup: 2, warmupSeconds: args.warmupSeconds, optimization: args.optimization,
        mode: 'each', eachSeconds: args.eachSeconds, reference, profile: profiling,
        onError: (e) => console.error(e)});
      results.forEach((res, i) => rounds[i].push(res));
    }
    // Every measurement at the run's median pace of the speed reference.
    const pace = paceOf(rounds.flat().flatMap(
        (res) => [res.reference_ms, ...(profiling ? [res.profile_reference_ms] : [])]));
    console.log(describePace(pace));
    const latency = {};
    const times = models.map((m, i) => rounds[i].flatMap(
        (res) => res.runs_ms.map((t) => t * pace.median / res.reference_ms)));
    models.forEach((m, i) => { latency[m.name] = median(times[i]); });
    if (profiling) {
      // Each model's profile from its median round (the lower of the two
      // middle ones with an even count), at the median pace.
      fs.mkdirSync(path.join(work, 'profiles'));
      models.forEach((m, i) => {
        const at = rounds[i].map((res) => ({res, ms: median(res.runs_ms) * pace.median /
                                                     res.reference_ms}));
        at.sort((a, b) => a.ms - b.ms);
        const chosen = at[Math.floor((at.length - 1) / 2)].res;
        fs.writeFileSync(path.join(work, 'profiles', `${m.name}.json`),
                         scaleProfile(chosen.profile, pace.median / chosen.profile_reference_ms) +
                             '\n');
      });
    }
    fs.writeFileSync(path.join(work, 'latencies.json'),
                     JSON.stringify({browser: args.browser, backend: args.backend,
                                     optimization: args.optimization, rounds: args.rounds,
                                     runs: args.runs, fit: args.fit,
                                     ort_version: args.ortVersion,
                                     speed_reference_ms: pace.median, latency_ms: latency,
                                     runs_ms: Object.fromEntries(
                                         models.map((m, i) => [m.name, times[i]]))}, null, 1) +
                         '\n');
    fit(args, work, latency, t0);
  } finally {
    if (!args.keep) fs.rmSync(work, {recursive: true, force: true});
  }
}

main().catch((e) => fail(e && e.message || String(e)));
