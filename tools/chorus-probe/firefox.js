// firefox.js - how the capability probe (run-probe.js) and the browser bench
// (bench/browser-ort.js) start Debian's Firefox ESR: headless, with a
// throwaway profile, on one page that reports its results itself (it posts
// them to the local server that serves it), since Firefox has no remote
// control that playwright-core drives without a patched build.
'use strict';
const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

// The profile's preferences: no first-run pages, no default-browser check,
// no telemetry, update or safe-browsing traffic (the machine may have no
// network), and WebGPU offered where Firefox has it, so that the probe
// reports what the adapter request answers.
const PREFS = {
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.aboutwelcome.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'app.update.disabledForTesting': true,
  'extensions.update.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'dom.webgpu.enabled': true,
};

// Starts Firefox on `url` with a fresh profile folder. Resolves to {exited,
// close}: exited is a promise of the process's end (its exit code or
// signal), close() ends it and removes the profile.
function launchFirefox(url, {executablePath = '/usr/bin/firefox-esr', prefix = 'chorus-'} = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.writeFileSync(path.join(profile, 'user.js'),
                   Object.entries(PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ` +
                                                         `${JSON.stringify(v)});\n`).join(''));
  const child = childProcess.spawn(executablePath,
                                   ['--headless', '--no-remote', '--profile', profile, url],
                                   {stdio: ['ignore', 'ignore', 'pipe']});
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const exited = new Promise((resolve) => {
    child.on('error', (e) => resolve({error: e.message, stderr}));
    child.on('exit', (code, signal) => resolve({code, signal, stderr}));
  });
  let closed = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(profile, {recursive: true, force: true});
  };
  return {exited, close};
}

// What a self-reporting page posts: handle(req, res) takes a POST to
// /result (and answers true), any other request is left to the caller
// (false); received resolves to the posted JSON.
function resultReceiver() {
  let resolve;
  const received = new Promise((r) => { resolve = r; });
  const handle = (req, res) => {
    if (req.method !== 'POST' || new URL(req.url, 'http://127.0.0.1').pathname !== '/result')
      return false;
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      res.end();
      try {
        resolve(JSON.parse(body));
      } catch (e) {
        resolve({error: `the page posted no JSON: ${body.slice(0, 200)}`});
      }
    });
    return true;
  };
  return {received, handle};
}

// Opens `url` in Firefox and waits for what the page posts (`received`, from
// resultReceiver), at most `timeout` seconds. Throws when Firefox cannot
// start, ends before the page reports, or the time runs out.
async function runFirefoxPage(url, received, {executablePath = '/usr/bin/firefox-esr',
                                             prefix = 'chorus-', timeout = 60} = {}) {
  if (!fs.existsSync(executablePath))
    throw new Error(`no browser at ${executablePath} (apt install firefox-esr, or give --firefox PATH)`);
  const browser = launchFirefox(url, {executablePath, prefix});
  let timer;
  try {
    const outcome = await Promise.race([
      received.then((report) => ({report})),
      browser.exited.then((e) => ({ended: e})),
      new Promise((r) => { timer = setTimeout(() => r({timedOut: true}), timeout * 1000); }),
    ]);
    if (outcome.timedOut)
      throw new Error(`Firefox gave no result within ${timeout} s (--timeout)`);
    if (outcome.ended) {
      const e = outcome.ended;
      throw new Error(`Firefox ended before the page reported (${e.error ||
                      (e.signal ? `signal ${e.signal}` : `exit code ${e.code}`)}): ` +
                      `${e.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    return outcome.report;
  } finally {
    clearTimeout(timer);
    await browser.close();
  }
}

module.exports = {launchFirefox, resultReceiver, runFirefoxPage};
