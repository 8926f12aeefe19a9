#!/usr/bin/env python3
"""The dashboard in headless Chromium over a large store (issue "Dashboard": first paint under 1 s with 10,000
sessions; live update from call end to DOM under 1 s). Driven by Benchmarks/dashboard.sh.

    dashboard_bench.py fill --port INGEST_PORT [--sessions 10000] [--seed 7]
        N sessions of 1-5 calls (3 on average) through the ingest port, as sidecars send them: generate_calls.py's
        records (agents, models, prompts, 1% failures), only with short sessions, so N sessions need few calls.
    dashboard_bench.py measure --base URL [--loads 15] [--calls 20] [--json FILE]
        Loads: a fresh browser context per load (cold cache), then from the navigation start: first paint and first
        contentful paint (the 'paint' PerformanceObserver entries), the first row of the sessions table, and the
        full first page (50 rows and the total). Live: with the sessions list open, one chat call at a time through
        the proxy in a new session; latency = when the row appears in the DOM (a MutationObserver, on
        performance.timeOrigin + now()) minus when the proxy's response ended (time.time() here). Same host, same
        clock. Prints median, p90 and max of each; the last line on stdout is a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

CHROMIUM = "/usr/bin/chromium"

# Records when things appear, relative to the navigation start and on the wall clock (epoch ms).
OBSERVER = """
(() => {
  const marks = { paint: {}, rows: {} };
  window.__bench = marks;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) marks.paint[entry.name] = entry.startTime;
  }).observe({ type: 'paint', buffered: true });
  const seen = () => {
    const rows = document.querySelectorAll('#sessions-table tbody tr[data-session]');
    if (rows.length && marks.firstRow === undefined) marks.firstRow = performance.now();
    const count = document.getElementById('session-count');
    if (rows.length >= 50 && count && /session/.test(count.textContent) && marks.fullPage === undefined) {
      marks.fullPage = performance.now();
    }
    for (const row of rows) {
      const id = row.dataset.session;
      if (!(id in marks.rows)) marks.rows[id] = performance.timeOrigin + performance.now();
    }
  };
  new MutationObserver(seen).observe(document, { childList: true, subtree: true });
})();
"""


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {
        "n": len(values),
        "median": round(statistics.median(ordered), 1),
        "p90": round(p90, 1),
        "min": round(ordered[0], 1),
        "max": round(ordered[-1], 1),
    }


def fill(args: argparse.Namespace) -> None:
    import generate_calls

    class ShortSessions(generate_calls.Generator):
        """generate_calls' records in `--sessions` sessions of 1-5 calls each, spread over the last 30 days."""

        def plan_sessions(self) -> list[tuple[int, int, str]]:
            plans = []
            for _ in range(args.sessions):
                length = self.rng.randint(1, 5)
                latest = self.end - length * 60_000_000
                plans.append((self.rng.randrange(self.start, latest), length, self.uuid()))
            self.args.calls = sum(length for _, length, _ in plans)
            plans.sort()
            return plans

    generate_calls.Generator = ShortSessions
    options = argparse.Namespace(
        port=args.port, calls=0, seed=args.seed, end=(int(time.time()) // 60) * 60 * 1_000_000, links=2, batch=256,
        max_seconds=600, drain_seconds=60, manifest=None,
    )
    result = asyncio.run(generate_calls.run(options))
    print(json.dumps(result))
    sys.exit(1 if result["errors"] or result["acked"] != result["calls"] else 0)


def measure(args: argparse.Namespace) -> None:
    import httpx
    from playwright.sync_api import sync_playwright

    loads: dict[str, list[float]] = {"first_paint": [], "first_contentful_paint": [], "first_row": [], "full_page": []}
    live: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for index in range(args.loads + 1):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.add_init_script(OBSERVER)
            page = context.new_page()
            page.goto(f"{args.base}/")
            page.wait_for_function("() => window.__bench && window.__bench.fullPage !== undefined", timeout=30_000)
            page.wait_for_function("() => 'first-contentful-paint' in window.__bench.paint", timeout=30_000)
            marks = page.evaluate("window.__bench")
            if index > 0:  # the first load warms the server's caches (SQLite pages), not the browser's
                loads["first_paint"].append(marks["paint"].get("first-paint", float("nan")))
                loads["first_contentful_paint"].append(marks["paint"]["first-contentful-paint"])
                loads["first_row"].append(marks["firstRow"])
                loads["full_page"].append(marks["fullPage"])
            context.close()

        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.add_init_script(OBSERVER)
        page = context.new_page()
        page.goto(f"{args.base}/")
        page.wait_for_function("() => window.__bench && window.__bench.fullPage !== undefined", timeout=30_000)
        page.wait_for_selector("#live-status.live-live", timeout=10_000)
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "How late is the museum open?"}]}
        with httpx.Client(timeout=30, trust_env=False) as client:
            for attempt in range(args.calls + 1):  # the first call warms the proxy's connection upstream
                session = f"live-{uuid.uuid4().hex[:12]}"
                response = client.post(
                    f"{args.base}/v1/chat/completions", json=body,
                    headers={"authorization": "Bearer sk-bench", "x-agentledger-session-id": session},
                )
                ended = time.time() * 1000
                assert response.status_code == 200, response.text
                page.wait_for_function("(id) => id in window.__bench.rows", arg=session, timeout=10_000)
                appeared = page.evaluate("(id) => window.__bench.rows[id]", session)
                if attempt > 0:
                    live.append(appeared - ended)
                page.wait_for_timeout(200)
        context.close()
        browser.close()

    result = {name: summary(values) for name, values in loads.items()}
    result["live_update"] = summary(live)
    names = {
        "first_paint": "first paint", "first_contentful_paint": "first contentful paint",
        "first_row": "first session row", "full_page": "first page (50 rows + total)",
        "live_update": "live: call end -> row in DOM",
    }
    report(result, names, args.json)


def report(result: dict, labels: dict[str, str], json_path: str | None, width: int = 34) -> None:
    """The table of `summary` figures by label, the JSON written to `json_path`, and the JSON as the last line."""
    print(f"{'ms':<{width}}{'median':>9}{'p90':>9}{'min':>9}{'max':>9}{'n':>5}")
    for key, label in labels.items():
        if key in result:
            s = result[key]
            print(f"{label:<{width}}{s['median']:>9.1f}{s['p90']:>9.1f}{s['min']:>9.1f}{s['max']:>9.1f}{s['n']:>5}")
    if json_path:
        Path(json_path).write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    filling = commands.add_parser("fill")
    filling.add_argument("--port", type=int, required=True)
    filling.add_argument("--sessions", type=int, default=10_000)
    filling.add_argument("--seed", type=int, default=7)
    measuring = commands.add_parser("measure")
    measuring.add_argument("--base", required=True)
    measuring.add_argument("--loads", type=int, default=15)
    measuring.add_argument("--calls", type=int, default=20)
    measuring.add_argument("--json")
    args = parser.parse_args()
    fill(args) if args.command == "fill" else measure(args)


if __name__ == "__main__":
    main()
