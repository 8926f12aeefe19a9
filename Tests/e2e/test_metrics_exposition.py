"""The metrics endpoints read by a real Prometheus text parser (prometheus_client's): a collector's `/metrics`, a
sidecar's `/agentledger/metrics`, and `up`'s `/metrics` (both halves in one exposition), before and after a few
proxied calls. Every family is typed and has its HELP, every name follows docs/operations.md "Metrics", counters
move, histogram buckets are cumulative. Loopback only; every wait is bounded.
"""

from __future__ import annotations

import math
import re
import time

from prometheus_client.parser import text_string_to_metric_families

from distributed import Fleet, chat_call
from support import Ledger, http_client, new_session_id

CONTENT_TYPE = "text/plain; version=0.0.4"
NAME = re.compile(r"^agentledger_[a-z0-9_]+$")
# Gauges named for what they hold; everything else carries its unit or _total.
GAUGES = {
    "agentledger_sidecar_spool_bytes",
    "agentledger_sidecar_queued_bytes",
    "agentledger_sidecar_collector_link_up",
    "agentledger_sidecar_agent_connections",
    "agentledger_sidecar_buffered_body_bytes",
    # A collector on Postgres: whether it is the elected enforcer, and the lease's epoch.
    "agentledger_enforcer",
    "agentledger_enforcer_epoch",
}


def scrape(url: str) -> dict[str, object]:
    """The parsed families of one endpoint, by the name in the exposition (counters keep their `_total`)."""
    with http_client(timeout=5.0) as client:
        response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:200]}"
    assert response.headers["content-type"].startswith(CONTENT_TYPE), response.headers["content-type"]
    text = response.text
    assert text.endswith("\n")
    type_lines = re.findall(r"^# TYPE (\S+) ", text, re.M)
    help_lines = re.findall(r"^# HELP (\S+) ", text, re.M)
    assert len(type_lines) == len(set(type_lines)), f"a family written twice in {url}"
    assert sorted(type_lines) == sorted(help_lines), f"TYPE without HELP (or HELP without TYPE) in {url}"
    families = {}
    for family in text_string_to_metric_families(text):
        name = family.name + "_total" if family.type == "counter" else family.name
        assert name not in families, f"{name} twice in {url}"
        families[name] = family
    assert set(families) == set(type_lines), f"samples outside their family in {url}"
    return families


def check_shapes(families: dict[str, object]) -> None:
    """Types, HELP, names and histogram buckets of every family."""
    for name, family in families.items():
        assert NAME.match(name), name
        assert family.documentation.strip(), f"{name} has no HELP"
        assert family.type in {"counter", "gauge", "histogram"}, f"{name}: {family.type}"
        assert family.samples, f"{name} has no sample"
        if family.type == "counter":
            assert name.endswith("_total"), name
            assert all(sample.value >= 0 for sample in family.samples), name
        elif family.type == "histogram":
            assert name.endswith("_seconds"), f"{name}: latencies are histograms in seconds"
            check_histogram(name, family)
        else:
            assert name in GAUGES, f"{name}: an undocumented gauge"


def check_histogram(name: str, family: object) -> None:
    """Buckets in increasing `le`, cumulative counts, the last bucket +Inf equal to `_count`, `_sum` present."""
    buckets = [(float(sample.labels["le"]), sample.value) for sample in family.samples if sample.name == name + "_bucket"]
    count = [sample.value for sample in family.samples if sample.name == name + "_count"]
    total = [sample.value for sample in family.samples if sample.name == name + "_sum"]
    assert len(buckets) >= 2 and len(count) == 1 and len(total) == 1, name
    bounds = [bound for bound, _ in buckets]
    assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds), f"{name}: bounds {bounds}"
    assert math.isinf(bounds[-1]), f"{name}: no +Inf bucket"
    counts = [value for _, value in buckets]
    assert counts == sorted(counts), f"{name}: buckets not cumulative: {counts}"
    assert counts[-1] == count[0], f"{name}: +Inf bucket {counts[-1]} != count {count[0]}"
    assert total[0] >= 0


