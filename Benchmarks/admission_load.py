#!/usr/bin/env python3
"""Admission round trips against a collector's ingest port, playing one sidecar (docs/protocol.md).

    admission_load.py load --port P --concurrency N [--requests R] [--seconds S] [--warmup W]
        One link: HELLO, wait for WELCOME, then keep exactly N ADMITs outstanding (each VERDICT is answered with
        the next ADMIT) until R ADMITs were sent or S seconds passed, whichever comes first; then wait (at most
        --drain-seconds) for the outstanding VERDICTs. Each ADMIT -> VERDICT round trip is timed with
        time.perf_counter_ns; the first W are warm-up and not counted. Prints one JSON line: p50/p90/p99/p99.9/max
        in microseconds, verdicts per second, refusals, and whether WELCOME said admission_required.
    admission_load.py selftest
        Encodes the golden ADMIT and decodes the golden WELCOME and VERDICT of docs/protocol.md, byte for byte.

The keys vary per call so the collector does real map work: SESSIONS session ids (each call advances the
session), AGENTS agent names, USERS user ids; model gpt-4o-mini, a 2048-byte body, max_tokens 256. Every
ADMIT gets a unique 36-character action id.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import struct
import sys
import time

VERSION = 1
HELLO, WELCOME, ADMIT, VERDICT, PING, PONG, ERROR = 0x01, 0x02, 0x03, 0x04, 0x07, 0x08, 0x09
ABSENT = b"\xff\xff\xff\xff"
SESSIONS, AGENTS, USERS = 1000, 16, 100


def string(value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return struct.pack(">I", len(data)) + data


def optional_string(value: str | bytes | None) -> bytes:
    return ABSENT if value is None else string(value)


def frame(message_type: int, payload: bytes) -> bytes:
    return struct.pack(">IBB", len(payload) + 2, VERSION, message_type) + payload


def hello(source: str, token: str | None, software: str) -> bytes:
    return frame(HELLO, struct.pack(">H", 2) + string(source) + optional_string(token) + string(software))


def admit(
    request_id: int,
    action_id: bytes,
    session: bytes | None,
    agent: bytes | None,
    user: bytes | None,
    app: bytes | None,
    model: bytes,
    body_bytes: int,
    max_tokens: int | None,
) -> bytes:
    payload = (
        struct.pack(">Q", request_id)
        + string(action_id)
        + optional_string(session)
        + optional_string(agent)
        + optional_string(user)
        + optional_string(app)
        + string(model)
        + struct.pack(">I", body_bytes)
        + (b"\x00" if max_tokens is None else b"\x01" + struct.pack(">I", max_tokens))
    )
    return frame(ADMIT, payload)


class Reader:
    """Reads primitives off one payload; raises on anything left over or missing."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.at = 0

    def take(self, count: int) -> bytes:
        if self.at + count > len(self.payload):
            raise ValueError("payload runs short")
        self.at += count
        return self.payload[self.at - count : self.at]

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack(">Q", self.take(8))[0]

    def optional_string(self) -> str | None:
        length = self.u32()
        return None if length == 0xFFFFFFFF else self.take(length).decode()

    def optional_u32(self) -> int | None:
        present = self.u8()
        if present > 1:
            raise ValueError("bad bool")
        return self.u32() if present else None

    def done(self) -> None:
        if self.at != len(self.payload):
            raise ValueError("trailing bytes")


def decode_welcome(payload: bytes) -> dict:
    r = Reader(payload)
    result = {
        "protocol_version": struct.unpack(">H", r.take(2))[0],
        "collector_id": r.take(r.u32()).decode(),
        "max_frame_bytes": r.u32(),
        "admission_required": r.u8() == 1,
    }
    r.done()
    return result


def decode_verdict(payload: bytes) -> tuple[int, int, str | None]:
    r = Reader(payload)
    request_id, decision = r.u64(), r.u8()
    refusal_type, _message, _retry = r.optional_string(), r.optional_string(), r.optional_u32()
    r.done()
    if decision > 1:
        raise ValueError(f"bad decision {decision}")
    return request_id, decision, refusal_type


