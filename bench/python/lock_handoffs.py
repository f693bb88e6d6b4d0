"""Python reference for Sim's lock manager: P processes contend for one Manager().Lock() (the
network-capable lock), each doing K acquire()/release() pairs with an empty critical section.
The clock starts when every process is ready (a Barrier) and stops when all are joined.
Before that, the parent times 200 uncontended acquire() calls (release() not timed) on the same lock.
Prints one JSON line.

    python3 lock_handoffs.py --processes 4 --acquires 500 [--start-method spawn]
"""
import argparse
import json
import multiprocessing as mp
import statistics
import time

UNCONTENDED_SAMPLES = 200


def work(lock, barrier, acquires):
    # One untimed round trip first: a proxy opens its connection to the manager lazily on first use,
    # and that connect belongs to "ready", not to the measured handoffs.
    lock.acquire()
    lock.release()
    barrier.wait()
    for _ in range(acquires):
        lock.acquire()
        lock.release()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--acquires", type=int, default=500)
    parser.add_argument("--start-method", default="spawn")
    args = parser.parse_args()
    ctx = mp.get_context(args.start_method)
    with ctx.Manager() as manager:
        lock = manager.Lock()
        lock.acquire()  # warm-up, as in the children: opens the parent's connection
        lock.release()
        samples = []
        for _ in range(UNCONTENDED_SAMPLES):
            t0 = time.perf_counter()
            lock.acquire()
            samples.append((time.perf_counter() - t0) * 1e6)
            lock.release()
        samples.sort()
        p99 = samples[min(len(samples) - 1, int(0.99 * len(samples) + 0.999) - 1)]  # nearest rank
        barrier = ctx.Barrier(args.processes + 1)
        procs = [ctx.Process(target=work, args=(lock, barrier, args.acquires)) for _ in range(args.processes)]
        for p in procs:
            p.start()
        barrier.wait()
        t0 = time.perf_counter()
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - t0
        total = args.processes * args.acquires
        print(json.dumps({"processes": args.processes, "acquires": total, "seconds": round(elapsed, 4),
                          "handoffs_per_s": round(total / elapsed, 1),
                          "uncontended_acquire_us_median": round(statistics.median(samples), 1),
                          "uncontended_acquire_us_p99": round(p99, 1)}))


if __name__ == "__main__":
    main()
