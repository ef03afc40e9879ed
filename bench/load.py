"""The load driver and its statistics: a fixed list of requests sent at a fixed concurrency.

`concurrency` asyncio tasks share one httpx.AsyncClient and take the next prepared request as
soon as their previous one has been answered (a closed loop: never more than `concurrency`
requests in flight). Each request's latency is measured from just before it is sent to the end
of its body; the requests are built before the clock starts, so building them costs nothing in
the figures.
"""

from __future__ import annotations

import asyncio
import math
import os
import resource
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

ERROR_SAMPLES = 3


@dataclass(frozen=True)
class Call:
    """One prepared HTTP request."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass
class Measurement:
    """What one series of requests gave. Latencies in milliseconds."""

    requests: int
    errors: int
    seconds: float
    rps: float
    p50: float
    p95: float
    p99: float
    mean: float
    max: float
    client_cpu: float  # share of one CPU the load driver itself used during the series
    # CPU time per request (ms) of the application server (all gunicorn processes) and of the
    # database server (PostgreSQL processes, when this run started them); None if unmeasured.
    server_cpu_ms: float | None
    db_cpu_ms: float | None
    # CPUs kept busy on average by everything else on the machine during the series (another
    # program, a test suite): the figures of a series are only worth much when it is near 0.
    others_cpus: float | None
    error_samples: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p % of the values at or below
    it (no interpolation, so every figure is a latency that was actually observed)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Raw:
    """One series as observed: the latencies of the successful calls, the failures, the wall
    time and the load driver's own CPU time."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    samples: list[str] = field(default_factory=list)
    server_cpu: float | None = None
    db_cpu: float | None = None
    others_cpu: float | None = None

    @property
    def sent(self) -> int:
        return len(self.latencies) + self.errors


def summarise(raws: Sequence[Raw]) -> Measurement:
    """Several series of the same target as one: requests per second over their summed wall
    time, percentiles over all their latencies."""
    ordered = sorted(x for raw in raws for x in raw.latencies)
    seconds = sum(raw.seconds for raw in raws)
    cpu = sum(raw.cpu for raw in raws)
    done = len(ordered)
    sent = sum(raw.sent for raw in raws)

    def per_request(values: list[float | None]) -> float | None:
        if not sent or any(v is None for v in values):
            return None
        return round(sum(v for v in values if v is not None) * 1000 / sent, 2)

    return Measurement(
        requests=done,
        errors=sum(raw.errors for raw in raws),
        seconds=round(seconds, 3),
        rps=round(done / seconds, 1) if seconds > 0 else math.nan,
        p50=round(percentile(ordered, 50), 2),
        p95=round(percentile(ordered, 95), 2),
        p99=round(percentile(ordered, 99), 2),
        mean=round(sum(ordered) / done, 2) if done else math.nan,
        max=round(ordered[-1], 2) if done else math.nan,
        client_cpu=round(cpu / seconds, 2) if seconds > 0 else math.nan,
        server_cpu_ms=per_request([raw.server_cpu for raw in raws]),
        db_cpu_ms=per_request([raw.db_cpu for raw in raws]),
        others_cpus=(
            round(sum(raw.others_cpu or 0.0 for raw in raws) / seconds, 2)
            if seconds > 0 and all(raw.others_cpu is not None for raw in raws)
            else None
        ),
        error_samples=[x for raw in raws for x in raw.samples][:ERROR_SAMPLES],
    )


async def _drive(base_url: str, calls: Sequence[Call], concurrency: int, expect: int) -> Raw:
    raw = Raw()
    pending = iter(calls)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0) as client:

        async def worker() -> None:
            for call in pending:  # one shared iterator: each call is sent once
                began = time.perf_counter()
                try:
                    response = await client.request(
                        call.method, call.path, headers=call.headers, content=call.body
                    )
                    elapsed = time.perf_counter() - began
                    ok = response.status_code == expect
                    detail = f"HTTP {response.status_code}: {response.text[:300]}"
                except httpx.HTTPError as exc:
                    elapsed = time.perf_counter() - began
                    ok = False
                    detail = f"{type(exc).__name__}: {exc}"
                if ok:
                    raw.latencies.append(elapsed * 1000)
                else:
                    raw.errors += 1
                    if len(raw.samples) < ERROR_SAMPLES:
                        raw.samples.append(f"{call.method} {call.path[:80]} -> {detail}")

        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        raw.seconds = time.perf_counter() - started
        raw.cpu = _cpu_seconds() - cpu_before
    return raw


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(base_url: str, calls: Sequence[Call], *, concurrency: int, expect: int) -> Raw:
    """Send every call, `concurrency` at a time; a call answered with another status than
    `expect` (or not answered) counts as an error and is left out of the latencies."""
    return asyncio.run(_drive(base_url, calls, concurrency, expect))


def process_tree_cpu(root: int) -> float:
    """CPU seconds used so far by a process and all its descendants, the finished ones included
    (the kernel adds a child's time to its parent's cutime/cstime when it is reaped): sampled
    before and after a series, the difference is what the tree spent on it (Linux /proc)."""
    children: dict[int, list[int]] = {}
    own: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces: the fields start after its closing parenthesis.
        fields = stat[stat.rindex(")") + 2 :].split()
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        own[pid] = sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += own.get(pid, 0.0)
        stack.extend(children.get(pid, []))
    return total


def machine_busy_cpu() -> float:
    """CPU seconds the whole machine has spent busy since boot (Linux /proc/stat), all CPUs."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def fetch(base_url: str, call: Call) -> httpx.Response:
    """One call, outside any measurement (checks before a series)."""
    with httpx.Client(base_url=base_url, timeout=60.0) as client:
        return client.request(call.method, call.path, headers=call.headers, content=call.body)
