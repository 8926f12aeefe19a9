#!/usr/bin/env python3
"""Open-loop HTTP load at a fixed rate, for measuring a process under steady traffic (wrk has no rate option).

    paced_load.py --url URL --body FILE [--rate 500] [--seconds 20] [--threads 16] [--header NAME:VALUE]...
                  [--watch-pid PID]

Request i is due at start + i/rate. Each of the threads takes the next due request, sleeps until it is due and
sends it on its own keep-alive connection, so the rate holds as long as fewer than `threads` requests are in
flight; latency is measured from the due time, so a stall shows up in it rather than lowering the rate silently.
With --watch-pid, VmRSS of that process is sampled every 100 ms. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import statistics
import threading
import time
import urllib.parse


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--body", required=True)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--watch-pid", type=int)
    args = parser.parse_args()

    url = urllib.parse.urlsplit(args.url)
    with open(args.body, "rb") as f:
        body = f.read()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer sk-bench"}
    for header in args.header:
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()

    total = int(args.rate * args.seconds)
    indices = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    start = time.perf_counter() + 0.2
    stop = threading.Event()

    def worker() -> None:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        mine: list[float] = []
        codes: dict[str, int] = {}
        while True:
            i = next(indices)
            if i >= total:
                break
            due = start + i / args.rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                connection.request("POST", url.path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                code = str(response.status)
            except (OSError, http.client.HTTPException) as error:
                code = type(error).__name__
                connection.close()
                connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
            mine.append(time.perf_counter() - due)
            codes[code] = codes.get(code, 0) + 1
        connection.close()
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    samples: list[int] = []

    def sampler() -> None:
        while not stop.wait(0.1):
            try:
                samples.append(rss_kib(args.watch_pid))
            except OSError:
                return

    watcher = threading.Thread(target=sampler) if args.watch_pid else None
    if watcher:
        watcher.start()
    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    stop.set()
    if watcher:
        watcher.join()

    latencies.sort()

    def percentile(p: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2) if latencies else None

    result = {
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "rate": round(len(latencies) / elapsed, 1),
        "statuses": statuses,
        "latency_ms_p50": percentile(0.50),
        "latency_ms_p99": percentile(0.99),
        "latency_ms_max": percentile(1.0),
    }
    if args.watch_pid:
        steady = samples[len(samples) // 2 :] or [0]
        result.update(
            rss_kib_peak=max(samples or [0]),
            rss_kib_steady=round(statistics.median(steady)),
            rss_kib_end=samples[-1] if samples else 0,
            samples=len(samples),
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
