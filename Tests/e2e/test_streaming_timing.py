"""Streams reach the client as they are produced, never buffered until the end."""

from __future__ import annotations

import time

from support import Ledger, http_client, new_session_id

BODY = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "one two three four five six"}]}


def event_arrival_times(url: str, headers: dict[str, str]) -> list[float]:
    """Seconds from sending the request to the arrival of each complete SSE event."""
    arrivals: list[float] = []
    buffer = b""
    with http_client() as client:
        start = time.monotonic()
        with client.stream("POST", url, json=BODY, headers={"x-mock-scenario": "slow_stream", **headers}) as response:
            assert response.status_code == 200
            for chunk in response.iter_raw():
                buffer += chunk
                while b"\n\n" in buffer:
                    _, buffer = buffer.split(b"\n\n", 1)
                    arrivals.append(time.monotonic() - start)
    return arrivals


def test_slow_stream_is_not_buffered(ledger: Ledger) -> None:
    direct = event_arrival_times(f"{ledger.upstream_url}/v1/chat/completions", {})
    proxied = event_arrival_times(
        f"{ledger.base_url}/v1/chat/completions", {"x-agentledger-session-id": new_session_id("slow")}
    )
    assert len(proxied) == len(direct) >= 5
    # The mock spaces events 200 ms apart: the first must arrive long before the last.
    assert direct[-1] - direct[0] >= 0.8
    assert proxied[-1] - proxied[0] >= 0.8, f"events arrived together at {proxied}"
    assert proxied[0] < 0.6, f"first event took {proxied[0]:.3f} s"
