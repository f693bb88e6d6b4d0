"""Python reference for `sim prodcons`: P producers and C consumers (processes) around one
multiprocessing.Queue (or JoinableQueue), M items of B bytes, one None per consumer at the end.
Start-up is excluded as in Sim: the clock starts when every process is ready (a Barrier) and stops
when the last consumer has taken its sentinel. Prints one JSON line.

    python3 queue_throughput.py --producers 1 --consumers 1 --items 200000 --item-bytes 64 [--joinable]
"""
import argparse
import json
import multiprocessing as mp
import time


def producer(q, barrier, start, count, size, joinable):
    payload = bytes(size)
    barrier.wait()
    for i in range(start, start + count):
        q.put((i, payload))
    if joinable:
        q.join()


def consumer(q, barrier, done, joinable):
    barrier.wait()
    n = 0
    while True:
        item = q.get()
        if item is None:
            if joinable:
                q.task_done()
            break
        n += 1
        if joinable:
            q.task_done()
    done.put(n)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--producers", type=int, default=1)
    parser.add_argument("--consumers", type=int, default=1)
    parser.add_argument("--items", type=int, default=200000)
    parser.add_argument("--item-bytes", type=int, default=64)
    parser.add_argument("--joinable", action="store_true")
    parser.add_argument("--start-method", default="spawn")
    args = parser.parse_args()
    ctx = mp.get_context(args.start_method)
    q = ctx.JoinableQueue() if args.joinable else ctx.Queue()
    done = ctx.Queue()
    barrier = ctx.Barrier(args.producers + args.consumers + 1)
    per = [args.items // args.producers + (1 if p < args.items % args.producers else 0) for p in range(args.producers)]
    starts = [sum(per[:p]) for p in range(args.producers)]
    producers = [ctx.Process(target=producer, args=(q, barrier, starts[p], per[p], args.item_bytes, args.joinable))
                 for p in range(args.producers)]
    consumers = [ctx.Process(target=consumer, args=(q, barrier, done, args.joinable)) for _ in range(args.consumers)]
    for p in producers + consumers:
        p.start()
    barrier.wait()
    t0 = time.perf_counter()
    for p in producers:
        p.join()
    for _ in consumers:
        q.put(None)
    consumed = sum(done.get() for _ in consumers)
    elapsed = time.perf_counter() - t0
    for c in consumers:
        c.join()
    print(json.dumps({"producers": args.producers, "consumers": args.consumers, "items": args.items,
                      "consumed": consumed, "seconds": round(elapsed, 4),
                      "items_per_s": round(consumed / elapsed, 1)}))


if __name__ == "__main__":
    main()