def golden(name: str) -> bytes:
    docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "protocol.md")
    with open(docs, encoding="utf-8") as f:
        text = f.read()
    block = re.search(r"<!-- golden: %s -->\s*```text\n(.*?)```" % re.escape(name), text, re.S)
    if not block:
        raise SystemExit(f"no golden block {name!r} in docs/protocol.md")
    return bytes.fromhex(" ".join(line.split("#")[0] for line in block.group(1).splitlines()))


def selftest() -> None:
    encoded = admit(5, b"act-1", b"s1", None, None, None, b"gpt-4o", 120, 256)
    assert encoded == golden("admit"), f"ADMIT differs:\n{encoded.hex(' ')}\n{golden('admit').hex(' ')}"
    assert hello("pod-a", "s3cret", "0.1.0") == golden("hello"), "HELLO differs"
    welcome = golden("welcome")
    assert welcome[5] == WELCOME and decode_welcome(welcome[6:]) == {
        "protocol_version": 2,
        "collector_id": "col-1",
        "max_frame_bytes": 83886080,
        "admission_required": True,
    }
    refuse = golden("verdict-refuse")
    assert refuse[5] == VERDICT and decode_verdict(refuse[6:]) == (5, 1, "budget_exceeded")
    admitted = frame(VERDICT, struct.pack(">Q", 9) + b"\x00" + ABSENT + ABSENT + b"\x00")
    assert decode_verdict(admitted[6:]) == (9, 0, None)
    print("selftest: ADMIT and HELLO encode, WELCOME and VERDICT decode exactly as docs/protocol.md")


class AdmissionLink(asyncio.Protocol):
    """One sidecar link in a closed loop: every VERDICT that arrives is answered with the next ADMIT."""

    def __init__(self, args: argparse.Namespace, welcomed: asyncio.Future, finished: asyncio.Future) -> None:
        self.args = args
        self.welcomed = welcomed
        self.finished = finished
        self.buffer = bytearray()
        self.sent_at: dict[int, int] = {}
        self.next_id = 0
        self.received = 0
        self.refused = 0
        self.trips: list[int] = []
        self.sending = False
        self.deadline_ns = 0
        self.started_ns = 0
        self.measured_from_ns = 0
        self.last_ns = 0
        self.error: str | None = None
        self.run_tag = b"%08x" % int.from_bytes(os.urandom(4), "big")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        transport.write(hello("bench-admission", None, "bench"))

    def admit_frame(self, n: int) -> bytes:
        return admit(
            n,
            self.run_tag + b"-0000-4000-8000-%012x" % n,
            b"bench-session-%06d" % (n % SESSIONS),
            b"agent-%02d" % (n % AGENTS),
            b"user-%03d" % (n % USERS),
            None,
            b"gpt-4o-mini",
            2048,
            256,
        )

    def start(self) -> None:
        self.sending = True
        self.started_ns = time.perf_counter_ns()
        self.deadline_ns = self.started_ns + int(self.args.seconds * 1e9)
        self.send(self.args.concurrency, self.started_ns)

    def send(self, count: int, now: int) -> None:
        limit = self.args.requests + self.args.warmup
        frames, ids = [], []
        while count > 0 and self.next_id < limit and now < self.deadline_ns:
            self.next_id += 1
            frames.append(self.admit_frame(self.next_id))
            ids.append(self.next_id)
            count -= 1
        if frames:
            # The clock starts when the batch is built and goes out, not before: building is the loader's own time.
            sent = time.perf_counter_ns()
            for request_id in ids:
                self.sent_at[request_id] = sent
            self.transport.write(b"".join(frames))
        elif not self.sent_at:
            self.stop()

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter_ns()
        self.buffer += data
        try:
            answered = self.consume(now)
        except (ValueError, struct.error) as error:
            return self.fail(f"undecodable frame: {error}")
        if answered:
            self.last_ns = now
            if self.sending:
                self.send(answered, time.perf_counter_ns())

    def consume(self, now: int) -> int:
        """Handles every whole frame in the buffer; returns how many VERDICTs came."""
        answered = 0
        while len(self.buffer) >= 6:
            length, version, message_type = struct.unpack_from(">IBB", self.buffer)
            if len(self.buffer) < 4 + length:
                break
            payload = bytes(self.buffer[6 : 4 + length])
            del self.buffer[: 4 + length]
            if version != VERSION:
                raise ValueError(f"version {version}")
            if message_type == VERDICT:
                request_id, decision, _ = decode_verdict(payload)
                sent = self.sent_at.pop(request_id, None)
                if sent is None:
                    raise ValueError(f"VERDICT for unknown request {request_id}")
                self.received += 1
                self.refused += decision
                if self.received > self.args.warmup:
                    self.trips.append(now - sent)
                elif self.received == self.args.warmup:
                    self.measured_from_ns = now
                answered += 1
            elif message_type == WELCOME:
                self.welcome = decode_welcome(payload)
                self.welcomed.set_result(True)
            elif message_type == PING:
                self.transport.write(frame(PONG, payload))
            elif message_type == ERROR:
                raise ValueError(f"ERROR {payload!r}")
            else:
                raise ValueError(f"unexpected message type {message_type}")
        return answered

    def stop(self) -> None:
        self.sending = False
        if not self.finished.done():
            self.finished.set_result(True)

    def fail(self, reason: str) -> None:
        self.error = reason
        self.transport.close()
        if not self.welcomed.done():
            self.welcomed.set_exception(RuntimeError(reason))
        self.stop()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.error is None and self.sending:
            self.error = f"link closed: {exc}"
        if not self.welcomed.done():
            self.welcomed.set_exception(RuntimeError(self.error or "link closed before WELCOME"))
        self.stop()


