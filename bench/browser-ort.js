#!/usr/bin/env node
// Times ONNX models with ONNX Runtime Web in headless Chromium or Firefox.
//
//   node bench/browser-ort.js --backend wasm|webgpu [--browser chromium|firefox]
//        [--runs N] [--warmup N] [--together | --tabs]
//        [--optimization disabled|all] [--dim NAME=V ...] [--check]
//        MODEL.onnx[:D,D,D,D] [MODEL.onnx[:SHAPE] ...]
//
// Serves bench/browser/ort-bench.html, onnxruntime-web's dist/ (from
// build/npm/node_modules) and the model files on 127.0.0.1 (cross-origin
// isolated) and starts Debian's chromium through playwright-core with the
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
// --optimization. Default: the models one after another in one page.
// --together: one page, every round starts all models at once. --tabs:
// each model in its own tab, all tabs timing at the same time.
//
// --check times nothing: it creates each model's session, runs it once
// and prints per model {model, ok, outputs: [{name, type, dims, sum,
// absmax, nonfinite}]} or {model, ok: false, stage: 'create'|'run',
// error}, with the runtime's own message; in Chromium each model gets a
// page of its own.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const {launchChromium} = require('../tools/chorus-probe/chromium.js');
const {resultReceiver, runFirefoxPage} = require('../tools/chorus-probe/firefox.js');

const ROOT = path.join(__dirname, '..');
const NPM = path.join(ROOT, 'build', 'npm', 'node_modules');

