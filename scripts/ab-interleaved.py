#!/usr/bin/env python3
"""Interleaved A/B runs of one command under several environments (BENCHMARKS.md's A/B sections).

usage: scripts/ab-interleaved.py ROUNDS VARIANT... -- COMMAND [ARGS...]

Each VARIANT is a space-separated list of NAME=VALUE settings added to the environment, for example
"LD_PRELOAD=/tmp/a.so" or "LD_PRELOAD=/tmp/a.so GODEBUG=hugepages=1" (use "X=1" for no change). Each round runs
the command once under every variant, in order, so a slow minute on a shared machine hits all of them. Prints per
variant the medians of wall time and of user and system CPU (wait4's rusage, microsecond resolution), how many
rounds it beat the first variant in, and the sorted wall times. (No peak RSS: the child's ru_maxrss includes
the Python parent it was forked from; use /usr/bin/time -f %M.) Not a benchmark runner: a tool for
comparing two builds of the allocator or the scheduler (gort bench alloc / sched are the suites).
"""
import os
import statistics
import subprocess
import sys
import time


def main():
    if "--" not in sys.argv:
        sys.exit(__doc__)
    sep = sys.argv.index("--")
    rounds, variants, cmd = int(sys.argv[1]), sys.argv[2:sep], sys.argv[sep + 1:]
    if rounds < 1 or not variants or not cmd:
        sys.exit(__doc__)
    results = [[] for _ in variants]  # by position: the same variant may be given twice (an A/A check)
    for _ in range(rounds):
        for i, v in enumerate(variants):
            env = dict(os.environ)
            for kv in v.split():
                k, _, val = kv.partition("=")
                env[k] = val
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, ru = os.wait4(p.pid, 0)
            if status != 0:
                sys.exit(f"ab-interleaved: {' '.join(cmd)} failed under {v} (status {status})")
            results[i].append((time.perf_counter() - t0, ru.ru_utime, ru.ru_stime))
    first = results[0]
    for v, r in zip(variants, results):
        wins = sum(1 for a, b in zip(r, first) if a[0] < b[0])
        med = lambda i: statistics.median(x[i] for x in r)
        print(f"{v}\n    wall {med(0):.4f} s  user {med(1):.3f} s  sys {med(2):.3f} s"
              f"  faster than the first in {wins}/{rounds}  walls {sorted(round(x[0], 3) for x in r)}")


if __name__ == "__main__":
    main()
