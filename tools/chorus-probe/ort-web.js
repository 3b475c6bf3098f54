// ort-web.js - runs ONNX models with ONNX Runtime Web in a real browser:
// Debian's Chromium through playwright-core, or Firefox ESR on a page that
// reports by itself. Used by tools/chorus-probe/calibrate-browser.js (the
// browser calibration) and bench/browser-ort.js (timings, pairs, checks).
//
// runOrtWeb(options) serves ort-page.html, onnxruntime-web's dist/ and the
// model files on 127.0.0.1 (cross-origin isolated) and resolves to one
// result per model:
//   timing: {median_ms, runs_ms, inputs: [{name, type, dims}]};
//   check:  {ok, outputs: [{name, type, dims, sum, absmax, nonfinite}]} or
//           {ok: false, stage: 'create'|'run', error}.
// options: models [{file, shape|null}], backend 'wasm'|'webgpu', browser
// 'chromium'|'firefox', firefox (path), npm (node_modules holding
// onnxruntime-web and playwright-core), runs, warmup, warmupSeconds,
// optimization, dims {name: value}, mode 'sequential' (every round runs each
// model once, in turn) | 'each' (each model's warm-up runs, then its timed
// runs one after another, then the next model's) | 'together' | 'tabs',
// check, profile, timeout (seconds, Firefox), onError (page errors,
// Chromium), reference {file, shape} (mode 'each': a speed reference
// timed before and after each model's runs and profiled runs; results
// gain reference_ms and profile_reference_ms), eachSeconds (mode 'each':
// each model's timed runs go on for at least this long, at most 200 runs;
// its warm-up for half of it). With profile (one page, no tabs), each timing result also
// holds `profile`: ONNX Runtime's profile (its JSON text) of a session of
// its own with the profiler on, after the timed runs: warmup + runs runs
// (on WebGPU, the GPU's timestamps of the `runs` runs, in the same format).
// It throws an Error with the page's message when the page fails.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const {launchChromium} = require('./chromium.js');
const {resultReceiver, runFirefoxPage} = require('./firefox.js');

const DEFAULT_NPM = path.join(__dirname, '..', '..', 'build', 'npm', 'node_modules');
const PAGE = path.join(__dirname, 'ort-page.html');
const TYPES = {'.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript',
               '.wasm': 'application/wasm', '.onnx': 'application/octet-stream'};
const ISOLATION = {'Cross-Origin-Opener-Policy': 'same-origin',
                   'Cross-Origin-Embedder-Policy': 'require-corp'};

// Serves the page, ONNX Runtime Web and the models; with `receiver`, also
// the page's config (GET /config.json) and its report (POST /result).
function serve(npm, models, host, receiver = null, config = null, reference = null) {
  const dist = path.join(npm, 'onnxruntime-web', 'dist');
  const server = http.createServer((req, res) => {
    if (receiver && receiver.handle(req, res)) return;
    const url = new URL(req.url, 'http://127.0.0.1');
    if (config && url.pathname === '/config.json') {
      res.writeHead(200, {'Content-Type': 'application/json', ...ISOLATION});
      res.end(JSON.stringify(config));
      return;
    }
    let file = null;
    if (url.pathname === '/' || url.pathname === '/ort-page.html')
      file = PAGE;
    else if (url.pathname === '/fill.mjs')
      file = path.join(__dirname, 'fill.mjs');
    else if (url.pathname.startsWith('/ort/'))
      file = path.join(dist, path.basename(url.pathname));
    else if (url.pathname === '/models/reference.onnx')
      file = reference && reference.file;
    else if (url.pathname.startsWith('/models/'))
      file = (models[Number(path.basename(url.pathname, '.onnx'))] || {}).file;
    if (!file || !fs.existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, {'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
                        ...ISOLATION});
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, host, () => resolve(server));
  });
}

function withDefaults(options) {
  const o = {browser: 'chromium', firefox: '/usr/bin/firefox-esr', npm: DEFAULT_NPM, runs: 10,
             warmup: 3, warmupSeconds: 5, optimization: 'disabled', dims: {},
             mode: 'sequential', check: false, profile: false, reference: null, eachSeconds: 0,
             timeout: 600, onError: () => {},
             ...options};
  if (o.reference && o.mode !== 'each')
    throw new Error('a speed reference is timed beside each model (mode each)');
  if (o.profile && (o.mode === 'tabs' || o.check))
    throw new Error('profiles are taken in one page, of timed models (no tabs, no check)');
  if (!fs.existsSync(path.join(o.npm, 'onnxruntime-web', 'package.json')))
    throw new Error(`no onnxruntime-web under ${o.npm} (run utils/bootstrap.sh, or npm ` +
                    'install --ignore-scripts onnxruntime-web there)');
  return o;
}

