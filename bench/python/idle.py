"""Python reference for `idle-cpu-per-participant`: P spawned processes blocked on a multiprocessing.Event
(after meeting the parent at a Barrier) for a window of S seconds; each one's CPU time (utime + stime from
/proc/PID/stat) at the start and at the end of the window, as % of one core. The window opens S/10 seconds
after all are ready, as in `sim bench`. Prints one JSON line.

    python3 idle.py --processes 20 --seconds 10 [--start-method spawn]
"""
import argparse
import json
import multiprocessing as mp
import os
import statistics
import time

TIMEOUT_S = 120


def idle(barrier, go):
    barrier.wait(TIMEOUT_S)
    go.wait(TIMEOUT_S)


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # The command name may hold spaces and parentheses: the fields start after the last ')', at field 3.
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--start-method", default="spawn")
    args = parser.parse_args()
    ctx = mp.get_context(args.start_method)
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    barrier = ctx.Barrier(args.processes + 1)
    go = ctx.Event()
    procs = [ctx.Process(target=idle, args=(barrier, go)) for _ in range(args.processes)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    try:
        barrier.wait(TIMEOUT_S)
        ready_s = time.perf_counter() - t0
        time.sleep(args.seconds / 10)
        before = [cpu_ticks(p.pid) for p in procs]
        t1 = time.perf_counter()
        time.sleep(args.seconds)
        after = [cpu_ticks(p.pid) for p in procs]
        window = time.perf_counter() - t1
    finally:
        go.set()
        for p in procs:
            p.join(TIMEOUT_S)
    percents = sorted((a - b) / ticks_per_s / window * 100 for b, a in zip(before, after))
    print(json.dumps({"processes": args.processes, "ready_s": round(ready_s, 3), "window_s": round(window, 3),
                      "cpu_percent_median": round(statistics.median(percents), 3),
                      "cpu_percent_max": round(percents[-1], 3)}))


if __name__ == "__main__":
    main()
