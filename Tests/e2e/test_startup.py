"""Start-up refusals: a bad setting stops the process with one clear line and exit code 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support import free_port, ledger_env


def test_unparseable_port_exits_2_naming_the_variable(binary: Path, tmp_path: Path) -> None:
    env = ledger_env(free_port(), free_port(), "http://127.0.0.1:9", tmp_path, AGENTLEDGER_PORT="abc")
    result = subprocess.run(
        [str(binary), "up"], env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, timeout=30
    )
    assert result.returncode == 2, result.stderr.decode(errors="replace")
    lines = [line for line in result.stderr.decode(errors="replace").splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "AGENTLEDGER_PORT" in lines[0]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AGENTLEDGER_ADMISSION_MODE", "loose"),
        ("AGENTLEDGER_UNPRICED_MODELS", "free"),
        ("AGENTLEDGER_UNPRICED_MODELS", "price:3"),
        ("AGENTLEDGER_UNPRICED_MODELS", "price:-1/2"),
        ("AGENTLEDGER_ADMISSION_EXPECTED_OUTPUT_TOKENS", "-5"),
        ("AGENTLEDGER_RETENTION_DAYS", "0"),
        ("AGENTLEDGER_RETENTION_DAYS", "-1"),
        ("AGENTLEDGER_RETENTION_DAYS", "a week"),
        ("AGENTLEDGER_RETENTION_DAYS", "100000"),
    ],
)
def test_a_bad_admission_setting_exits_2_naming_it(binary: Path, tmp_path: Path, variable: str, value: str) -> None:
    env = ledger_env(free_port(), free_port(), "http://127.0.0.1:9", tmp_path, **{variable: value})
    result = subprocess.run(
        [str(binary), "up"], env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, timeout=30
    )
    assert result.returncode == 2, result.stderr.decode(errors="replace")
    lines = [line for line in result.stderr.decode(errors="replace").splitlines() if line.strip()]
    assert len(lines) == 1 and variable in lines[0], lines


@pytest.mark.parametrize(
    "value", ["collector", "127.0.0.1:4600,", "127.0.0.1:4600,127.0.0.1:0", "a:4600, a:4600", "127.0.0.1:4600;b:4600"]
)
def test_a_bad_collector_list_exits_2_naming_it(binary: Path, tmp_path: Path, value: str) -> None:
    env = ledger_env(free_port(), free_port(), "http://127.0.0.1:9", tmp_path, AGENTLEDGER_COLLECTOR=value)
    result = subprocess.run(
        [str(binary), "sidecar"], env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, timeout=30
    )
    assert result.returncode == 2, result.stderr.decode(errors="replace")
    lines = [line for line in result.stderr.decode(errors="replace").splitlines() if line.strip()]
    assert len(lines) == 1 and "AGENTLEDGER_COLLECTOR" in lines[0], lines


@pytest.mark.parametrize(
    ("text", "naming"),
    [("budgets: {team: 5}", "budgets.team is not a scope"), ("budgets: {agent: {x: -1}}", "budgets.agent.x"), (None, "cannot be read")],
)
def test_a_bad_policy_file_exits_2_naming_the_place(binary: Path, tmp_path: Path, text: str | None, naming: str) -> None:
    path = tmp_path / "policy.yaml"
    if text is not None:
        path.write_text(text)
    env = ledger_env(free_port(), free_port(), "http://127.0.0.1:9", tmp_path, AGENTLEDGER_POLICY_FILE=str(path))
    result = subprocess.run(
        [str(binary), "up"], env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, timeout=30
    )
    assert result.returncode == 2, result.stderr.decode(errors="replace")
    lines = [line for line in result.stderr.decode(errors="replace").splitlines() if line.strip()]
    assert len(lines) == 1 and "AGENTLEDGER_POLICY_FILE" in lines[0] and naming in lines[0], lines
