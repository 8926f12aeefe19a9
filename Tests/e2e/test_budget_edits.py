"""Limits changed at run time through the API (docs/reference.md, "Changing limits"): a change takes effect on the
next ADMIT of every sidecar while load runs, is audited (who, when, before and after), survives a restart, and turns
admission on and off on links that are already open.

Real `agentledger collector` and `agentledger sidecar` processes against the mock upstream, on loopback.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from distributed import Fleet
from support import API_KEY_OPENAI, fresh_postgres_database, http_client, new_session_id


def own_store(prefix: str) -> str | None:
    """A database of the test's own: limits set at run time are stored, and must not reach the other tests' collectors
    on the shared Postgres of scripts/test. None: the fleet's fresh SQLite file."""
    return fresh_postgres_database(prefix) if os.environ.get("AGENTLEDGER_TEST_POSTGRES_DSN") else None


def call(sidecar_url: str, agent: str, session: str) -> int:
    with http_client(timeout=30.0) as client:
        response = client.post(
            f"{sidecar_url}/v1/chat/completions",
            headers={
                "authorization": f"Bearer {API_KEY_OPENAI}", "x-agentledger-agent-name": agent,
                "x-agentledger-session-id": session,
            },
            json={"model": "gpt-4o-mini", "max_tokens": 50, "messages": [{"role": "user", "content": "hello"}]},
        )
    return response.status_code


def edit(collector_url: str, method: str, path: str, body: dict | None = None, actor: str = "ops@example.com"):
    with http_client(timeout=10.0) as client:
        response = client.request(
            method, f"{collector_url}{path}", json=body, headers={"x-agentledger-actor": actor, "user-agent": "e2e/1"}
        )
    return response.status_code, response.json()


