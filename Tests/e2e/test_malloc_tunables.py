"""A long-running command runs its own binary again, once, with glibc malloc settings only the environment can carry
(Sources/agentledger/MallocTunables.swift; issue 20): the same process id, its own name, a working proxy. An
operator's own malloc tunables are left alone, and other tunables are kept beside ours."""

from __future__ import annotations

from pathlib import Path

from distributed import Fleet, Sidecar


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


def started(fleet: Fleet, source: str, **extra_env: str) -> Sidecar:
    sidecar = Sidecar(fleet.binary, fleet.workdir, fleet.upstream_url, "127.0.0.1:9", source=source, extra_env=extra_env)
    fleet.members.append(sidecar)
    return sidecar.start()


def test_a_sidecar_runs_again_with_the_malloc_settings_under_its_own_pid_and_name(fleet: Fleet) -> None:
    sidecar = started(fleet, "tuned")
    pid = sidecar.process.process.pid
    environment = initial_environment(pid)
    assert environment.get("GLIBC_TUNABLES") == (
        "glibc.malloc.tcache_count=0:glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=1048576"
    ), sidecar.log_tail()
    # Nothing to put back: the sidecar was started without GLIBC_TUNABLES.
    assert environment.get("AGENTLEDGER_MALLOC_TUNED") == "-"
    assert Path(f"/proc/{pid}/comm").read_text().strip() == Path(fleet.binary).name[:15]
    assert sidecar.call("tuned", "after running again").status == 200


def test_the_operators_malloc_tunables_are_left_alone(fleet: Fleet) -> None:
    sidecar = started(fleet, "operator", GLIBC_TUNABLES="glibc.malloc.tcache_count=3")
    environment = initial_environment(sidecar.process.process.pid)
    assert environment.get("GLIBC_TUNABLES") == "glibc.malloc.tcache_count=3"
    assert "AGENTLEDGER_MALLOC_TUNED" not in environment
    assert sidecar.call("operator", "untouched").status == 200


def test_other_tunables_are_kept_beside_ours_and_recorded_to_put_back(fleet: Fleet) -> None:
    other = "glibc.rtld.optional_static_tls=4096"
    sidecar = started(fleet, "other", GLIBC_TUNABLES=other)
    environment = initial_environment(sidecar.process.process.pid)
    assert environment.get("GLIBC_TUNABLES", "").startswith(other + ":glibc.malloc.tcache_count=0")
    assert environment.get("AGENTLEDGER_MALLOC_TUNED") == "=" + other
    assert sidecar.call("other", "kept").status == 200
