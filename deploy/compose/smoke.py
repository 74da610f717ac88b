#!/usr/bin/env python3
"""Smoke test of a running Whirl deployment through its REST API (standard library only).

Creates a few Python actions that answer a sum and the host name they ran on, invokes each several times
(blocking), checks every result, invokes one non-blocking and polls its activation record, and checks that every
expected host served at least one activation. Used by deploy/compose/up.sh, where the hosts are the invoker
containers (the process backend runs actions inside its invoker's container, so the host name names the invoker).

    smoke.py --api http://127.0.0.1:3233 --auth UUID:KEY --expect-hosts invoker-0,invoker-1
"""
import argparse
import base64
import json
import sys
import time
import urllib.error
import urllib.request

ACTION_CODE = """
import socket

def main(args):
    return {"sum": args.get("a", 0) + args.get("b", 0), "host": socket.gethostname()}
"""


class Api:
    def __init__(self, base, auth):
        self.base = base.rstrip("/") + "/api/v1/namespaces/_"
        self.header = "Basic " + base64.b64encode(auth.encode()).decode()

    def call(self, method, path, body=None, timeout=70):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", self.header)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")


def fail(message):
    print(f"smoke: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", required=True)
    parser.add_argument("--auth", required=True)
    parser.add_argument("--actions", type=int, default=6, help="distinct actions (each has its own home invoker)")
    parser.add_argument("--invokes", type=int, default=4, help="blocking invocations per action")
    parser.add_argument("--expect-hosts", default="", help="comma-separated host names that must serve activations")
    args = parser.parse_args()
    api = Api(args.api, args.auth)
    started = time.monotonic()

    names = [f"smoke-{i}" for i in range(args.actions)]
    for name in names:
        status, body = api.call("PUT", f"/actions/{name}?overwrite=true",
                                {"exec": {"kind": "python:3", "code": ACTION_CODE}})
        if status != 200:
            fail(f"creating action {name}: HTTP {status}: {body}")

    hosts = {}
    latencies = []
    for round_ in range(args.invokes):
        for index, name in enumerate(names):
            params = {"a": round_, "b": index * 100}
            t0 = time.monotonic()
            status, body = api.call("POST", f"/actions/{name}?blocking=true&result=true", params)
            latencies.append(time.monotonic() - t0)
            if status != 200:
                fail(f"invoking {name} {params}: HTTP {status}: {body}")
            if not isinstance(body, dict) or body.get("sum") != round_ + index * 100:
                fail(f"invoking {name} {params}: expected sum {round_ + index * 100}, got {body}")
            hosts.setdefault(body.get("host"), set()).add(name)

    # Non-blocking: accepted once JetStream holds it (202 with an id), the record appears when the invoker is done.
    # A 503 means "not accepted" (JetStream electing a new leader after a server left): a client retries it.
    deadline = time.monotonic() + 30
    while True:
        status, body = api.call("POST", f"/actions/{names[0]}?blocking=false", {"a": 20, "b": 22})
        if status != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if status != 202 or not isinstance(body, dict) or "activationId" not in body:
        fail(f"non-blocking invoke: expected 202 and an activationId, got HTTP {status}: {body}")
    activation_id = body["activationId"]
    deadline = time.monotonic() + 30
    while True:
        status, record = api.call("GET", f"/activations/{activation_id}")
        if status == 200:
            break
        if time.monotonic() > deadline:
            fail(f"activation {activation_id} of the non-blocking invoke has no record after 30 s (HTTP {status})")
        time.sleep(0.2)
    result = record.get("response", {}).get("result", {})
    if result.get("sum") != 42 or not record.get("response", {}).get("success"):
        fail(f"activation {activation_id}: expected a successful sum 42, got {record.get('response')}")
    hosts.setdefault(result.get("host"), set()).add(names[0])

    served = {host: sorted(actions) for host, actions in hosts.items()}
    print(f"smoke: {len(latencies) + 1} activations in {time.monotonic() - started:.1f} s; "
          f"blocking p50 {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms; served by {served}")
    expected = [host for host in args.expect_hosts.split(",") if host]
    missing = [host for host in expected if host not in hosts]
    if missing:
        fail(f"no activation ran on {missing} (served by {sorted(hosts)})")
    unexpected = [host for host in hosts if expected and host not in expected]
    if unexpected:
        fail(f"activations ran on unexpected hosts {unexpected}")
    print("smoke: ok")


if __name__ == "__main__":
    main()
