#!/usr/bin/env python3
"""The fleet and timeline views in headless Chromium (issue 21: each renders in under 300 ms with 1,000 sidecars and
a 500-call session). Driven by Benchmarks/dashboard.sh after its sessions benchmark.

    views_bench.py fleet --port INGEST_PORT [--sidecars 1000] [--seconds 600]
        N links to the collector's ingest port speaking protocol version 2 (docs/protocol.md): HELLO, then STATUS at
        once and every 10 s (spread over the 10 s, as independent sidecars send them), so every sidecar shows as
        linked with its figures. Runs until killed or --seconds; prints
        one line once every link is welcomed.
    views_bench.py session --port INGEST_PORT [--calls 500]
        One session of N calls by four agents handing over to each other, sent as RECORDS on one link; prints its id.
    views_bench.py measure --base URL --session ID [--loads 10] [--sidecars 1000] [--json FILE]
        Per load, a fresh browser context (cold cache): the time from navigation start to the first frame painted
        once the fleet table knows every sidecar (it draws the rows in view) and the timeline holds every bar of the
        session; the part of it after the API answered (building, laying out and painting the view), and of that the
        part before layout and paint. Prints median, p90 and max; the last line on stdout is a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import struct
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboard_bench import report, summary  # noqa: E402
from ingest_load import ACK, HELLO, RECORDS, WELCOME, field, frame, headers, string  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
STATUS = 0x0A


def frame_v2(message_type: int, payload: bytes) -> bytes:
    return struct.pack(">IBB", len(payload) + 2, 2, message_type) + payload


def status_payload(captured: int) -> bytes:
    now = int(time.time() * 1_000_000)
    fields = {1: now - 3_600_000_000, 2: now, 3: captured, 4: captured, 5: 0, 6: 0, 7: 0, 8: 0, 12: 40, 13: 200, 14: 750}
    return b"".join(struct.pack(">BIQ", tag, 8, value) for tag, value in fields.items())


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    header = await reader.readexactly(6)
    (length,) = struct.unpack(">I", header[:4])
    return header[5], await reader.readexactly(length - 2)


async def hello(port: int, source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(frame(HELLO, struct.pack(">H", 2) + string(source) + b"\xff\xff\xff\xff" + string("0.1.0")))
    message_type, payload = await read_frame(reader)
    if message_type != WELCOME:
        raise RuntimeError(f"{source}: expected WELCOME, got type {message_type}: {payload[:200]!r}")
    return reader, writer


async def fleet(args: argparse.Namespace) -> None:
    links = []
    for start in range(0, args.sidecars, 50):  # at most 50 HELLOs at a time (the collector caps unwelcomed links)
        batch = await asyncio.gather(*(hello(args.port, f"bench-pod-{index:04d}")
                                       for index in range(start, min(start + 50, args.sidecars))))
        links.extend(batch)
    for index, (_, writer) in enumerate(links):
        writer.write(frame_v2(STATUS, status_payload(index)))
    print(f"{len(links)} sidecars linked", flush=True)
    # Then each reports every 10 s, spread over the 10 s as sidecars started at different times are, not all at once.
    deadline = time.monotonic() + args.seconds
    step = 10 / max(1, len(links))
    while time.monotonic() < deadline:
        for index, (_, writer) in enumerate(links):
            await asyncio.sleep(step)
            writer.write(frame_v2(STATUS, status_payload(index)))
            await writer.drain()


async def session(args: argparse.Namespace) -> None:
    session_id = f"bench-timeline-{uuid.uuid4().hex[:10]}"
    reader, writer = await hello(args.port, "bench-timeline-pod")
    agents = ["planner", "researcher", "writer", "reviewer"]
    start = int(time.time() * 1_000_000) - args.calls * 3_000_000
    records = []
    previous_agent = None
    for index in range(args.calls):
        agent = agents[(index // 5) % len(agents)]
        prompt = f"Step {index}: " + "Read the filing and extract the figures that answer the question. " * 8
        request = json.dumps({"model": "gpt-4o-mini", "messages": [
            {"role": "system", "content": f"You are the {agent}."}, {"role": "user", "content": prompt}]}).encode()
        response = json.dumps({"id": f"c{index}", "object": "chat.completion", "model": "gpt-4o-mini", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": f"Answer {index}: revenue grew 12%."},
             "finish_reason": "stop"}], "usage": {"prompt_tokens": 900 + index, "completion_tokens": 120}}).encode()
        fields = [
            field(1, str(uuid.uuid4()).encode()), field(2, struct.pack(">q", start + index * 3_000_000)),
            field(3, b"POST"), field(4, b"/v1/chat/completions"), field(5, b"bench-timeline-pod"),
            field(6, session_id.encode()), field(8, agent.encode()),
            field(14, headers([("content-type", "application/json")])), field(15, request),
            field(17, struct.pack(">H", 200)), field(18, headers([("content-type", "application/json")])),
            field(19, response), field(21, struct.pack(">q", 400_000)), field(22, struct.pack(">q", 2_400_000)),
        ]
        if previous_agent and previous_agent != agent:
            fields += [field(12, previous_agent.encode()), field(13, agent.encode())]
        previous_agent = agent
        records.append(b"".join(fields))
    for batch_id, offset in enumerate(range(0, len(records), 100), start=1):
        chunk = records[offset:offset + 100]
        body = b"".join(struct.pack(">I", len(r)) + r for r in chunk)
        writer.write(frame(RECORDS, struct.pack(">QI", batch_id, len(chunk)) + body))
        while True:
            message_type, _ = await read_frame(reader)
            if message_type == ACK:
                break
    writer.close()
    print(session_id)


MEASURE = """
async ([kind, expected]) => {
  // Complete: the fleet table knows every sidecar (it draws only the rows in view: aria-rowcount counts them all, with
  // the header) and shows rows; the timeline holds every bar. Then the next frame: style, layout and paint included.
  const complete = kind === 'fleet'
    ? () => Number(document.querySelector('#fleet-grid')?.getAttribute('aria-rowcount')) >= expected + 1
      && document.querySelector('#fleet-grid tbody tr[data-source]') !== null
      || document.querySelectorAll('#fleet-grid tbody tr').length >= expected  // builds that drew every row
    : () => document.querySelectorAll('#timeline-svg g.bar').length >= expected;
  const api = kind === 'fleet' ? 'api/fleet' : 'session/';
  return await new Promise((resolve) => {
    const check = () => {
      if (!complete()) return false;
      const ready = performance.now();
      const answered = performance.getEntriesByType('resource').filter((e) => e.name.includes(api))
        .map((e) => e.responseEnd).sort((a, b) => b - a)[0];
      requestAnimationFrame(() => setTimeout(() => resolve({ ready, painted: performance.now(), answered: answered ?? null })));
      return true;
    };
    if (!check()) new MutationObserver((_, observer) => { if (check()) observer.disconnect(); })
      .observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-rowcount'] });
  });
}
"""


def measure(args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    results: dict[str, list[float]] = {name: [] for name in (
        "fleet", "fleet_build", "fleet_dom", "timeline", "timeline_build", "timeline_dom")}
    views = {"fleet": ("#/fleet", args.sidecars), "timeline": (f"#/session/{args.session}?tab=timeline", args.calls)}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for index in range(args.loads + 1):
            for kind, (path, expected) in views.items():
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                page.goto(f"{args.base}/{path}")
                marks = page.evaluate(MEASURE, [kind, expected])
                if index > 0:  # the first load warms the server
                    results[kind].append(marks["painted"])
                    if marks["answered"] is not None:
                        results[f"{kind}_build"].append(marks["painted"] - marks["answered"])
                        results[f"{kind}_dom"].append(marks["ready"] - marks["answered"])
                context.close()
        browser.close()
    result = {name: summary(values) for name, values in results.items() if values}
    labels = {
        "fleet": f"fleet view, {args.sidecars} sidecars: navigation -> painted",
        "fleet_build": "  of which after /api/fleet answered",
        "fleet_dom": "    of which before layout and paint (DOM built)",
        "timeline": f"timeline, {args.calls} calls: navigation -> painted",
        "timeline_build": "  of which after the session answered",
        "timeline_dom": "    of which before layout and paint (DOM built)",
    }
    report(result, labels, args.json, width=50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    linking = commands.add_parser("fleet")
    linking.add_argument("--port", type=int, required=True)
    linking.add_argument("--sidecars", type=int, default=1000)
    linking.add_argument("--seconds", type=float, default=600)
    one = commands.add_parser("session")
    one.add_argument("--port", type=int, required=True)
    one.add_argument("--calls", type=int, default=500)
    measuring = commands.add_parser("measure")
    measuring.add_argument("--base", required=True)
    measuring.add_argument("--session", required=True)
    measuring.add_argument("--loads", type=int, default=10)
    measuring.add_argument("--sidecars", type=int, default=1000)
    measuring.add_argument("--calls", type=int, default=500)
    measuring.add_argument("--json")
    args = parser.parse_args()
    if args.command == "fleet":
        asyncio.run(fleet(args))
    elif args.command == "session":
        asyncio.run(session(args))
    else:
        measure(args)


if __name__ == "__main__":
    main()
