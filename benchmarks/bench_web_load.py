"""Load test of the web server on the demo store: logged-in users reading pages and the API.

Gives the demo accounts a known password and starts as many sessions in the store as
the largest user count (round robin over the six demo accounts, each session its own
cookie, signed with the run's secret key: checking hundreds of Argon2 passwords would
only measure the hashing, which is slow by design), starts ``dualcontrol serve`` on the
demo store (a separate process, as in use), logs in once per account through the login
form (the login must work), then lets N users read for ``--duration`` seconds each:
every user sends a request, waits for the whole answer, waits ``--think`` seconds and
sends the next (a closed loop: with no think time the server is saturated and the
figures are its capacity). The mix is the
dashboard and the API reads: the overview, a league page, the league accounts, the
region accounts, a league's accounts, the barometer and the budget (see :data:`MIX`);
each account reads only what it may (checked before the run: a refused read is an
error).

It prints requests per second, the 50th/95th/99th percentile latency and the errors
(any answer but 200, a broken connection or a timeout) for each user count, for the
server as configured and for a baseline in the same run (``--baseline``: the server
with ``DUALCONTROL_WEB_CACHE_RESULTS=false``, the behaviour before the result cache;
or the code of another checkout, ``--baseline-src /path/to/src``), and the ratios.
It also times the start: from launching the server to its first answer, and the first
overview page after that.

    dualcontrol demo --no-serve          # builds var/dualcontrol.duckdb (once)
    PYTHONPATH=src python benchmarks/bench_web_load.py [--users 50,200] [--duration 30]
        [--think 0] [--baseline cache-off|none] [--baseline-src DIR] [--store FILE]

The client is a small HTTP/1.1 keep-alive client on asyncio (:class:`Connection`), so
that the load generator, which shares the machine with the server, costs little CPU.
It sends ``Accept-Encoding: gzip`` as browsers do and counts bytes as received.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
#: Password given to the demo accounts for the run.
PASSWORD = "load-test-" + secrets.token_urlsafe(8)
#: What the users read, with weights (``{league}``: the user's league or a random one).
MIX: tuple[tuple[str, int], ...] = (
    ("/", 30),
    ("/league/{league}", 15),
    ("/api/accounts?level=league", 15),
    ("/api/accounts?level=region", 5),
    ("/api/accounts/league/{league}", 10),
    ("/api/assessment/barometer", 15),
    ("/api/assessment/budget", 10),
)
#: Longest wait for one answer before it counts as an error [s].
TIMEOUT_S = 60.0


# --------------------------------------------------------------------- the client
class Connection:
    """One keep-alive HTTP/1.1 connection sending GET requests with a cookie."""

    def __init__(self, host: str, port: int, cookie: str) -> None:
        self.host, self.port, self.cookie = host, port, cookie
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def get(self, path: str) -> tuple[int, int]:
        """Send GET ``path``; return (status, body bytes)."""
        for attempt in (1, 2):  # a keep-alive connection closed by the server: reopen once
            if self.writer is None:
                await self._open()
            assert self.reader is not None and self.writer is not None
            self.writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Cookie: {self.cookie}\r\nAccept-Encoding: gzip\r\n"
                f"Accept: text/html,application/json\r\n\r\n".encode()
            )
            try:
                await self.writer.drain()
                head = await self.reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
                continue
            return await self._rest(head)
        raise ConnectionError("unreachable")

    async def _rest(self, head: bytes) -> tuple[int, int]:
        assert self.reader is not None
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        size = 0
        if "content-length" in headers:
            size = int(headers["content-length"])
            await self.reader.readexactly(size)
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                line = await self.reader.readuntil(b"\r\n")
                chunk = int(line.split(b";")[0], 16)
                await self.reader.readexactly(chunk + 2)
                size += chunk
                if chunk == 0:
                    break
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, size


# --------------------------------------------------------------------- the server
@dataclass
class Server:
    """A ``dualcontrol serve`` process started for the run."""

    process: subprocess.Popen
    port: int
    launched: float
    ready_s: float = 0.0
    first_page_s: float = 0.0
    warm_s: float = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    store: Path, home: Path, *, src: Path, env_extra: dict[str, str], log: Path, secret: str
) -> Server:
    """Start the server on ``store`` and wait for its first answer and first overview."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(src),
        "DUALCONTROL_DB": f"duckdb:///{store}",
        "DUALCONTROL_HOME": str(home),
        "DUALCONTROL_WEB_SECRET_KEY": secret,
        **env_extra,
    }
    launched = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dualcontrol",
            "serve",
            "--port",
            str(port),
            "--inputs",
            str(ROOT / "examples"),
        ],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=str(home),
    )
    server = Server(process, port, launched)
    deadline = time.monotonic() + 300
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped (see {log})")
        try:
            httpx.get(f"{server.base}/login", timeout=5)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError("the server did not answer in 300 s") from None
            time.sleep(0.05)
    server.ready_s = time.perf_counter() - launched
    started = time.perf_counter()
    answer = httpx.get(f"{server.base}/", timeout=TIMEOUT_S)
    server.first_page_s = time.perf_counter() - started
    answer.raise_for_status()
    return server


