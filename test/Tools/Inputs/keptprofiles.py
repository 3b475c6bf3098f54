"""Helpers for the tests that rewrite a folder chorus-calibrate
--keep-measurements kept: a process's one-thread profile, and its kernels
made longer."""
import glob
import json
import os


def one_thread_profile(stem, round_index=0):
    """The profile ONNX Runtime wrote for round `round_index` of the model
    whose files start with `stem` (not those at other thread counts)."""
    prefix = f"_r{round_index}_profile_"
    profiles = [p for p in glob.glob(stem + prefix + "*.json")
                if not os.path.basename(p)[len(os.path.basename(stem)):]
                .startswith(prefix + "t")]
    assert len(profiles) == 1, profiles
    return profiles[0]


def scaled_events(path, factor):
    """The profile's events, every duration times `factor`."""
    with open(path) as f:
        events = json.load(f)
    for e in events:
        if "dur" in e:
            e["dur"] = factor * e["dur"]
    return events
