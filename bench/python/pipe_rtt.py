"""Python reference for `sim pipe`: round trips over multiprocessing.Pipe between two processes
(median and p99 in microseconds), then one-way throughput of numbered messages. Prints one JSON line.

    python3 pipe_rtt.py --messages 1000 --size 64
"""
import argparse
import json
import multiprocessing as mp
import time


def echo(conn, stream, messages):
    for _ in range(messages):
        conn.send_bytes(conn.recv_bytes())
    for _ in range(messages):
        stream.recv_bytes()
    conn.send_bytes(b"done")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--start-method", default="spawn")
    args = parser.parse_args()
    ctx = mp.get_context(args.start_method)
    here, there = ctx.Pipe(duplex=True)
    stream_in, stream_out = ctx.Pipe(duplex=False)
    child = ctx.Process(target=echo, args=(there, stream_in, args.messages))
    child.start()
    payload = bytes(args.size)
    rtts = []
    for _ in range(args.messages):
        t0 = time.perf_counter()
        here.send_bytes(payload)
        here.recv_bytes()
        rtts.append((time.perf_counter() - t0) * 1e6)
    t0 = time.perf_counter()
    for _ in range(args.messages):
        stream_out.send_bytes(payload)
    here.recv_bytes()
    one_way = args.messages / (time.perf_counter() - t0)
    child.join()
    rtts.sort()
    p99 = rtts[min(len(rtts) - 1, int(0.99 * len(rtts) + 0.999) - 1)]
    print(json.dumps({"messages": args.messages, "size": args.size, "rtt_median_us": round(rtts[len(rtts) // 2], 1),
                      "rtt_p99_us": round(p99, 1), "one_way_messages_per_s": round(one_way, 1)}))


if __name__ == "__main__":
    main()