def prepare_store(
    store: Path,
    count: int,
    secret: str,
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Give the demo accounts the run's password and start ``count`` sessions in the
    store (round robin over the accounts), as logging in does but without checking
    ``count`` passwords (Argon2 takes a fraction of a second each, by design).

    Returns (user, its league or ''), the leagues, and the sessions' cookie headers.
    """
    from dualcontrol.store import open_store
    from dualcontrol.web.data import StoreData
    from dualcontrol.web.demo_users import create_demo_users, demo_accounts
    from dualcontrol.web.security import SessionSigner
    from dualcontrol.web.sessions import start_session
    from dualcontrol.web.settings import WebSettings
    from dualcontrol.web.store_users import StoreUsers

    settings = WebSettings(secret_key=secret)
    signer = SessionSigner(secret, settings.session_max_age_s)
    with open_store(f"duckdb:///{store}") as opened:
        hierarchy = StoreData(opened).hierarchy()
        accounts = demo_accounts(hierarchy)
        users = StoreUsers(opened)
        create_demo_users(users, accounts, password=PASSWORD)
        cookies = []
        for i in range(count):
            session = start_session(
                users,
                username=accounts[i % len(accounts)].username,
                client="127.0.0.1",
                max_age_s=settings.session_max_age_s,
            )
            cookies.append(f"{settings.session_cookie}={signer.dump(session)}")
    leagues = sorted(hierarchy["league"].astype(str).unique())
    own = {
        a.username: (a.scope.key if a.scope and a.scope.level == "league" else "") for a in accounts
    }
    for a in accounts:
        if a.scope and a.scope.level == "enterprise":
            own[a.username] = str(
                hierarchy.loc[hierarchy["enterprise"] == a.scope.key, "league"].iloc[0]
            )
    return [(a.username, own[a.username]) for a in accounts], leagues, cookies


async def login(client: httpx.AsyncClient, username: str) -> str:
    """Log in as ``username``; return the session cookie header value."""
    form = await client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf, "no CSRF token on the login page"
    answer = await client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf.group(1)}
    )
    if answer.status_code != 303:
        raise RuntimeError(f"login of {username} answered {answer.status_code}")
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


@dataclass
class User:
    """A logged-in session and the requests it may make."""

    username: str
    cookie: str
    paths: list[str]
    weights: list[int]


@dataclass
class Result:
    """Latencies [s] and errors of one run."""

    users: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    bytes: int = 0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)  # nearest rank
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


async def make_users(
    base: str, accounts: list[tuple[str, str]], leagues: list[str], cookies: list[str]
) -> list[User]:
    """Log in once per account through the form (the login must work), find the reads
    each account may make, and return one user per session cookie."""
    allowed: dict[str, tuple[list[str], list[int]]] = {}
    for username, own in accounts:
        async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT_S) as client:
            await login(client, username)
            paths, weights = [], []
            for template, weight in MIX:
                status = (await client.get(template.format(league=own or leagues[0]))).status_code
                if status == 200:
                    paths.append(template.replace("{league}", own or "{league}"))
                    weights.append(weight)
                elif status not in (401, 403):
                    raise RuntimeError(f"{template} answered {status} to {username}")
            allowed[username] = (paths, weights)
    return [
        User(accounts[i % len(accounts)][0], cookie, *allowed[accounts[i % len(accounts)][0]])
        for i, cookie in enumerate(cookies)
    ]


async def run_users(
    port: int,
    users: list[User],
    leagues: list[str],
    *,
    duration_s: float,
    think_s: float,
    seed: int,
) -> Result:
    """Let ``users`` read for ``duration_s`` seconds; return what they saw."""
    result = Result(len(users), duration_s)
    stop_at = time.perf_counter() + duration_s
    rng = random.Random(seed)

    async def loop(user: User) -> None:
        connection = Connection("127.0.0.1", port, user.cookie)
        local = random.Random(rng.random())
        await asyncio.sleep(local.random() * min(1.0, think_s or 0.2))  # stagger the start
        try:
            while time.perf_counter() < stop_at:
                path = local.choices(user.paths, user.weights)[0]
                path = path.replace("{league}", local.choice(leagues))
                started = time.perf_counter()
                try:
                    status, size = await asyncio.wait_for(connection.get(path), TIMEOUT_S)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    result.errors += 1
                    name = type(exc).__name__
                    result.statuses[name] = result.statuses.get(name, 0) + 1
                    await connection.close()
                    continue
                if time.perf_counter() > stop_at + TIMEOUT_S:
                    break
                result.latencies.append(time.perf_counter() - started)
                result.bytes += size
                result.statuses[str(status)] = result.statuses.get(str(status), 0) + 1
                if status != 200:
                    result.errors += 1
                if think_s:
                    await asyncio.sleep(local.expovariate(1 / think_s))
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(loop(u) for u in users))
    result.seconds = time.perf_counter() - started
    return result


def wait_for_warm(home: Path, server: Server, known_s: float | None) -> float:
    """Wait until the server kept its warmed-up results on disk (or, without a results
    folder, as long as ``known_s`` after launch); return the seconds since launch."""
    folder = home / "web-results"
    deadline = time.monotonic() + 600
    while known_s is None and time.monotonic() < deadline:
        if folder.is_dir() and any(".partial" not in p.name for p in folder.iterdir()):
            return time.perf_counter() - server.launched
        time.sleep(0.5)
    if known_s is not None:
        time.sleep(max(0.0, known_s - (time.perf_counter() - server.launched)))
    return time.perf_counter() - server.launched


def measure(
    label: str,
    store: Path,
    home: Path,
    *,
    src: Path,
    env_extra: dict[str, str],
    accounts: list[tuple[str, str]],
    leagues: list[str],
    cookies: list[str],
    counts: list[int],
    duration_s: float,
    think_s: float,
    log_dir: Path,
    secret: str,
    warm_s: float | None = None,
) -> tuple[Server, list[Result]]:
    """Start a server, check the logins, run each user count; return the server and results."""
    server = start_server(
        store,
        home,
        src=src,
        env_extra=env_extra,
        log=log_dir / f"server-{label}.log",
        secret=secret,
    )
    try:
        print(
            f"[{label}] server answered {server.ready_s:.1f} s after launch; first overview "
            f"{server.first_page_s:.2f} s",
            flush=True,
        )
        users = asyncio.run(make_users(server.base, accounts, leagues, cookies))
        server.warm_s = wait_for_warm(home, server, warm_s)
        print(
            f"[{label}] warm-up (every whole-store table) done {server.warm_s:.0f} s after "
            "launch (the baseline waits as long)",
            flush=True,
        )
        results = []
        for count in counts:
            result = asyncio.run(
                run_users(
                    server.port,
                    users[:count],
                    leagues,
                    duration_s=duration_s,
                    think_s=think_s,
                    seed=count,
                )
            )
            print(f"[{label}] {line(result)}", flush=True)
            results.append(result)
        return server, results
    finally:
        server.stop()


def line(r: Result) -> str:
    answers = ", ".join(f"{k}: {v}" for k, v in sorted(r.statuses.items()))
    return (
        f"{r.users:4d} users  {r.rate:8.1f} req/s  p50 {r.percentile(50) * 1000:8.1f} ms  "
        f"p95 {r.percentile(95) * 1000:8.1f} ms  p99 {r.percentile(99) * 1000:8.1f} ms  "
        f"errors {r.errors:5d}  ({len(r.latencies)} answers: {answers}; "
        f"{r.bytes / max(len(r.latencies), 1) / 1024:.1f} KiB each)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--store",
        type=Path,
        default=Path("var/dualcontrol.duckdb"),
        help="the demo store (dualcontrol demo --no-serve builds it)",
    )
    parser.add_argument("--users", default="50,200", help="user counts, comma-separated")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per count")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean think time between a user's requests [s] (0: saturate)",
    )
    parser.add_argument("--baseline", choices=("cache-off", "none"), default="cache-off")
    parser.add_argument(
        "--baseline-src",
        type=Path,
        default=None,
        help="run the baseline from this source tree (e.g. main's src)",
    )
    parser.add_argument(
        "--baseline-duration",
        type=float,
        default=None,
        help="seconds per count of the baseline (default: --duration)",
    )
    args = parser.parse_args()
    store = args.store.resolve()
    if not store.exists():
        sys.exit(f"no store {store}: build it with `dualcontrol demo --no-serve`")
    counts = [int(c) for c in args.users.split(",")]
    work = Path(tempfile.mkdtemp(prefix="dualcontrol-load-"))
    # the server keeps its secret and kept results in its data folder: a fresh one per
    # run, so the first start computes everything (the results folder is then reused
    # by the baseline only if it is the same code, which it ignores when cache-off)
    home = work / "home"
    home.mkdir()
    secret = secrets.token_urlsafe(32)
    accounts, leagues, cookies = prepare_store(store, max(counts), secret)
    print(
        f"store {store}; {len(accounts)} demo accounts, {len(leagues)} leagues; "
        f"{os.cpu_count()} CPUs (shared with other work: figures vary between runs); "
        f"think time {args.think} s; {args.duration:.0f} s per user count",
        flush=True,
    )
    src = ROOT / "src"
    runs: dict[str, tuple[Server, list[Result]]] = {}
    try:
        runs["current"] = measure(
            "current",
            store,
            home,
            src=src,
            env_extra={},
            accounts=accounts,
            leagues=leagues,
            cookies=cookies,
            counts=counts,
            duration_s=args.duration,
            think_s=args.think,
            log_dir=work,
            secret=secret,
        )
        # started again on the same code: reads the results kept on disk by the first start
        restart = start_server(
            store, home, src=src, env_extra={}, log=work / "server-restart.log", secret=secret
        )
        restart.stop()
        print(
            f"[restart] server answered {restart.ready_s:.1f} s after launch; first "
            f"overview {restart.first_page_s:.2f} s (results read from disk)",
            flush=True,
        )
        if args.baseline != "none" or args.baseline_src:
            extra = {} if args.baseline_src else {"DUALCONTROL_WEB_CACHE_RESULTS": "false"}
            baseline_home = work / "home-baseline"
            baseline_home.mkdir()
            runs["baseline"] = measure(
                "baseline",
                store,
                baseline_home,
                src=(args.baseline_src or src).resolve(),
                env_extra=extra,
                accounts=accounts,
                leagues=leagues,
                cookies=cookies,
                counts=counts,
                duration_s=args.baseline_duration or args.duration,
                think_s=args.think,
                log_dir=work,
                secret=secret,
                warm_s=runs["current"][0].warm_s,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(runs, restart)


def report(runs: dict[str, tuple[Server, list[Result]]], restart: Server) -> None:
    print()
    print("| server | users | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, (_, results) in runs.items():
        for r in results:
            print(
                f"| {label} | {r.users} | {r.rate:.1f} | {r.percentile(50) * 1000:.0f} | "
                f"{r.percentile(95) * 1000:.0f} | {r.percentile(99) * 1000:.0f} | "
                f"{r.errors} |"
            )
    if "baseline" in runs:
        for now, before in zip(runs["current"][1], runs["baseline"][1], strict=True):
            print(
                f"{now.users} users: {now.rate / before.rate:.1f}x the requests per "
                f"second of the baseline; p99 {before.percentile(99) * 1000:.0f} ms -> "
                f"{now.percentile(99) * 1000:.0f} ms"
            )
    for label, (server, _) in runs.items():
        print(
            f"{label}: first answer {server.ready_s:.1f} s after launch, first overview "
            f"page {server.first_page_s:.2f} s"
        )
    print(
        f"restart: first answer {restart.ready_s:.1f} s after launch, first overview "
        f"page {restart.first_page_s:.2f} s"
    )


if __name__ == "__main__":
    main()
