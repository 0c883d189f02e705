"""Where the desktop's memory goes — for ``benchmarks/ui_startup.py`` only (issue 6).

Qt-free and imported only when the benchmark asks (``CALLSYS_QUIT_WHEN_READY``): the figures of
``/proc/self/status`` and ``/proc/self/smaps_rollup`` (Linux; empty elsewhere), and, with
``CALLSYS_MEMORY_DUMP=DIR``, a copy of ``/proc/self/smaps``, the imported modules and — when the
process runs under ``PYTHONTRACEMALLOC`` — the Python allocations per file, for the benchmark's
``--breakdown``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

__all__ = ["DUMP_ENV", "dump", "figures", "thread_cpu", "thread_wakeups"]

DUMP_ENV = "CALLSYS_MEMORY_DUMP"


def _fields(path: str, names: tuple[str, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open(path, encoding="ascii") as lines:
            for line in lines:
                key, _, rest = line.partition(":")
                if key in names:
                    out[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return out


def _schedstat(field: int) -> dict[str, int]:
    """One field of ``/proc/self/task/*/schedstat`` summed per thread name (Linux, else empty)."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for tid in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                name = Path(f"/proc/self/task/{tid}/comm").read_text(encoding="utf-8").strip()
                value = int(
                    Path(f"/proc/self/task/{tid}/schedstat").read_text(encoding="ascii").split()[field]
                )
                key = "".join(c if c.isalnum() else "_" for c in name) or "thread"
                out[key] = out.get(key, 0) + value
    return out


def thread_cpu() -> dict[str, float]:
    """CPU seconds so far per thread name (``/proc/self/task/*``; Linux, else empty): where idle
    CPU goes — the GUI thread (Python, Qt) or pjsua2's media thread, say."""
    return {name: ns / 1e9 for name, ns in _schedstat(0).items()}


def thread_wakeups() -> dict[str, int]:
    """Times each thread was put on a CPU so far, per thread name (the third ``schedstat``
    field): an idle thread runs only when something wakes it, so this counts its wake-ups."""
    return _schedstat(2)


def figures() -> dict[str, int]:
    """Memory in kB: ``rss`` and its parts (anon, file, shmem), ``pss``, ``uss`` (pages no other
    process maps: what quitting this process gives back) and the number of imported modules."""
    status = _fields("/proc/self/status", ("VmRSS", "RssAnon", "RssFile", "RssShmem"))
    rollup = _fields("/proc/self/smaps_rollup", ("Pss", "Private_Clean", "Private_Dirty"))
    out = {
        "rss_kb": status.get("VmRSS", 0),
        "anon_kb": status.get("RssAnon", 0),
        "file_kb": status.get("RssFile", 0),
        "shmem_kb": status.get("RssShmem", 0),
        "modules": len(sys.modules),
    }
    if rollup:
        out["pss_kb"] = rollup.get("Pss", 0)
        out["uss_kb"] = rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)
    return out


def dump(directory: str | None = None) -> None:
    """Write smaps, the module list and (under tracemalloc) Python's allocations to *directory*."""
    where = directory or os.environ.get(DUMP_ENV, "")
    if not where:
        return
    target = Path(where)
    target.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        (target / "smaps").write_bytes(Path("/proc/self/smaps").read_bytes())
    names = sorted(name for name, module in list(sys.modules.items()) if module is not None)
    (target / "modules").write_text("\n".join(names) + "\n", encoding="utf-8")
    import tracemalloc

    if tracemalloc.is_tracing():
        stats = tracemalloc.take_snapshot().statistics("filename")
        rows = [f"{s.size}\t{s.count}\t{s.traceback[0].filename}" for s in stats]
        (target / "tracemalloc").write_text("\n".join(rows) + "\n", encoding="utf-8")
