"""Help and configuration that tell the truth (issue 15, items 5 and 7), on real processes: every command's help,
its usage line run as printed, every option's variable and default, and a warning for an `AGENTLEDGER_*` variable
that is no setting, naming the closest one, while the process starts anyway."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from support import ManagedProcess, free_port, ledger_env

COMMANDS = ["up", "demo", "sidecar", "collector", "verify-export", "mock-upstream", "mcp", "inject"]
WARNING = "is not a setting of agentledger"


def run(binary: Path, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(binary), *args],
        env=env if env is not None else ledger_env(0, 0, "", cwd),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )


def help_text(binary: Path, args: list[str], cwd: Path) -> str:
    result = run(binary, [*args, "--help"], cwd)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout.decode()


def usage_line(text: str) -> str:
    """The USAGE line of a help screen, its continuation lines joined."""
    match = re.search(r"^USAGE: (.*?)(?:\n\n|\Z)", text, re.S | re.M)
    assert match, text
    return " ".join(match.group(1).split())


def options(text: str) -> dict[str, str]:
    """Each option of a help screen and its description, wrapped lines joined."""
    entries: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        start = re.match(r"^  (-[^\s,]+(?:, --\S+)?)(?: <[^>]+>)?(?:\s+(.*))?$", line)
        if start:
            current = start.group(1).split(", ")[-1]
            entries[current] = start.group(2) or ""
        elif current and line.startswith(" " * 26):
            entries[current] = f"{entries[current]} {line.strip()}".strip()
        elif not line.strip() or not line.startswith(" "):
            current = None
    return entries


def test_the_top_level_help_lists_every_command(binary: Path, tmp_path: Path):
    text = help_text(binary, [], tmp_path)
    listed = re.findall(r"^  ([a-z-]+)\s{2,}", text.split("SUBCOMMANDS:")[1], re.M)
    assert listed == COMMANDS, text
    assert usage_line(text) == "agentledger <subcommand>"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_usage_line_works_as_printed(binary: Path, tmp_path: Path, command: str):
    text = help_text(binary, [command], tmp_path)
    usage = usage_line(text)
    words = usage.split()
    assert words[:2] == ["agentledger", command], usage
    # The usage line without its placeholders (<options>, <file>, [--flag <value>]) is a command that runs.
    runnable = [word for word in re.sub(r"\[[^\]]*\]|<[^>]*>", " ", usage).split()][1:]
    assert runnable == [command], usage
    again = run(binary, [*runnable, "--help"], tmp_path)
    assert again.returncode == 0, again.stderr.decode(errors="replace")
    assert usage_line(again.stdout.decode()) == usage
    # `agentledger help <command>` says the same.
    assert run(binary, ["help", command], tmp_path).stdout.decode() == text


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_names_its_variable_and_default(binary: Path, tmp_path: Path, command: str):
    entries = options(help_text(binary, [command], tmp_path))
    assert entries, command
    for option, description in entries.items():
        if option in ("--help", "--version"):
            assert description, option
            continue
        assert re.search(r"\[(env: AGENTLEDGER_[A-Z0-9_]+|no env variable); default [^\]]+\]$", description), (
            f"{command} {option}: {description!r}"
        )
        if description.startswith("["):
            pytest.fail(f"{command} {option} has no description: {description!r}")
        variable = re.search(r"env: (AGENTLEDGER_[A-Z0-9_]+)", description)
        if variable and option != "--hmac-key":
            # The flag is the variable's name: AGENTLEDGER_MAX_BODY_MB is --max-body-mb.
            assert option == "--" + variable.group(1).removeprefix("AGENTLEDGER_").lower().replace("_", "-"), option


def test_up_and_demo_help_tell_the_truth(binary: Path, tmp_path: Path):
    up = help_text(binary, ["up"], tmp_path)
    assert "Postgres" in up.split("USAGE:")[0] and "embedded SQLite" not in up, up
    assert "--upstream-url" in up
    demo = help_text(binary, ["demo"], tmp_path)
    assert "--upstream-url" not in options(demo), demo
    assert "agentledger-demo.db" in demo
    refused = run(binary, ["demo", "--upstream-url", "https://api.openai.com"], tmp_path)
    assert refused.returncode != 0
    assert "--upstream-url" in refused.stderr.decode(errors="replace")


def test_the_version_is_the_one_the_sidecar_sends(binary: Path, tmp_path: Path):
    version = run(binary, ["--version"], tmp_path).stdout.decode().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
    assert run(binary, ["up", "--version"], tmp_path).stdout.decode().strip() == version


def every_help_variable(binary: Path, cwd: Path) -> set[str]:
    names: set[str] = set()
    for command in COMMANDS:
        names |= set(re.findall(r"env: (AGENTLEDGER_[A-Z0-9_]+)", " ".join(help_text(binary, [command], cwd).split())))
    return names


def variables_read_by_the_binary() -> set[str]:
    sources = Path(__file__).resolve().parents[2] / "Sources" / "agentledger"
    return {
        name for path in sources.glob("*.swift") for name in re.findall(r'"(AGENTLEDGER_[A-Z0-9_]+)"', path.read_text())
    }


@pytest.mark.parametrize("command", ["up", "sidecar", "collector"])
def test_an_unknown_variable_is_named_with_the_closest_setting_and_the_process_starts(
    binary: Path, tmp_path: Path, command: str
):
    port, ingest, http = free_port(), free_port(), free_port()
    env = ledger_env(
        port, ingest, "http://127.0.0.1:9", tmp_path,
        AGENTLEDGER_HTTP_HOST="127.0.0.1", AGENTLEDGER_HTTP_PORT=str(http),
        AGENTLEDGER_BUGDET_DAILY="5", AGENTLEDGER_INGEST_TOKNE="s3cret", AGENTLEDGER_XYZZY_PLUGH_FROB="1",
    )
    process = ManagedProcess(
        name=f"agentledger {command}", args=[str(binary), command], env=env, cwd=tmp_path,
        log_path=tmp_path / f"{command}.log",
    )
    process.start()
    try:
        health = f"http://127.0.0.1:{http if command == 'collector' else port}"
        process.wait_until_healthy(f"{health}/healthz" if command != "sidecar" else f"{health}/agentledger/metrics")
    finally:
        process.stop()
    log = process.log_path.read_text(errors="replace")
    warnings = [line for line in log.splitlines() if WARNING in line]
    assert len(warnings) == 3, log
    assert "warning" in warnings[0]
    assert warnings[0].endswith(
        "AGENTLEDGER_BUGDET_DAILY is not a setting of agentledger; did you mean AGENTLEDGER_BUDGET_DAILY?"
    ), warnings
    assert warnings[1].endswith(
        "AGENTLEDGER_INGEST_TOKNE is not a setting of agentledger; did you mean AGENTLEDGER_INGEST_TOKEN?"
    ), warnings
    # Nothing is near enough to be a typo of: no suggestion that would mislead.
    assert "AGENTLEDGER_XYZZY_PLUGH_FROB" in warnings[2] and "did you mean" not in warnings[2], warnings


def test_a_correct_set_of_variables_draws_no_warning(binary: Path, tmp_path: Path):
    port, ingest = free_port(), free_port()
    # A shared environment: the collector's, the sidecar's and the tooling's variables together, as one compose file
    # gives them to every service; other prefixes are not ours to judge.
    env = ledger_env(
        port, ingest, "http://127.0.0.1:9", tmp_path,
        AGENTLEDGER_BUDGET_DAILY="5", AGENTLEDGER_HTTP_PORT="8080", AGENTLEDGER_SPOOL_MAX_MB="64",
        AGENTLEDGER_TEST_POSTGRES_DSN="postgres://x", AGENTLEDGER_BIN=str(binary),
        AGENTLEDGER_CHAOS_SECONDS="6", OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", AGENTLEDGERX_BUGDET="1",
    )
    process = ManagedProcess(
        name="agentledger up", args=[str(binary), "up"], env=env, cwd=tmp_path, log_path=tmp_path / "up.log"
    )
    process.start()
    try:
        process.wait_until_healthy(f"http://127.0.0.1:{port}/healthz")
    finally:
        process.stop()
    log = process.log_path.read_text(errors="replace")
    assert WARNING not in log, log


@pytest.mark.parametrize("command", COMMANDS)
def test_no_variable_the_help_names_or_the_binary_reads_is_unknown(binary: Path, tmp_path: Path, command: str):
    names = every_help_variable(binary, tmp_path) | variables_read_by_the_binary()
    assert len(names) > 40, names
    env = ledger_env(0, 0, "", tmp_path)
    # Every one set at once, to a value most reject: start-up may stop at the first bad value, after the check.
    env.update({name: "not-a-value" for name in names})
    # verify-export and inject read a file (inject reads no variable at all): a missing one stops them with an error.
    args = [command, str(tmp_path / "missing.json")] if command in ("verify-export", "inject") else [command]
    if command == "mock-upstream":
        # 192.0.2.1 (TEST-NET-1) is no address of this host: it stops once past the check.
        args += ["--host", "192.0.2.1", "--port", str(free_port())]
    result = run(binary, args, tmp_path, env)
    output = (result.stdout + result.stderr).decode(errors="replace")
    assert WARNING not in output, output
    assert result.returncode != 0, output
