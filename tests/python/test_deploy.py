"""The deployment recipe in deploy/: the Kubernetes manifests pass the Kubernetes API schemas
(offline, with the `kubernetes-validate` package), hang together (racks pinned to zones,
mesh seeds naming real pods of the headless service, probes on the HTTP port's /health),
the container recipe is multi-stage, non-root and health-checked, and the configuration
template the entrypoint renders starts a real node with the pod's node id and rack.

Docker and a Kubernetes cluster are not needed (nor available where these tests run): the
image is not built here.
"""

import copy
import os
import pathlib
import re
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest
yaml = pytest.importorskip("yaml")

kubernetes_validate = pytest.importorskip("kubernetes_validate")
from kubernetes_validate.utils import latest_version  # noqa: E402

from conftest import AerieServer, locate_aerie_bin  # noqa: E402

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
ZONE_KEY = "topology.kubernetes.io/zone"


def manifests():
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.name, doc))
    return docs


def of_kind(kind):
    return [d for _, d in manifests() if d["kind"] == kind]


def template_text():
    (config,) = [c for c in of_kind("ConfigMap") if c["metadata"]["name"] == "aerie-config"]
    return config["data"]["aerie.conf.template"]


def env_of(container):
    return {e["name"]: e for e in container.get("env", [])}


