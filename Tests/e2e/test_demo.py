"""`agentledger demo`: one command, no API key, and a newcomer has a multi-agent run to look at within seconds."""

from __future__ import annotations

import time
from pathlib import Path

from support import ManagedProcess, free_port, http_client, ledger_env


def test_demo_plays_a_multi_agent_run_with_tools_handoffs_and_an_error(binary: Path, tmp_path: Path):
    port = free_port()
    env = ledger_env(port, free_port(), "http://127.0.0.1:9", tmp_path)
    env.pop("AGENTLEDGER_UPSTREAM_URL")
    demo = ManagedProcess(
        name="agentledger demo", args=[str(binary), "demo"], env=env, cwd=tmp_path, log_path=tmp_path / "demo.log"
    )
    demo.start()
    try:
        base = f"http://127.0.0.1:{port}"
        demo.wait_until_healthy(f"{base}/healthz")
        sessions: list[dict] = []
        deadline = time.monotonic() + 20
        with http_client() as client:
            for _ in range(200):
                sessions = client.get(f"{base}/api/sessions").json()
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
    finally:
        demo.stop()
