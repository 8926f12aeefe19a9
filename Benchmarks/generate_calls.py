#!/usr/bin/env python3
"""Fills a collector with N generated calls through its ingest port, as sidecars would (docs/protocol.md).

    generate_calls.py --port P [--calls 1000000] [--seed 7] [--links 4] [--batch 256] [--manifest FILE]

The calls form realistic sessions, sent in time order across all sessions (a merge of the sessions' clocks):
session lengths of 1-200 calls (about 5% of sessions have exactly 200), 20 agents (12 speak OpenAI chat, 8 Anthropic
messages, each with its model and system prompt), 200 users, 5 apps, 3 environments, timestamps over the 30 days
before --end. A call sends the agent's system prompt, the previous user/assistant turn of its session and a new
user message; the answer is a new assistant message; 1% of calls fail (429 or 500). About 1.5-2 KB per record.

The text comes from a vocabulary generated from --seed (syllable words, drawn with Zipf frequencies, a few
non-ASCII words mixed in), so the same seed and N give the same calls, action ids included: sending them again
only yields duplicates. Search targets with known frequencies are planted: `common` (the most frequent word, in
nearly every call), `mid` (in roughly a tenth of the calls), `rare` (in N/100,000 calls, at least 3), `non_ascii`
(Zürich, in 0.2% of calls) and a two-word query. --manifest writes them, with the time range, the ids of
200-call sessions and the agent/user/app names, as JSON for Benchmarks/read_latency.py.

Bounded: the sending stops after --max-seconds, and the outstanding ACKs are awaited at most --drain-seconds.
Progress goes to stderr every 5 s; the last line on stdout is a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import json
import random
import struct
import sys
import time

from ingest_load import HELLO, RECORDS, WELCOME, WINDOW, Link, field, frame, headers, string

DAY = 86_400_000_000
SYLLABLES = (
    "ka ri to ne sa mo lu vi den tar bel kos mir pra ul on ex gra fen dol sim vor ta le qua ni ber zo rak "
    "mun pel tis gor fa hin jus cor"
).split()
NON_ASCII = ["naïveté", "façade", "crème", "Ελλάδα", "Москва", "日本語", "São", "Kraków", "smörgåsbord", "jalapeño"]
RARE_WORD = "xerophyllum"
NON_ASCII_TARGET = "Zürich"
OPENAI_MODELS = ["gpt-4o-mini", "gpt-4.1-mini", "gpt-4o"]
ANTHROPIC_MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5"]

OPENAI_HEADERS = field(14, headers([("content-type", "application/json"), ("user-agent", "OpenAI/Python 1.54.4")]))
ANTHROPIC_HEADERS = field(14, headers([("content-type", "application/json"), ("anthropic-version", "2023-06-01")]))
RESPONSE_HEADERS = field(18, headers([("content-type", "application/json")]))
JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
ENVIRONMENTS = ["production", "production", "production", "staging", "development"]


class Corpus:
    """The seeded vocabulary and a pool of sentences drawn from it with Zipf frequencies."""

    def __init__(self, seed: int, words: int = 8000, sentences: int = 20_000) -> None:
        rng = random.Random(seed)
        vocabulary: list[str] = []
        seen: set[str] = set()
        while len(vocabulary) < words:
            word = "".join(rng.choices(SYLLABLES, k=rng.choice((2, 2, 3, 3, 4))))
            if word not in seen:
                seen.add(word)
                vocabulary.append(word)
        self.words = vocabulary
        # The `mid` target: a word of rank 60 appears in about 1 of 530 draws, so in a tenth of the calls or so.
        self.common, self.mid = vocabulary[0], vocabulary[60]
        self.pair = (vocabulary[12], vocabulary[25])
        # Per sentence, which of these search targets it holds, as bits.
        self.marked = [(1, self.common), (2, self.mid), (4, self.pair[0]), (8, self.pair[1])]
        self.targets: list[int] = []
        weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(words)))
        self.sentences: list[str] = []
        for _ in range(sentences):
            chosen = rng.choices(vocabulary, cum_weights=weights, k=rng.randint(6, 16))
            if rng.random() < 0.15:
                chosen[rng.randrange(len(chosen))] = rng.choice(NON_ASCII)
            sentence = " ".join(chosen)
            self.sentences.append(sentence[0].upper() + sentence[1:] + rng.choice(".?!."))
            self.targets.append(sum(bit for bit, word in self.marked if word in chosen))

    def text(self, rng: random.Random, low: int, high: int) -> tuple[str, int]:
        """Some sentences, and which search targets they hold (bits of `marked`)."""
        picks = rng.choices(range(len(self.sentences)), k=rng.randint(low, high))
        mask = 0
        for pick in picks:
            mask |= self.targets[pick]
        return " ".join(self.sentences[pick] for pick in picks), mask


class Session:
    """One session's fixed identity and its conversation so far."""

    def __init__(self, sid: str, length: int, start: int, rng: random.Random, corpus: Corpus) -> None:
        self.sid = sid
        self.remaining = length
        self.next_ts = start
        self.agent = rng.randrange(20)
        self.user = f"user-{rng.randrange(200):03d}"
        self.app = f"app-{rng.randrange(5)}"
        self.environment = rng.choice(ENVIRONMENTS)
        self.anthropic = self.agent >= 12
        models = ANTHROPIC_MODELS if self.anthropic else OPENAI_MODELS
        self.model = models[self.agent % len(models)]
        self.system = SYSTEM_PROMPTS[self.agent]
        self.previous: list[dict] = []


