"""`agentledger demo`: one command, no API key, and a newcomer has a multi-agent run to look at within seconds, beside a
day of a fleet's history from simulated pods that link over the wire protocol as sidecars do."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from support import ManagedProcess, free_port, http_client, ledger_env


def start_demo(binary: Path, tmp_path: Path, **settings: str) -> tuple[ManagedProcess, str]:
    """`agentledger demo` with the test's ports and `settings`, healthy; and its base URL."""
    port = free_port()
    env = ledger_env(port, free_port(), "http://127.0.0.1:9", tmp_path, **settings)
    env.pop("AGENTLEDGER_UPSTREAM_URL")
    demo = ManagedProcess(
        name="agentledger demo", args=[str(binary), "demo"], env=env, cwd=tmp_path, log_path=tmp_path / "demo.log"
    )
    demo.start()
    try:
        demo.wait_until_healthy(f"http://127.0.0.1:{port}/healthz")
    except BaseException:
        demo.stop()
        raise
    return demo, f"http://127.0.0.1:{port}"


def test_demo_plays_a_multi_agent_run_with_tools_handoffs_and_an_error(binary: Path, tmp_path: Path):
    demo, base = start_demo(binary, tmp_path)
    try:
        sessions: list[dict] = []
        deadline = time.monotonic() + 20
        with http_client() as client:
            for _ in range(200):
                sessions = client.get(f"{base}/api/sessions", params={"app": "trip-planner"}).json()
                if sum(session["call_count"] for session in sessions) >= 18 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert len(sessions) == 3, f"{sessions}\n{demo.log_tail()}"
            assert all(session["call_count"] == 6 and session["error_count"] == 1 for session in sessions), sessions
            calls = client.get(f"{base}/session/{sessions[0]['session_id']}").json()
        agents = {call["agent_name"] for call in calls}
        assert agents == {"orchestrator", "researcher", "writer"}
        assert any(call["tool_calls"] for call in calls)
        assert any(result.get("requested_by") for call in calls for result in call["tool_results"] or [])
        assert any(call["handoff_to"] == "writer" for call in calls)
        assert any(call["provider"] == "anthropic" and call["stream"] for call in calls)
        assert all(call["cost_usd"] is not None for call in calls if call["status_code"] == 200)
        assert "demo:" in demo.log_tail(), demo.log_tail()

        # The fleet's day: several pods (one scaled down), agents, users and models, a refusal and upstream failures,
        # spread over the last 24 hours.
        deadline = time.monotonic() + 30
        with http_client() as client:
            while "simulated pods" not in demo.log_tail(60) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert "simulated pods" in demo.log_tail(60), demo.log_tail()
            # The collector writes its sidecars to the store every 2 s.
            while time.monotonic() < deadline + 10:
                fleet = client.get(f"{base}/api/fleet").json()
                if fleet["linked"] >= 5 and fleet["disconnected"] == 1:
                    break
                time.sleep(0.2)
            stats = client.get(f"{base}/api/stats", params={"bucket": "hour"}).json()
            users = client.get(f"{base}/api/spend", params={"group_by": "user"}).json()
        assert fleet["linked"] >= 5 and fleet["disconnected"] == 1, fleet
        assert {s["state"] for s in fleet["sidecars"] if s["source"].startswith("eval-runner")} == {"disconnected"}
        totals = stats["totals"]
        assert totals["calls"] > 500 and totals["blocked"] >= 1 and totals["errors"] >= 3, totals
        assert len(stats["buckets"]) >= 20, "the history spans the day"
        assert len(stats["by_model"]) >= 4 and len(stats["by_agent"]) >= 6, stats["by_model"]
        assert users["groups_total"] >= 8 and users["unpriced_calls"] >= 1, users
        assert 1_000 <= totals["latency_p50_ms"] <= 10_000, totals
    finally:
        demo.stop()


def test_demo_with_a_retention_keeps_only_the_days_within_it(binary: Path, tmp_path: Path):
    """`AGENTLEDGER_RETENTION_DAYS` deletes whole UTC days: with a retention of minutes, the demo's history from before
    today's midnight goes (with the sessions that ended then), and today's calls stay."""
    demo, base = start_demo(binary, tmp_path, AGENTLEDGER_RETENTION_DAYS="0.001", AGENTLEDGER_MAINTENANCE_INTERVAL_S="1")
    try:
        deadline = time.monotonic() + 30
        while "simulated pods" not in demo.log_tail(60) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "simulated pods" in demo.log_tail(60), demo.log_tail()
        now = time.time()
        cutoff = (int(now - 86.4) // 86_400) * 86_400  # the start of the UTC day of now - 0.001 days
        before = []
        deleted = 0.0
        with http_client() as client:
            while time.monotonic() < deadline + 15:
                metrics = client.get(f"{base}/metrics").text
                deleted = sum(
                    float(line.split()[-1])
                    for line in metrics.splitlines()
                    if line.startswith("agentledger_retention_calls_deleted_total")
                )
                sessions = client.get(
                    f"{base}/api/sessions", params={"until": str(cutoff), "limit": "500"}
                ).json()
                before = [
                    s for s in sessions if datetime.fromisoformat(s["ended_at"].replace("Z", "+00:00")).timestamp() < cutoff
                ]
                if not before and (deleted > 0 or now - cutoff > 20 * 3600):
                    break
                time.sleep(0.5)
            today = client.get(f"{base}/api/sessions", params={"since": str(cutoff)}).json()
        assert not before, f"sessions that ended before {cutoff} are still listed: {before[:3]}"
        # The day before spans at least four hours of the demo's history unless the test runs late in the UTC day.
        if now - cutoff < 20 * 3600:
            assert deleted > 0, demo.log_tail()
        assert today, "today's sessions must stay"
    finally:
        demo.stop()