class Load(threading.Thread):
    """Calls through each sidecar in turn, recording (time sent, status), until stopped; bounded in count."""

    def __init__(self, urls: list[str], agent: str, session: str, limit: int = 2000) -> None:
        super().__init__(daemon=True)
        self.urls, self.agent, self.session, self.limit = urls, agent, session, limit
        self.results: list[tuple[float, int]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        for index in range(self.limit):
            if self.stopped.is_set():
                return
            sent = time.monotonic()
            self.results.append((sent, call(self.urls[index % len(self.urls)], self.agent, self.session)))

    def stop(self) -> list[tuple[float, int]]:
        self.stopped.set()
        self.join(timeout=30)
        return self.results


def test_a_limit_changed_while_load_runs_takes_effect_on_the_next_admit_and_is_audited(fleet: Fleet, tmp_path: Path):
    policy = tmp_path / "policy.yaml"
    policy.write_text('budgets:\n  agent: {"*": 5}\n')
    collector = fleet.collector(dsn=own_store("budget_edits"), AGENTLEDGER_POLICY_FILE=str(policy))
    pods = [fleet.sidecar(collector.ingest_address, source=f"pod-{name}") for name in "ab"]
    load = Load([pod.url for pod in pods], agent="bot", session=new_session_id("edits"))
    load.start()
    try:
        deadline = time.monotonic() + 20
        while len(load.results) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [status for _, status in load.results[:20]] == [200] * 20, load.results[:20]

        status, change = edit(collector.url, "PUT", "/api/budgets/agent/bot", {"limit_usd": 0})
        changed_at = time.monotonic()
        assert status == 200, change
        assert change["before"] == 5 and change["after"] == 0 and change["action"] == "set"
        assert change["actor"] == "ops@example.com" and change["client"] == "e2e/1"
        time.sleep(0.5)
        stopped = {}
        for sent, status in load.results:
            if sent > changed_at:
                stopped[status] = stopped.get(status, 0) + 1
        # Every call sent after the change was answered was refused, through both sidecars.
        assert set(stopped) == {429}, stopped

        status, change = edit(collector.url, "DELETE", "/api/budgets/agent/bot")
        assert status == 200 and change["before"] == 0 and change["after"] == 5 and change["action"] == "removed"
        removed_at = time.monotonic()
        time.sleep(0.5)
        after = [status for sent, status in load.results if sent > removed_at]
        assert after and set(after) == {200}, after
    finally:
        load.stop()

    status, trail = collector.get("/api/policy/changes")
    assert status == 200
    assert [(c["action"], c["scope"], c["key"], c["before"], c["after"]) for c in trail] == [
        ("removed", "agent", "bot", 0, 5), ("set", "agent", "bot", 5, 0)
    ]
    assert all(c["actor"] == "ops@example.com" and c["changed_at"].endswith("Z") for c in trail)

    # A limit set at run time is stored: a restarted collector still applies it.
    status, _ = edit(collector.url, "PUT", "/api/budgets/agent/bot", {"limit_usd": 0})
    assert status == 200
    collector.kill()
    collector.start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # until a sidecar has linked to the new process
        code = call(pods[0].url, "bot", new_session_id("restart"))
        if code == 429:
            break
        time.sleep(0.2)
    assert code == 429, f"the stored limit was not applied after a restart\n{fleet.logs()}"
    status, overrides = collector.get("/api/policy/overrides")
    assert status == 200 and overrides == [{"kind": "budget", "scope": "agent", "key": "bot", "limit": 0}]


def test_the_first_limit_set_at_run_time_turns_admission_on_for_open_links(fleet: Fleet):
    collector = fleet.collector(dsn=own_store("budget_switch"))
    sidecar = fleet.sidecar(collector.ingest_address)
    session = new_session_id("switch")
    assert call(sidecar.url, "bot", session) == 200
    status, budgets = collector.get("/api/budgets")
    assert status == 200 and budgets["budgets"] == [] and budgets["rate_limits"] == []

    status, change = edit(collector.url, "PUT", "/api/rate-limits/global/*", {"rpm": 0})
    assert status == 200 and change["before"] is None and change["after"] == 0, change
    codes = []
    for _ in range(50):  # the restated WELCOME reaches the sidecar within milliseconds
        codes.append(call(sidecar.url, "bot", session))
        if codes[-1] == 429:
            break
        time.sleep(0.05)
    assert codes[-1] == 429 and len(codes) <= 3, f"{codes}\n{fleet.logs()}"

    status, _ = edit(collector.url, "DELETE", "/api/rate-limits/global/*")
    assert status == 200
    codes = [call(sidecar.url, "bot", session) for _ in range(3)]
    assert codes == [200, 200, 200], codes
    assert "collector changed admission" in sidecar.log_tail(200)


def test_bad_edits_are_refused_with_a_reason_and_change_nothing(fleet: Fleet):
    collector = fleet.collector(dsn=own_store("budget_refusals"), AGENTLEDGER_API_KEY="k3y")
    with http_client(timeout=10.0) as client:
        assert client.put(f"{collector.url}/api/budgets/agent/bot", json={"limit_usd": 1}).status_code == 401
        headers = {"x-agentledger-api-key": "k3y"}
        cases = [
            ("/api/budgets/team/bot", {"limit_usd": 1}, "not a budget scope"),
            ("/api/budgets/agent/bot", {"limit_usd": -1}, "from 0"),
            ("/api/budgets/agent/bot", {"limit_usd": "1"}, "must be a number"),
            ("/api/budgets/agent/bot", {"usd": 1}, "limit_usd"),
            ("/api/budgets/agent/bot", {"limit_usd": None}, "DELETE"),
            ("/api/budgets/fleet/bot", {"limit_usd": 1}, "use the key *"),
            ("/api/rate-limits/user/u1", {"rpm": 2.5}, "whole number"),
        ]
        for path, body, reason in cases:
            response = client.put(f"{collector.url}{path}", json=body, headers=headers)
            assert response.status_code == 400 and reason in response.json()["detail"], (path, response.text)
        response = client.put(
            f"{collector.url}/api/budgets/agent/bot", content=b"{not json", headers=headers | {"content-type": "application/json"}
        )
        assert response.status_code == 400, response.text
        response = client.delete(f"{collector.url}/api/budgets/agent/nobody", headers=headers)
        assert response.status_code == 404 and "no budget was set" in response.json()["detail"]
        # A key with characters a path must escape.
        response = client.put(f"{collector.url}/api/budgets/user/a%2Fb%20c", json={"limit_usd": 2}, headers=headers)
        assert response.status_code == 200 and response.json()["key"] == "a/b c", response.text
        trail = client.get(f"{collector.url}/api/policy/changes", headers=headers).json()
    assert len(trail) == 1 and trail[0]["actor"] == "api", trail


def test_a_models_budget_set_at_run_time_refuses_that_model_only(fleet: Fleet):
    collector = fleet.collector(dsn=own_store("budget_model"))
    sidecar = fleet.sidecar(collector.ingest_address)
    status, change = edit(collector.url, "PUT", "/api/budgets/model/gpt-4o-mini", {"limit_usd": 0})
    assert status == 200 and change["scope"] == "model", change
    session = new_session_id("model")
    codes = []
    for _ in range(50):
        codes.append(call(sidecar.url, "bot", session))
        if codes[-1] == 429:
            break
        time.sleep(0.05)
    assert codes[-1] == 429, codes
    with http_client(timeout=30.0) as client:
        refused = client.post(
            f"{sidecar.url}/v1/chat/completions", headers={"authorization": f"Bearer {API_KEY_OPENAI}"},
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]},
        )
        other = client.post(
            f"{sidecar.url}/v1/chat/completions", headers={"authorization": f"Bearer {API_KEY_OPENAI}"},
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]},
        )
    assert refused.status_code == 429 and "Model daily budget" in refused.json()["error"]["message"], refused.text
    assert other.status_code == 200, other.text


