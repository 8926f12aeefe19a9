#!/usr/bin/env python3
"""Writes edge-value variants of the provider fixtures into the json and sse seed corpora (Fuzz/corpus/).

For each body in Tests/Fixtures/wire, every integer in it is replaced by one edge value at a time (2**63 - 1,
-2**63, -1, 1e300), and, for streams, the `index` members are dropped from every other event: the shapes that
overflow or confuse the assemblers and the usage arithmetic, which random mutation rarely spells out.

    python3 Fuzz/Tools/make_edge_seeds.py      (from the repository root; rewrites Fuzz/corpus/*/edge-*)
"""

from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path("Tests/Fixtures/wire")
CORPUS = Path("Fuzz/corpus")
EDGES = {"max": "9223372036854775807", "min": "-9223372036854775808", "neg": "-1", "huge": "1e300"}
# An integer value of a JSON member: `"name": 123`, not digits inside strings.
INTEGER = re.compile(rb'("[A-Za-z_]+"\s*:\s*)(-?\d+)(?=\s*[,}\]])')
INDEX = re.compile(rb'"index"\s*:\s*-?\d+\s*,?')


def variants(body: bytes) -> dict[str, bytes]:
    out = {name: INTEGER.sub(lambda m: m.group(1) + value.encode(), body) for name, value in EDGES.items()}
    return {name: data for name, data in out.items() if data != body}


def without_every_other_index(body: bytes) -> bytes:
    events = body.split(b"\n\n")
    return b"\n\n".join(INDEX.sub(b"", event) if number % 2 else event for number, event in enumerate(events))


def main() -> None:
    for old in CORPUS.glob("*/edge-*"):
        if old.parent.name in ("json", "sse"):
            old.unlink()
    for fixture in sorted(FIXTURES.iterdir()):
        for body_name in ("request.json", "response.json"):
            path = fixture / body_name
            if path.exists():
                for name, data in variants(path.read_bytes()).items():
                    (CORPUS / "json" / f"edge-{fixture.name}-{path.stem}-{name}.json").write_bytes(data)
        stream = fixture / "response.sse"
        if stream.exists():
            body = stream.read_bytes()
            for name, data in variants(body).items():
                (CORPUS / "sse" / f"edge-{fixture.name}-{name}.sse").write_bytes(data)
                (CORPUS / "sse" / f"edge-{fixture.name}-{name}-noindex.sse").write_bytes(without_every_other_index(data))


if __name__ == "__main__":
    main()
