"""Cold start and idle memory of the desktop window, measured in fresh processes (issue 2 and 6).

    .venv/bin/python benchmarks/ui_startup.py [--provider default|sip|sim] [--platform both]
                                              [--runs 7] [--idle 3] [--idle-runs 3] [--breakdown]
    .venv/bin/python benchmarks/ui_startup.py --provider default --idle-cpu [--idle 60] [--pairs 2]

Each run starts ``python -m callsys`` in a new process with its own empty config and data folders
(so nothing is cached by us) and ``CALLSYS_QUIT_WHEN_READY=1``: the app prints the moment its
window is shown and the event loop is idle, stays idle for ``--idle`` seconds, prints its
memory and CPU use, and quits. "Cold start" is from before the process is spawned to that
moment. Goals: cold start ≤ 1.0 s, idle RSS ≤ 120 MB.

``--provider default`` is what ``scripts/run`` starts: no settings file at all, so the embedded
softphone (pjsua2) and the local directory; ``sip`` and ``sim`` write a settings file with that
provider. ``--platform both`` (the default) measures Qt's X11 platform (``xcb``, what an agent's
desktop runs — it maps X, GL/EGL and input-method libraries that ``offscreen`` does not) and
``offscreen`` in the same run, alternating, so the machine's load hits both alike. Without a
``DISPLAY`` an ``Xvfb`` is started on a free display number for the run (and stopped after).

Memory is printed as RSS (with its anonymous / file-backed / shared-memory parts), PSS (shared
pages divided among the processes that map them) and USS (pages only this process maps: what
quitting it gives back), from ``/proc/PID/status`` and ``/proc/PID/smaps_rollup``.
``--breakdown`` adds one more run per platform that reports where the memory goes: RSS per
group of mappings (Qt, Python, pjsua2, numpy, fonts, heap …), the imported modules per package,
and — under ``PYTHONTRACEMALLOC`` — Python's own allocations per package (tracemalloc makes
that run bigger and slower; its RSS is not the idle figure).

The OS file cache is warm after the first run; the first run of each platform is reported
separately for the cold start.

``--idle-cpu`` measures only the idle CPU, over ``--idle`` seconds (60 by default in this mode),
of fresh processes that alternate between the softphone as it is (pjsua2 polled when one of its
sockets is readable, and every 0.5 s; ``providers.sip.provider.IDLE_POLL_INTERVAL``; pjmedia's
threads running only while a call has media, ``providers.sip.pjengine.STOP_MEDIA_WHEN_IDLE``) and
as it was (``--against media``: pjmedia's worker thread and the null sound device's clock running
all the time; ``--against polling``: that, and pjsua2 polled every 20 ms whatever happens;
``--against both``), ``--pairs`` times, and prints each run's CPU and wake-ups per thread (the GUI
thread, pjmedia's threads …) with the load average beside it.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = ("xcb", "offscreen")


# ----------------------------------------------------------------------------- the X server
def _free_display() -> int:
    for number in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return number
    raise SystemExit("no free X display number in :90–:199")


@contextlib.contextmanager
def x_display() -> Iterator[str]:
    """The DISPLAY to run ``xcb`` on: the one we have, or an Xvfb of our own for the run."""
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise SystemExit("no DISPLAY and no Xvfb: install xvfb or run with --platform offscreen")
    number = _free_display()
    server = subprocess.Popen(
        [xvfb, f":{number}", "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"Xvfb :{number} did not start")
            time.sleep(0.05)
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


# ----------------------------------------------------------------------------- one run
def _as_before(setup: str) -> str:
    """``python -c`` code that runs the desktop after *setup* (code that sets things as before)."""
    return f"{setup}; import runpy, sys; sys.argv[0] = 'callsys'; runpy.run_module('callsys', run_name='__main__', alter_sys=True)"


#: pjmedia's threads as before: its worker polling every 10 ms and the null sound device's clock,
#: all the time (imports the engine the desktop would import: the built one, else the wheel).
_MEDIA_BEFORE = "import providers.sip.pjengine as e; e.STOP_MEDIA_WHEN_IDLE = False"
#: ... and the softphone's idle poll interval of before (20 ms: every poll).
_POLLING_BEFORE = _MEDIA_BEFORE + "; import providers.sip.provider as p; p.IDLE_POLL_INTERVAL = 0.0"
BEFORE = {
    "media": ("pjmedia threads always (before)", _MEDIA_BEFORE),
    "polling": ("+ 20 ms polling (earlier)", _POLLING_BEFORE),
}


def one_run(
    provider: str,
    platform: str,
    display: str | None,
    idle: float,
    dump: Path | None = None,
    before: str = "",
) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="callsys-bench-") as tmp:
        argv = [sys.executable, "-c", _as_before(before)] if before else [sys.executable, "-m", "callsys"]
        if provider != "default":
            config = Path(tmp) / "settings.toml"
            config.write_text(
                f'[phone]\nprovider = "{provider}"\n[storage]\ndatabase = "{tmp}/callsys.sqlite3"\n',
                encoding="utf-8",
            )
            argv += ["--config", str(config)]
        env = {
            **os.environ,
            "CALLSYS_QUIT_WHEN_READY": "1",
            "CALLSYS_IDLE_SECONDS": str(idle),
            "XDG_CONFIG_HOME": f"{tmp}/config",
            "XDG_DATA_HOME": f"{tmp}/data",
            "QT_QPA_PLATFORM": platform,
        }
        if display:
            env["DISPLAY"] = display
        if dump is not None:
            env["CALLSYS_MEMORY_DUMP"] = str(dump)
            env["PYTHONTRACEMALLOC"] = "1"
        start = time.time()
        proc = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("callsys-ready ")), None)
        if line is None:
            raise SystemExit(f"no ready line (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        fields = line.split()
        values = dict(f.split("=") for f in fields[2:])
        run = {
            "start_s": float(fields[1]) - start,
            "rss_mb": int(values["rss_kb"]) / 1024,
            "idle_cpu_pct": 100 * float(values["idle_cpu_s"]) / idle if idle else 0.0,
            "cpu_s": float(values["cpu_to_ready_s"]),
        }
        for key in ("rss", "anon", "file", "shmem", "pss", "uss"):
            if f"idle_{key}_kb" in values:
                run[f"idle_{key}_mb"] = int(values[f"idle_{key}_kb"]) / 1024
        run["modules"] = float(values.get("idle_modules", 0))
        for item in values.get("idle_threads", "-").split(","):
            name, _, seconds = item.rpartition(":")
            if name:
                run[f"thread:{name}"] = 100 * float(seconds) / idle if idle else 0.0
        for item in values.get("idle_wakeups", "-").split(","):
            name, _, count = item.rpartition(":")
            if name:
                run[f"wakeups:{name}"] = float(count) / idle if idle else 0.0
        return run


def idle_cpu(args: argparse.Namespace, platform: str, display: str | None) -> None:
    """Idle CPU and wake-ups of the softphone as it is and as it was, alternating fresh processes."""
    idle = args.idle if args.idle_set else 60.0
    against = list(BEFORE) if args.against == "both" else [args.against]
    variants = [("now", ""), *(BEFORE[key] for key in against)]
    print(
        f"idle CPU over {idle:g} s, provider={args.provider}, platform={platform}, "
        f"{args.pairs} rounds ({' / '.join(label for label, _ in variants)}, alternating)"
    )
    results: dict[str, list[dict[str, float]]] = {label: [] for label, _ in variants}
    for _ in range(args.pairs):
        for label, before in variants:
            load = _load()
            run = one_run(args.provider, platform, display, idle, before=before)
            results[label].append(run)
            names = sorted(
                {key.split(":", 1)[1] for key in run if key.startswith(("thread:", "wakeups:"))},
                key=lambda name: -run.get(f"thread:{name}", 0.0),
            )
            threads = ", ".join(
                f"{name} {run.get(f'thread:{name}', 0.0):.3f} % {run.get(f'wakeups:{name}', 0.0):.1f}/s"
                for name in names
                if run.get(f"thread:{name}", 0.0) >= 0.0005 or run.get(f"wakeups:{name}", 0.0) >= 0.05
            )
            wakeups = sum(value for key, value in run.items() if key.startswith("wakeups:"))
            print(
                f"  {label:<32} CPU {run['idle_cpu_pct']:.3f} % of a core, {wakeups:.1f} wake-ups/s "
                f"({threads})  load {load}"
            )
    for label, runs in results.items():
        values = sorted(r["idle_cpu_pct"] for r in runs)
        woken = sorted(sum(v for k, v in r.items() if k.startswith("wakeups:")) for r in runs)
        print(
            f"  {label:<32} median {statistics.median(values):.3f} %, min {values[0]:.3f} %, "
            f"max {values[-1]:.3f} %; wake-ups/s median {statistics.median(woken):.1f}"
        )
    print(f"  goal <= 0.2 % of a core; load after {_load()}")


# ----------------------------------------------------------------------------- breakdown
_GROUPS = (  # (group, pattern on the mapping's path), first match wins
    ("Qt plugins", r"PyQt6/Qt6/plugins/"),
    ("Qt libraries (Core, Gui, Widgets, Network, Svg, DBus, XcbQpa, ICU)", r"PyQt6/Qt6/lib/"),
    ("PyQt6 bindings (*.abi3.so)", r"PyQt6/.*\.so"),
    ("pjsua2 (+ its bundled OpenSSL, krb5)", r"pjsua2"),
    ("numpy (+ OpenBLAS, gfortran)", r"numpy"),
    ("Python (libpython, lib-dynload)", r"libpython|lib-dynload"),
    ("other Python extensions (site-packages)", r"site-packages/.*\.so"),
    ("OpenSSL (libcrypto, libssl)", r"libcrypto|libssl"),
    ("X11 / xcb / xkb libraries", r"libX|libxcb|libxkb"),
    ("GL / EGL / GLX", r"libGL|libEGL|libgbm|libdrm|dri/"),
    ("fonts and fontconfig cache", r"/fonts/|fontconfig|libfreetype|libharfbuzz|libpng"),
    ("glib / dbus", r"libglib|libgobject|libgio|libdbus"),
    ("sqlite", r"libsqlite"),
    ("C/C++ runtime (libc, libstdc++, libm …)", r"libc\.so|libstdc|libm\.so|libgcc|ld-linux"),
    ("X server shared memory (window backing store)", r"memfd:xorg|SYSV"),
    ("malloc heap (brk)", r"^\[heap\]$"),
    ("anonymous (Python objects' arenas, mmap'd malloc, thread stacks)", r"^\[anon\]$|^\[stack"),
)


def _smaps(path: Path) -> dict[str, list[int]]:
    """RSS, PSS and USS in kB per mapped file (``[anon]`` for anonymous mappings)."""
    out: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    name = "[anon]"
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            parts = line.split(None, 5)
            name = parts[5].strip() if len(parts) > 5 and parts[5].strip() else "[anon]"
            continue
        key, _, rest = line.partition(":")
        if key == "Rss":
            out[name][0] += int(rest.split()[0])
        elif key == "Pss":
            out[name][1] += int(rest.split()[0])
        elif key in ("Private_Clean", "Private_Dirty"):
            out[name][2] += int(rest.split()[0])
    return out


def print_breakdown(platform: str, dump: Path) -> None:
    maps = _smaps(dump / "smaps")
    groups: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    members: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for name, (rss, pss, uss) in maps.items():
        group = next((g for g, pattern in _GROUPS if re.search(pattern, name)), "other libraries")
        for i, value in enumerate((rss, pss, uss)):
            groups[group][i] += value
        members[group][Path(name).name] += rss
    total = [sum(v[i] for v in groups.values()) for i in range(3)]
    print(
        f"\nwhere the memory goes ({platform}; an idle run under tracemalloc, so the Python heap is bigger):"
    )
    print(f"  {'RSS MB':>7} {'PSS MB':>7} {'USS MB':>7}  group (largest members)")
    for group, (rss, pss, uss) in sorted(groups.items(), key=lambda kv: -kv[1][0]):
        top = ", ".join(f"{n} {v / 1024:.1f}" for n, v in members[group].most_common(4) if v >= 100)
        print(
            f"  {rss / 1024:7.1f} {pss / 1024:7.1f} {uss / 1024:7.1f}  {group}" + (f" ({top})" if top else "")
        )
    print(f"  {total[0] / 1024:7.1f} {total[1] / 1024:7.1f} {total[2] / 1024:7.1f}  total")
    plugins = sorted(Path(n).name for n in maps if "/plugins/" in n)
    print(f"  Qt plugins loaded: {', '.join(plugins) or 'none'}")

    modules = (dump / "modules").read_text(encoding="utf-8").split()
    packages = collections.Counter(m.split(".")[0] for m in modules)
    print(
        f"  Python modules imported: {len(modules)}; per package: "
        + ", ".join(f"{p} {n}" for p, n in packages.most_common(14))
    )
    watched = ("numpy", "httpx", "msal", "keyring", "sounddevice", "jdatetime", "xlib", "Xlib", "ssl")
    print("  imported at idle? " + ", ".join(f"{m} {'yes' if m in packages else 'no'}" for m in watched))

    traced = dump / "tracemalloc"
    if traced.exists():
        per: collections.Counter[str] = collections.Counter()
        for row in traced.read_text(encoding="utf-8").splitlines():
            size, _count, filename = row.split("\t", 2)
            per[_package(filename)] += int(size)
        print(
            f"  Python allocations (tracemalloc) {sum(per.values()) / 2**20:.1f} MB; per package: "
            + ", ".join(f"{p} {v / 2**20:.1f}" for p, v in per.most_common(12))
        )


def _package(filename: str) -> str:
    if filename.startswith("<frozen importlib"):
        return "imports (code objects)"
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1].split("/", maxsplit=1)[0].removesuffix(".py")
    if "/lib/python3" in filename:
        return "stdlib"
    return filename


# ----------------------------------------------------------------------------- main
def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _mb(runs: list[dict[str, float]], key: str) -> str:
    values = [r[key] for r in runs if key in r]
    return f"{statistics.median(values):.1f}" if values else "?"


def report(platform: str, runs: list[dict[str, float]], idle_runs: int, idle: float) -> None:
    first, rest = runs[0], runs[1:] or runs
    starts = sorted(r["start_s"] for r in rest)
    cpu = sorted(r["cpu_s"] for r in rest)
    idled = runs[:idle_runs]
    print(f"\n[{platform}]")
    print(f"  cold start, first run (cold file cache): {first['start_s'] * 1000:.0f} ms")
    print(
        f"  cold start, fresh process: p50 {statistics.median(starts) * 1000:.0f} ms, "
        f"max {starts[-1] * 1000:.0f} ms (goal <= 1000 ms)"
    )
    print(
        f"  CPU time of the process until ready: p50 {statistics.median(cpu) * 1000:.0f} ms, "
        f"max {cpu[-1] * 1000:.0f} ms (what a busy machine cannot inflate much)"
    )
    print(f"  RSS at ready: {_mb(runs, 'rss_mb')} MB")
    print(
        f"  idle after {idle:g} s (median of {len(idled)}): RSS {_mb(idled, 'idle_rss_mb')} MB "
        f"(goal <= 120 MB) = anon {_mb(idled, 'idle_anon_mb')} + file {_mb(idled, 'idle_file_mb')} "
        f"+ shmem {_mb(idled, 'idle_shmem_mb')}; PSS {_mb(idled, 'idle_pss_mb')} MB, "
        f"USS {_mb(idled, 'idle_uss_mb')} MB; CPU "
        f"{statistics.median(r['idle_cpu_pct'] for r in idled):.2f} %; "
        f"{statistics.median(r['modules'] for r in idled):.0f} Python modules"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per platform")
    parser.add_argument(
        "--idle", type=float, default=None, help="seconds of idle after ready (3; 60 with --idle-cpu)"
    )
    parser.add_argument("--idle-cpu", action="store_true", help="idle CPU only: now vs before")
    parser.add_argument(
        "--against", choices=(*BEFORE, "both"), default="media", help="--idle-cpu: which code of before"
    )
    parser.add_argument("--pairs", type=int, default=2, help="--idle-cpu: runs of each, alternating")
    parser.add_argument("--idle-runs", type=int, default=3, help="runs per platform that idle")
    parser.add_argument(
        "--provider", default="sim", help="default (scripts/run: no settings file), sip, sim …"
    )
    parser.add_argument("--platform", choices=("both", *PLATFORMS), default="both")
    parser.add_argument("--xcb", action="store_true", help="same as --platform xcb")
    parser.add_argument("--breakdown", action="store_true", help="where the memory goes")
    args = parser.parse_args()
    args.idle_set = args.idle is not None
    if args.idle is None:
        args.idle = 3.0
    platforms = ("xcb",) if args.xcb else PLATFORMS if args.platform == "both" else (args.platform,)
    if args.idle_cpu:
        platform = "xcb" if args.xcb or args.platform == "xcb" else "offscreen"
        with contextlib.ExitStack() as stack:
            display = stack.enter_context(x_display()) if platform == "xcb" else None
            idle_cpu(args, platform, display)
        return 0
    idle_runs = max(1, min(args.idle_runs, args.runs))
    load_before = _load()
    with contextlib.ExitStack() as stack:
        display = stack.enter_context(x_display()) if "xcb" in platforms else None
        runs: dict[str, list[dict[str, float]]] = {p: [] for p in platforms}
        for i in range(args.runs):  # alternate the platforms: the same load for both
            for platform in platforms:
                idle = args.idle if i < idle_runs else 0.0
                runs[platform].append(one_run(args.provider, platform, display, idle))
        print(
            f"provider={args.provider} platforms={','.join(platforms)} runs={args.runs} "
            f"display={display or '-'} load before {load_before}, after {_load()}"
        )
        for platform in platforms:
            report(platform, runs[platform], idle_runs, args.idle)
        if args.breakdown:
            for platform in platforms:
                with tempfile.TemporaryDirectory(prefix="callsys-mem-") as dump:
                    one_run(args.provider, platform, display, args.idle, Path(dump))
                    print_breakdown(platform, Path(dump))
    return 0


if __name__ == "__main__":
    sys.exit(main())
