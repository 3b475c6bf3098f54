#!/usr/bin/env python3
"""Plans generated interval problems whose optimum is known.

  bench/memplan-generated.py [--build DIR] [--sizes 50,100,200,400]
                             [--ablation] [--ablation-budget N] [--keep DIR]
                             [--seed N] [--minimalloc PATH]

Each problem is a perfect packing: a rectangle of time x address (1,048,576
x 1,048,576, as MiniMalloc's challenging set) cut at random, one cut at a
time, along time or along address, until it has the asked number of
pieces; each piece is a buffer. At every moment the live buffers fill the
whole address range, so the lower bound (maximum live bytes) is 1,048,576
and a plan at the bound exists: the optimum is known. The density is the
share of cuts along address: more address cuts stack more buffers at the
same time. Generation is deterministic (a seeded generator per problem).

Default run: chorus-memplan on each problem as a user would (all planners,
the default budget); prints buffers, arena / bound, the winning algorithm,
the exact search's nodes and the wall time. --also adds problems whose
optimum is their lower bound (such as MiniMalloc's challenging ones).

--minimalloc PATH (a MiniMalloc binary built from its repository; not
installed by the set-up): MiniMalloc also runs on each problem, asked for a
plan at the known optimum (its decision form, default portfolio), with a
time-out of --minimalloc-timeout seconds; its wall time is printed beside
Chorus's (both measured by this script, process start included).

--ablation: for each problem, the exact search alone at the known optimum
(`--algorithms exact --capacity BOUND`), with every pruning rule on and
then with each one off (`--disable-rules`), with a budget of
--ablation-budget work units; prints nodes per configuration ("-" where the
budget ran out first).
"""
import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time

from benchlib import tool

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SIDE = 1 << 20
UNIT = 1024
RULES = ["dominance", "floor-inference", "hatless", "decomposition"]


def perfect_packing(pieces, density, seed):
    """Cuts the SIDE x SIDE rectangle into `pieces` buffers (see above)."""
    rng = random.Random(seed)
    rects = [(0, SIDE, 0, SIDE)]  # time lower, upper, address lower, upper
    while len(rects) < pieces:
        # Cut a piece chosen by area, so pieces stay of mixed sizes.
        weights = [(t1 - t0) * (a1 - a0) for t0, t1, a0, a1 in rects]
        i = rng.choices(range(len(rects)), weights)[0]
        t0, t1, a0, a1 = rects[i]
        along_address = rng.random() < density
        if along_address and a1 - a0 >= 2 * UNIT:
            cut = a0 + UNIT * rng.randint(1, (a1 - a0) // UNIT - 1)
            rects[i:i + 1] = [(t0, t1, a0, cut), (t0, t1, cut, a1)]
        elif not along_address and t1 - t0 >= 2 * UNIT:
            cut = t0 + UNIT * rng.randint(1, (t1 - t0) // UNIT - 1)
            rects[i:i + 1] = [(t0, cut, a0, a1), (cut, t1, a0, a1)]
    rng.shuffle(rects)
    return rects


def write_csv(path, rects):
    with open(path, "w") as f:
        f.write("id,lower,upper,size\n")
        for i, (t0, t1, a0, a1) in enumerate(rects):
            f.write(f"{i},{t0},{t1},{a1 - a0}\n")


def memplan(tool, path, *extra):
    r = subprocess.run([tool, path, "--runs", *extra], capture_output=True,
                       text=True)
    out = r.stdout + r.stderr
    fields = dict(re.findall(r"^([a-z ]+):\s+(.*)$", r.stdout, re.M))
    nodes = re.search(r"([\d,]+) nodes", out)
    return r.returncode, fields, nodes.group(1) if nodes else "0", out


def minimalloc(binary, path, capacity, timeout):
    start = time.perf_counter()
    try:
        r = subprocess.run([binary, f"--input={path}",
                            f"--capacity={capacity}",
                            "--output=/dev/null"], capture_output=True,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"time-out at {timeout:.0f} s"
    wall = time.perf_counter() - start
    return f"{wall:.3f}" + ("" if r.returncode == 0 else " (no plan)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--sizes", default="50,100,200,400")
    ap.add_argument("--densities", default="0.3,0.5,0.7")
    ap.add_argument("--ablation", action="store_true")
    ap.add_argument("--ablation-budget", type=int, default=2_000_000_000)
    ap.add_argument("--keep", help="write the problems to this folder")
    ap.add_argument("--minimalloc")
    ap.add_argument("--minimalloc-timeout", type=float, default=20)
    ap.add_argument("--also", action="append", default=[], metavar="CSV",
                    help="add a problem of known optimum (its lower bound), "
                    "e.g. ../shared/data/intervals/minimalloc_challenging_A.csv")
    ap.add_argument("--seed", type=int, default=0,
                    help="another draw of the same sizes and densities")
    args = ap.parse_args()
    binary = tool(args.build, "chorus-memplan")
    sizes = [int(s) for s in args.sizes.split(",")]
    densities = [float(d) for d in args.densities.split(",")]
    tmp = tempfile.TemporaryDirectory()
    folder = args.keep or tmp.name
    os.makedirs(folder, exist_ok=True)
    problems = []
    for n in sizes:
        for d in densities:
            name = f"pack_n{n}_d{int(d * 100)}"
            path = os.path.join(folder, name + ".csv")
            write_csv(path, perfect_packing(n, d, seed=n * 1000 + int(d * 100) + 7919 * args.seed))
            problems.append((name, path))
    for path in args.also:
        problems.append((os.path.basename(path)[:-4], path))

    def bound_of(path):
        rc, f, _, out = memplan(binary, path, "--search-budget", "0")
        if rc:
            sys.exit(f"{path}: chorus-memplan failed:\n{out}")
        return int(f["lower bound"].split()[0].replace(",", ""))

    if not args.ablation:
        header = (f"{'problem':18} {'buffers':>7} {'arena / bound':>13} "
                  f"{'nodes':>9} {'wall s':>7}  algorithm")
        if args.minimalloc:
            header += "  | MiniMalloc wall s"
        print(header)
        at_bound = 0
        for name, path in problems:
            start = time.perf_counter()
            rc, f, nodes, out = memplan(binary, path)
            wall = time.perf_counter() - start
            if rc:
                sys.exit(f"{name}: chorus-memplan failed:\n{out}")
            arena = int(f["arena"].split()[0].replace(",", ""))
            bound = int(f["lower bound"].split()[0].replace(",", ""))
            assert path in args.also or bound == SIDE, f"{name}: bound {bound}"
            at_bound += arena == bound
            line = (f"{name:18} {f['buffers']:>7} {arena / bound:13.6f} "
                    f"{nodes:>9} {wall:7.3f}  {f['algorithm']}")
            if args.minimalloc:
                line += "  | " + minimalloc(args.minimalloc, path, bound,
                                            args.minimalloc_timeout)
            print(line, flush=True)
        print(f"at the optimum: {at_bound} of {len(problems)}")
        return

    configs = [("all rules", [])] + [(f"-{r}", [r]) for r in RULES]
    print(f"{'problem':18} " + " ".join(f"{c:>16}" for c, _ in configs))
    for name, path in problems:
        cells = []
        capacity = bound_of(path)
        for _, off in configs:
            extra = ["--algorithms", "exact", "--capacity", str(capacity),
                     "--search-budget", str(args.ablation_budget)]
            if off:
                extra += ["--disable-rules", ",".join(off)]
            rc, f, nodes, out = memplan(binary, path, *extra)
            cells.append(nodes if rc == 0 else "-")
        print(f"{name:18} " + " ".join(f"{c:>16}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
