"""CPU use over a measured window, from /proc: of given process trees, of every
`postgres` process, and of the whole machine (Linux only; elsewhere it reads nothing)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(comm, ppid, utime+stime seconds) of a process, None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    return comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def _all() -> dict[int, tuple[str, int, float]]:
    out = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                out[int(entry.name)] = stat
    return out


def _tree(procs: dict[int, tuple[str, int, float]], roots: list[int]) -> set[int]:
    members = {r for r in roots if r in procs}
    grew = True
    while grew:
        grew = False
        for pid, (_, ppid, _) in procs.items():
            if ppid in members and pid not in members:
                members.add(pid)
                grew = True
    return members


def _machine_busy() -> tuple[float, float]:
    """(busy seconds, total seconds) of all CPUs since boot."""
    try:
        parts = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0, 0.0
    values = [int(v) for v in parts[:8]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / _TICKS, sum(values) / _TICKS


@dataclass
class CpuUse:
    """Cores used on average over the window (1.0 = one core fully busy)."""

    api: float
    postgres: float
    machine: float
    cores: int

    def describe(self) -> str:
        return (
            f"CPU: API processes {self.api:.2f} cores, postgres processes {self.postgres:.2f}, "
            f"whole machine {self.machine:.2f} of {self.cores}"
        )


class CpuWindow:
    """Start it before the measured phase, call `stop()` after."""

    def __init__(self, api_roots: list[int]) -> None:
        self.roots = api_roots
        self.before = _all()
        self.busy0, _ = _machine_busy()
        self.t0 = time.perf_counter()

    def stop(self) -> CpuUse:
        wall = time.perf_counter() - self.t0
        after = _all()
        busy1, _ = _machine_busy()
        api = _tree(after, self.roots) | _tree(self.before, self.roots)

        def used(pids: set[int]) -> float:
            total = 0.0
            for pid in pids:
                if pid in after:
                    start = self.before.get(pid)
                    total += after[pid][2] - (
                        start[2] if start and start[0] == after[pid][0] else 0
                    )
            return total

        postgres = {pid for pid, (comm, _, _) in after.items() if comm.startswith("postgres")}
        wall = wall or 1e-9
        return CpuUse(
            api=used(api) / wall,
            postgres=used(postgres) / wall,
            machine=(busy1 - self.busy0) / wall,
            cores=os.cpu_count() or 1,
        )


def connections_by_process(root: int, port: int) -> list[int]:
    """How many established TCP connections to `port` each process of `root`'s tree
    holds, largest first (Linux /proc; [] elsewhere): how the kernel gave a run's
    keep-alive clients to the API processes."""
    inodes: set[str] = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{inode}]")
    counts = []
    for pid in sorted(_tree(_all(), [root])):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        links = set()
        for fd in fds:
            try:
                links.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:  # closed meanwhile (the listing's own, for one)
                continue
        held = len(links & inodes)
        if held:
            counts.append(held)
    return sorted(counts, reverse=True)