def test_manifests_pass_the_kubernetes_schemas():
    docs = manifests()
    kinds = sorted({d["kind"] for _, d in docs})
    assert kinds == ["ConfigMap", "Namespace", "PodDisruptionBudget", "Service", "StatefulSet"]
    version = latest_version()
    for name, doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)
    # The validator is live: a misspelled field in a StatefulSet is refused.
    broken = copy.deepcopy(of_kind("StatefulSet")[0])
    broken["spec"]["replica"] = broken["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)


def test_each_rack_is_a_statefulset_pinned_to_one_zone():
    sets = of_kind("StatefulSet")
    assert len(sets) >= 2
    (headless,) = [s for s in of_kind("Service") if s["spec"].get("clusterIP") == "None"]
    assert headless["spec"]["publishNotReadyAddresses"] is True
    racks, zones = set(), set()
    for sts in sets:
        spec = sts["spec"]
        pod = spec["template"]
        assert spec["serviceName"] == headless["metadata"]["name"]
        for k, v in spec["selector"]["matchLabels"].items():
            assert pod["metadata"]["labels"][k] == v
        (container,) = pod["spec"]["containers"]
        env = env_of(container)
        rack = env["RACK_ID"]["value"]
        assert pod["metadata"]["labels"]["aerie.io/rack"] == rack
        assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
        terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        (term,) = terms["nodeSelectorTerms"]
        (expr,) = [e for e in term["matchExpressions"] if e["key"] == ZONE_KEY]
        assert expr["operator"] == "In" and len(expr["values"]) == 1
        racks.add(rack)
        zones.add(expr["values"][0])
        # Probes on the HTTP port's /health; a preStop hook; volumes that exist.
        ports = {p["name"]: p for p in container["ports"]}
        for probe in ("readinessProbe", "livenessProbe"):
            get = container[probe]["httpGet"]
            assert get["path"] == "/health" and get["port"] == "http"
        assert ports["http"]["containerPort"] == 8080
        assert ports["heartbeat"]["protocol"] == "UDP"
        assert container["lifecycle"]["preStop"]["exec"]["command"]
        volumes = {v["name"] for v in pod["spec"]["volumes"]}
        volumes |= {c["metadata"]["name"] for c in spec["volumeClaimTemplates"]}
        assert {m["name"] for m in container["volumeMounts"]} <= volumes
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert len(racks) == len(sets) and len(zones) == len(sets), (racks, zones)


def test_mesh_seeds_name_pods_of_the_headless_service():
    text = template_text()
    (headless,) = [s for s in of_kind("Service") if s["spec"].get("clusterIP") == "None"]
    ns = headless["metadata"]["namespace"]
    pods = set()
    for sts in of_kind("StatefulSet"):
        for i in range(sts["spec"]["replicas"]):
            pods.add(f"{sts['metadata']['name']}-{i}.{headless['metadata']['name']}.{ns}.svc.cluster.local")
    seeds = re.findall(r"mesh-seed-address-port\s+(\S+)\s+(\d+)", text)
    assert seeds
    hb_port = {p["name"]: p["port"] for p in headless["spec"]["ports"]}["heartbeat"]
    for host, port in seeds:
        assert host in pods, host
        assert int(port) == hb_port
    # Every rack has a seed, so any rack can start first.
    for sts in of_kind("StatefulSet"):
        assert any(h.startswith(sts["metadata"]["name"] + "-") for h, _ in seeds)
    # The budget covers every pod.
    (pdb,) = of_kind("PodDisruptionBudget")
    for sts in of_kind("StatefulSet"):
        labels = sts["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_dockerfile_is_multi_stage_non_root_and_health_checked():
    text = (DEPLOY / "Dockerfile").read_text()
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
    stages = [l for l in lines if l.startswith("FROM ")]
    assert len(stages) >= 2
    assert any(l.startswith("COPY --from=build ") for l in lines)
    # The last USER before the entrypoint is a non-root numeric uid.
    users = [l.split()[1] for l in lines if l.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    health = " ".join(l for l in lines if "HEALTHCHECK" in l or "/health" in l)
    assert "/health" in health and ":8080" in health
    entry = DEPLOY / "docker-entrypoint.sh"
    assert os.access(entry, os.X_OK)
    assert "deploy/docker-entrypoint.sh" in text


def free_port():
    for _ in range(64):
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    pytest.fail("no free port")


def test_rendered_template_starts_a_node_with_its_rack_and_node_id(tmp_path):
    template = tmp_path / "aerie.conf.template"
    template.write_text(template_text())
    env = dict(
        os.environ,
        AERIE_CONFIG_TEMPLATE=str(template),
        AERIE_CONFIG=str(tmp_path / "aerie.conf"),
        AERIE_RENDER_ONLY="1",
        HOSTNAME="aerie-rack2-1",
        RACK_ID="2",
        POD_IP="127.0.0.1",
    )
    rendered = subprocess.run(
        ["sh", str(DEPLOY / "docker-entrypoint.sh"), "server"],
        env=env, check=True, capture_output=True, text=True, timeout=10,
    ).stdout
    assert "@" not in rendered
    assert "node-id A000020001" in rendered
    assert "rack-id 2" in rendered
    bad = subprocess.run(
        ["sh", str(DEPLOY / "docker-entrypoint.sh"), "server"],
        env=dict(env, RACK_ID="zone-b"), capture_output=True, text=True, timeout=10,
    )
    assert bad.returncode != 0 and "RACK_ID" in bad.stderr

    # Start it for real on loopback: free fabric and heartbeat ports, the data file in a
    # temporary directory. The seeds' pod names do not resolve here; the node starts alone.
    data = tmp_path / "data"
    data.mkdir()
    text = (
        rendered.replace("port 3001", f"port {free_port()}")
        .replace("port 3002", f"port {free_port()}")
        .replace("/var/lib/aerie/data/", f"{data}/")
        .replace("filesize 8G", "filesize 64M")
    )
    server = AerieServer(locate_aerie_bin(), config_text=text)
    try:
        import aerospike

        client = aerospike.client({"hosts": [(server.host, server.port)]}).connect()
        try:
            (node,) = client.get_node_names()
            name = node["node_name"]
            assert name == "A000020001"
            answer = client.info_single_node("rack-ids", name)
            assert answer.strip().split("\t")[-1] == "test:2"
        finally:
            client.close()
        deadline = time.monotonic() + 10
        base = None
        while base is None and time.monotonic() < deadline:
            m = re.search(r"http ready on (\S+)", server.stderr_tail(1 << 20))
            if m:
                base = "http://127.0.0.1:" + m.group(1).rpartition(":")[2]
            else:
                time.sleep(0.1)
        assert base, "no HTTP address logged"
        with urllib.request.urlopen(base + "/health", timeout=5) as r:
            assert r.status == 200
    finally:
        server.stop()
