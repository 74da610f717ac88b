#!/usr/bin/env python3
"""The raw cost of a NATS hop on this machine, without Whirl: a request/reply ping-pong between
two processes through a nats-server (NATS text protocol over plain sockets), and the same
ping-pong over a direct TCP connection between the two processes. Compare with `cargo bench
--bench nats` (docs/benchmarks.md, "NATS"): an invoke over NATS makes the same two hops.

Run: python3 benches/nats_round_trip.py [ROUNDS]   (needs nats-server on PATH; loopback only)
Set GOMAXPROCS in the environment to run nats-server with that many Go processors.
"""
import os
import socket
import subprocess
import sys
import time

ROUNDS = int(sys.argv[1]) if len(sys.argv) == 2 else 2000
WARMUP = 200


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect(port):
    for _ in range(100):
        try:
            s = socket.create_connection(("127.0.0.1", port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return s
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


class NatsConnection:
    def __init__(self, port):
        self.sock = connect(port)
        self.reader = self.sock.makefile("rb")
        self.reader.readline()  # INFO
        self.sock.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n')
        self.sync()

    def sync(self):
        self.sock.sendall(b"PING\r\n")
        while self.reader.readline() != b"PONG\r\n":
            pass

    def subscribe(self, subject):
        self.sock.sendall(b"SUB %s 1\r\n" % subject)
        self.sync()

    def publish(self, subject, payload):
        self.sock.sendall(b"PUB %s %d\r\n%s\r\n" % (subject, len(payload), payload))

    def next_message(self):
        while True:
            line = self.reader.readline()
            if not line:
                raise SystemExit("nats-server closed the connection")
            if line.startswith(b"MSG"):
                self.reader.read(int(line.split()[-1]) + 2)
                return
            if line.startswith(b"PING"):
                self.sock.sendall(b"PONG\r\n")


def percentiles(samples):
    samples.sort()
    return samples[len(samples) // 2] * 1e6, samples[int(len(samples) * 0.9)] * 1e6


def measure(round_trip):
    samples = []
    for i in range(ROUNDS + WARMUP):
        started = time.perf_counter()
        round_trip()
        if i >= WARMUP:
            samples.append(time.perf_counter() - started)
        time.sleep(0.0005)  # as between invocations: the other side goes idle
    return percentiles(samples)


def echo_nats(port):
    conn = NatsConnection(port)
    conn.subscribe(b"ping")
    print("ready", flush=True)
    while True:
        conn.next_message()
        conn.publish(b"pong", b"hello")


def echo_tcp(port):
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))
    listener.listen(1)
    print("ready", flush=True)
    conn, _ = listener.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while conn.recv(100):
        conn.sendall(b"hello")


def echo(kind, port):
    child = subprocess.Popen(
        [sys.executable, __file__, f"--echo-{kind}", str(port)], stdout=subprocess.PIPE
    )
    child.stdout.readline()
    return child


def main():
    if len(sys.argv) == 3 and sys.argv[1].startswith("--echo-"):
        {"--echo-nats": echo_nats, "--echo-tcp": echo_tcp}[sys.argv[1]](int(sys.argv[2]))
        return
    nats_port = free_port()
    server = subprocess.Popen(
        ["nats-server", "-a", "127.0.0.1", "-p", str(nats_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        connect(nats_port).close()
        peer = echo("nats", nats_port)
        conn = NatsConnection(nats_port)
        conn.subscribe(b"pong")

        def via_nats():
            conn.publish(b"ping", b"hello")
            conn.next_message()

        p50, p90 = measure(via_nats)
        gomaxprocs = os.environ.get("GOMAXPROCS", "default")
        print(f"through nats-server (GOMAXPROCS {gomaxprocs}): round trip p50 {p50:.0f} us, p90 {p90:.0f} us")
        peer.kill()
    finally:
        server.kill()
    tcp_port = free_port()
    peer = echo("tcp", tcp_port)
    sock = connect(tcp_port)

    def direct():
        sock.sendall(b"hello")
        sock.recv(100)

    p50, p90 = measure(direct)
    print(f"direct TCP between the two processes:  round trip p50 {p50:.0f} us, p90 {p90:.0f} us")
    peer.kill()


if __name__ == "__main__":
    main()
