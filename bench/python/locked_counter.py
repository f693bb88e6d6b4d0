"""Python reference for `sim counter` with the lock: N processes each do K times
`with lock: value.value += 1` on a Manager's Lock and Value (the network-capable shared data, as Sim's).
The clock starts when every process is ready (a Barrier). Prints one JSON line.

    python3 locked_counter.py --processes 4 --increments 500
"""
import argparse
import json
import multiprocessing as mp
import time


def work(lock, value, barrier, increments):
    barrier.wait()
    for _ in range(increments):
        with lock:
            value.value += 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--increments", type=int, default=500)
    parser.add_argument("--start-method", default="spawn")
    args = parser.parse_args()
    ctx = mp.get_context(args.start_method)
    with ctx.Manager() as manager:
        lock = manager.Lock()
        value = manager.Value("i", 0)
        barrier = ctx.Barrier(args.processes + 1)
        procs = [ctx.Process(target=work, args=(lock, value, barrier, args.increments)) for _ in range(args.processes)]
        for p in procs:
            p.start()
        barrier.wait()
        t0 = time.perf_counter()
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - t0
        total = args.processes * args.increments
        print(json.dumps({"processes": args.processes, "increments": total, "final": value.value,
                          "seconds": round(elapsed, 4), "increments_per_s": round(total / elapsed, 1)}))


if __name__ == "__main__":
    main()
