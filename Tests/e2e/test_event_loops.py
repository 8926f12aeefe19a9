"""The sidecar runs one event loop per CPU it may use: pinned with taskset to one core, it runs one loop (SwiftNIO
alone would count the machine's cores), and NIO_SINGLETON_GROUP_LOOP_COUNT still sets the number outright."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from distributed import Fleet, Sidecar


def event_loop_threads(pid: int) -> int:
    """Threads of `pid` named as NIO's singleton event loops (`NIO-SGLTN-…`)."""
    names = [path.read_text().strip() for path in Path(f"/proc/{pid}/task").glob("*/comm")]
    return sum(name.startswith("NIO-SGLTN") for name in names)


def pinned_sidecar(fleet: Fleet, source: str, **extra_env: str) -> Sidecar:
    sidecar = Sidecar(
        fleet.binary, fleet.workdir, fleet.upstream_url, "127.0.0.1:9", source=source, extra_env=extra_env,
        wrapper=["taskset", "-c", "0"],
    )
    fleet.members.append(sidecar)
    return sidecar.start()


@pytest.mark.skipif(shutil.which("taskset") is None, reason="needs taskset (util-linux)")
def test_a_sidecar_pinned_to_one_core_runs_one_event_loop(fleet: Fleet) -> None:
    pinned = pinned_sidecar(fleet, "pinned")
    assert event_loop_threads(pinned.process.process.pid) == 1, pinned.log_tail()
    assert pinned.call("loops", "through one loop").status == 200

    told = pinned_sidecar(fleet, "told", NIO_SINGLETON_GROUP_LOOP_COUNT="3")
    assert event_loop_threads(told.process.process.pid) == 3, told.log_tail()
