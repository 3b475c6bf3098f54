// chromium.js - how the capability probe (run-probe.js) and the browser
// bench (bench/browser-ort.js) start Debian's Chromium: headless, through
// playwright-core, with a throwaway profile and the same flags, so that
// both measure the same browser configuration.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

// No sandbox (root in CI), no GPU process, no network chatter of its own.
const BASE_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                    '--disable-background-networking', '--disable-component-update',
                    '--disable-sync'];
// WebGPU on the CPU (SwiftShader), where no GPU is present.
const SWIFTSHADER_FLAGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

// Starts Chromium with a fresh profile folder. `flags` are added to the
// base ones. Resolves to {context, close}; close() ends the browser and
// removes the profile.
async function launchChromium(chromium, {executablePath = '/usr/bin/chromium',
                                         swiftshader = false, flags = [],
                                         prefix = 'chorus-'} = {}) {
  const userData = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const remove = () => fs.rmSync(userData, {recursive: true, force: true});
  const args = [...BASE_FLAGS, ...flags, ...(swiftshader ? SWIFTSHADER_FLAGS : [])];
  let context;
  try {
    context = await chromium.launchPersistentContext(userData,
                                                     {executablePath, headless: true, args});
  } catch (e) {
    remove();
    throw e;
  }
  const close = async () => {
    try {
      await context.close();
    } finally {
      remove();
    }
  };
  return {context, close};
}

module.exports = {launchChromium};
