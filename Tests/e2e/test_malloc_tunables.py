"""`up` runs its own binary again, once, with glibc malloc settings only the environment can carry
(Sources/agentledger/MallocTunables.swift; issue 20): the same process id, its own name, a working proxy. An
operator's own malloc tunables are left alone, other tunables are kept beside ours, and a standalone sidecar (which
keeps glibc's per-thread cache) is not run again."""

from __future__ import annotations

from pathlib import Path

from conftest import start_ledger
from distributed import Fleet, Sidecar, chat_call
from support import http_client

OURS = "glibc.malloc.tcache_count=0:glibc.malloc.trim_threshold=524288:glibc.malloc.mmap_threshold=1048576"


def initial_environment(pid: int) -> dict[str, str]:
    """The environment `pid` was last executed with (what /proc shows: later `setenv` calls do not change it).

    glibc cuts GLIBC_TUNABLES at each ':' in place as it reads it (a NUL where the ':' was), so the entries after it that
    are tunables are joined back on."""
    environment: dict[str, str] = {}
    last = ""
    for entry in Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0"):
        if last == "GLIBC_TUNABLES" and entry.startswith("glibc."):
            environment[last] += ":" + entry
        elif "=" in entry:
            last, value = entry.split("=", 1)
            environment[last] = value
    return environment


def started_up(binary: Path, upstream_url: str, workdir: Path, **extra_env: str) -> tuple[dict[str, str], int]:
    """Starts `up`, makes one call through it, stops it: its initial environment and the call's status."""
    process, base_url = start_ledger(binary, upstream_url, workdir, **extra_env)
    try:
        pid = process.process.pid
        environment = initial_environment(pid)
        assert Path(f"/proc/{pid}/comm").read_text().strip() == binary.name[:15]
        with http_client(timeout=10.0) as client:
            status = chat_call(client, base_url, "tunables", "through up").status
        return environment, status
    finally:
        process.stop()


def test_up_runs_again_with_the_malloc_settings_under_its_own_pid_and_name(
    binary: Path, upstream_url: str, tmp_path: Path
) -> None:
    environment, status = started_up(binary, upstream_url, tmp_path)
    assert environment.get("GLIBC_TUNABLES") == OURS
    # Nothing to put back: `up` was started without GLIBC_TUNABLES.
    assert environment.get("AGENTLEDGER_MALLOC_TUNED") == "-"
    assert status == 200


def test_the_operators_malloc_tunables_are_left_alone(binary: Path, upstream_url: str, tmp_path: Path) -> None:
    environment, status = started_up(binary, upstream_url, tmp_path, GLIBC_TUNABLES="glibc.malloc.tcache_count=3")
    assert environment.get("GLIBC_TUNABLES") == "glibc.malloc.tcache_count=3"
    assert "AGENTLEDGER_MALLOC_TUNED" not in environment
    assert status == 200


def test_other_tunables_are_kept_beside_ours_and_recorded_to_put_back(
    binary: Path, upstream_url: str, tmp_path: Path
) -> None:
    other = "glibc.rtld.optional_static_tls=4096"
    environment, status = started_up(binary, upstream_url, tmp_path, GLIBC_TUNABLES=other)
    assert environment.get("GLIBC_TUNABLES") == other + ":" + OURS
    assert environment.get("AGENTLEDGER_MALLOC_TUNED") == "=" + other
    assert status == 200


def test_a_standalone_sidecar_is_not_run_again(fleet: Fleet) -> None:
    sidecar = Sidecar(fleet.binary, fleet.workdir, fleet.upstream_url, "127.0.0.1:9", source="plain")
    fleet.members.append(sidecar)
    sidecar.start()
    environment = initial_environment(sidecar.process.process.pid)
    assert "GLIBC_TUNABLES" not in environment and "AGENTLEDGER_MALLOC_TUNED" not in environment
    assert sidecar.call("plain", "not run again").status == 200
