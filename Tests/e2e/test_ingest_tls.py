"""TLS on the ingest link with real processes and certificates made by openssl (docs/operations.md, "TLS on the
ingest link"): a collector serving TLS, sidecars that verify it, client certificates required and refused, and
peers that cannot speak TLS or trust the wrong CA getting nothing stored."""

from __future__ import annotations

import socket
import ssl
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from distributed import Fleet, Sidecar, wait_stored_exactly_once
from support import new_session_id

TLS_FAILURES = "agentledger_ingest_tls_failures_total"


@dataclass
class Authority:
    """A CA made by openssl, and the certificates it issued, as PEM files."""

    directory: Path
    name: str

    @property
    def certificate(self) -> Path:
        return self.directory / f"{self.name}-ca.pem"

    @property
    def key(self) -> Path:
        return self.directory / f"{self.name}-ca.key"

    def create(self) -> Authority:
        openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", f"/CN=AgentLedger test {self.name} CA", "-keyout", str(self.key), "-out", str(self.certificate),
        )
        return self

    def issue(self, name: str, *, server: bool, names: str = "DNS:localhost,IP:127.0.0.1") -> tuple[Path, Path]:
        """A certificate for `name` (a server one for `names`, or a client one): (chain, key)."""
        key, request, certificate = (self.directory / f"{name}.{ext}" for ext in ("key", "csr", "pem"))
        openssl(
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={name}",
            "-keyout", str(key), "-out", str(request),
        )
        extensions = self.directory / f"{name}.ext"
        extensions.write_text(
            f"subjectAltName={names}\nextendedKeyUsage=serverAuth\n"
            if server
            else f"subjectAltName=DNS:{name}\nextendedKeyUsage=clientAuth\n"
        )
        openssl(
            "x509", "-req", "-in", str(request), "-CA", str(self.certificate), "-CAkey", str(self.key),
            "-CAcreateserial", "-days", "2", "-extfile", str(extensions), "-out", str(certificate),
        )
        return certificate, key


def openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, f"openssl {' '.join(args[:2])}: {result.stderr[-500:]}"


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    """A server CA with the collector's certificate, a client CA with a sidecar's, and a stranger CA with one too."""
    directory = tmp_path / "pki"
    directory.mkdir()
    server_ca = Authority(directory, "server").create()
    client_ca = Authority(directory, "client").create()
    stranger_ca = Authority(directory, "stranger").create()
    server_cert, server_key = server_ca.issue("collector", server=True)
    # NIOSSL accepts a certificate's IP address for any name when the peer is at that address: a name check on
    # loopback needs a certificate that names no address.
    named_cert, named_key = server_ca.issue("collector-named", server=True, names="DNS:localhost")
    client_cert, client_key = client_ca.issue("pod-a", server=False)
    stranger_cert, stranger_key = stranger_ca.issue("pod-x", server=False)
    return {
        "server_ca": server_ca.certificate, "server_cert": server_cert, "server_key": server_key,
        "named_cert": named_cert, "named_key": named_key,
        "client_ca": client_ca.certificate, "client_cert": client_cert, "client_key": client_key,
        "stranger_ca": stranger_ca.certificate, "stranger_cert": stranger_cert, "stranger_key": stranger_key,
    }


def sidecar_without_waiting_for_link(fleet: Fleet, address: str, source: str, **env: str) -> Sidecar:
    sidecar = Sidecar(fleet.binary, fleet.workdir, fleet.upstream_url, address, source=source, extra_env=env)
    fleet.members.append(sidecar)
    return sidecar.start()


def assert_nothing_stored(fleet: Fleet, collector_get, session_id: str, seconds: float = 2.0) -> None:  # type: ignore[no-untyped-def]
    time.sleep(seconds)
    status, body = collector_get(f"/session/{session_id}")
    assert status in (200, 404), f"/session: {status} {str(body)[:200]}"
    assert not body or body == [] or status == 404, f"stored over a link that should not exist: {str(body)[:300]}"


