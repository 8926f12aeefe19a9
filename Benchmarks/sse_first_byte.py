"""Time to the first body byte of a streamed answer, or to the last byte of a whole one, direct and through the
sidecar (see sse-first-byte.sh and one-connection.sh).

    sse_first_byte.py --direct PORT --proxy PORT [--requests N] [--whole]

One keep-alive connection per path; paths alternate in blocks of 100 requests after 200 warm-up requests each.
Each request is timed from its last byte written to the first byte of the body (a `"stream": true` request), or
with --whole to the last byte of the answer (a ~2 KB chat request without streaming, as call-path.sh sends); the
rest of a stream is read to its end before the next request. Prints a Markdown table and the added p50 / p99.
"""

from __future__ import annotations

import argparse
import json
import socket
import time

STREAM_BODY = json.dumps(
    {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "What is the answer? " * 20}]}
).encode()


def chat_body() -> bytes:
    """The ~2 KB request of call-path.sh's wrk script: a short history, no streaming."""
    history = [{"role": "system", "content": "You are a careful research assistant. " * 8}]
    for i in range(6):
        history.append({"role": "user", "content": f"Question {i}: what changed in the quarterly numbers and why? " * 2})
        history.append({"role": "assistant", "content": f"Answer {i}: revenue grew on volume; margins held. " * 2})
    return json.dumps({"model": "gpt-4o-mini", "messages": history, "temperature": 0.2}).encode()


class Link:
    """One HTTP/1.1 keep-alive connection, read by hand so the first body byte is seen as it arrives."""

    def __init__(self, port: int, body: bytes, whole: bool) -> None:
        self.whole = whole
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request = (
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer sk-bench\r\nx-agentledger-session-id: sse-bench\r\n"
            # Tells Benchmarks/lib.sh's nginx to answer with its event stream; other upstreams ignore it.
            + (b"" if whole else b"x-bench-stream: 1\r\n")
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )
        self.buffer = b""

    def recv(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed")
        self.buffer += chunk

    def timed(self) -> float:
        """Sends one request; returns seconds to the first body byte (or, `whole`, to the last), after reading the
        whole answer."""
        self.sock.sendall(self.request)
        start = time.perf_counter()
        while b"\r\n\r\n" not in self.buffer:
            self.recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.decode(errors="replace"))
        while not self.buffer:
            self.recv()
        elapsed = time.perf_counter() - start
        lower = head.lower()
        if b"transfer-encoding: chunked" in lower:
            while not self.buffer.endswith(b"0\r\n\r\n"):
                self.recv()
        else:
            length = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
            while len(self.buffer) < length:
                self.recv()
        if self.whole:
            elapsed = time.perf_counter() - start
            if b'"chat.completion"' not in self.buffer:
                raise RuntimeError("not a chat completion")
        elif b"[DONE]" not in self.buffer:
            raise RuntimeError("stream without [DONE]")
        self.buffer = b""
        return elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--direct", type=int, required=True)
    parser.add_argument("--proxy", type=int, required=True)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--whole", action="store_true", help="time whole non-streamed answers")
    args = parser.parse_args()
    body = chat_body() if args.whole else STREAM_BODY
    links = {name: Link(port, body, args.whole) for name, port in (("direct", args.direct), ("sidecar", args.proxy))}
    for link in links.values():
        for _ in range(200):
            link.timed()
    times: dict[str, list[float]] = {name: [] for name in links}
    while len(times["sidecar"]) < args.requests:
        for name, link in links.items():
            times[name] += [link.timed() for _ in range(min(100, args.requests - len(times[name])))]
    what = "requests per path, time to the whole answer" if args.whole else "streamed requests per path, time to the first body byte"
    print(f"\n{args.requests} {what}:\n")
    print("| path | p50 | p90 | p99 |")
    print("|---|---|---|---|")
    for name, values in times.items():
        cells = " | ".join(f"{percentile(values, p) * 1e6:.0f} µs" for p in (0.5, 0.9, 0.99))
        print(f"| {name} | {cells} |")
    added = {p: (percentile(times["sidecar"], p) - percentile(times["direct"], p)) * 1e6 for p in (0.5, 0.99)}
    if args.whole:
        verdicts = ", ".join(
            f"p{int(p * 100)} +{limit} µs: {'met' if added[p] <= limit else 'MISSED'}" for p, limit in ((0.5, 200), (0.99, 500))
        )
    else:
        verdicts = f"p50 +200 µs: {'met' if added[0.5] <= 200 else 'MISSED'}"
    print(f"\nadded by the sidecar: p50 {added[0.5]:+.0f} µs, p99 {added[0.99]:+.0f} µs (target {verdicts})")


if __name__ == "__main__":
    main()