SYSTEM_PROMPTS = [
    f"You are agent-{i:02d}, a careful assistant for the {team} team. Answer from the documents provided, cite the "
    f"section you used, say when you are unsure, and keep answers under {120 + 20 * i} words."
    for i, team in enumerate(
        "finance legal support sales research ops security design data growth hr billing search infra mobile web "
        "platform partner risk quality".split()
    )
]


class Generator:
    """Yields encoded records in time order, merging the clocks of all sessions."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.corpus = Corpus(args.seed)
        self.end = args.end
        self.start = args.end - 30 * DAY
        self.sessions = self.plan_sessions()
        self.rare_step = max(1, min(100_000, args.calls // 3))
        self.planted = {"common": 0, "mid": 0, "rare": 0, "non_ascii": 0, "pair": 0}
        self.record_bytes = 0

    def plan_sessions(self) -> list[tuple[int, int, str]]:
        """(start, length, id) of every session, by start time; lengths sum to exactly --calls."""
        rng = self.rng
        plans = []
        total = 0
        while total < self.args.calls:
            kind = rng.random()
            if kind < 0.30:
                length = rng.randint(1, 10)
            elif kind < 0.70:
                length = rng.randint(11, 60)
            elif kind < 0.95:
                length = rng.randint(61, 150)
            else:
                length = 200
            length = min(length, self.args.calls - total)
            total += length
            latest = self.end - length * 60_000_000  # calls come about every 47 s on average
            start = rng.randrange(self.start, max(self.start + 1, latest))
            plans.append((start, length, self.uuid()))
        plans.sort()
        return plans

    def uuid(self) -> str:
        bits = self.rng.getrandbits
        return "%08x-%04x-4%03x-a%03x-%012x" % (bits(32), bits(16), bits(12), bits(12), bits(48))

    def records(self):
        rng = self.rng
        active: list[tuple[int, int, Session]] = []
        pending = iter(self.sessions)
        upcoming = next(pending, None)
        sequence = itertools.count()
        for n in range(self.args.calls):
            while upcoming is not None and (not active or upcoming[0] <= active[0][0]):
                session = Session(upcoming[2], upcoming[1], upcoming[0], rng, self.corpus)
                heapq.heappush(active, (session.next_ts, next(sequence), session))
                upcoming = next(pending, None)
            _, _, session = heapq.heappop(active)
            record = self.encode(n, session)
            self.record_bytes += len(record)
            yield record
            session.remaining -= 1
            if session.remaining:
                session.next_ts += rng.randint(2_000_000, 90_000_000)
                heapq.heappush(active, (session.next_ts, next(sequence), session))

    def user_text(self, n: int) -> tuple[str, int]:
        rng = self.rng
        text, mask = self.corpus.text(rng, 2, 4)
        extra = []
        if n % self.rare_step == 7:
            extra.append(RARE_WORD)
            self.planted["rare"] += 1
        if rng.random() < 0.002:
            extra.append(NON_ASCII_TARGET)
            self.planted["non_ascii"] += 1
        if extra:
            words = text.split(" ")
            for word in extra:
                words.insert(rng.randrange(len(words) + 1), word)
            text = " ".join(words)
        return text, mask

    def encode(self, n: int, session: Session) -> bytes:
        rng = self.rng
        question_text, asked = self.user_text(n)
        question = {"role": "user", "content": question_text}
        answer_text, answered = self.corpus.text(rng, 1, 4)
        failed = rng.random() < 0.01
        history = session.previous + [question]
        session.previous = [question] if failed else [question, {"role": "assistant", "content": answer_text}]
        targets = asked | answered
        self.planted["common"] += targets & 1
        self.planted["mid"] += (targets & 2) >> 1
        self.planted["pair"] += targets & 12 == 12
        prompt_tokens = (len(session.system) + sum(len(m["content"]) for m in history)) // 4
        completion_tokens = len(answer_text) // 4
        action_id = self.uuid()
        if session.anthropic:
            path = "/v1/messages"
            request = {"model": session.model, "max_tokens": 1024, "system": session.system, "messages": history}
            response = {
                "id": "msg_" + action_id.replace("-", "")[:24],
                "type": "message",
                "role": "assistant",
                "model": session.model,
                "content": [{"type": "text", "text": answer_text}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": prompt_tokens, "output_tokens": completion_tokens},
            }
            request_headers = ANTHROPIC_HEADERS
        else:
            path = "/v1/chat/completions"
            request = {
                "model": session.model,
                "messages": [{"role": "system", "content": session.system}] + history,
                "temperature": 0.2,
            }
            response = {
                "id": "chatcmpl-" + action_id.replace("-", "")[:24],
                "object": "chat.completion",
                "model": session.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer_text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
            }
            request_headers = OPENAI_HEADERS
        status = 200
        if failed:
            status = rng.choice((429, 500))
            response = {"error": {"type": "rate_limit_error" if status == 429 else "server_error", "message": "try again"}}
        completed = rng.randint(300_000, 8_000_000)
        fields = [
            field(1, action_id.encode()),
            field(2, struct.pack(">q", session.next_ts)),
            field(3, b"POST"),
            field(4, path.encode()),
            field(5, f"sidecar-agent-{session.agent:02d}".encode()),
            field(6, session.sid.encode()),
            field(7, session.user.encode()),
            field(8, f"agent-{session.agent:02d}".encode()),
            field(9, session.app.encode()),
            field(11, session.environment.encode()),
            request_headers,
            field(15, JSON.encode(request).encode()),
            field(17, struct.pack(">H", status)),
            RESPONSE_HEADERS,
            field(19, JSON.encode(response).encode()),
            field(21, struct.pack(">q", completed // 3)),
            field(22, struct.pack(">q", completed)),
        ]
        return b"".join(fields)

    def manifest(self) -> dict:
        full = [sid for _, length, sid in self.sessions if length == 200]
        corpus = self.corpus
        return {
            "calls": self.args.calls,
            "seed": self.args.seed,
            "sessions": len(self.sessions),
            "since_micros": self.start,
            "until_micros": self.end,
            "sessions_of_200": full[:50],
            "sessions_of_200_total": len(full),
            "agents": [f"agent-{i:02d}" for i in range(20)],
            "users": [f"user-{i:03d}" for i in range(200)],
            "apps": [f"app-{i}" for i in range(5)],
            "environments": sorted(set(ENVIRONMENTS)),
            "search": {
                "common": corpus.common,
                "mid": corpus.mid,
                "rare": RARE_WORD,
                "non_ascii": NON_ASCII_TARGET,
                "pair": " ".join(corpus.pair),
            },
            "planted_calls": self.planted,
        }


class Sender(Link):
    """One link to the collector; reuses ingest_load's ACK bookkeeping (`receive`) for batches of varied records."""

    def __init__(self, index: int, port: int) -> None:  # not Link's: there is no template record here
        self.index = index
        self.port = port
        self.stored = self.duplicates = self.acked_batches = 0
        self.round_trips: list[float] = []
        self.sent_at: dict[int, float] = {}
        self.window = asyncio.Semaphore(WINDOW)
        self.last_ack = 0.0
        self.error: str | None = None
        self.batch_id = 0

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        hello = struct.pack(">H", 1) + string(f"generator-{self.index:02d}") + b"\xff\xff\xff\xff" + string("bench")
        self.writer.write(frame(HELLO, hello))
        message_type, payload = await self.read_frame()
        if message_type != WELCOME:
            raise RuntimeError(f"link {self.index}: expected WELCOME, got type {message_type}: {payload[:200]!r}")
        (id_length,) = struct.unpack_from(">I", payload, 2)  # protocol_version, collector_id, max_frame_bytes, ...
        (self.max_frame,) = struct.unpack_from(">I", payload, 6 + id_length)

    async def pump(self, batches, deadline: float) -> None:
        while self.error is None and time.perf_counter() < deadline:
            await self.window.acquire()
            records = next(batches, None)
            if records is None or self.error is not None:
                self.window.release()
                return
            self.batch_id += 1
            payload = struct.pack(">QI", self.batch_id, len(records)) + b"".join(
                struct.pack(">I", len(r)) + r for r in records
            )
            if len(payload) + 2 > self.max_frame:
                raise RuntimeError(f"a batch of {len(records)} records exceeds max_frame_bytes {self.max_frame}")
            self.sent_at[self.batch_id] = time.perf_counter()
            self.writer.write(frame(RECORDS, payload))
            await self.writer.drain()


