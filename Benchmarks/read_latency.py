#!/usr/bin/env python3
"""Latency of the collector's read API over a populated store (Benchmarks/read-api.sh runs it).

    read_latency.py --base http://127.0.0.1:PORT --manifest MANIFEST.json [--requests 200] [--rounds 3]
                    [--concurrency 1 8] [--case-seconds 20] [--json OUT.json]

The manifest is generate_calls.py's: search targets, time range, the ids of 200-call sessions, agent/user/app names.
Each case is one endpoint and query, its URLs rotating over the names it filters by (agents, users, sessions...).
Per round, case and concurrency: 3 warm-up requests, then --requests requests from C threads with one keep-alive
connection each, stopping early after --case-seconds (so a slow query stays bounded); latency is the client's,
from sending the request to the last byte of the body. Every answer must be 200. The table shows, per case and
concurrency, the medians over the rounds of p50 and p99, and the spread of p99 across rounds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
import sys
import threading
import time

import httpx

DAY = 86_400_000_000


def seconds(micros: int) -> str:
    return f"{micros / 1_000_000:.0f}"


def cases(manifest: dict, total_sessions: int) -> list[tuple[str, str, int | None, list[tuple[str, dict]]]]:
    """(name, target family, target p99 in ms, [(path, params)...]) per case."""
    since, until = manifest["since_micros"], manifest["until_micros"]
    search = manifest["search"]
    deep = max(0, total_sessions - 50)
    return [
        ("sessions, first page", "sessions", 50, [("/api/sessions", {"limit": 50})]),
        (f"sessions, offset {deep:,}", "sessions", 50, [("/api/sessions", {"limit": 50, "offset": deep})]),
        ("sessions, agent=", "sessions", 50, [("/api/sessions", {"agent": a}) for a in manifest["agents"]]),
        ("sessions, user=", "sessions", 50, [("/api/sessions", {"user": u}) for u in manifest["users"]]),
        ("sessions, app=", "sessions", 50, [("/api/sessions", {"app": a}) for a in manifest["apps"]]),
        ("sessions, environment=", "sessions", 50, [("/api/sessions", {"environment": e}) for e in manifest["environments"]]),
        (
            "sessions, since/until (last day)",
            "sessions",
            50,
            [("/api/sessions", {"since": seconds(until - DAY), "until": seconds(until)})],
        ),
        (
            "sessions, agent= + since (last week)",
            "sessions",
            50,
            [("/api/sessions", {"agent": a, "since": seconds(until - 7 * DAY)}) for a in manifest["agents"]],
        ),
        (f"search, common word ({search['common']})", "search", 200, [("/api/search", {"q": search["common"]})]),
        (f"search, mid word ({search['mid']})", "search", 200, [("/api/search", {"q": search["mid"]})]),
        (f"search, rare word ({search['rare']})", "search", 200, [("/api/search", {"q": search["rare"]})]),
        (f"search, non-ASCII ({search['non_ascii']})", "search", 200, [("/api/search", {"q": search["non_ascii"]})]),
        (f"search, two words ({search['pair']})", "search", 200, [("/api/search", {"q": search["pair"]})]),
        ("session of 200 calls", "session", 20, [(f"/session/{sid}", {}) for sid in manifest["sessions_of_200"]]),
        (
            "stats, 30 days by day",
            "stats",
            None,
            [("/api/stats", {"since": seconds(since), "until": seconds(until), "bucket": "day"})],
        ),
        ("stats, last day by hour", "stats", None, [("/api/stats", {"since": seconds(until - DAY), "until": seconds(until)})]),
    ]


def rows_of(response: httpx.Response) -> str:
    body = response.json()
    count = len(body) if isinstance(body, list) else len(body.get("buckets", [])) if isinstance(body, dict) else 0
    total = response.headers.get("x-total-count")
    return f"{count} of {int(total):,}" if total else str(count)


def measure(base: str, urls: list[tuple[str, dict]], requests: int, concurrency: int, budget: float) -> dict:
    latencies: list[float] = []
    failures: list[str] = []
    failed = [0]
    counter = itertools.count()
    lock = threading.Lock()
    deadline = time.perf_counter() + budget

    def worker(offset: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            for path, params in urls[offset % len(urls) : offset % len(urls) + 3]:  # warm-up, not counted
                client.get(path, params=params)
            while time.perf_counter() < deadline:
                n = next(counter)
                if n >= requests:
                    return
                path, params = urls[n % len(urls)]
                started = time.perf_counter()
                response = client.get(path, params=params)
                response.read()
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} {path} {params}: {response.text[:200]}")
                        failed[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()

    def percentile(p: float) -> float:
        if not latencies:  # every request of the case failed (a client timeout raises in its thread)
            return math.nan
        return latencies[max(0, math.ceil(p * len(latencies)) - 1)] * 1000

    return {
        "n": len(latencies),
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "per_s": len(latencies) / wall,
        "failed": failed[0],
        "failures": failures[:3],
    }


def fmt(ms: float) -> str:
    return f"{ms:.1f}" if ms < 100 else f"{ms:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--requests", type=int, default=200, help="per case, concurrency and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--case-seconds", type=float, default=20, help="a case stops early after this long")
    parser.add_argument("--only", help="run only the cases whose name contains this")
    parser.add_argument("--json", help="write every round's figures here")
    args = parser.parse_args()
    with open(args.manifest, encoding="utf-8") as f:
        manifest = json.load(f)
    with httpx.Client(base_url=args.base, timeout=60) as client:
        first = client.get("/api/sessions", params={"limit": 1})
        first.raise_for_status()
        total_sessions = int(first.headers["x-total-count"])
        plan = [c for c in cases(manifest, total_sessions) if not args.only or args.only in c[0]]
        rows = {name: rows_of(client.get(urls[0][0], params=urls[0][1])) for name, _, _, urls in plan}
    results: dict[tuple[str, int], list[dict]] = {}
    for round_number in range(1, args.rounds + 1):
        for name, _, _, urls in plan:
            for concurrency in args.concurrency:
                figures = measure(args.base, urls, args.requests, concurrency, args.case_seconds)
                results.setdefault((name, concurrency), []).append(figures)
                print(
                    f"round {round_number}: {name}, c={concurrency}: n={figures['n']} p50 {fmt(figures['p50_ms'])} ms"
                    f" p99 {fmt(figures['p99_ms'])} ms",
                    file=sys.stderr,
                    flush=True,
                )
                for failure in figures["failures"]:
                    print(f"  FAILED: {failure}", file=sys.stderr)
    failed = any(f["failures"] for runs in results.values() for f in runs)
    print("| case | rows | C | requests | not 200 | p50 | p99 | p99 across rounds | target p99 | met | requests/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, _, target, _ in plan:
        for concurrency in args.concurrency:
            runs = results[(name, concurrency)]
            p50 = statistics.median(r["p50_ms"] for r in runs)
            p99 = statistics.median(r["p99_ms"] for r in runs)
            spread = f"{fmt(min(r['p99_ms'] for r in runs))}–{fmt(max(r['p99_ms'] for r in runs))}"
            met = "–" if target is None else ("yes" if p99 < target and not any(r["failed"] for r in runs) else "**no**")
            print(
                f"| {name} | {rows[name]} | {concurrency} | {statistics.median(r['n'] for r in runs):.0f}"
                f" | {sum(r['failed'] for r in runs)} | {fmt(p50)} ms"
                f" | {fmt(p99)} ms | {spread} ms | {f'{target} ms' if target else '–'} | {met}"
                f" | {statistics.median(r['per_s'] for r in runs):,.0f} |"
            )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({f"{name} c={c}": runs for (name, c), runs in results.items()}, out, indent=1)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
