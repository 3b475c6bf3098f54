// pace.js - brings browser measurements to one pace. A shared machine runs
// one minute steadily slower or faster than the next (on a 2-vCPU VM, by up
// to half and more), and a browser calibration or bench takes minutes; so
// each model is timed beside chorus-calibrate's speed reference (ort-web.js
// with `reference`), and its times are scaled by the reference's median
// over the whole run divided by the reference's time beside it, as
// chorus-calibrate --measure does natively (there per term of each kernel;
// here uniformly: the browser gives no per-process rounds to fit terms to).
'use strict';

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// The reference's median (ms) and its 10th and 90th percentiles over
// `times`, every reference time of the run.
function paceOf(times) {
  const s = [...times].sort((a, b) => a - b);
  return {median: median(s), low: s[Math.floor(s.length / 10)],
          high: s[Math.floor(s.length * 9 / 10)], count: s.length};
}

// `text` (ONNX Runtime's profile, a JSON array of events) with every
// event's duration multiplied by `factor`, one event per line as the
// runtime writes them.
function scaleProfile(text, factor) {
  const events = JSON.parse(text);
  for (const e of events)
    if (typeof e.dur === 'number') e.dur = Math.round(e.dur * factor * 1000) / 1000;
  return '[\n' + events.map((e) => JSON.stringify(e)).join(',\n') + '\n]';
}

// One line on the run's pace.
function describePace(p) {
  return `machine pace: the speed reference took ${p.median.toFixed(3)} ms (median of ` +
         `${p.count} timings), ${p.low.toFixed(3)} to ${p.high.toFixed(3)} ms from the 10th to ` +
         `the 90th percentile (${(100 * (p.high - p.low) / p.median).toFixed(0)}% apart); ` +
         'every measurement brought to the median pace';
}

module.exports = {median, paceOf, scaleProfile, describePace};