async def run(args: argparse.Namespace) -> dict:
    generator = Generator(args)
    print(f"planned {len(generator.sessions)} sessions for {args.calls} calls", file=sys.stderr)
    stream = generator.records()
    batches = iter(lambda: list(itertools.islice(stream, args.batch)) or None, None)
    links = [Sender(i, args.port) for i in range(args.links)]
    await asyncio.gather(*(link.connect() for link in links))
    start = time.perf_counter()
    receivers = [asyncio.create_task(link.receive()) for link in links]

    async def progress() -> None:
        while True:
            await asyncio.sleep(5)
            acked = sum(link.stored + link.duplicates for link in links)
            elapsed = time.perf_counter() - start
            print(f"{elapsed:6.0f} s: {acked:>9,} acked ({acked / elapsed:,.0f}/s)", file=sys.stderr, flush=True)

    reporter = asyncio.create_task(progress())
    await asyncio.gather(*(link.pump(batches, start + args.max_seconds) for link in links))
    drain_deadline = time.perf_counter() + args.drain_seconds
    while any(link.sent_at and link.error is None for link in links) and time.perf_counter() < drain_deadline:
        await asyncio.sleep(0.01)
    reporter.cancel()
    for task in receivers:
        task.cancel()
    for link in links:
        link.writer.close()
    seconds = max([link.last_ack for link in links] + [start]) - start
    acked = sum(link.stored + link.duplicates for link in links)
    if args.manifest:
        with open(args.manifest, "w", encoding="utf-8") as out:
            json.dump(generator.manifest(), out, ensure_ascii=False, indent=1)
    return {
        "calls": args.calls,
        "sessions": len(generator.sessions),
        "acked": acked,
        "stored": sum(link.stored for link in links),
        "duplicates": sum(link.duplicates for link in links),
        "unacked_batches": sum(len(link.sent_at) for link in links),
        "seconds": round(seconds, 1),
        "records_per_s": round(acked / seconds) if seconds else 0,
        "mean_record_bytes": round(generator.record_bytes / max(1, args.calls)),
        "errors": [link.error for link in links if link.error],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True, help="the collector's ingest port on 127.0.0.1")
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end", type=int, default=(int(time.time()) // 3600) * 3600 * 1_000_000,
                        help="µs since the epoch; the calls span the 30 days before it (default: this hour)")
    parser.add_argument("--links", type=int, default=4)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--max-seconds", type=float, default=1800)
    parser.add_argument("--drain-seconds", type=float, default=120)
    parser.add_argument("--manifest", help="write the search targets, time range and session ids here (JSON)")
    args = parser.parse_args()
    if not 1 <= args.calls <= 20_000_000:
        parser.error("--calls must be from 1 to 20,000,000")
    result = asyncio.run(run(args))
    print(json.dumps(result))
    sys.exit(1 if result["errors"] or result["acked"] != args.calls else 0)


if __name__ == "__main__":
    main()
