// Times a small model in one process twice: after runs of its own (its
// weights and tensors warm in the caches) and each time right after a run
// of a large model (which evicts them), to show how much a model slows
// when something else ran before it.
//
//   node bench/ort-warm-cold.js MODULES_DIR LARGE.onnx DIMS SMALL.onnx DIMS [ROUNDS]
//
// DIMS are comma-separated input dims. Both sessions: CPU, one intra-op
// thread, level all. Prints JSON {warm_ms, cold_ms, ratio}: the medians of
// ROUNDS (default 12) timed runs of SMALL, warm (after 3 runs of its own)
// and cold (each right after one run of LARGE), interleaved in rounds.
const path = require('path');

async function main() {
  const [modulesDir, large, largeDims, small, smallDims, roundsText] =
      process.argv.slice(2);
  const ort = require(path.join(modulesDir, 'onnxruntime-node'));
  const options = {intraOpNumThreads: 1, interOpNumThreads: 1,
                   executionMode: 'sequential', graphOptimizationLevel: 'all'};
  const open = async (model, dimsText) => {
    const dims = dimsText.split(',').map(Number);
    const session = await ort.InferenceSession.create(model, options);
    const feeds = {[session.inputNames[0]]: new ort.Tensor(
        'float32', new Float32Array(dims.reduce((a, b) => a * b)).fill(0.5),
        dims)};
    return {session, feeds};
  };
  const big = await open(large, largeDims);
  const s = await open(small, smallDims);
  const timed = async (m) => {
    const start = process.hrtime.bigint();
    await m.session.run(m.feeds);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  for (let i = 0; i < 2; ++i) {
    await big.session.run(big.feeds);
    await s.session.run(s.feeds);
  }
  const warm = [], cold = [];
  const rounds = Number(roundsText || 12);
  for (let r = 0; r < rounds; ++r) {
    for (let i = 0; i < 3; ++i) await s.session.run(s.feeds);
    warm.push(await timed(s));
    await big.session.run(big.feeds);
    cold.push(await timed(s));
  }
  const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  const w = median(warm), c = median(cold);
  console.log(JSON.stringify({warm_ms: w, cold_ms: c, ratio: c / w}));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
