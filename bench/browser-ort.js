#!/usr/bin/env node
// Times ONNX models with ONNX Runtime Web in headless Chromium.
//
//   node bench/browser-ort.js --backend wasm|webgpu [--runs N] [--warmup N]
//        [--together | --tabs] [--optimization disabled|all]
//        MODEL.onnx:D,D,D,D [MODEL.onnx:SHAPE ...]
//
// Serves bench/browser/ort-bench.html, onnxruntime-web's dist/ (from
// build/npm/node_modules) and the model files on 127.0.0.1 (cross-origin
// isolated), starts Debian's chromium through playwright-core with the
// flags of tools/chorus-probe (and --enable-unsafe-webgpu
// --use-webgpu-adapter=swiftshader for webgpu, a CPU-backed adapter), and
// prints JSON: per model {model, median_ms, runs_ms}. Warm-up: --warmup
// runs of every model and at least --warmup-s seconds of them (V8 compiles
// wasm with its baseline compiler first and optimizes hot functions as
// they run, so timing a fresh page measures a mix; timing after a few
// seconds of runs measures the steady state a long-lived page reaches;
// compiling everything optimized up front, --no-liftoff, takes minutes
// for ONNX Runtime Web's 28 MB module). One intra-op thread
// (env.wasm.numThreads = 1), graph optimizations disabled unless
// --optimization. Default: the models one after another in one page.
// --together: one page, every round starts all models at once. --tabs:
// each model in its own tab, all tabs timing at the same time.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const {launchChromium} = require('../tools/chorus-probe/chromium.js');

const ROOT = path.join(__dirname, '..');
const NPM = path.join(ROOT, 'build', 'npm', 'node_modules');

function fail(message) {
  console.error(`browser-ort: error: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const args = {backend: '', runs: 10, warmup: 3, warmupSeconds: 5, mode: 'sequential',
                optimization: 'disabled', models: []};
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : fail(`${a} needs a value`));
    if (a === '--backend') args.backend = value();
    else if (a === '--runs') args.runs = Number(value());
    else if (a === '--warmup') args.warmup = Number(value());
    else if (a === '--warmup-s') args.warmupSeconds = Number(value());
    else if (a === '--optimization') args.optimization = value();
    else if (a === '--together') args.mode = 'together';
    else if (a === '--tabs') args.mode = 'tabs';
    else if (a.startsWith('--')) fail(`unknown option '${a}'`);
    else {
      const at = a.lastIndexOf(':');
      if (at < 0) fail(`'${a}' is not MODEL.onnx:D,D,...`);
      const shape = a.slice(at + 1).split(',').map(Number);
      if (!shape.every((d) => Number.isInteger(d) && d > 0)) fail(`bad shape in '${a}'`);
      const file = a.slice(0, at);
      if (!fs.existsSync(file)) fail(`no model file '${file}'`);
      args.models.push({file: path.resolve(file), shape});
    }
  }
  if (!['wasm', 'webgpu'].includes(args.backend)) fail('--backend must be wasm or webgpu');
  if (!args.models.length) fail('no model given');
  if (!(args.runs > 0) || !(args.warmup >= 0)) fail('--runs must be positive, --warmup not negative');
  if (!['disabled', 'basic', 'extended', 'all'].includes(args.optimization))
    fail('--optimization must be disabled, basic, extended or all');
  return args;
}

const TYPES = {'.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript',
               '.wasm': 'application/wasm', '.onnx': 'application/octet-stream'};

function serve(models, host) {
  const dist = path.join(NPM, 'onnxruntime-web', 'dist');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
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

async function main() {
  const args = parseArgs(process.argv.slice(2));
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
    const config = (models, i) => ({
      backend: args.backend, threads: 1, optimization: args.optimization,
      runs: args.runs, warmup: args.warmup, warmupSeconds: args.warmupSeconds,
      together: args.mode === 'together',
      models: models.map((m) => ({url: `${origin(i)}/models/${args.models.indexOf(m)}.onnx`,
                                  shape: m.shape})),
    });
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
    const results = (await Promise.all(running)).flat();
    console.log(JSON.stringify(results.map((r, i) => ({
      model: path.basename(args.models[i].file), ...r}))));
  } finally {
    if (browser) await browser.close();
    for (const server of servers) server.close();
  }
}

main().catch((e) => fail(e && e.stack || String(e)));
