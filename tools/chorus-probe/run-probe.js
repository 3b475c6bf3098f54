#!/usr/bin/env node
// Runs the Chorus capability probe (tools/chorus-probe/index.html) in a
// headless Chromium or Firefox and writes the targets it makes.
//
//   node tools/chorus-probe/run-probe.js --out DIR [--name PREFIX]
//        [--browser chromium|firefox] [--chromium /usr/bin/chromium]
//        [--firefox /usr/bin/firefox-esr] [--playwright NODE_MODULES]
//        [--webgpu-swiftshader] [--no-isolation] [--timeout SECONDS]
//
// Serves this folder on 127.0.0.1 (a secure context, with COOP/COEP headers
// so the page is cross-origin isolated and wasm threads are possible,
// unless --no-isolation), starts Chromium through playwright-core (npm,
// default: build/npm/node_modules) with a fresh user-data-dir that is
// removed afterwards, opens the page and writes each target to
// DIR/<name>.json and the raw capabilities to DIR/capabilities.json.
// --browser firefox starts Debian's Firefox ESR headless instead, with a
// fresh profile, and the page posts its result back to the server.
// --webgpu-swiftshader (Chromium only) adds --enable-unsafe-webgpu
// --use-webgpu-adapter=swiftshader: a real, CPU-backed WebGPU adapter on a
// machine without a GPU. Nothing else is written.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const {launchChromium} = require('./chromium.js');
const {resultReceiver, runFirefoxPage} = require('./firefox.js');

const HERE = __dirname;
const USAGE = 'usage: run-probe.js --out DIR [--name PREFIX] [--browser chromium|firefox] ' +
    '[--chromium PATH] [--firefox PATH] [--playwright NODE_MODULES] [--webgpu-swiftshader] ' +
    '[--no-isolation] [--timeout SECONDS]';

function parseArgs(argv) {
  const args = {browser: 'chromium', chromium: '/usr/bin/chromium',
                firefox: '/usr/bin/firefox-esr', name: '', swiftshader: false,
                isolation: true, timeout: 60,
                playwright: path.join(HERE, '..', '..', 'build', 'npm', 'node_modules')};
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value\n${USAGE}`);
      return argv[++i];
    };
    if (a === '--out') args.out = value();
    else if (a === '--name') args.name = value();
    else if (a === '--browser') args.browser = value();
    else if (a === '--chromium') args.chromium = value();
    else if (a === '--firefox') args.firefox = value();
    else if (a === '--playwright') args.playwright = value();
    else if (a === '--timeout') args.timeout = Number(value());
    else if (a === '--webgpu-swiftshader') args.swiftshader = true;
    else if (a === '--no-isolation') args.isolation = false;
    else if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0); }
    else fail(`unknown argument '${a}'\n${USAGE}`);
  }
  if (!args.out) fail(`--out is required\n${USAGE}`);
  if (!['chromium', 'firefox'].includes(args.browser))
    fail(`--browser must be chromium or firefox, not '${args.browser}'`);
  if (args.swiftshader && args.browser !== 'chromium')
    fail('--webgpu-swiftshader is a Chromium flag (--browser chromium)');
  if (!(args.timeout > 0)) fail('--timeout must be a positive number of seconds');
  if (args.name && !/^[A-Za-z0-9._-]+$/.test(args.name))
    fail(`--name '${args.name}' may use letters, digits, '.', '_' and '-' only`);
  return args;
}

function fail(message) {
  console.error(`run-probe: error: ${message}`);
  process.exit(1);
}

const TYPES = {'.html': 'text/html', '.js': 'text/javascript'};

function serve(isolation, receiver) {
  const server = http.createServer((req, res) => {
    if (receiver.handle(req, res)) return;
    const url = new URL(req.url, 'http://127.0.0.1');
    const file = path.basename(url.pathname === '/' ? 'index.html' : url.pathname);
    const type = TYPES[path.extname(file)];
    const full = path.join(HERE, file);
    if (!type || !fs.existsSync(full)) {
      res.writeHead(404);
      res.end();
      return;
    }
    const headers = {'Content-Type': type, 'Cache-Control': 'no-store'};
    if (isolation) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    res.writeHead(200, headers);
    fs.createReadStream(full).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// Writes the probe's result: the capabilities and one file per target.
function write(args, result) {
  fs.mkdirSync(args.out, {recursive: true});
  fs.writeFileSync(path.join(args.out, 'capabilities.json'),
                   JSON.stringify(result.capabilities, null, 1) + '\n');
  for (const t of result.targets) {
    const file = path.join(args.out, `${t.name}.json`);
    fs.writeFileSync(file, JSON.stringify(t, null, 1) + '\n');
    console.log(`wrote ${file}: ${t.browser.backend}, ` +
                `${(t.peak_flops.f32 / 1e9).toFixed(1)} GFLOP/s f32 (wasm SIMD loop), ` +
                `${(t.memory_bandwidth / 1e9).toFixed(1)} GB/s (copy)`);
  }
  for (const [feature, reason] of Object.entries(result.capabilities.unavailable))
    console.log(`unavailable: ${feature}: ${reason}`);
}

// Chromium, driven through playwright-core.
async function probeChromium(args, url) {
  let playwright;
  try {
    playwright = require(path.join(path.resolve(args.playwright), 'playwright-core'));
  } catch (e) {
    fail(`cannot load playwright-core from ${args.playwright} (npm install --ignore-scripts ` +
         `playwright-core there, or give --playwright NODE_MODULES): ${e.message}`);
  }
  if (!fs.existsSync(args.chromium))
    fail(`no browser at ${args.chromium} (apt install chromium, or give --chromium PATH)`);
  let browser;
  try {
    browser = await launchChromium(playwright.chromium, {
      executablePath: args.chromium, swiftshader: args.swiftshader, prefix: 'chorus-probe-',
      // navigator.ml, so that the probe reports what WebNN itself answers.
      flags: ['--enable-features=WebMachineLearningNeuralNetwork'],
    });
    const page = await browser.context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => window.chorusProbeResult || window.chorusProbeError,
                               null, {timeout: args.timeout * 1000});
    const error = await page.evaluate(() => window.chorusProbeError);
    if (error) fail(`the probe page failed: ${error}`);
    return await page.evaluate(() => window.chorusProbeResult);
  } finally {
    if (browser) await browser.close();
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.browser === 'firefox' && !fs.existsSync(args.firefox))
    fail(`no browser at ${args.firefox} (apt install firefox-esr, or give --firefox PATH)`);
  const receiver = resultReceiver();
  const server = await serve(args.isolation, receiver);
  try {
    const query = new URLSearchParams({auto: '1'});
    if (args.name) query.set('name', args.name);
    if (args.browser === 'firefox') query.set('post', '1');
    const url = `http://127.0.0.1:${server.address().port}/index.html?${query}`;
    let result;
    if (args.browser === 'firefox') {
      const report = await runFirefoxPage(url, receiver.received, {
        executablePath: args.firefox, prefix: 'chorus-probe-', timeout: args.timeout});
      if (report.error) fail(`the probe page failed: ${report.error}`);
      result = report.result;
    } else {
      result = await probeChromium(args, url);
    }
    write(args, result);
  } finally {
    server.close();
  }
}

main().catch((e) => fail(e && e.message || String(e)));
