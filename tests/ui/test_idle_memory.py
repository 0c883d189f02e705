"""Issue 6: the idle desktop does not carry what it only needs later — numpy (the softphone's
resampler, imported when a call's audio starts) — nor what it never needs: a database library
(callsys talks to SQLite through the standard library's ``sqlite3``; sqlite-utils pulled in numpy,
dateutil and click). Measured in a fresh process, as the benchmark (benchmarks/ui_startup.py) does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.fresh import ROOT, start_ui


def test_the_idle_softphone_desktop_has_not_imported_numpy_or_a_database_library(tmp_path: Path) -> None:
    proc, _ = start_ui(
        tmp_path,
        '[phone]\nprovider = "sip"\n[phone.options]\nlisten_host = "127.0.0.1"\nlisten_port = 0\n',
        CALLSYS_MEMORY_DUMP=str(tmp_path / "dump"),
    )
    assert proc.returncode == 0, proc.stderr
    ready = next(line for line in proc.stdout.splitlines() if line.startswith("callsys-ready "))
    assert "idle_rss_kb=" in ready and "idle_modules=" in ready
    modules = set((tmp_path / "dump" / "modules").read_text(encoding="utf-8").split())
    assert "providers.sip.sound" in modules  # the softphone started, with its ringers
    assert "pjsua2" in modules
    assert "numpy" not in modules
    assert "dateutil.parser._parser" not in modules
    assert "sqlite_utils" not in modules and "click" not in modules
    assert "callsys.store" in modules  # the call log is open: through sqlite3 alone


def test_a_ringing_call_imports_numpy_on_a_thread_before_it_is_answered() -> None:
    """Not at idle, but ready by the time the agent answers: the audio must not wait for the
    import (the caller's first words)."""
    code = (
        "import sys\n"
        "from providers.sip import sound\n"
        "from providers.sip.options import AudioOptions\n"
        "class Stream:\n"
        "    def start(self): pass\n"
        "class Backend:\n"
        "    def query_devices(self, device=None, kind=None): return {'default_samplerate': 48000}\n"
        "    def RawOutputStream(self, **kw): return Stream()\n"
        "ringer = sound.Ringer(AudioOptions(), Backend())\n"
        "assert 'numpy' not in sys.modules\n"
        "ringer.start()\n"
        "assert ringer.ringing\n"
        "thread = sound._numpy_preload\n"
        "assert thread is not None and thread.name == 'callsys-numpy-preload'\n"
        "thread.join(30)\n"
        "print('numpy' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True"]


def test_the_memory_dump_is_written_only_when_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui import memreport

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(memreport.DUMP_ENV, raising=False)
    memreport.dump()
    assert list(tmp_path.iterdir()) == []
    memreport.dump(str(tmp_path / "dump"))
    assert "ui.memreport" in (tmp_path / "dump" / "modules").read_text(encoding="utf-8").split()
