// fill.mjs - what Chorus feeds a model input it times or checks, by the
// input's ONNX Runtime type: floats 0.5 (float16 as its bits), integers
// and bools 1, so that token ids and masks index what they must. Shared by
// the browser page (ort-page.html) and bench/ort-values.js (Node).
export const FILL = {
  float32: (n) => new Float32Array(n).fill(0.5),
  float64: (n) => new Float64Array(n).fill(0.5),
  float16: (n) => new Uint16Array(n).fill(0x3800),
  int64: (n) => new BigInt64Array(n).fill(1n),
  uint64: (n) => new BigUint64Array(n).fill(1n),
  int32: (n) => new Int32Array(n).fill(1),
  uint32: (n) => new Uint32Array(n).fill(1),
  int16: (n) => new Int16Array(n).fill(1),
  uint16: (n) => new Uint16Array(n).fill(1),
  int8: (n) => new Int8Array(n).fill(1),
  uint8: (n) => new Uint8Array(n).fill(1),
  bool: (n) => new Uint8Array(n).fill(1),
};
