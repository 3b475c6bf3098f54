// Measures what ONNX Runtime (onnxruntime-node, CPU, one intra-op thread)
// holds in resident memory, in this fresh process, for the memory benches
// of bench/fit-vs-ort.py.
//
//   node bench/ort-footprint.js set MODULES_DIR LEVEL MODEL.onnx@D,D,... ...
//     Creates a session for every model (in the order given), then runs
//     each once on an input of its shape (D,D,... for its first input,
//     float32), then each once more (in service: the second run at a shape
//     takes ONNX Runtime's memory pattern). Prints JSON: the resident set
//     before, after every session is created, after every model ran once
//     and after the second runs, the peak (VmHWM), and per model the
//     seconds its file took to read and its session to create.
//     rss_start is taken before onnxruntime-node is loaded.
//
//   node bench/ort-footprint.js sequence MODULES_DIR LEVEL MODEL.onnx \
//       D,D,...:D,D,...:...
//     One session, run once at each shape in turn. Prints JSON: the
//     resident set before, after creation and after each run. With
//     SMAPS_DIR set, /proc/self/smaps after run N goes to SMAPS_DIR/smaps.N
//     (each mapping's resident bytes; with bench/malloc-trace.c's log, the
//     arena's regions).
//
// Bytes are read from /proc/self/status. Inputs are filled with 0.5; every
// run's input and outputs are kept to the end (what the plan counts as
// the caller's: docs/CostModel.md).
const fs = require('fs');
const path = require('path');

function status() {
  const text = fs.readFileSync('/proc/self/status', 'utf8');
  const field = (name) =>
    1024 * Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)[1]);
  return {rss: field('VmRSS'), hwm: field('VmHWM')};
}

function usage(message) {
  console.error(`ort-footprint.js: ${message}`);
  console.error('usage: node ort-footprint.js set MODULES_DIR LEVEL ' +
                'MODEL.onnx@D,D,... ...');
  console.error('       node ort-footprint.js sequence MODULES_DIR LEVEL ' +
                'MODEL.onnx D,D,...:D,D,...');
  process.exit(2);
}

function parseDims(text) {
  const dims = text.split(',').map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 1))
    usage(`bad shape '${text}': give positive integers separated by commas`);
  return dims;
}

function options(level) {
  return {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: level,
  };
}

function input(ort, dims) {
  return new ort.Tensor(
      'float32', new Float32Array(dims.reduce((a, b) => a * b)).fill(0.5),
      dims);
}

// Reads the file through a small buffer (so that nothing stays resident)
// and returns its size: the time it takes is the file's read time, and the
// session then reads it from the page cache.
function readThrough(file) {
  const fd = fs.openSync(file, 'r');
  const chunk = Buffer.alloc(1 << 20);
  let total = 0;
  for (let n; (n = fs.readSync(fd, chunk, 0, chunk.length, null)) > 0;)
    total += n;
  fs.closeSync(fd);
  return total;
}

// The caller's side of a run: its input and the outputs it got back, kept
// (in `held`) to the end of the measurement, so that the figures do not
// depend on when JavaScript collects them: the plan counts them as held.
const held = [];
async function run(session, tensor) {
  const outputs = await session.run({[session.inputNames[0]]: tensor});
  return {tensor, outputs};
}

async function measureSet(ort, level, specs) {
  const models = specs.map((spec) => {
    const at = spec.lastIndexOf('@');
    if (at < 0) usage(`'${spec}' needs @D,D,... (its input shape)`);
    return {file: spec.slice(0, at), dims: parseDims(spec.slice(at + 1))};
  });
  const before = status();
  const sessions = [];
  const perModel = [];
  for (const m of models) {
    let t = process.hrtime.bigint();
    const fileBytes = readThrough(m.file);
    const read = Number(process.hrtime.bigint() - t) * 1e-9;
    t = process.hrtime.bigint();
    sessions.push(await ort.InferenceSession.create(m.file, options(level)));
    const create = Number(process.hrtime.bigint() - t) * 1e-9;
    perModel.push({model: path.basename(m.file), file_bytes: fileBytes,
                   read_s: read, create_s: create});
  }
  const loaded = status();
  for (let i = 0; i < models.length; ++i) {
    const s = sessions[i];
    held.push(await run(s, input(ort, models[i].dims)));
  }
  const ran = status();
  for (let i = 0; i < models.length; ++i) {
    const s = sessions[i];
    held.push(await run(s, input(ort, models[i].dims)));
  }
  const service = status();
  return {rss_start: processStart, rss_before: before.rss,
          rss_loaded: loaded.rss, rss_after_runs: ran.rss,
          rss_in_service: service.rss, peak: service.hwm, models: perModel};
}

async function measureSequence(ort, level, file, shapesText) {
  if (!file || !shapesText) usage('sequence needs MODEL.onnx and shapes');
  const shapes = shapesText.split(':').map(parseDims);
  const before = status();
  const session = await ort.InferenceSession.create(file, options(level));
  const created = status();
  const after = [];
  for (const dims of shapes) {
    held.push(await run(session, input(ort, dims)));
    after.push(status().rss);
    if (process.env.SMAPS_DIR)
      fs.writeFileSync(path.join(process.env.SMAPS_DIR, `smaps.${after.length}`),
                       fs.readFileSync('/proc/self/smaps', 'utf8'));
  }
  return {rss_start: processStart, rss_before: before.rss,
          rss_created: created.rss,
          rss_after_runs: after, peak: status().hwm};
}

// Before onnxruntime-node is loaded: the process's own start.
const processStart = status().rss;

async function main() {
  const [mode, modulesDir, level, ...rest] = process.argv.slice(2);
  if (mode !== 'set' && mode !== 'sequence')
    usage(`unknown mode '${mode || ''}': give set or sequence`);
  if (!modulesDir || !level) usage('give MODULES_DIR and LEVEL');
  const ort = require(path.resolve(modulesDir, 'onnxruntime-node'));
  const result = mode === 'set'
      ? await measureSet(ort, level, rest)
      : await measureSequence(ort, level, rest[0], rest[1]);
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  console.error(`ort-footprint.js: ${e.message || e}`);
  process.exit(1);
});
