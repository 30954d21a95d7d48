"""Helpers shared by the benchmarks: machine facts, measured child runs, RESULTS.md sections."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
POLL_SECONDS = 0.05
MIB = 1024 * 1024


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(packages: tuple[str, ...] = ("growthkit", "duckdb", "pandas", "pyarrow", "numpy")) -> dict[str, str]:
    """Facts about this machine and the library versions, for a results header."""
    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{_cpu_model()}, {os.cpu_count()} logical cores",
        "ram": f"{psutil.virtual_memory().total / 1024**3:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "load average at start (1/5/15 min)": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    info.update({p: _version(p) for p in packages})
    return info


@dataclass(frozen=True)
class ChildRun:
    """One measured child process: its JSON answer (if any), wall time and peak RSS seen from outside."""

    answer: dict[str, Any] | None
    wall_seconds: float
    polled_peak_rss: int
    """Largest RSS (bytes) of the child and its descendants, sampled every 50 ms."""
    timed_out: bool
    returncode: int | None
    stderr_tail: str


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def _watch(popen: subprocess.Popen[bytes], timeout: float) -> tuple[int, bool]:
    """Poll the child's RSS until it exits or ``timeout`` passes (then kill it)."""
    proc = psutil.Process(popen.pid)
    peak = 0
    deadline = time.monotonic() + timeout
    while popen.poll() is None:
        peak = max(peak, _tree_rss(proc))
        if time.monotonic() > deadline:
            popen.kill()
            popen.wait()
            return peak, True
        time.sleep(POLL_SECONDS)
    return peak, False


def _last_json_line(text: str) -> dict[str, Any] | None:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            try:
                parsed: dict[str, Any] = json.loads(line)
            except json.JSONDecodeError:
                continue
            return parsed
    return None


def run_child(args: list[str], *, workdir: Path, timeout: float) -> ChildRun:
    """Run ``python *args`` in a fresh process, watch its memory, and parse the last JSON line it prints."""
    out_path, err_path = workdir / "child.out", workdir / "child.err"
    t0 = time.perf_counter()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        popen = subprocess.Popen([sys.executable, *args], stdout=out, stderr=err, cwd=workdir)
        peak, timed_out = _watch(popen, timeout)
    wall = time.perf_counter() - t0
    answer = None if timed_out else _last_json_line(out_path.read_text(errors="replace"))
    stderr_tail = err_path.read_text(errors="replace")[-2000:]
    return ChildRun(answer, wall, peak, timed_out, popen.returncode, stderr_tail)


def replace_section(path: Path, name: str, body: str, *, title: str = "# Benchmark results") -> None:
    """Write ``body`` between ``<!-- name:start -->`` and ``<!-- name:end -->`` in ``path``, keeping the rest."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.exists() else f"{title}\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def markdown_table(headers: list[str], rows: list[list[str]], *, right: set[int] | None = None) -> str:
    """A GitHub markdown table; columns in ``right`` are right-aligned."""
    right = right or set()
    align = ["---:" if i in right else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def peak_rss_bytes() -> int:
    """This process's own peak RSS: ``VmHWM`` of its address space.

    Not ``ru_maxrss``: Linux carries the parent's high-water mark into a child across fork and exec,
    so a child of a parent that once held 2 GB would report at least 2 GB.
    """
    import resource

    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