def test_sidecar_ships_over_tls_verified_by_name_and_by_address(fleet: Fleet, pki: dict[str, Path]) -> None:
    collector = fleet.collector(
        AGENTLEDGER_INGEST_TLS_CERT=str(pki["server_cert"]), AGENTLEDGER_INGEST_TLS_KEY=str(pki["server_key"])
    )
    by_name = fleet.sidecar(
        f"localhost:{collector.ingest_port}", source="pod-name", AGENTLEDGER_COLLECTOR_TLS_CA=str(pki["server_ca"])
    )
    by_address = fleet.sidecar(
        collector.ingest_address, source="pod-ip", AGENTLEDGER_COLLECTOR_TLS="true",
        AGENTLEDGER_COLLECTOR_TLS_CA=str(pki["server_ca"]),
    )
    for sidecar in (by_name, by_address):
        session_id = new_session_id(f"tls-{sidecar.source}")
        ids = sidecar.calls(session_id, 3, "over tls")
        records = wait_stored_exactly_once(collector.get, session_id, ids, diagnostics=fleet.logs)
        assert {record.get("source") for record in records} == {sidecar.source}
    assert collector.metrics().get(TLS_FAILURES, 0) == 0

    # What crosses the wire is TLS: a plaintext HELLO is not a ClientHello, and the collector closes the link.
    with socket.create_connection(("127.0.0.1", collector.ingest_port), timeout=5) as peer:
        peer.settimeout(5)
        peer.sendall(struct.pack(">IBB", 2, 1, 0x01))
        try:
            answer = peer.recv(4096)
        except OSError:
            answer = b""
        # Nothing but a TLS alert record (content type 21) or a closed connection.
        assert answer == b"" or answer[:1] == b"\x15", f"a plaintext answer: {answer[:32]!r}"
    collector.wait_for_metric(TLS_FAILURES, 1)

    # A Python TLS client trusting the server CA completes the handshake and sees the collector's certificate.
    context = ssl.create_default_context(cafile=str(pki["server_ca"]))
    with socket.create_connection(("127.0.0.1", collector.ingest_port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            subject = dict(item[0] for item in tls.getpeercert()["subject"])
            assert subject["commonName"] == "collector"
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_sidecars_that_cannot_verify_the_collector_store_nothing(fleet: Fleet, pki: dict[str, Path]) -> None:
    collector = fleet.collector(
        AGENTLEDGER_INGEST_TLS_CERT=str(pki["named_cert"]), AGENTLEDGER_INGEST_TLS_KEY=str(pki["named_key"])
    )
    wrong_ca = sidecar_without_waiting_for_link(
        fleet, collector.ingest_address, "pod-wrong-ca", AGENTLEDGER_COLLECTOR_TLS_CA=str(pki["stranger_ca"])
    )
    wrong_name = sidecar_without_waiting_for_link(
        fleet, f"localhost:{collector.ingest_port}", "pod-wrong-name",
        AGENTLEDGER_COLLECTOR_TLS_CA=str(pki["server_ca"]), AGENTLEDGER_COLLECTOR_TLS_SERVER_NAME="collector.example",
    )
    plaintext = sidecar_without_waiting_for_link(fleet, collector.ingest_address, "pod-plaintext")
    sessions = {}
    for sidecar in (wrong_ca, wrong_name, plaintext):
        # The agent is still answered (ON_COLLECTOR_DOWN=open); its record waits in the spool.
        session_id = new_session_id(f"refused-{sidecar.source}")
        result = sidecar.call(session_id, "no trusted link")
        assert result.status == 200, result
        sessions[sidecar.source] = session_id
    collector.wait_for_metric(TLS_FAILURES, 3)
    for session_id in sessions.values():
        assert_nothing_stored(fleet, collector.get, session_id, seconds=0.5)
    for sidecar in (wrong_ca, wrong_name):
        assert "collector link down" in sidecar.log_tail(60), sidecar.log_tail(60)


def test_client_certificates_required(fleet: Fleet, pki: dict[str, Path]) -> None:
    collector = fleet.collector(
        AGENTLEDGER_INGEST_TLS_CERT=str(pki["server_cert"]), AGENTLEDGER_INGEST_TLS_KEY=str(pki["server_key"]),
        AGENTLEDGER_INGEST_TLS_CLIENT_CA=str(pki["client_ca"]),
    )
    trusted = fleet.sidecar(
        f"localhost:{collector.ingest_port}", source="pod-a", AGENTLEDGER_COLLECTOR_TLS_CA=str(pki["server_ca"]),
        AGENTLEDGER_COLLECTOR_TLS_CERT=str(pki["client_cert"]), AGENTLEDGER_COLLECTOR_TLS_KEY=str(pki["client_key"]),
    )
    session_id = new_session_id("mtls")
    ids = trusted.calls(session_id, 2, "with a client certificate")
    wait_stored_exactly_once(collector.get, session_id, ids, diagnostics=fleet.logs)

    no_certificate = sidecar_without_waiting_for_link(
        fleet, f"localhost:{collector.ingest_port}", "pod-no-cert", AGENTLEDGER_COLLECTOR_TLS_CA=str(pki["server_ca"])
    )
    stranger = sidecar_without_waiting_for_link(
        fleet, f"localhost:{collector.ingest_port}", "pod-x", AGENTLEDGER_COLLECTOR_TLS_CA=str(pki["server_ca"]),
        AGENTLEDGER_COLLECTOR_TLS_CERT=str(pki["stranger_cert"]),
        AGENTLEDGER_COLLECTOR_TLS_KEY=str(pki["stranger_key"]),
    )
    refused = {}
    for sidecar in (no_certificate, stranger):
        refused[sidecar.source] = new_session_id(f"mtls-refused-{sidecar.source}")
        assert sidecar.call(refused[sidecar.source], "no trusted client certificate").status == 200
    collector.wait_for_metric(TLS_FAILURES, 2)
    for session_id in refused.values():
        assert_nothing_stored(fleet, collector.get, session_id, seconds=0.5)
    assert "ingest link closed by TLS" in collector.log_tail(80)


def test_tls_settings_are_checked_at_start(fleet: Fleet, pki: dict[str, Path], tmp_path: Path) -> None:
    cases = [
        (["collector"], {"AGENTLEDGER_INGEST_TLS_CERT": str(pki["server_cert"])}, "AGENTLEDGER_INGEST_TLS_KEY"),
        (
            ["collector"],
            {"AGENTLEDGER_INGEST_TLS_CERT": str(tmp_path / "missing.pem"), "AGENTLEDGER_INGEST_TLS_KEY": str(pki["server_key"])},
            "missing.pem",
        ),
        (
            ["collector"],
            {"AGENTLEDGER_INGEST_TLS_CERT": str(pki["server_cert"]), "AGENTLEDGER_INGEST_TLS_KEY": str(pki["client_key"])},
            "cannot be used together",
        ),
        (["sidecar"], {"AGENTLEDGER_COLLECTOR_TLS": "maybe"}, "AGENTLEDGER_COLLECTOR_TLS"),
        (
            ["sidecar"],
            {"AGENTLEDGER_COLLECTOR_TLS": "false", "AGENTLEDGER_COLLECTOR_TLS_CA": str(pki["server_ca"])},
            "AGENTLEDGER_COLLECTOR_TLS=false",
        ),
        (["sidecar"], {"AGENTLEDGER_COLLECTOR_TLS_CERT": str(pki["client_cert"])}, "both"),
        (["up"], {"AGENTLEDGER_INGEST_TLS_CLIENT_CA": str(pki["client_ca"])}, "cannot be used with up"),
    ]
    from distributed import clean_env

    for args, env, expected in cases:
        workdir = tmp_path / f"case-{len(list(tmp_path.iterdir()))}"
        workdir.mkdir()
        result = subprocess.run(
            [str(fleet.binary), *args],
            env=clean_env(
                AGENTLEDGER_DSN=f"sqlite:///{workdir / 'db.sqlite'}", AGENTLEDGER_PORT="0", AGENTLEDGER_HTTP_PORT="0",
                AGENTLEDGER_INGEST_PORT="0", AGENTLEDGER_SPOOL_DIR=str(workdir / "spool"), **env,
            ),
            cwd=workdir, capture_output=True, text=True, timeout=30, check=False,
        )
        assert result.returncode == 2, f"{args} {env}: exit {result.returncode}\n{result.stderr[-800:]}"
        assert expected in result.stderr, f"{args} {env}: {result.stderr[-800:]}"
        assert len(result.stderr.strip().splitlines()) <= 2, f"not one clear line: {result.stderr[-800:]}"


def test_up_with_ingest_tls_ships_its_own_calls_over_loopback(binary: Path, upstream_url: str, pki: dict[str, Path],
                                                              tmp_path: Path) -> None:
    from conftest import start_ledger
    from support import http_client

    process, base_url = start_ledger(
        binary, upstream_url, tmp_path, AGENTLEDGER_INGEST_TLS_CERT=str(pki["server_cert"]),
        AGENTLEDGER_INGEST_TLS_KEY=str(pki["server_key"]),
    )
    try:
        from distributed import chat_call

        session_id = new_session_id("up-tls")
        with http_client(timeout=10.0) as client:
            result = chat_call(client, base_url, session_id, "up over tls")
            assert result.status == 200 and result.action_id
            for _ in range(100):
                response = client.get(f"{base_url}/session/{session_id}")
                if response.status_code == 200 and response.json():
                    break
                time.sleep(0.1)
            assert [row["action_id"] for row in response.json()] == [result.action_id], process.log_tail(40)
    finally:
        process.stop()
