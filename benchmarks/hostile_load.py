#!/usr/bin/env python3
"""Load generator of benchmarks/hostile-load.sh: replays hostile peers against a TLS server on
loopback and measures what it costs the server and a legitimate client.

Attackers connect from 127.0.0.1, the legitimate client from 127.0.0.2 (so a per-address cap
on the attackers does not refuse it). Each case prints one line per server as
`case|server|peak_mib|after_mib|fetch_ms|report_ms|outcome|verdict`.
"""
import argparse
import asyncio
import base64
import os
import ssl
import struct
import time

ATTACKER = "127.0.0.1"
LEGIT = "127.0.0.2"


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


class Server:
    def __init__(self, name, port, pid, kind):
        self.name, self.port, self.pid, self.kind = name, port, pid, kind

    def pids(self):
        """The server process and, for nginx, its workers."""
        found = [self.pid]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        if int(stat.read().rsplit(")", 1)[1].split()[1]) == self.pid:
                            found.append(int(entry))
                except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                    pass
        return found

    def rss_mib(self):
        return rss_kib(self.pids()) // 1024


class Sampler:
    """Samples a server's resident memory every 50 ms while a case runs."""

    def __init__(self, server):
        self.server, self.peak, self.task = server, 0, None

    async def run(self):
        pids = self.server.pids()
        while True:
            self.peak = max(self.peak, rss_kib(pids) // 1024)
            await asyncio.sleep(0.05)

    def __enter__(self):
        self.peak = self.server.rss_mib()
        self.task = asyncio.get_running_loop().create_task(self.run())
        return self

    def __exit__(self, *exc):
        self.task.cancel()


class Bench:
    def __init__(self, args):
        self.args = args
        ctx = ssl.create_default_context(cafile=args.ca)
        ctx.load_cert_chain(args.cert, args.key)
        ctx.check_hostname = False
        self.tls = ctx
        self.failed = False
        self.rows = []

    # ---- building blocks -------------------------------------------------------------------

    async def tls_connect(self, server, source=ATTACKER):
        return await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", server.port, ssl=self.tls, server_hostname="localhost",
                                    local_addr=(source, 0), limit=64 * 1024), 20)

    async def many(self, count, make, parallel=100):
        """Opens `count` connections with `make`, `parallel` at a time; returns the ones that opened."""
        opened, gate = [], asyncio.Semaphore(parallel)

        async def one():
            async with gate:
                try:
                    opened.append(await make())
                except (OSError, asyncio.TimeoutError, ssl.SSLError):
                    pass

        await asyncio.gather(*(one() for _ in range(count)))
        return opened

    async def fetch_ms(self, server):
        """A legitimate machine fetching the manifest with curl (mTLS): milliseconds, or None on failure."""
        a = self.args
        proc = await asyncio.create_subprocess_exec(
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "--max-time", "10",
            "--interface", LEGIT, "--cacert", a.ca, "--cert", a.cert, "--key", a.key,
            "--resolve", f"localhost:{server.port}:127.0.0.1",
            f"https://localhost:{server.port}/image/bench/manifest.json",
            stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        parts = out.decode().split()
        if len(parts) != 2 or parts[0] != "200":
            return None
        return int(float(parts[1]) * 1000)

    async def report_ms(self, server):
        """A legitimate machine's agent-style report: WebSocket upgrade on /ws/slave, the server's
        first message, one report frame. Milliseconds, or None on failure (or for nginx)."""
        if server.kind != "icon":
            return None
        started = time.monotonic()
        writer = None
        try:
            reader, writer = await asyncio.wait_for(self.tls_connect(server, LEGIT), 10)
            key = base64.b64encode(os.urandom(16)).decode()
            writer.write((f"GET /ws/slave HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                          f"Sec-WebSocket-Protocol: iconograph-slave\r\n\r\n").encode())
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            if not head.startswith(b"HTTP/1.1 101"):
                return None
            first = await asyncio.wait_for(reader.readexactly(2), 10)   # the image_types frame
            length = first[1] & 0x7F
            if length == 126:
                length = struct.unpack(">H", await reader.readexactly(2))[0]
            await asyncio.wait_for(reader.readexactly(length), 10)
            report = (b'{"type":"report","data":{"hostname":"legit","image_type":"bench","uptime_seconds":1,'
                      b'"timestamp":1700000000,"volume_id":"BENCH","next_timestamp":1700000000,'
                      b'"next_volume_id":"BENCH","status":"ok"}}')
            mask = os.urandom(4)
            masked = bytes(b ^ mask[i % 4] for i, b in enumerate(report))
            writer.write(bytes([0x81, 0x80 | 126]) + struct.pack(">H", len(report)) + mask + masked)
            await writer.drain()
            return int((time.monotonic() - started) * 1000)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ssl.SSLError):
            return None
        finally:
            if writer:
                writer.close()

    async def probe(self, server):
        """The legitimate client's worst latency over three tries."""
        fetches, reports = [], []
        for _ in range(3):
            fetches.append(await self.fetch_ms(server))
            reports.append(await self.report_ms(server))
        worst = lambda values: None if None in values else max(values)
        return worst(fetches), worst(reports)

    def row(self, case, server, peak, after, latency, outcome, ok):
        fetch, report = latency
        shown = lambda v: "-" if v is None else str(v)
        if server.kind == "icon":
            verdict = "ok" if ok else "MISSED"
            self.failed |= not ok
        else:
            verdict = ""
        line = f"{case}|{server.name}|{peak}|{after}|{shown(fetch)}|{'-' if server.kind != 'icon' else shown(report)}|{outcome}|{verdict}"
        self.rows.append(line)
        print(line, flush=True)

    def latency_ok(self, server, latency):
        fetch, report = latency
        if fetch is None or fetch > 1000:
            return False
        return server.kind != "icon" or (report is not None and report <= 1000)

    @staticmethod
    def close_all(connections):
        for connection in connections:
            writer = connection[1] if isinstance(connection, tuple) else connection
            try:
                writer.close()
            except Exception:
                pass

    @staticmethod
    async def peer_closed(reader, wait=0.01):
        """Whether the server closed the connection (what it sent before is read and dropped)."""
        try:
            while True:
                if not await asyncio.wait_for(reader.read(1 << 16), wait):
                    return True
        except asyncio.TimeoutError:
            return False
        except (OSError, ssl.SSLError):
            return True

    async def settle(self, server, seconds=12):   # past the server's 10 s MemoryTrimmer
        await asyncio.sleep(seconds)
        return server.rss_mib()

    # ---- the cases -------------------------------------------------------------------------

    async def downloads(self, server):
        a = self.args
        url = f"https://localhost:{server.port}/image/bench/bench.iso"
        idle = server.rss_mib()
        with Sampler(server) as sampler:
            procs = [await asyncio.create_subprocess_exec(
                "curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "--max-time", str(a.max_time),
                "--cacert", a.ca, "--cert", a.cert, "--key", a.key, "--resolve", f"localhost:{server.port}:127.0.0.1",
                url, stdout=asyncio.subprocess.PIPE) for _ in range(a.downloads)]
            await asyncio.sleep(1)
            latency = await self.probe(server)
            outputs = [(await p.communicate())[0].decode().split() for p in procs]
        complete = sum(1 for o in outputs if o == ["200", str(a.size_mib << 20)])
        after = await self.settle(server)
        ok = (complete == a.downloads and sampler.peak < a.goal_rss_mib and after < idle + 64
              and latency[0] is not None)
        self.row(f"{a.downloads} downloads x {a.size_mib} MiB", server, sampler.peak, after, latency,
                 f"{complete}/{a.downloads} complete", ok)

    async def stalled(self, server):
        a = self.args
        idle = server.rss_mib()

        async def reader():
            r, w = await self.tls_connect(server)
            w.write(b"GET /image/bench/bench.iso HTTP/1.1\r\nHost: localhost\r\n\r\n")
            await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 20)   # then reads nothing more
            return r, w

        with Sampler(server) as sampler:
            held = await self.many(a.stalled, reader)
            await asyncio.sleep(a.hold)
            latency = await self.probe(server)
        self.close_all(held)
        after = await self.settle(server)
        ok = (len(held) == a.stalled and sampler.peak < a.goal_rss_mib and after < idle + 64
              and self.latency_ok(server, latency))
        self.row(f"{a.stalled} stalled readers", server, sampler.peak, after, latency,
                 f"{len(held)} held {a.hold} s", ok)

    async def idle(self, server):
        a = self.args
        with Sampler(server) as sampler:
            held = await self.many(a.connections, lambda: self.tls_connect(server))
            await asyncio.sleep(a.hold)
            latency = await self.probe(server)
        self.close_all(held)
        after = await self.settle(server)
        self.row(f"{a.connections} idle TLS connections", server, sampler.peak, after, latency,
                 f"{len(held)} held", self.latency_ok(server, latency))

    async def slowloris(self, server):
        a = self.args

        async def slow():
            r, w = await self.tls_connect(server)
            w.write(b"GET /image/bench/manifest.json HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            return r, w

        with Sampler(server) as sampler:
            held = await self.many(a.connections, slow)
            latencies = []
            # Every connection gets the whole window, counted from when the last one opened.
            deadline = time.monotonic() + a.slowloris_seconds
            next_probe = time.monotonic() + 2
            while time.monotonic() < deadline:
                for _, w in held:
                    if not w.is_closing():
                        try:
                            w.write(b"a")
                        except Exception:
                            pass
                if time.monotonic() >= next_probe:
                    latencies.append(await self.probe(server))
                    next_probe = time.monotonic() + 5
                await asyncio.sleep(1)
            await asyncio.sleep(0.5)
        cut = sum([await self.peer_closed(r) for r, _ in held])
        self.close_all(held)
        after = await self.settle(server)
        fetch = [l[0] for l in latencies]
        report = [l[1] for l in latencies]
        worst = lambda values: None if not values or None in values else max(values)
        latency = (worst(fetch), worst(report) if server.kind == "icon" else None)
        ok = len(held) == a.connections and cut == len(held) and self.latency_ok(server, latency)
        self.row(f"{a.connections} slowloris (1 B/s)", server, sampler.peak, after, latency,
                 f"{cut}/{len(held)} cut within {a.slowloris_seconds} s", ok)

    MALFORMED = [
        ("NUL", b"GET /image/bench/manifest.json HTTP/1.1\r\nHost: localhost\r\nX-Bad: a\0b\r\n\r\n", 400),
        ("200KB-header", b"GET /image/bench/manifest.json HTTP/1.1\r\nHost: localhost\r\nX-Big: "
         + b"a" * 200_000 + b"\r\n\r\n", 431),
        ("3000-headers", b"GET /image/bench/manifest.json HTTP/1.1\r\nHost: localhost\r\n"
         + b"".join(b"X-H%d: v\r\n" % i for i in range(3000)) + b"\r\n", 431),
        ("100KB-URL", b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 414),
        ("LF-only", b"GET /image/bench/manifest.json HTTP/1.1\nHost: localhost\n\n", None),
    ]

    async def malformed(self, server):
        results, ok = [], True
        with Sampler(server) as sampler:
            for name, request, expected in self.MALFORMED:
                status, closed = "-", False
                try:
                    r, w = await self.tls_connect(server)
                    try:
                        w.write(request)
                        await w.drain()
                    except (OSError, ssl.SSLError):
                        pass
                    got = b""
                    try:
                        while len(got) < 1 << 20:
                            chunk = await asyncio.wait_for(r.read(65536), 10)
                            if not chunk:
                                closed = True
                                break
                            got += chunk
                    except (OSError, asyncio.TimeoutError, ssl.SSLError):
                        pass
                    w.close()
                    if got.startswith(b"HTTP/1.1 "):
                        status = got[9:12].decode()
                except (OSError, asyncio.TimeoutError, ssl.SSLError):
                    pass
                # LF-only lines: any answer will do, then the connection stays usable or closes.
                answered = status != "-" and (expected is None or status == str(expected))
                ok &= answered and (closed or expected is None)
                results.append(f"{name} {status}{'' if closed else ' open'}")
            latency = await self.probe(server)
        after = await self.settle(server, 1)
        self.row("malformed requests", server, sampler.peak, after, latency, ", ".join(results), ok)

    async def flood(self, server):
        a = self.args

        async def raw():
            return await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", server.port, local_addr=(ATTACKER, 0)), 10)

        with Sampler(server) as sampler:
            held = await self.many(a.connections, raw, parallel=500)
            await asyncio.sleep(a.hold)
            latency = await self.probe(server)
            refused = sum([await self.peer_closed(r) for r, _ in held])
        self.close_all(held)
        after = await self.settle(server)
        self.row(f"{a.connections} raw TCP connections", server, sampler.peak, after, latency,
                 f"{len(held) - refused} held, {refused} refused", self.latency_ok(server, latency))


async def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--icon", required=True, help="port:pid of icon server")
    parser.add_argument("--nginx", help="port:pid of nginx's master process")
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--downloads", type=int, default=50)
    parser.add_argument("--size-mib", type=int, default=100)
    parser.add_argument("--stalled", type=int, default=200)
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--hold", type=int, default=5)
    parser.add_argument("--slowloris-seconds", type=int, default=14)
    parser.add_argument("--max-time", type=int, default=600)
    parser.add_argument("--goal-rss-mib", type=int, default=256)
    parser.add_argument("--cases", default="downloads,stalled,idle,slowloris,malformed,flood")
    args = parser.parse_args()
    servers = [Server("icon", *map(int, args.icon.split(":")), "icon")]
    if args.nginx:
        servers.append(Server("nginx", *map(int, args.nginx.split(":")), "nginx"))
    bench = Bench(args)
    for server in servers:
        print(f"idle|{server.name}|{server.rss_mib()}|||||", flush=True)
    for case in args.cases.split(","):
        for server in servers:
            if case == "flood" and server.kind != "icon":
                continue
            await getattr(bench, case)(server)
    raise SystemExit(1 if bench.failed else 0)


if __name__ == "__main__":
    asyncio.run(main())