function fail(message) {
  console.error(`browser-ort: error: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const args = {backend: '', browser: 'chromium', firefox: '/usr/bin/firefox-esr', runs: 10,
                warmup: 3, warmupSeconds: 5, mode: 'sequential', optimization: 'disabled',
                timeout: 600, dims: {}, models: []};
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
    else if (a === '--check') args.check = true;
    else if (a === '--tabs') args.mode = 'tabs';
    else if (a.startsWith('--')) fail(`unknown option '${a}'`);
    else {
      // MODEL.onnx or MODEL.onnx:D,D,...
      const at = a.lastIndexOf(':');
      const hasShape = at >= 0 && /^[0-9,]+$/.test(a.slice(at + 1));
      const file = hasShape ? a.slice(0, at) : a;
      const shape = hasShape ? a.slice(at + 1).split(',').map(Number) : null;
      if (shape && !shape.every((d) => Number.isInteger(d) && d > 0)) fail(`bad shape in '${a}'`);
      if (!fs.existsSync(file)) fail(`no model file '${file}'`);
      args.models.push({file: path.resolve(file), shape});
    }
  }
  if (!['wasm', 'webgpu'].includes(args.backend)) fail('--backend must be wasm or webgpu');
  if (!['chromium', 'firefox'].includes(args.browser))
    fail('--browser must be chromium or firefox');
  if (args.browser === 'firefox' && !fs.existsSync(args.firefox))
    fail(`no browser at ${args.firefox} (apt install firefox-esr, or give --firefox PATH)`);
  if (args.browser === 'firefox' && args.mode === 'tabs')
    fail('--tabs needs Chromium (--browser chromium)');
  if (!(args.timeout > 0)) fail('--timeout must be a positive number of seconds');
  if (args.check && args.mode !== 'sequential') fail('--check times nothing: no --together or --tabs');
  if (!args.models.length) fail('no model given');
  if (!(args.runs > 0) || !(args.warmup >= 0)) fail('--runs must be positive, --warmup not negative');
  if (!['disabled', 'basic', 'extended', 'all'].includes(args.optimization))
    fail('--optimization must be disabled, basic, extended or all');
  return args;
}

const TYPES = {'.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript',
               '.wasm': 'application/wasm', '.onnx': 'application/octet-stream'};

// Serves the page, ONNX Runtime Web and the models; with `receiver`, also
// the page's config (GET /config.json) and its report (POST /result).
function serve(models, host, receiver = null, config = null) {
  const dist = path.join(NPM, 'onnxruntime-web', 'dist');
  const server = http.createServer((req, res) => {
    if (receiver && receiver.handle(req, res)) return;
    const url = new URL(req.url, 'http://127.0.0.1');
    if (config && url.pathname === '/config.json') {
      res.writeHead(200, {'Content-Type': 'application/json',
                          'Cross-Origin-Opener-Policy': 'same-origin',
                          'Cross-Origin-Embedder-Policy': 'require-corp'});
      res.end(JSON.stringify(config));
      return;
    }
    let file = null;
    if (url.pathname === '/' || url.pathname === '/ort-bench.html')
      file = path.join(__dirname, 'browser', 'ort-bench.html');
    else if (url.pathname.startsWith('/ort/'))
      file = path.join(dist, path.basename(url.pathname));
    else if (url.pathname.startsWith('/models/'))
      file = (models[Number(path.basename(url.pathname, '.onnx'))] || {}).file;
    if (!file || !fs.existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, {'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
                        'Cross-Origin-Opener-Policy': 'same-origin',
                        'Cross-Origin-Embedder-Policy': 'require-corp'});
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, host, () => resolve(server));
  });
}

// The page's settings for `models` (of args.models), served from origin.
function pageConfig(args, models, origin) {
  return {
    backend: args.backend, threads: 1, optimization: args.optimization,
    runs: args.runs, warmup: args.warmup, warmupSeconds: args.warmupSeconds,
    together: args.mode === 'together', check: Boolean(args.check),
    models: models.map((m) => ({url: `${origin}/models/${args.models.indexOf(m)}.onnx`,
                                name: path.basename(m.file), shape: m.shape, dims: args.dims})),
  };
}

function printResults(args, results) {
  console.log(JSON.stringify(results.map((r, i) => ({
    model: path.basename(args.models[i].file), ...r}))));
}

// Firefox: one page that times by itself and posts its results.
async function mainFirefox(args) {
  const receiver = resultReceiver();
  const config = {};
  const server = await serve(args.models, '127.0.0.1', receiver, config);
  const origin = `http://127.0.0.1:${server.address().port}`;
  Object.assign(config, pageConfig(args, args.models, origin));
  try {
    const report = await runFirefoxPage(`${origin}/ort-bench.html?auto=1`, receiver.received, {
      executablePath: args.firefox, prefix: 'chorus-bench-', timeout: args.timeout});
    if (report.error) fail(`the page failed: ${report.error}`);
    printResults(args, report.results);
  } finally {
    server.close();
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.browser === 'firefox') return mainFirefox(args);
  const {chromium} = require(path.join(NPM, 'playwright-core'));
  // One server per tab, each on its own loopback address: pages of
  // different sites get their own renderer process (same-site tabs may
  // share one, and with it one main thread).
  const tabs = args.mode === 'tabs' ? args.models.length : 1;
  const servers = [];
  for (let i = 0; i < tabs; ++i) servers.push(await serve(args.models, `127.0.0.${i + 1}`));
  const origin = (i) => `http://127.0.0.${i + 1}:${servers[i].address().port}`;
  // Background tabs keep their timers and renderer priority: pages are
  // timed side by side.
  const flags = ['--disable-background-timer-throttling', '--disable-renderer-backgrounding',
                 '--disable-backgrounding-occluded-windows'];
  let browser;
  try {
    browser = await launchChromium(chromium, {swiftshader: args.backend === 'webgpu', flags,
                                              prefix: 'chorus-bench-'});
    const {context} = browser;
    const config = (models, i) => pageConfig(args, models, origin(i));
    const open = async (_, i) => {
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`page error: ${e}`));
      await page.goto(`${origin(i)}/ort-bench.html`);
      await page.waitForFunction(() => window.benchReady, null, {timeout: 60000});
      return page;
    };
    // Every page prepares (sessions, warm-ups) first; then all start timing
    // at the same instant. With --tabs each page keeps running its model
    // until every tab has done --runs, so the tabs contend all along.
    if (args.check) {
      // A page per model: after a failed run, ONNX Runtime Web's WebGPU
      // backend refuses every later run in that page ("kernel ... is not
      // allowed to be called recursively").
      const results = [];
      for (const m of args.models) {
        const page = await open(null, 0);
        results.push(...await page.evaluate((c) => window.check(c), config([m], 0)));
        await page.close();
      }
      printResults(args, results);
      return;
    }
    const groups = args.mode === 'tabs' ? args.models.map((m) => [m]) : [args.models];
    const pages = await Promise.all(groups.map(open));
    await Promise.all(pages.map((p, i) => p.evaluate((c) => window.prepare(c), config(groups[i], i))));
    const startAt = Date.now() + 500;
    const untilStopped = pages.length > 1;
    const running = pages.map((p, i) => p.evaluate(
        (c) => window.timeRuns(c), {...config(groups[i], i), startAt, untilStopped}));
    if (untilStopped) {
      // When every tab has done its runs, all stop.
      for (;;) {
        await new Promise((r) => setTimeout(r, 100));
        const done = await Promise.all(pages.map((p) => p.evaluate(() => window.runsDone)));
        if (done.every((d) => d >= args.runs)) break;
      }
      await Promise.all(pages.map((p) => p.evaluate(() => { window.stopRequested = true; })));
    }
    printResults(args, (await Promise.all(running)).flat());
  } finally {
    if (browser) await browser.close();
    for (const server of servers) server.close();
  }
}

main().catch((e) => fail(e && e.stack || String(e)));
