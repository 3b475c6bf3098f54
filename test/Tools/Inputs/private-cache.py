"""Checks the private_cache_bytes a --keep-measurements folder's settings.json
records against what Linux says of cpu0: the largest data or unified cache
whose shared_cpu_list is cpu0's own hardware threads. Where sysfs lists no
caches chorus-calibrate asks CPUID: on an AMD processor whose /proc/cpuinfo
names no topology extensions that is the L2, which /proc/cpuinfo's "cache
size" gives; elsewhere any size CPUID may give is taken (its reading is
unit-tested), and off x86 it must be 0."""
import glob
import json
import os
import sys

cpu = "/sys/devices/system/cpu/cpu0"


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


siblings = read(os.path.join(cpu, "topology/thread_siblings_list"))
expected = 0
for index in sorted(glob.glob(os.path.join(cpu, "cache/index*"))):
    if read(os.path.join(index, "type")) not in ("Data", "Unified"):
        continue
    shared = read(os.path.join(index, "shared_cpu_list"))
    if not shared or (shared != siblings and ("," in shared or "-" in shared)):
        continue
    size = read(os.path.join(index, "size"))
    scale = {"K": 1024, "M": 1024 * 1024}.get(size[-1:], 1)
    digits = size.rstrip("KM")
    if digits.isdigit():
        expected = max(expected, int(digits) * scale)
with open(sys.argv[1]) as f:
    recorded = json.load(f)["private_cache_bytes"]
if expected == 0:
    info = read("/proc/cpuinfo")
    fields = dict(line.split(":", 1) for line in info.splitlines()
                  if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = fields.get("flags", "").split()
    cache = fields.get("cache size", "")
    if (fields.get("vendor_id") == "AuthenticAMD" and "topoext" not in flags
            and cache.endswith(" KB")):
        expected = int(cache[:-3]) * 1024
    elif "flags" in fields and recorded > 0:
        expected = recorded
if recorded != expected:
    sys.exit(f"settings.json records {recorded} bytes; the system says {expected}")
print("private cache as the system says", recorded)
