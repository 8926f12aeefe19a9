"""The deployment files, checked offline so they cannot rot: every kustomize overlay renders with `kubectl kustomize`
and each object validates strictly against the Kubernetes schemas (kubernetes-validate, pinned), `agentledger inject`
on the manifest corpus (Tests/Fixtures/k8s) writes valid, idempotent, reversible output, and deploy/ (Dockerfile,
compose.yaml, systemd units) names only files, settings and libraries that exist (docs/operations.md, "Deploy")."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from support import REPO_ROOT

pytestmark = pytest.mark.timeout(300)

KUBERNETES_VERSION = "1.33.0"  # the oldest release whose schemas know every field the manifests use
K8S = REPO_ROOT / "k8s"
DEPLOY = REPO_ROOT / "deploy"
CORPUS = sorted((REPO_ROOT / "Tests" / "Fixtures" / "k8s").glob("*.yaml"))
OVERLAYS = ["base", "overlays/dev", "overlays/production"]
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}


def known_variables() -> set[str]:
    """Every AGENTLEDGER_* setting a command reads, from Sources/agentledger/KnownVariables.swift."""
    text = (REPO_ROOT / "Sources" / "agentledger" / "KnownVariables.swift").read_text()
    return set(re.findall(r'"(AGENTLEDGER_[A-Z0-9_]+)"', text))


def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        pytest.fail("kubectl not found: scripts/test installs it (Debian's kubectl or kubernetes-client)")
    return path


def kustomize(overlay: str) -> list[dict]:
    rendered = subprocess.run(
        [kubectl(), "kustomize", str(K8S / overlay)], capture_output=True, text=True, timeout=120, check=False
    )
    assert rendered.returncode == 0, rendered.stderr
    return [document for document in yaml.safe_load_all(rendered.stdout) if document is not None]


def validate_all(objects: list[dict]) -> None:
    assert objects
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{obj.get('kind')} {obj.get('metadata', {}).get('name')}: {error.message} at {list(error.path)}")


def objects_of(documents: list[dict]) -> list[dict]:
    """The objects, with List items taken out."""
    found = []
    for document in documents:
        if document.get("kind", "").endswith("List"):
            found.extend(document.get("items") or [])
        else:
            found.append(document)
    return found


def pod_spec(obj: dict) -> dict | None:
    kind = obj.get("kind")
    if kind == "Pod":
        return obj["spec"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if kind in WORKLOADS:
        return obj["spec"]["template"]["spec"]
    return None


def env_names(obj: dict) -> set[str]:
    spec = pod_spec(obj) or {}
    names = set()
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        names.update(entry["name"] for entry in container.get("env") or [])
    return names


# MARK: kustomize overlays


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders_and_validates(overlay: str) -> None:
    objects = kustomize(overlay)
    validate_all(objects)
    kinds = {obj["kind"] for obj in objects}
    assert {"Deployment", "Service", "ConfigMap", "ServiceAccount", "PodDisruptionBudget", "HorizontalPodAutoscaler",
            "NetworkPolicy", "Namespace"} <= kinds
    for obj in objects:
        assert obj["metadata"].get("namespace", "agentledger") == "agentledger"
        unknown = {name for name in env_names(obj) if name.startswith("AGENTLEDGER_")} - known_variables()
        assert not unknown, f"{obj['metadata']['name']} sets variables no command reads: {unknown}"


def test_the_strict_validator_does_refuse_a_wrong_manifest() -> None:
    collector = next(obj for obj in kustomize("base") if obj["kind"] == "Deployment")
    broken = copy.deepcopy(collector)
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    broken = copy.deepcopy(collector)
    broken["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_collector_is_probed_bounded_and_locked_down() -> None:
    for overlay in OVERLAYS:
        collector = next(obj for obj in kustomize(overlay) if obj["kind"] == "Deployment"
                         and obj["metadata"]["name"] == "agentledger-collector")
        spec = collector["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        container = spec["containers"][0]
        assert container["args"] == ["collector"]
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        secrets = {entry["valueFrom"]["secretKeyRef"]["key"] for entry in container["env"]
                   if "secretKeyRef" in entry.get("valueFrom", {})}
        assert {"dsn", "ingest-token", "api-key", "export-hmac-key"} <= secrets
        # The elected enforcer is reached at its pod IP (docs/operations.md, "One enforcer").
        env = {entry["name"]: entry for entry in container["env"]}
        assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
        assert env["AGENTLEDGER_ADVERTISE_ADDRESS"]["value"] == "$(POD_IP):4600"


def test_only_labelled_agent_pods_and_the_other_collectors_reach_the_ingest_port() -> None:
    policy = next(obj for obj in kustomize("base") if obj["kind"] == "NetworkPolicy")
    ingest_rules = [rule for rule in policy["spec"]["ingress"] if any(p["port"] == 4600 for p in rule.get("ports", []))]
    assert len(ingest_rules) == 1
    # Agent pods from any namespace; collector replicas of this namespace (a follower forwards ADMITs to the enforcer).
    assert ingest_rules[0]["from"] == [
        {"namespaceSelector": {}, "podSelector": {"matchLabels": {"agentledger.io/agent": "true"}}},
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "agentledger",
                                         "app.kubernetes.io/component": "collector"}}},
    ]


def test_production_runs_more_collectors_with_tls_on_ingest() -> None:
    objects = {(obj["kind"], obj["metadata"]["name"]): obj for obj in kustomize("overlays/production")}
    collector = objects[("Deployment", "agentledger-collector")]
    assert collector["spec"]["replicas"] >= 3
    env = {entry["name"] for entry in collector["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert {"AGENTLEDGER_INGEST_TLS_CERT", "AGENTLEDGER_INGEST_TLS_KEY", "AGENTLEDGER_DSN"} <= env
    assert objects[("HorizontalPodAutoscaler", "agentledger-collector")]["spec"]["minReplicas"] >= 3
    assert ("StatefulSet", "agentledger-postgres") not in objects
    assert not [obj for obj in objects.values() if obj["kind"] == "Secret"], "production secrets are never committed"


def test_the_dev_demo_agent_is_what_inject_writes(binary: Path) -> None:
    path = K8S / "overlays" / "dev" / "demo-agent.yaml"
    committed = list(yaml.safe_load_all(path.read_text()))
    again = run_inject(binary, path.read_text())
    assert list(yaml.safe_load_all(again.stdout)) == committed
    dev = kustomize("overlays/dev")
    agent = next(obj for obj in dev if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "demo-agent")
    sidecar = agent["spec"]["template"]["spec"]["initContainers"][0]
    assert sidecar["restartPolicy"] == "Always" and sidecar["image"] == "agentledger:0.1.0"
    assert {"StatefulSet", "Secret"} <= {obj["kind"] for obj in dev}


# MARK: agentledger inject


def run_inject(binary: Path, text: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(binary), "inject", *args], input=text, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("manifest", CORPUS, ids=[path.name for path in CORPUS])
def test_inject_output_validates_is_idempotent_and_reverses(binary: Path, manifest: Path) -> None:
    source = manifest.read_text()
    injected = run_inject(binary, source)
    assert injected.returncode == 0, injected.stderr
    documents = [document for document in yaml.safe_load_all(injected.stdout) if document is not None]
    validate_all(objects_of(documents))
    workloads = [obj for obj in objects_of(documents) if obj["kind"] in WORKLOADS]
    assert workloads
    for obj in workloads:
        names = [container["name"] for container in pod_spec(obj)["initContainers"]]
        assert names.count("agentledger-sidecar") == 1
        assert {"AGENTLEDGER_SOURCE", "AGENTLEDGER_COLLECTOR", "AGENTLEDGER_INGEST_TOKEN"} <= env_names(obj)
        assert env_names(obj) & {"OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"}

    # From a file as from standard input, and twice is once.
    from_file = subprocess.run([str(binary), "inject", str(manifest)], capture_output=True, text=True, timeout=60, check=False)
    assert from_file.stdout == injected.stdout
    twice = run_inject(binary, injected.stdout)
    assert twice.returncode == 0 and twice.stdout == injected.stdout

    restored = run_inject(binary, injected.stdout, "--uninject")
    assert restored.returncode == 0, restored.stderr
    assert list(yaml.safe_load_all(restored.stdout)) == [d for d in yaml.safe_load_all(source) if d is not None]


@pytest.mark.parametrize(
    "text, words",
    [
        ("kind: Deployment\nspec: [unclosed\n", "not YAML"),
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec: {replicas: 1}\n", "spec.template is missing"),
        ("- a\n- b\n", "not a Kubernetes object"),
    ],
)
def test_inject_refuses_what_it_cannot_read_with_one_line(binary: Path, text: str, words: str) -> None:
    result = run_inject(binary, text)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and words in result.stderr
    assert result.stderr.startswith("agentledger inject: ")


def test_inject_options_reach_the_manifest(binary: Path) -> None:
    result = run_inject(
        binary, (REPO_ROOT / "Tests" / "Fixtures" / "k8s" / "pod.yaml").read_text(),
        "--collector", "ingest.example.com:4601", "--image", "registry.example.com/agentledger:0.1.0",
        "--token-secret", "ledger", "--spool-mb", "100", "--upstream-url", "https://api.anthropic.com",
    )
    assert result.returncode == 0, result.stderr
    pod = yaml.safe_load(result.stdout)
    validate_all([pod])
    sidecar = pod["spec"]["initContainers"][0]
    env = {entry["name"]: entry for entry in sidecar["env"]}
    assert env["AGENTLEDGER_COLLECTOR"]["value"] == "ingest.example.com:4601"
    assert env["AGENTLEDGER_INGEST_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "ledger"
    assert env["AGENTLEDGER_SPOOL_MAX_MB"]["value"] == "100"
    assert sidecar["image"] == "registry.example.com/agentledger:0.1.0"
    assert pod["spec"]["volumes"][-1]["emptyDir"]["sizeLimit"] == "125Mi"
    agent_env = {entry["name"]: entry["value"] for entry in pod["spec"]["containers"][0]["env"]}
    assert agent_env == {"ANTHROPIC_BASE_URL": "http://127.0.0.1:8000"}
    bad = run_inject(binary, "", "--collector", "nowhere")
    assert bad.returncode == 2 and "--collector" in bad.stderr and bad.stdout == ""


# MARK: deploy/


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) of deploy/Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def test_the_dockerfile_copies_only_what_exists_and_is_not_ignored() -> None:
    ignore = [line for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    allowed = [line[1:].rstrip("/") for line in ignore if line.startswith("!")]
    stages = []
    for instruction, arguments in dockerfile_instructions():
        if instruction == "FROM":
            stages.append(arguments.split()[-1])
        if instruction == "COPY" and "--from=" not in arguments:
            *sources, _ = [part for part in arguments.split() if not part.startswith("--")]
            for source in sources:
                assert (REPO_ROOT / source).exists(), f"COPY {source}: no such file"
                assert any(source.rstrip("/") == entry or source.startswith(entry + "/") for entry in allowed), (
                    f"COPY {source} is excluded by deploy/Dockerfile.dockerignore"
                )
    assert stages == ["build", "runtime"]


def test_the_dockerfile_builds_as_scripts_build_release_does() -> None:
    runs = " ".join(arguments for instruction, arguments in dockerfile_instructions() if instruction == "RUN")
    script = REPO_ROOT / "scripts" / "build-release"
    assert "scripts/build-release" in runs and script.stat().st_mode & 0o111
    build_flags = re.search(r"swift build -c release --product agentledger (.*)", script.read_text()).group(1).split()
    # The path the Dockerfile copies the binary from is the one build-release writes to: same flags.
    assert f"swift build -c release {' '.join(build_flags)} --show-bin-path" in runs


def test_the_runtime_stage_is_non_root_read_only_friendly_and_has_the_binarys_libraries() -> None:
    instructions = dockerfile_instructions()
    runtime = instructions[[i for i, (name, _) in enumerate(instructions) if name == "FROM"][-1]:]
    user = next(arguments for name, arguments in runtime if name == "USER")
    assert user.split(":")[0] not in ("0", "root") and user.split(":")[0].isdigit()
    assert not [arguments for name, arguments in runtime if name == "RUN"], "no shell in the runtime image"
    entrypoint = next(arguments for name, arguments in runtime if name == "ENTRYPOINT")
    copied = [arguments.split()[-1] for name, arguments in runtime if name == "COPY"]
    assert entrypoint == '["/usr/local/bin/agentledger"]' and "/usr/local/bin/agentledger" in copied
    # What the static binary links (scripts/build-release, header): distroless cc has all but libz, copied in.
    header = (REPO_ROOT / "scripts" / "build-release").read_text()
    needed = set(re.search(r"it needs only ([^)]*)\)", header.replace("\n#", "")).group(1).replace(" and ", ", ").split(", "))
    distroless_cc = {"libc", "libstdc++", "libm", "libgcc_s"}
    assert needed - distroless_cc == {"libz"}
    assert "/usr/lib/libz.so.1" in copied
    release = REPO_ROOT / ".build" / "release" / "agentledger"
    if release.is_file() and shutil.which("ldd"):
        linked = subprocess.run(["ldd", str(release)], capture_output=True, text=True, check=False).stdout
        if "libswiftCore" not in linked:  # the static build-release binary, not a plain release build
            libraries = {line.split()[0].split(".so")[0] for line in linked.splitlines() if ".so" in line}
            libraries -= {"linux-vdso", "/lib64/ld-linux-x86-64", "/lib/ld-linux-aarch64", "libpthread", "libdl", "librt", "libutil"}
            assert libraries <= distroless_cc | {"libz"}, libraries


def test_compose_wires_postgres_the_collector_and_an_agent_with_its_sidecar() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "collector", "mock-upstream", "sidecar", "agent"}
    known = known_variables()
    for name, service in services.items():
        for variable in service.get("environment", {}):
            assert not variable.startswith("AGENTLEDGER_") or variable in known, f"{name}: {variable}"
        for volume in service.get("volumes", []):
            host = volume.split(":")[0]
            if host.startswith("."):
                assert (DEPLOY / host).resolve().is_file(), f"{name}: {host}"
        if "build" in service:
            assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).resolve().is_file()
            assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
    assert services["sidecar"]["environment"]["AGENTLEDGER_COLLECTOR"] == "collector:4600"
    assert services["sidecar"]["environment"]["AGENTLEDGER_UPSTREAM_URL"] == "http://mock-upstream:9000"
    assert services["agent"]["environment"]["OPENAI_BASE_URL"] == "http://sidecar:8000/v1"
    assert services["collector"]["command"] == ["collector"] and services["sidecar"]["command"] == ["sidecar"]


@pytest.mark.parametrize("unit", sorted((DEPLOY / "systemd").glob("*.service")), ids=lambda path: path.name)
def test_systemd_units_verify(binary: Path, unit: Path, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    text = unit.read_text()
    assert "ExecStart=/usr/local/bin/agentledger " in text
    for setting in ("NoNewPrivileges=yes", "ProtectSystem=strict", "DynamicUser=yes", "CapabilityBoundingSet="):
        assert setting in text
    local = tmp_path / unit.name
    local.write_text(text.replace("/usr/local/bin/agentledger", str(binary)))
    result = subprocess.run([analyze, "verify", "--man=no", str(local)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
