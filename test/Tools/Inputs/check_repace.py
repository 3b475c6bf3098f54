"""Checks a target chorus-calibrate --repace wrote against the one it read:
every time of every kernel model (one thread and the others) scaled by the
ratio of the two speed references, nothing else changed.

  check_repace.py BEFORE.json AFTER.json
"""
import json
import math
import sys

TIMES = ("per_flop_s", "per_byte_s", "per_kernel_s", "per_group_s",
         "per_streamed_byte_s", "per_cold_weight_byte_s")


def main():
    with open(sys.argv[1]) as f:
        before = json.load(f)
    with open(sys.argv[2]) as f:
        after = json.load(f)
    factor = (after["runtime"]["speed_reference_s"]
              / before["runtime"]["speed_reference_s"])
    sets = [("kernel_models", before["kernel_models"], after["kernel_models"])]
    for threads, models in before.get("thread_kernel_models", {}).items():
        sets.append((f"thread_kernel_models.{threads}", models,
                     after["thread_kernel_models"][threads]))
    checked = 0
    for where, old, new in sets:
        if sorted(old) != sorted(new):
            sys.exit(f"{where}: classes differ")
        for cls, model in old.items():
            for key, value in model.items():
                got = new[cls][key]
                want = value * factor if key in TIMES else value
                if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-30):
                    sys.exit(f"{where}.{cls}.{key}: {got}, expected {want}")
                checked += key in TIMES
    for key in before:
        if key not in ("kernel_models", "thread_kernel_models", "runtime",
                       "calibration") and before[key] != after[key]:
            sys.exit(f"{key} changed")
    if checked == 0:
        sys.exit("no kernel model times to check")
    print(f"{checked} times scaled by {factor:.4f}")


if __name__ == "__main__":
    main()