// The page's settings for `models` (of o.models), served from origin.
function pageConfig(o, models, origin) {
  return {
    backend: o.backend, threads: 1, optimization: o.optimization,
    runs: o.runs, warmup: o.warmup, warmupSeconds: o.warmupSeconds,
    together: o.mode === 'together', each: o.mode === 'each', check: o.check,
    profile: o.profile, eachSeconds: o.eachSeconds,
    reference: o.reference ? {url: `${origin}/models/reference.onnx`, name: 'speed reference',
                              shape: o.reference.shape, dims: {}} : null,
    models: models.map((m) => ({url: `${origin}/models/${o.models.indexOf(m)}.onnx`,
                                name: path.basename(m.file), shape: m.shape, dims: o.dims})),
  };
}

// Firefox: one page that times (or checks) by itself and posts its results.
async function runFirefox(o) {
  const receiver = resultReceiver();
  const config = {};
  const server = await serve(o.npm, o.models, '127.0.0.1', receiver, config, o.reference);
  const origin = `http://127.0.0.1:${server.address().port}`;
  Object.assign(config, pageConfig(o, o.models, origin));
  try {
    const report = await runFirefoxPage(`${origin}/ort-page.html?auto=1`, receiver.received, {
      executablePath: o.firefox, prefix: 'chorus-ort-', timeout: o.timeout});
    if (report.error) throw new Error(`the page failed: ${report.error}`);
    return report.results;
  } finally {
    server.close();
  }
}

async function runChromium(o) {
  let chromium;
  try {
    ({chromium} = require(path.join(o.npm, 'playwright-core')));
  } catch (e) {
    throw new Error(`cannot load playwright-core from ${o.npm} (run utils/bootstrap.sh): ` +
                    e.message);
  }
  // One server per tab, each on its own loopback address: pages of
  // different sites get their own renderer process (same-site tabs may
  // share one, and with it one main thread).
  const tabs = o.mode === 'tabs' ? o.models.length : 1;
  const servers = [];
  for (let i = 0; i < tabs; ++i) servers.push(await serve(o.npm, o.models, `127.0.0.${i + 1}`, null, null, o.reference));
  const origin = (i) => `http://127.0.0.${i + 1}:${servers[i].address().port}`;
  // Background tabs keep their timers and renderer priority: pages are
  // timed side by side.
  const flags = ['--disable-background-timer-throttling', '--disable-renderer-backgrounding',
                 '--disable-backgrounding-occluded-windows'];
  let browser;
  try {
    browser = await launchChromium(chromium, {swiftshader: o.backend === 'webgpu', flags,
                                              prefix: 'chorus-ort-'});
    const {context} = browser;
    const config = (models, i) => pageConfig(o, models, origin(i));
    const open = async (_, i) => {
      const page = await context.newPage();
      page.on('pageerror', (e) => o.onError(`page error: ${e}`));
      await page.goto(`${origin(i)}/ort-page.html`);
      await page.waitForFunction(() => window.benchReady, null, {timeout: 60000});
      return page;
    };
    if (o.check) {
      // A page per model: after a failed run, ONNX Runtime Web's WebGPU
      // backend refuses every later run in that page ("kernel ... is not
      // allowed to be called recursively").
      const results = [];
      for (const m of o.models) {
        const page = await open(null, 0);
        results.push(...await page.evaluate((c) => window.check(c), config([m], 0)));
        await page.close();
      }
      return results;
    }
    // Every page prepares (sessions, warm-ups) first; then all start timing
    // at the same instant. With tabs each page keeps running its model
    // until every tab has done its runs, so the tabs contend all along.
    const groups = o.mode === 'tabs' ? o.models.map((m) => [m]) : [o.models];
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
        if (done.every((d) => d >= o.runs)) break;
      }
      await Promise.all(pages.map((p) => p.evaluate(() => { window.stopRequested = true; })));
    }
    const results = (await Promise.all(running)).flat();
    if (o.profile) {
      const profiles = await pages[0].evaluate((c) => window.profileRuns(c), config(o.models, 0));
      profiles.forEach((p, i) => Object.assign(results[i], p));
    }
    return results;
  } finally {
    if (browser) await browser.close();
    for (const server of servers) server.close();
  }
}

async function runOrtWeb(options) {
  const o = withDefaults(options);
  if (o.browser === 'firefox') {
    if (!fs.existsSync(o.firefox))
      throw new Error(`no browser at ${o.firefox} (apt install firefox-esr, or give --firefox PATH)`);
    if (o.mode === 'tabs') throw new Error('tabs need Chromium');
    return runFirefox(o);
  }
  return runChromium(o);
}

module.exports = {runOrtWeb};
