// Runs a model once with ONNX Runtime (onnxruntime-node, CPU, graph
// optimizations disabled) and prints every value it computes: its type,
// its dims and, for an integer or bool tensor of at most 64 elements, its
// elements, as JSON {name: {type, dims, data?}}. Inputs are filled as the
// browser bench fills them (tools/chorus-probe/fill.mjs), the first
// input's shape from SHAPE where given, symbolic dims from DIMS.
//
//   node bench/ort-values.js MODULES_DIR MODEL.onnx [SHAPE|-] [NAME=V,...]
//
// For bench/browser-conformance.py: MODEL should list every value it wants
// as a graph output (the script adds them).
'use strict';
const path = require('path');

const INTEGER = new Set(['int64', 'uint64', 'int32', 'uint32', 'int16', 'uint16', 'int8',
                         'uint8', 'bool']);

async function main() {
  const [modulesDir, model, shapeText = '-', dimsText = ''] = process.argv.slice(2);
  if (!model) throw new Error('usage: ort-values.js MODULES_DIR MODEL.onnx [SHAPE|-] [NAME=V,...]');
  const ort = require(path.resolve(modulesDir, 'onnxruntime-node'));
  const {FILL} = await import('../tools/chorus-probe/fill.mjs');
  const shape = shapeText === '-' ? null : shapeText.split(',').map(Number);
  const dims = Object.fromEntries(dimsText.split(',').filter(Boolean).map((d) => {
    const [k, v] = d.split('=');
    return [k, Number(v)];
  }));
  const session = await ort.InferenceSession.create(model, {graphOptimizationLevel: 'disabled',
                                                            intraOpNumThreads: 1});
  const feeds = {};
  session.inputMetadata.forEach((meta, i) => {
    const s = i === 0 && shape ? shape : meta.shape.map((d) => {
      if (typeof d === 'number' && d >= 0) return d;
      if (Number.isInteger(dims[d])) return dims[d];
      throw new Error(`input '${meta.name}' has the symbolic dim '${d}'`);
    });
    feeds[meta.name] = new ort.Tensor(meta.type, FILL[meta.type](s.reduce((a, b) => a * b, 1)), s);
  });
  const out = await session.run(feeds);
  const values = {};
  for (const [name, t] of Object.entries({...feeds, ...out})) {
    const v = {type: t.type, dims: t.dims};
    if (INTEGER.has(t.type) && t.size <= 64) v.data = Array.from(t.data, (x) => Number(x));
    values[name] = v;
  }
  console.log(JSON.stringify(values));
}

main().catch((e) => {
  console.error(`ort-values: error: ${e && e.message || e}`);
  process.exit(1);
});
