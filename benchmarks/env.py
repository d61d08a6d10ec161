"""What a figure was measured on: machine, load, interpreter, library versions, commit and date. Without
these a number in latest.json cannot be compared with the next one."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from typing import Any

PACKAGES = ("hypothesis", "lmdb", "rocksdict", "pylance", "pyarrow", "pytest", "pytest-xdist")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10, check=True,
                             cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def load() -> list[float] | None:
    """1, 5 and 15 minute load averages: another job on the machine shows here, not in the figures."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def describe() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpu": _cpu_model(), "cores": os.cpu_count(), "memory_gib": _mem_gib(),
                    "platform": platform.platform(), "load_at_start": load()},
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "versions": versions,
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(status) if status is not None else None,
    }
