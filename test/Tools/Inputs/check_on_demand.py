"""Checks the on-demand timeline of a plan.json (chorus-plan --rate): every
request starts at its arrival or when the one before it ends, loads exactly
when its model is neither resident nor in the slot, and lasts its model's
load (when it loads) and run time; the chosen mean latency is the mean of
the requests'."""
import json
import sys

plan = json.load(open(sys.argv[1]))["on_demand"]
models = plan["models"]
chosen = plan["candidates"][plan["chosen"]]
resident = {m["name"] for m in models} & set(chosen["resident"])
free, slot, total = 0.0, None, 0.0
assert plan["requests"], "no requests"
for arrival, model, start, end, loaded in plan["requests"]:
    name = models[model]["name"]
    assert abs(start - max(arrival, free)) < 1e-12, (arrival, start, free)
    should_load = name not in resident and slot != name
    assert loaded == should_load, (name, loaded, slot)
    if loaded:
        slot = name
    length = models[model]["run_s"] + (models[model]["load_s"] if loaded
                                       else 0)
    assert abs(end - start - length) < 1e-12, (end - start, length)
    free = end
    total += end - arrival
mean = total / len(plan["requests"])
assert abs(mean - chosen["mean_latency_s"]) < 1e-9 * max(1, mean), (
    mean, chosen["mean_latency_s"])
print("ok", len(plan["requests"]), "requests")
