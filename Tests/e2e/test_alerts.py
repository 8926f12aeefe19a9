"""Alerts (docs/reference.md, "Alerts") end to end: a real collector and sidecar, a webhook receiver on loopback."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from distributed import Fleet
from support import new_session_id
from test_budgets import call, pricing_file


class Webhook:
    """A loopback webhook receiver that keeps every JSON body it gets; `hang` makes it never answer in time."""

    def __init__(self, hang: float = 0.0) -> None:
        received: list[dict] = []
        self.received = received
        hang_for = hang

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if hang_for:
                    time.sleep(hang_for)
                received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts?secret=do-not-log"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.05) + 1):
            if len(self.received) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_one_high_cost_alert_per_expensive_call_and_one_daily_spend_alert(fleet: Fleet, tmp_path: Path):
    webhook = Webhook()
    try:
        collector = fleet.collector(
            dsn=f"sqlite:///{tmp_path / 'alerts.db'}",
            AGENTLEDGER_PRICING_FILE=pricing_file(tmp_path),
            AGENTLEDGER_ALERT_WEBHOOK_URL=webhook.url,
            AGENTLEDGER_ALERT_COST_PER_CALL="0.00000001",
            AGENTLEDGER_ALERT_DAILY_SPEND="0.00000001",
        )
        pod = fleet.sidecar(collector.ingest_address)
        session = new_session_id("alerts")
        ids = []
        for _ in range(3):
            status, headers, text = call(pod.url, session, agent="spender")
            assert status == 200, text
            ids.append(headers["x-agentledger-action-id"])

        alerts = webhook.wait_for(4)
        time.sleep(0.5)  # anything extra (a duplicate) would arrive now
        alerts = list(webhook.received)
        high_cost = [alert for alert in alerts if alert["type"] == "high_cost"]
        daily = [alert for alert in alerts if alert["type"] == "daily_spend"]
        assert sorted(alert["action_id"] for alert in high_cost) == sorted(ids), alerts
        assert len(daily) == 1, f"daily_spend fired {len(daily)} times: {alerts}"
        for alert in alerts:
            assert set(alert) >= {"type", "message", "value", "threshold", "action_id", "session_id", "agent_name", "timestamp"}
            assert alert["session_id"] == session and alert["agent_name"] == "spender"
        metrics = collector.metrics()
        assert metrics.get("agentledger_alerts_sent_total", 0) == 4
        log = collector.log_tail(200)
        assert "do-not-log" not in log and "/hooks/alerts" not in log, "the webhook's path or query was logged"
    finally:
        webhook.close()


def test_a_webhook_that_hangs_does_not_slow_the_calls(fleet: Fleet, tmp_path: Path):
    webhook = Webhook(hang=30.0)
    try:
        collector = fleet.collector(
            AGENTLEDGER_ALERT_WEBHOOK_URL=webhook.url, AGENTLEDGER_ALERT_LATENCY_MS="0"
        )
        pod = fleet.sidecar(collector.ingest_address)
        session = new_session_id("hang")
        call(pod.url, session)  # warm the connections
        durations = []
        for _ in range(10):
            started = time.monotonic()
            status, _, text = call(pod.url, session)
            durations.append(time.monotonic() - started)
            assert status == 200, text
        assert max(durations) < 1.0, f"calls slowed by a hanging webhook: {durations}"
        collector.wait_for_metric("agentledger_alerts_delivery_attempts_total", 1)
        assert not webhook.received, "the hanging webhook cannot have answered yet"
    finally:
        webhook.close()


def test_a_soft_threshold_of_the_policy_file_alerts_once_per_key(fleet: Fleet, tmp_path: Path):
    webhook = Webhook()
    budget = 0.001
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"budgets:\n  agent: {budget}\nalert_at: [0.5]\n")
    try:
        collector = fleet.collector(
            dsn=f"sqlite:///{tmp_path / 'thresholds.db'}",
            AGENTLEDGER_PRICING_FILE=pricing_file(tmp_path),
            AGENTLEDGER_ALERT_WEBHOOK_URL=webhook.url,
            AGENTLEDGER_POLICY_FILE=str(policy),
        )
        pod = fleet.sidecar(collector.ingest_address)
        session = new_session_id("thresholds")
        # Calls of a few output tokens each until the agent's spend passes half its budget (or the budget refuses).
        for _ in range(60):
            status, _, text = call(pod.url, session, agent="spender")
            if status == 429 or [alert for alert in webhook.received if alert["type"] == "budget_threshold"]:
                break
            assert status == 200, text
            time.sleep(0.05)
        alerts = webhook.wait_for(1)
        for _ in range(5):
            call(pod.url, session, agent="spender")  # more spend past the threshold: no second alert
        time.sleep(1.0)
        thresholds = [alert for alert in webhook.received if alert["type"] == "budget_threshold"]
        assert len(thresholds) == 1, f"expected one budget_threshold alert: {alerts}"
        (alert,) = thresholds
        assert alert["agent_name"] == "spender" and alert["threshold"] == budget * 0.5
        assert alert["value"] >= budget * 0.5
        assert "reached 50% of its Agent daily budget of $0.0010" in alert["message"], alert
        assert "budget threshold reached" in collector.log_tail(400)
    finally:
        webhook.close()
