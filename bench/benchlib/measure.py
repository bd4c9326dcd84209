"""Measuring: latency percentiles and CPU time (processes, PostgreSQL, the machine)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

CLK_TCK = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


class ProcStat(NamedTuple):
    ppid: int
    ticks: int  # utime + stime
    pid: int
    name: str


def proc_stat(pid: int) -> ProcStat | None:
    """A process's /proc/<pid>/stat, None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    name = raw[raw.find("(") + 1 : raw.rfind(")")]
    return ProcStat(int(fields[1]), int(fields[11]) + int(fields[12]), pid, name)


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by `root` and all its living descendants."""
    stats = [s for p in os.listdir("/proc") if p.isdigit() and (s := proc_stat(int(p)))]
    children: dict[int, list[ProcStat]] = {}
    for stat in stats:
        children.setdefault(stat.ppid, []).append(stat)
    total = 0
    own = proc_stat(root)
    if own is None:
        return 0.0
    todo = [own]
    while todo:
        stat = todo.pop()
        total += stat.ticks
        todo += children.get(stat.pid, [])
    return total / CLK_TCK


def database_ticks() -> dict[int, int]:
    """CPU ticks used so far by each living PostgreSQL process (the local server's
    backends, WAL writer, autovacuum...)."""
    stats = (proc_stat(int(p)) for p in os.listdir("/proc") if p.isdigit())
    return {s.pid: s.ticks for s in stats if s is not None and s.name == "postgres"}


def database_cpu_between(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU seconds PostgreSQL used between two readings; a process that exited in
    between is not counted (so this can only undercount)."""
    return sum(t - before.get(pid, 0) for pid, t in after.items()) / CLK_TCK


def machine_busy() -> tuple[float, float]:
    """(busy ticks, all ticks) of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))
