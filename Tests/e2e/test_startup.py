"""Start-up refusals: a bad setting stops the process with one clear line and exit code 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

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