def test_a_token_limit_refuses_once_the_minutes_tokens_are_used(fleet: Fleet):
    collector = fleet.collector(dsn=own_store("token_limit"))
    sidecar = fleet.sidecar(collector.ingest_address)
    # Each call expects its body as input (about 40 tokens) plus its max_tokens of 50, and uses a few dozen.
    status, change = edit(collector.url, "PUT", "/api/token-limits/agent/reader", {"tpm": 150})
    assert status == 200 and change["kind"] == "token_limit" and change["after"] == 150, change
    session = new_session_id("tokens")
    codes = []
    for _ in range(30):
        codes.append(call(sidecar.url, "reader", session))
        if codes[-1] == 429:
            break
        time.sleep(0.2)  # the record arrives and its real tokens replace its hold
    assert 200 in codes and codes[-1] == 429, codes
    with http_client(timeout=30.0) as client:
        refused = client.post(
            f"{sidecar.url}/v1/chat/completions",
            headers={"authorization": f"Bearer {API_KEY_OPENAI}", "x-agentledger-agent-name": "reader"},
            json={"model": "gpt-4o-mini", "max_tokens": 50, "messages": [{"role": "user", "content": "hello"}]},
        )
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["type"] == "rate_limit_exceeded"
    assert "Agent token limit of 150 tokens per minute" in refused.json()["error"]["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert call(sidecar.url, "writer", session) == 200, "another agent has its own window"
    status, report = collector.get("/api/budgets")
    (limit,) = report["token_limits"]
    assert limit["scope"] == "agent" and limit["keys"][0]["key"] == "reader" and limit["keys"][0]["tokens"] > 0


def environment_call(sidecar_url: str, environment: str) -> tuple[int, str]:
    with http_client(timeout=30.0) as client:
        response = client.post(
            f"{sidecar_url}/v1/chat/completions",
            headers={"authorization": f"Bearer {API_KEY_OPENAI}", "x-agentledger-environment": environment},
            json={"model": "gpt-4o-mini", "max_tokens": 50, "messages": [{"role": "user", "content": "hello"}]},
        )
    return response.status_code, response.text


def test_an_environments_budget_holds_across_two_sidecars_and_changes_at_run_time(fleet: Fleet, tmp_path: Path):
    """The environment scope (docs/operations.md, "Budgets per environment"): ADMIT carries the call's environment on
    a version-2 link; a policy file's limit for `prod` refuses prod's calls through either sidecar once spent, other
    environments go on, and a limit set at run time for `staging` applies on the next ADMIT."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("budgets:\n  environment:\n    prod: 0.00002\n")
    collector = fleet.collector(dsn=own_store("budget_env"), AGENTLEDGER_POLICY_FILE=str(policy))
    sidecars = [fleet.sidecar(collector.ingest_address, source=f"pod-{name}") for name in ("a", "b")]
    codes = []
    for index in range(60):
        code, text = environment_call(sidecars[index % 2].url, "prod")
        codes.append(code)
        if code == 429:
            assert "Environment daily budget" in text and "Environment: prod" in text, text
            break
        time.sleep(0.05)
    assert codes[-1] == 429 and 200 in codes, codes
    # Refused through the other sidecar too: one budget for the fleet.
    other = sidecars[len(codes) % 2]
    assert environment_call(other.url, "prod")[0] == 429
    assert environment_call(other.url, "staging")[0] == 200
    with http_client(timeout=10.0) as client:
        budgets = client.get(f"{collector.url}/api/budgets").json()
    prod = [b for b in budgets["budgets"] if b["scope"] == "environment"]
    assert prod and any(key["key"] == "prod" for key in prod[0]["keys"]), budgets

    status, change = edit(collector.url, "PUT", "/api/budgets/environment/staging", {"limit_usd": 0})
    assert status == 200 and change["scope"] == "environment", change
    code, text = environment_call(sidecars[0].url, "staging")
    assert code == 429 and "Environment: staging" in text, text
    assert environment_call(sidecars[1].url, "dev")[0] == 200
