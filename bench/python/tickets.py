"""Python reference for `sim tickets`: B buyer processes grab T tickets from a real JSON file {"count": T}.
Each buyer "searches" (reads the file without a lock), waits on a Barrier (the start signal), then "buys":
with the Lock (unless --no-lock) it reads the file, sleeps --delay-ms, and if count > 0 writes count-1
atomically (temp file, fsync, os.replace). wall_s runs from before the first start() until every process is
joined (spawning included, as Sim's wall time); ready_s is when the parent's barrier.wait() returned.
Prints one JSON line.

    python3 tickets.py --buyers 100 --tickets 10 [--delay-ms 10] [--no-lock] [--start-method spawn]
"""
import argparse
import contextlib
import json
import multiprocessing as mp
import os
import shutil
import tempfile
import time


def read_count(path):
    with open(path) as f:
        return json.load(f)["count"]


def write_count(path, index, count):
    # Per-buyer temp name, so concurrent unlocked writers never share a temp file; os.replace is atomic.
    tmp = f"{path}.{index}.tmp"
    with open(tmp, "w") as f:
        json.dump({"count": count}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def buyer(index, path, lock, barrier, results, delay_s):
    read_count(path)  # search: a read without the lock
    barrier.wait()
    with lock if lock is not None else contextlib.nullcontext():
        count = read_count(path)
        time.sleep(delay_s)
        bought = 0
        if count > 0:
            write_count(path, index, count - 1)
            bought = 1
    results.put((index, bought))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--buyers", type=int, default=100)
    parser.add_argument("--tickets", type=int, default=10)
    parser.add_argument("--delay-ms", type=float, default=10)
    parser.add_argument("--no-lock", action="store_true")
    parser.add_argument("--start-method", default="spawn")
    args = parser.parse_args()
    ctx = mp.get_context(args.start_method)
    workdir = tempfile.mkdtemp(prefix="tickets-")
    try:
        path = os.path.join(workdir, "tickets.json")
        with open(path, "w") as f:
            json.dump({"count": args.tickets}, f)
        lock = None if args.no_lock else ctx.Lock()
        barrier = ctx.Barrier(args.buyers + 1)
        results = ctx.Queue()
        procs = [ctx.Process(target=buyer, args=(i, path, lock, barrier, results, args.delay_ms / 1000))
                 for i in range(args.buyers)]
        t0 = time.perf_counter()
        for p in procs:
            p.start()
        barrier.wait()
        ready_s = time.perf_counter() - t0
        # Drain the queue before joining, so no child blocks on flushing its result.
        sold = sum(bought for _, bought in (results.get() for _ in procs))
        for p in procs:
            p.join()
        wall_s = time.perf_counter() - t0
        remaining = read_count(path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps({"buyers": args.buyers, "tickets": args.tickets, "lock": not args.no_lock,
                      "sold": sold, "remaining": remaining, "oversold": max(0, sold - args.tickets),
                      "lost_updates": sold - (args.tickets - remaining), "ready_s": round(ready_s, 4),
                      "work_s": round(wall_s - ready_s, 4), "wall_s": round(wall_s, 4)}))


if __name__ == "__main__":
    main()
