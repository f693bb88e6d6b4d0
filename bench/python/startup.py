"""Python reference for Sim's start-up time ("all participants ready"): the parent starts N processes,
each reports (index, VmHWM kB, pid) on a SimpleQueue as soon as it runs, then waits on an Event.
ready_s is the time from before the first start() until the Nth report arrived. Peak RSS is read by the
parent from /proc/<pid>/status while the children are still alive (it includes the put), else the child's
own value; PSS and private memory from /proc/<pid>/smaps_rollup and CPU time (utime + stime) from /proc/<pid>/stat at the same moment (all children alive). Linux only (/proc). Prints one JSON line.

    python3 startup.py --processes 50 [--start-method spawn]
"""
import argparse
import json
import multiprocessing as mp
import os
import statistics
import time


def vmhwm_kb(pid="self"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def shares_kb(pid):
    """(PSS, private) in kB from /proc/<pid>/smaps_rollup, as Sim's launcher reads them at ready."""
    pss = private = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith(("Private_Clean:", "Private_Dirty:")):
                    private += int(line.split()[1])
    except OSError:
        return None
    return pss, private


def cpu_s(pid):
    """utime + stime of a process in seconds (/proc/<pid>/stat), as Sim's launcher reads it at ready."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def child(index, q, release):
    q.put((index, vmhwm_kb(), os.getpid()))
    release.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=50)
    parser.add_argument("--start-method", default="spawn")
    args = parser.parse_args()
    ctx = mp.get_context(args.start_method)
    # SimpleQueue: put() writes straight to the pipe (no feeder thread), so the child's RSS is not inflated.
    q = ctx.SimpleQueue()
    release = ctx.Event()
    procs = [ctx.Process(target=child, args=(i, q, release)) for i in range(args.processes)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    reports = [q.get() for _ in procs]
    ready_s = time.perf_counter() - t0
    # Children are blocked on the Event, so their /proc entries are still there.
    peaks = [vmhwm_kb(pid) or own for _, own, pid in reports]
    shares = [s for s in (shares_kb(pid) for _, _, pid in reports) if s]
    cpus = [c for c in (cpu_s(pid) for _, _, pid in reports) if c is not None]
    release.set()
    for p in procs:
        p.join()
    pids = {pid for _, _, pid in reports}
    print(json.dumps({"processes": args.processes, "ready_s": round(ready_s, 4),
                      "per_process_ms": round(ready_s * 1000 / args.processes, 2),
                      "peak_rss_kb_median": round(statistics.median(peaks)), "peak_rss_kb_max": max(peaks),
                      "pss_kb_median": round(statistics.median(s[0] for s in shares)) if shares else None,
                      "private_kb_median": round(statistics.median(s[1] for s in shares)) if shares else None,
                      "cpu_s_median": round(statistics.median(cpus), 3) if cpus else None,
                      "pids_distinct": len(pids) == args.processes and pids == {p.pid for p in procs},
                      "start_method": args.start_method}))


if __name__ == "__main__":
    main()
