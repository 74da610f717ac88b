#!/usr/bin/env python3
"""Checks that Whirl's Kubernetes manifests fit together, without a cluster.

Schema validity is kubernetes-validate's job (deploy/k8s/check.sh runs it); this script checks what a schema
cannot see: every name and port one object refers to exists in the object it names.

- workloads: selectors match their pod labels; probes name ports the container declares; every volume mount
  names a volume or a claim template; claims named by pods exist;
- Services select some workload's pods, and their target ports are ports those pods declare;
- StatefulSets' serviceName is a headless Service that selects them;
- NetworkPolicies select some workload's pods, their peers select pods, and their ports are ports of the pods
  they protect;
- NATS: three replicas, --routes lists exactly the pods <set>-<i>.<service>.<namespace>.svc.cluster.local on the
  cluster port, the client URLs Whirl is given (WHIRL_NATS) are the same pods on the client port;
- Whirl: the controller and invokers run whirl:local with the roles and flags `whirl serve` has (with
  --whirl BINARY, every flag is checked against `whirl serve --help`), two invokers.

    check.py deploy/k8s/*.yaml [--whirl PATH_TO_WHIRL]
"""
import argparse
import re
import subprocess
import sys

import yaml

problems = []


def problem(where, message):
    problems.append(f"{where}: {message}")


def load(paths):
    objects = []
    for path in paths:
        with open(path) as file:
            for doc in yaml.safe_load_all(file):
                if doc:
                    doc["_file"] = path
                    objects.append(doc)
    return objects


def name_of(obj):
    return f"{obj['_file']}: {obj['kind']}/{obj['metadata']['name']}"


def pod_spec(obj):
    if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet"):
        return obj["spec"]["template"]["spec"]
    return None


def container_ports(spec):
    ports = {}
    for container in spec.get("containers", []):
        for port in container.get("ports", []):
            ports[port["containerPort"]] = port
            if "name" in port:
                ports[port["name"]] = port
    return ports


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def flag_values(args, flag):
    """Values of `--flag=value` or `--flag value` in an argument list (also inside one shell command line)."""
    words = []
    for arg in args:
        words.extend(arg.split() if " " in arg else [arg])
    values = []
    for i, word in enumerate(words):
        if word.startswith(flag + "="):
            values.append(word.split("=", 1)[1])
        elif word == flag and i + 1 < len(words):
            values.append(words[i + 1])
    return values, words


def check_workloads(objects):
    claims = {o["metadata"]["name"] for o in objects if o["kind"] == "PersistentVolumeClaim"}
    for obj in objects:
        spec = pod_spec(obj)
        if spec is None:
            continue
        where = name_of(obj)
        labels = obj["spec"]["template"]["metadata"].get("labels", {})
        if not selects(obj["spec"]["selector"].get("matchLabels", {}), labels):
            problem(where, "selector does not match the pod template's labels")
        ports = container_ports(spec)
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        templates = {t["metadata"]["name"] for t in obj["spec"].get("volumeClaimTemplates", [])}
        for volume in volumes.values():
            claim = volume.get("persistentVolumeClaim", {}).get("claimName")
            if claim and claim not in claims:
                problem(where, f"volume {volume['name']} names the claim {claim}, which no manifest creates")
        for container in spec["containers"]:
            for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
                probe = container.get(probe_name, {})
                port = (probe.get("httpGet") or probe.get("tcpSocket") or {}).get("port")
                if port is not None and port not in ports:
                    problem(where, f"{probe_name} uses port {port}, which the container does not declare")
            for mount in container.get("volumeMounts", []):
                if mount["name"] not in volumes and mount["name"] not in templates:
                    problem(where, f"mount {mount['mountPath']} names the volume {mount['name']}, which is not defined")
            if container.get("image") != "whirl:local" or container.get("imagePullPolicy") != "Never":
                problem(where, "containers run the locally built whirl:local with imagePullPolicy Never")


def check_services(objects):
    workloads = [o for o in objects if pod_spec(o) is not None]
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    for service in services.values():
        where = name_of(service)
        selected = [w for w in workloads
                    if w["metadata"]["namespace"] == service["metadata"]["namespace"]
                    and selects(service["spec"].get("selector", {}), w["spec"]["template"]["metadata"]["labels"])]
        if not selected:
            problem(where, "selects no workload's pods")
        for port in service["spec"].get("ports", []):
            target = port.get("targetPort", port["port"])
            for workload in selected:
                if target not in container_ports(pod_spec(workload)):
                    problem(where, f"target port {target} is not a port of {name_of(workload)}")
    for obj in objects:
        if obj["kind"] != "StatefulSet":
            continue
        service = services.get(obj["spec"].get("serviceName"))
        if service is None:
            problem(name_of(obj), f"serviceName {obj['spec'].get('serviceName')} is not a Service here")
        elif service["spec"].get("clusterIP") != "None":
            problem(name_of(obj), f"serviceName {service['metadata']['name']} is not headless")
        elif not selects(service["spec"]["selector"], obj["spec"]["template"]["metadata"]["labels"]):
            problem(name_of(obj), f"its Service {service['metadata']['name']} does not select its pods")


