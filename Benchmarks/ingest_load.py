#!/usr/bin/env python3
"""Load generator for the collector's ingest port, speaking the wire protocol (docs/protocol.md) directly.

    ingest_load.py load --port P --links L --batch B [--seconds S] [--max-records N]
        L links, each: HELLO, wait for WELCOME, then RECORDS frames of B records with at most 4 batches
        unacknowledged, for S seconds (or N records per link), then wait for the outstanding ACKs.
        Prints one JSON line: records acked (stored, duplicates), records/s, batch round-trip percentiles.
    ingest_load.py csv --row ROW.csv --count N --out OUT.csv
        N copies of one exported `calls` row (action_id, session_id, ts_micros first) with unique keys, for COPY.

One ~2 KB CapturedCall (a realistic OpenAI chat request and response) is encoded once per link; each record of
a batch is made unique by patching fixed-length bytes in place: the last 12 hex digits of its action id (a
36-character UUID), the digits of its session id (50 calls per session) and its arrival time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import struct
import sys
import time

VERSION = 1
HELLO, WELCOME, RECORDS, ACK, PING, PONG, ERROR = 0x01, 0x02, 0x05, 0x06, 0x07, 0x08, 0x09
WINDOW = 4
CALLS_PER_SESSION = 50


def string(value: str) -> bytes:
    data = value.encode()
    return struct.pack(">I", len(data)) + data


def frame(message_type: int, payload: bytes) -> bytes:
    return struct.pack(">IBB", len(payload) + 2, VERSION, message_type) + payload


def field(tag: int, value: bytes) -> bytes:
    return struct.pack(">BI", tag, len(value)) + value


def headers(pairs: list[tuple[str, str]]) -> bytes:
    return struct.pack(">I", len(pairs)) + b"".join(string(name) + string(value) for name, value in pairs)


REQUEST_BODY = json.dumps(
    {
        "model": "gpt-4o-mini",
        "messages": [
            {
                "role": "system",
                "content": "You are a research assistant for a finance team. Answer from the provided "
                "filings only and cite the section you used.",
            },
            {"role": "user", "content": "What was the operating margin in Q3, and how does it compare with Q2?"},
            {
                "role": "assistant",
                "content": "Q3 operating margin was 18.4% (Results of Operations, p. 31), up from 16.9% in Q2. "
                "The improvement came mostly from lower freight costs and a smaller restructuring charge.",
            },
            {"role": "user", "content": "Break the Q3 figure down by segment and flag anything unusual."},
            {
                "role": "assistant",
                "content": "Consumer 21.2%, Enterprise 15.8%, Services 12.1% (down 3 points: a one-off "
                "write-down, Note 7).",
            },
            {"role": "user", "content": "Is the write-down expected to recur? Quote the filing if it says."},
        ],
        "temperature": 0.2,
        "max_tokens": 512,
        "user": "analyst-42",
    },
    separators=(",", ":"),
).encode()

RESPONSE_BODY = json.dumps(
    {
        "id": "chatcmpl-AbCdEfGhIjKlMnOpQrStUvWxYz012",
        "object": "chat.completion",
        "created": 1732838400,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "The filing describes the write-down as non-recurring: \"The Company does not expect "
                    "further charges related to this contract\" (Note 7, p. 44).",
                    "refusal": None,
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 312,
            "completion_tokens": 61,
            "total_tokens": 373,
            "prompt_tokens_details": {"cached_tokens": 128, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "system_fingerprint": "fp_0ba0d124f1",
    },
    separators=(",", ":"),
).encode()


class Record:
    """One encoded call and where its per-record bytes sit inside it."""

    def __init__(self, link: int, run_id: int) -> None:
        self.action_prefix = b"%08x-%04x-4000-8000-" % (run_id, link)
        self.session_prefix = b"bench-%08x-%02d-" % (run_id, link)
        action_id = self.action_prefix + b"0" * 12
        session_id = self.session_prefix + b"0" * 8
        fields = [
            field(1, action_id),
            field(2, struct.pack(">q", 0)),
            field(3, b"POST"),
            field(4, b"/v1/chat/completions"),
            field(5, b"bench-sidecar-%02d" % link),
            field(6, session_id),
            field(8, b"researcher"),
            field(11, b"production"),
            field(
                14,
                headers(
                    [
                        ("content-type", "application/json"),
                        ("accept", "application/json"),
                        ("user-agent", "OpenAI/Python 1.54.4"),
                        ("x-stainless-lang", "python"),
                        ("x-stainless-package-version", "1.54.4"),
                        ("x-stainless-runtime-version", "3.12.7"),
                    ]
                ),
            ),
            field(15, REQUEST_BODY),
            field(17, struct.pack(">H", 200)),
            field(
                18,
                headers(
                    [
                        ("content-type", "application/json"),
                        ("openai-processing-ms", "812"),
                        ("openai-version", "2020-10-01"),
                        ("x-request-id", "req_5f2b0c8e9d7a4b1c8f3e2d1a0b9c8d7e"),
                    ]
                ),
            ),
            field(19, RESPONSE_BODY),
            field(21, struct.pack(">q", 790_000)),
            field(22, struct.pack(">q", 842_000)),
        ]
        self.bytes = b"".join(fields)
        assert len(action_id) == 36
        self.action_tail = 5 + 24  # tag, length, then the 24 fixed characters
        self.arrived = len(fields[0]) + 5
        self.session_tail = sum(len(f) for f in fields[:5]) + 5 + len(self.session_prefix)


class Link:
    """One connection to the collector, sending pre-encoded batches and counting ACKs."""

    def __init__(self, index: int, args: argparse.Namespace, run_id: int) -> None:
        self.index = index
        self.args = args
        self.record = Record(index, run_id)
        stride = 4 + len(self.record.bytes)
        self.stride = stride
        one = struct.pack(">I", len(self.record.bytes)) + self.record.bytes
        self.template = bytearray(frame(RECORDS, struct.pack(">QI", 0, args.batch) + one * args.batch))
        self.first_record = 4 + 2 + 8 + 4 + 4  # frame header, batch id, count, first record's length
        self.sent_records = 0
        self.stored = 0
        self.duplicates = 0
        self.acked_batches = 0
        self.round_trips: list[float] = []
        self.sent_at: dict[int, float] = {}
        self.window = asyncio.Semaphore(WINDOW)
        self.last_ack = 0.0
        self.error: str | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.args.port)
        hello = struct.pack(">H", 1) + string(f"bench-sidecar-{self.index:02d}") + b"\xff\xff\xff\xff" + string("bench")
        self.writer.write(frame(HELLO, hello))
        message_type, payload = await self.read_frame()
        if message_type != WELCOME:
            raise RuntimeError(f"link {self.index}: expected WELCOME, got type {message_type}: {payload[:200]!r}")
        (id_length,) = struct.unpack_from(">I", payload, 2)  # protocol_version, collector_id, max_frame_bytes, ...
        (self.max_frame,) = struct.unpack_from(">I", payload, 6 + id_length)
        if len(self.template) - 4 > self.max_frame:
            raise RuntimeError(f"a batch of {self.args.batch} records exceeds max_frame_bytes {self.max_frame}")

    async def read_frame(self) -> tuple[int, bytes]:
        header = await self.reader.readexactly(6)
        length, _, message_type = struct.unpack(">IBB", header)
        return message_type, await self.reader.readexactly(length - 2)

    def next_frame(self, batch_id: int, now_micros: int) -> bytes:
        record = self.record
        buffer = self.template
        struct.pack_into(">Q", buffer, 6, batch_id)
        offset = self.first_record
        for _ in range(self.args.batch):
            n = self.sent_records
            buffer[offset + record.action_tail : offset + record.action_tail + 12] = b"%012x" % n
            buffer[offset + record.session_tail : offset + record.session_tail + 8] = b"%08d" % (n // CALLS_PER_SESSION)
            struct.pack_into(">q", buffer, offset + record.arrived, now_micros + n)
            self.sent_records += 1
            offset += self.stride
        return bytes(buffer)

    async def send(self, deadline: float) -> None:
        batch_id = 0
        limit = self.args.max_records
        while time.perf_counter() < deadline and self.sent_records + self.args.batch <= limit and self.error is None:
            await self.window.acquire()
            if time.perf_counter() >= deadline or self.error is not None:
                self.window.release()
                break
            batch_id += 1
            data = self.next_frame(batch_id, time.time_ns() // 1000)
            self.sent_at[batch_id] = time.perf_counter()
            self.writer.write(data)
            await self.writer.drain()

    async def receive(self) -> None:
        while True:
            message_type, payload = await self.read_frame()
            if message_type == ACK:
                batch_id, stored, duplicates = struct.unpack(">QII", payload)
                now = time.perf_counter()
                self.round_trips.append(now - self.sent_at.pop(batch_id))
                self.stored += stored
                self.duplicates += duplicates
                self.acked_batches += 1
                self.last_ack = now
                self.window.release()
            elif message_type == PING:
                self.writer.write(frame(PONG, payload))
            elif message_type == ERROR:
                code, length = struct.unpack_from(">HI", payload)
                self.error = f"ERROR code {code}: {payload[6 : 6 + length].decode(errors='replace')}"
                self.window.release()
                return
            else:
                self.error = f"unexpected message type {message_type}"
                return

    @property
    def outstanding(self) -> int:
        return len(self.sent_at)


async def load(args: argparse.Namespace) -> dict:
    run_id = int.from_bytes(os.urandom(4), "big")
    links = [Link(i, args, run_id) for i in range(args.links)]
    await asyncio.gather(*(link.connect() for link in links))
    cpu_before = time.process_time()
    start = time.perf_counter()
    deadline = start + args.seconds
    receivers = [asyncio.create_task(link.receive()) for link in links]
    await asyncio.gather(*(link.send(deadline) for link in links))
    sent_done = time.perf_counter()
    # Outstanding batches get their ACKs; bounded, so a stuck collector cannot hang the benchmark.
    drain_deadline = sent_done + args.drain_seconds
    while any(link.outstanding and link.error is None for link in links) and time.perf_counter() < drain_deadline:
        await asyncio.sleep(0.005)
    for task in receivers:
        task.cancel()
    for link in links:
        link.writer.close()
    end = max([link.last_ack for link in links] + [start])
    cpu = time.process_time() - cpu_before
    acked = sum(link.stored + link.duplicates for link in links)
    trips = sorted(t for link in links for t in link.round_trips)

    def percentile(p: float) -> float | None:
        return round(trips[min(len(trips) - 1, int(p * len(trips)))] * 1000, 2) if trips else None

    return {
        "links": args.links,
        "batch": args.batch,
        "record_bytes": len(links[0].record.bytes),
        "frame_bytes": len(links[0].template),
        "sent": sum(link.sent_records for link in links),
        "stored": sum(link.stored for link in links),
        "duplicates": sum(link.duplicates for link in links),
        "unacked_batches": sum(link.outstanding for link in links),
        "seconds": round(end - start, 3),
        "records_per_s": round(acked / (end - start)) if end > start else 0,
        "batch_rtt_ms_p50": percentile(0.50),
        "batch_rtt_ms_p99": percentile(0.99),
        "loader_cpu_s": round(cpu, 2),
        "errors": [link.error for link in links if link.error],
    }


def make_csv(args: argparse.Namespace) -> None:
    with open(args.row, encoding="utf-8") as f:
        row = f.read()
    if row.endswith("\n"):
        row = row[:-1]
    _, _, _, rest = row.split(",", 3)  # action_id, session_id, ts_micros are plain tokens
    base = time.time_ns() // 1000
    prefix = "%08x-0000-4000-8000-" % int.from_bytes(os.urandom(4), "big")
    with open(args.out, "w", encoding="utf-8") as out:
        for n in range(args.count):
            out.write(f"{prefix}{n:012x},copy-{n // CALLS_PER_SESSION:08d},{base + n},{rest}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("load")
    run.add_argument("--port", type=int, required=True)
    run.add_argument("--links", type=int, default=1)
    run.add_argument("--batch", type=int, default=256)
    run.add_argument("--seconds", type=float, default=5.0)
    run.add_argument("--max-records", type=int, default=2_000_000, help="per link")
    run.add_argument("--drain-seconds", type=float, default=30.0)
    csv = commands.add_parser("csv")
    csv.add_argument("--row", required=True)
    csv.add_argument("--count", type=int, required=True)
    csv.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.command == "load":
        result = asyncio.run(load(args))
        print(json.dumps(result))
        sys.exit(1 if result["errors"] else 0)
    make_csv(args)


if __name__ == "__main__":
    main()