async def load(args: argparse.Namespace) -> dict:
    loop = asyncio.get_running_loop()
    welcomed, finished = loop.create_future(), loop.create_future()
    transport, link = await loop.create_connection(
        lambda: AdmissionLink(args, welcomed, finished), "127.0.0.1", args.port
    )
    sock = transport.get_extra_info("socket")
    sock.setsockopt(6, 1, 1)  # TCP_NODELAY, as the sidecar's NIO channel
    await asyncio.wait_for(welcomed, 10)
    cpu_before = time.process_time()
    link.start()
    try:
        await asyncio.wait_for(finished, args.seconds + args.drain_seconds)
    except asyncio.TimeoutError:
        link.error = link.error or f"{len(link.sent_at)} VERDICTs missing after the drain"
    cpu = time.process_time() - cpu_before
    transport.close()
    trips = sorted(link.trips)
    elapsed = (link.last_ns - (link.measured_from_ns or link.started_ns)) / 1e9

    def percentile(p: float) -> float | None:
        return round(trips[min(len(trips) - 1, int(p * len(trips)))] / 1000, 1) if trips else None

    return {
        "concurrency": args.concurrency,
        "admission_required": link.welcome["admission_required"],
        "verdicts": len(trips),
        "refused": link.refused,
        "seconds": round(elapsed, 3),
        "verdicts_per_s": round(len(trips) / elapsed) if elapsed > 0 else 0,
        "p50_us": percentile(0.50),
        "p90_us": percentile(0.90),
        "p99_us": percentile(0.99),
        "p999_us": percentile(0.999),
        "max_us": round(trips[-1] / 1000, 1) if trips else None,
        "loader_cpu_s": round(cpu, 2),
        "error": link.error,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("load")
    run.add_argument("--port", type=int, required=True)
    run.add_argument("--concurrency", type=int, default=1)
    run.add_argument("--requests", type=int, default=50_000, help="measured ADMITs, after the warm-up")
    run.add_argument("--seconds", type=float, default=5.0)
    run.add_argument("--warmup", type=int, default=2_000)
    run.add_argument("--drain-seconds", type=float, default=10.0)
    commands.add_parser("selftest")
    args = parser.parse_args()
    if args.command == "selftest":
        return selftest()
    if not 1 <= args.concurrency <= 10_000:
        raise SystemExit("--concurrency must be 1...10000")
    result = asyncio.run(load(args))
    print(json.dumps(result))
    sys.exit(1 if result["error"] or not result["admission_required"] else 0)


if __name__ == "__main__":
    main()