def check_network_policies(objects):
    workloads = [o for o in objects if pod_spec(o) is not None]

    def selected(selector):
        return [w for w in workloads if selects(selector.get("matchLabels", {}), w["spec"]["template"]["metadata"]["labels"])]

    for policy in (o for o in objects if o["kind"] == "NetworkPolicy"):
        where = name_of(policy)
        protected = selected(policy["spec"]["podSelector"])
        if not protected:
            problem(where, "protects no workload's pods")
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                if "podSelector" in peer and not selected(peer["podSelector"]):
                    problem(where, f"a peer selector {peer['podSelector']} selects no workload's pods")
            for port in rule.get("ports", []):
                for workload in protected:
                    if port["port"] not in container_ports(pod_spec(workload)):
                        problem(where, f"port {port['port']} is not a port of {name_of(workload)}")


def find(objects, kind, name):
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    problem("manifests", f"no {kind}/{name}")
    return None


def check_nats(objects):
    nats = find(objects, "StatefulSet", "nats")
    if nats is None:
        return None
    where = name_of(nats)
    replicas = nats["spec"]["replicas"]
    if replicas != 3:
        problem(where, f"{replicas} replicas, not 3")
    namespace = nats["metadata"]["namespace"]
    service = nats["spec"]["serviceName"]
    container = nats["spec"]["template"]["spec"]["containers"][0]
    ports = container_ports(nats["spec"]["template"]["spec"])
    cluster_port = ports.get("cluster", {}).get("containerPort")
    client_port = ports.get("client", {}).get("containerPort")
    pods = [f"{nats['metadata']['name']}-{i}.{service}.{namespace}.svc.cluster.local" for i in range(replicas)]
    args = container.get("args", [])
    routes, _ = flag_values(args, "--routes")
    expected_routes = ",".join(f"nats://{pod}:{cluster_port}" for pod in pods)
    if routes != [expected_routes]:
        problem(where, f"--routes is {routes}, expected [{expected_routes}]")
    for flag, port in (("--port", client_port), ("--cluster", cluster_port)):
        values, _ = flag_values(args, flag)
        if not values or not values[0].endswith(str(port)):
            problem(where, f"{flag} {values} does not use the declared port {port}")
    if "--jetstream" not in args:
        problem(where, "JetStream is off")
    return ",".join(f"nats://{pod}:{client_port}" for pod in pods)


def whirl_serve_flags(binary):
    help_text = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"--[a-z][a-z0-9-]*", help_text))


def check_whirl(objects, nats_urls, known_flags):
    roles = {}
    for name in ("whirl-controller", "whirl-invoker"):
        kind = "Deployment" if name == "whirl-controller" else "StatefulSet"
        obj = find(objects, kind, name)
        if obj is None:
            continue
        where = name_of(obj)
        container = obj["spec"]["template"]["spec"]["containers"][0]
        args = container.get("command", [])[2:] + container.get("args", [])
        role, words = flag_values(args, "--role")
        roles[name] = role
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        if nats_urls and env.get("WHIRL_NATS") != nats_urls:
            problem(where, f"WHIRL_NATS is {env.get('WHIRL_NATS')}, expected the NATS pods {nats_urls}")
        if known_flags is not None:
            for word in words:
                flag = word.split("=", 1)[0]
                if flag.startswith("--") and flag not in known_flags:
                    problem(where, f"`whirl serve` has no flag {flag}")
        data_dir, _ = flag_values(args, "--data-dir")
        mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
        if not data_dir or data_dir[0] not in mounts:
            problem(where, f"--data-dir {data_dir} is not a mounted volume ({mounts})")
    if roles.get("whirl-controller") != ["controller"]:
        problem("whirl-controller", f"--role is {roles.get('whirl-controller')}, not controller")
    if roles.get("whirl-invoker") != ["invoker"]:
        problem("whirl-invoker", f"--role is {roles.get('whirl-invoker')}, not invoker")
    invoker = find(objects, "StatefulSet", "whirl-invoker")
    if invoker is not None and invoker["spec"]["replicas"] != 2:
        problem(name_of(invoker), f"{invoker['spec']['replicas']} replicas, not 2")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--whirl", help="a whirl binary whose `serve --help` lists the valid flags")
    args = parser.parse_args()
    objects = load(args.files)
    for obj in objects:
        if obj["kind"] != "Namespace" and obj["metadata"].get("namespace") != "whirl":
            problem(name_of(obj), "not in the namespace whirl")
    check_workloads(objects)
    check_services(objects)
    check_network_policies(objects)
    nats_urls = check_nats(objects)
    check_whirl(objects, nats_urls, whirl_serve_flags(args.whirl) if args.whirl else None)
    for line in problems:
        print(f"check.py: {line}", file=sys.stderr)
    print(f"check.py: {len(objects)} objects, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
