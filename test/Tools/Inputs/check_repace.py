"""Checks a target chorus-calibrate --repace wrote against the one it read:
every time of every kernel model (one thread and the others) scaled by the
ratio of the two speed references: the one-thread models' to the power
of each term's elasticity (runtime.speed_elasticity: flop, byte, kernel; 1
when absent), the other thread counts' by the ratio itself; nothing else
changed.

  check_repace.py BEFORE.json AFTER.json
"""
import json
import math
import sys

TERM = {"per_flop_s": "flop", "per_byte_s": "byte",
        "per_streamed_byte_s": "byte", "per_cold_weight_byte_s": "byte",
        "per_kernel_s": "kernel", "per_group_s": "kernel",
        "per_row_s": "kernel"}


def main():
    with open(sys.argv[1]) as f:
        before = json.load(f)
    with open(sys.argv[2]) as f:
        after = json.load(f)
    factor = (after["runtime"]["speed_reference_s"]
              / before["runtime"]["speed_reference_s"])
    power = before["runtime"].get("speed_elasticity",
                                  {"flop": 1, "byte": 1, "kernel": 1})
    if after["runtime"].get("speed_elasticity", power) != power:
        sys.exit("runtime.speed_elasticity changed")
    sets = [("kernel_models", before["kernel_models"], after["kernel_models"],
             power)]
    for threads, models in before.get("thread_kernel_models", {}).items():
        sets.append((f"thread_kernel_models.{threads}", models,
                     after["thread_kernel_models"][threads],
                     {"flop": 1, "byte": 1, "kernel": 1}))
    checked = 0
    for where, old, new, powers in sets:
        if sorted(old) != sorted(new):
            sys.exit(f"{where}: classes differ")
        for cls, model in old.items():
            for key, value in model.items():
                got = new[cls][key]
                want = (value * factor ** powers[TERM[key]] if key in TERM
                        else value)
                if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-30):
                    sys.exit(f"{where}.{cls}.{key}: {got}, expected {want}")
                checked += key in TERM
    for key in before:
        if key not in ("kernel_models", "thread_kernel_models", "runtime",
                       "calibration") and before[key] != after[key]:
            sys.exit(f"{key} changed")
    if checked == 0:
        sys.exit("no kernel model times to check")
    print(f"{checked} times scaled by {factor:.4f} to the powers "
          f"{power['flop']}, {power['byte']}, {power['kernel']}")


if __name__ == "__main__":
    main()
