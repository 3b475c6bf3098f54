"""Checks a chorus-plan plan.json and trace.json against what the plan
promises, independently of the tool: every strategy's memory plan has no
two buffers live at the same time overlapping and fits its arena; the
sequential makespan is the sum of the requests' model times; parallel
finishes no later than sequential and no earlier than the longest request
alone; every request has a latency no later than the makespan; the trace has
one event per kernel run. Prints "plan ok" and a summary line."""
import json
import sys

plan = json.load(open(sys.argv[1]))
trace = json.load(open(sys.argv[2]))
assert plan["schema"] == "chorus-plan-1", plan["schema"]
models = {m["name"]: m for m in plan["models"]}
times = [models[r]["predicted_ns"] for r in plan["requests"]]
by = {s["name"]: s for s in plan["strategies"]}
kernel_events = 0
for s in plan["strategies"]:
    if not s["available"]:
        continue
    mem = s["memory"]
    bufs = mem["buffers"]
    for b in bufs:
        assert b["offset"] % 64 == 0, b
        assert b["offset"] + b["size"] <= mem["arena_bytes"], b
    for i, a in enumerate(bufs):
        for b in bufs[i + 1:]:
            live = a["lower"] < b["upper"] and b["lower"] < a["upper"]
            apart = (a["offset"] + a["size"] <= b["offset"] or
                     b["offset"] + b["size"] <= a["offset"])
            assert not live or apart, (s["name"], a, b)
    assert s["peak_bytes"] == s["weight_bytes"] + s["arena_bytes"]
    for t in s["request_latency_ns"]:
        assert 0 < t <= s["makespan_ns"], (s["name"], t)
    kernel_events += len(s["schedule"])
seq, par = by["sequential"], by["parallel"]
# Rounding to whole nanoseconds: one per kernel at most.
slack = sum(models[r]["kernels"] for r in plan["requests"])
assert abs(seq["makespan_ns"] - sum(times)) <= slack, (seq["makespan_ns"],
                                                       sum(times))
assert max(times) - slack <= par["makespan_ns"] <= seq["makespan_ns"] + slack
events = [e for e in trace["traceEvents"] if e["ph"] == "X"]
assert len(events) == kernel_events, (len(events), kernel_events)
print("plan ok")
print(f"requests {len(plan['requests'])}, sequential {seq['makespan_ns']} ns, "
      f"parallel {par['makespan_ns']} ns, recommended "
      f"{plan['recommendation']['strategy']}")