def value(families: dict[str, object], name: str, **labels: str) -> float:
    """The value of one series (the sample named as the family, or `_count` for a histogram)."""
    family = families[name]
    wanted = name + "_count" if family.type == "histogram" else name
    matches = [s.value for s in family.samples if s.name == wanted and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(matches) == 1, f"{name}{labels}: {len(matches)} series"
    return matches[0]


def wait_for(url: str, name: str, at_least: float, timeout: float = 15.0) -> dict[str, object]:
    """Scrapes `url` until `name` reaches `at_least` (bounded by time and attempts); returns the last scrape."""
    deadline = time.monotonic() + timeout
    families = scrape(url)
    for _ in range(int(timeout / 0.1) + 1):
        if value(families, name) >= at_least or time.monotonic() > deadline:
            break
        time.sleep(0.1)
        families = scrape(url)
    assert value(families, name) >= at_least, f"{name} = {value(families, name)} after {timeout} s"
    return families


def test_a_collector_and_a_sidecar_expose_typed_documented_metrics_that_move(fleet: Fleet) -> None:
    # A budget far out of reach: admission runs before every call, so both admission metrics move.
    collector = fleet.collector(AGENTLEDGER_BUDGET_DAILY="1000")
    sidecar = fleet.sidecar(collector.ingest_address)
    collector_url, sidecar_url = f"{collector.url}/metrics", f"{sidecar.url}/agentledger/metrics"
    wait_for(sidecar_url, "agentledger_sidecar_collector_link_up", 1)
    collector_before, sidecar_before = scrape(collector_url), scrape(sidecar_url)
    check_shapes(collector_before)
    check_shapes(sidecar_before)
    assert not any(name.startswith("agentledger_sidecar_") and name != "agentledger_sidecar_links_total"
                   and name != "agentledger_sidecar_links_refused_total" for name in collector_before), \
        "the collector exposes the sidecar's metrics"
    assert "agentledger_records_stored_total" not in sidecar_before, "the sidecar exposes the collector's metrics"

    calls = 4
    session = new_session_id("metrics")
    with http_client(timeout=10.0) as client:
        for index in range(calls):
            result = chat_call(client, sidecar.url, session, f"metrics call {index}")
            assert result.status == 200, result.body

    collector_after = wait_for(collector_url, "agentledger_records_stored_total", calls)
    sidecar_after = wait_for(sidecar_url, "agentledger_sidecar_calls_acknowledged_total", calls)
    check_shapes(collector_after)
    check_shapes(sidecar_after)
    for name in ["agentledger_records_received_total", "agentledger_records_stored_total",
                 "agentledger_batches_committed_total", "agentledger_admissions_total"]:
        assert value(collector_after, name) >= value(collector_before, name) + (calls if "records" in name else 1), name
    assert value(collector_after, "agentledger_ingest_commit_seconds") >= 1
    assert value(collector_after, "agentledger_sidecar_links_total") >= 1
    assert value(collector_after, "agentledger_refusals_total", type="budget_exceeded") == 0
    for name in ["agentledger_sidecar_calls_captured_total", "agentledger_sidecar_calls_acknowledged_total"]:
        assert value(sidecar_after, name) == value(sidecar_before, name) + calls, name
    assert value(sidecar_after, "agentledger_sidecar_admission_seconds") == calls
    assert value(sidecar_after, "agentledger_sidecar_calls_dropped_total") == 0
    assert value(sidecar_after, "agentledger_sidecar_collector_link_up") == 1
    assert value(sidecar_after, "agentledger_sidecar_agent_connections") >= 0


def test_up_serves_both_halves_in_one_exposition(ledger: Ledger) -> None:
    metrics_url = f"{ledger.base_url}/metrics"
    before = scrape(metrics_url)
    check_shapes(before)
    # The collector half's families and the sidecar half's, each once.
    for name in ["agentledger_records_stored_total", "agentledger_ingest_commit_seconds", "agentledger_http_refused_total",
                 "agentledger_sidecar_calls_captured_total", "agentledger_sidecar_admission_seconds",
                 "agentledger_sidecar_spool_bytes", "agentledger_sidecar_agent_connections"]:
        assert name in before, name
    sidecar_only = scrape(f"{ledger.base_url}/agentledger/metrics")
    check_shapes(sidecar_only)
    assert set(sidecar_only) <= set(before)
    assert "agentledger_records_stored_total" not in sidecar_only

    calls = 3
    session = new_session_id("metrics-up")
    with http_client(timeout=10.0) as client:
        for index in range(calls):
            assert chat_call(client, ledger.base_url, session, f"up metrics call {index}").status == 200
    ledger.session_records(session, calls)
    after = wait_for(metrics_url, "agentledger_records_stored_total", value(before, "agentledger_records_stored_total") + calls)
    check_shapes(after)
    captured = value(after, "agentledger_sidecar_calls_captured_total") - value(before, "agentledger_sidecar_calls_captured_total")
    assert captured >= calls
    assert value(after, "agentledger_ingest_commit_seconds") > value(before, "agentledger_ingest_commit_seconds")
