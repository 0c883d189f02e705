"""A seeded monkey: random sequences of what an agent does in the window, looking for crashes.

    .venv/bin/python benchmarks/monkey.py --seed 11 --steps 20000
    .venv/bin/python benchmarks/monkey.py --seed 11 --steps 300 --json     # as the test suite runs it
    .venv/bin/python benchmarks/monkey.py --steps 20000 --keep-going       # crashes counted, not fatal
    .venv/bin/python benchmarks/monkey.py --steps 20000 --skip jalali,language   # past a known crash
    .venv/bin/python benchmarks/monkey.py --steps 3 --script ring_now,click_log,jalali  # replay
    .venv/bin/python benchmarks/monkey.py --steps 4000 --every 500 --census    # what stays alive

The real window (``ui.desktop.compose`` + ``MainWindow``, qasync) with the simulator and a local
directory, Qt offscreen (``--xcb`` for the X server in DISPLAY). Each step is one thing an agent
does, picked by a ``random.Random(seed)``: menus and their dialogs opened and closed (Settings,
Reports, Convert, About), clicks and right-clicks in the call log, the calendar and the language
switched, the log searched and filtered, calls ringing, answered (by click on the pop-up and by
hotkey), held, noted, hung up or given up by the caller, scenarios played. Mouse and keys are Qt
test events (QTest) sent to the widgets, the same path a real click takes inside Qt.

Each run is a child process with ``faulthandler`` on: a crash prints the Python stack of the
step that died, and the parent reports the seed, the step and the steps before it. The same seed
plays the same steps (what they meet can differ by a step or two with timing); ``--script``
replays a list of steps exactly. Printed at the end (one JSON object with ``--json``): steps
done, crashes, Qt warnings (all, and those about invalid model indexes), dialogs still alive
after they were closed (leaked windows), RSS and the live widgets and QObjects after the warm-up
(a tenth of the steps), every ``--every`` steps (5,000) and at the end — each counted at a quiet
moment: the monkey's dialogs closed, its calls ended, Qt's deferred deletes done. ``--census``
also says on stderr which kinds of QObject grew between two counts. With ``--keep-going`` a
crash starts a fresh window on the next seed until the steps are done (the RSS figures are then
those of the first and the last window).
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: Qt warnings that say a model index was used where it was not valid (the family of the
#: call-log crash: a stale index behind the sort/filter proxy).
INDEX_WARNING = re.compile(r"index|QSortFilterProxyModel|QItemSelectionModel|QPersistentModelIndex", re.I)
#: The offscreen platform's own notes (it cannot raise or activate windows): not the app's.
PLATFORM_NOISE = re.compile(
    r"This plugin does not support|QXcbConnection|XDG_RUNTIME_DIR|propagateSizeHints|"
    r"QStandardPaths: wrong permissions"
)

#: How long a quiet moment lasts before the live objects and RSS are counted: a little more than
#: the window waits before it gives freed memory back (``ui.heap.QUIET_MS``).
QUIET_MS = 1500

SARA, REZA, ACME = "+982188776655", "09123456789", "+14155550100"
CALLERS = (SARA, REZA, ACME, "+989350001122", "+442071234567", "02155554444", "")


def rss_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def malloc_kb() -> dict[str, int]:
    """glibc's heap: in use, and held free (fragments it has not given back); {} elsewhere."""
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in (
                *("arena", "ordblks", "smblks", "hblks", "hblkhd"),
                *("usmblks", "fsmblks", "uordblks", "fordblks", "keepcost"),
            )
        ]

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = MallInfo2
    except (OSError, AttributeError):
        return {}
    info = libc.mallinfo2()
    return {"malloc_used_kb": (info.uordblks + info.hblkhd) // 1024, "malloc_free_kb": info.fordblks // 1024}


def census() -> dict[str, int]:
    """What is alive in the process now: widgets (shown or not), the QObjects reachable from the
    application and its top-level widgets, and Python objects."""
    import gc

    from PyQt6.QtWidgets import QGesture

    from ui.qt import QApplication, QObject

    app = QApplication.instance()
    tops = QApplication.topLevelWidgets()
    found: list[Any] = list(app.findChildren(QObject)) if app is not None else []
    for top in tops:
        found += [top, *top.findChildren(QObject)]
    # Not Qt's gesture cache (QPanGesture …): made per widget and mouse press, freed in batches.
    qobjects = sum(1 for obj in found if not isinstance(obj, QGesture))
    return {
        "widgets": len(QApplication.allWidgets()),
        "top_level": len(tops),
        "qobjects": qobjects,
        "python_objects": len(gc.get_objects()),
        **malloc_kb(),
    }


def qobject_classes() -> dict[str, int]:
    """Live QObjects by class (for --census: which kind grows)."""
    from ui.qt import QApplication, QObject

    app = QApplication.instance()
    found: list[Any] = list(app.findChildren(QObject)) if app is not None else []
    for top in QApplication.topLevelWidgets():
        found += [top, *top.findChildren(QObject)]
    counts: dict[str, int] = {}
    for obj in found:
        meta = obj.metaObject()
        kind = meta.className() if meta is not None else type(obj).__name__
        parent = obj.parent()
        owner = type(parent).__name__ if parent is not None else "-"
        name = f"{kind}" + (f"#{obj.objectName()}" if obj.objectName() else "") + f" (in {owner})"
        counts[name] = counts.get(name, 0) + 1
    return counts


class Monkey:
    def __init__(
        self, window: Any, rng: random.Random, log: Callable[[str], None], skip: frozenset[str] = frozenset()
    ) -> None:
        from ui.qt import QApplication

        self.window = window
        self.rng = rng
        self.log = log
        self.app = QApplication.instance()
        self.sim = window.simulator
        self.step_no = 0
        self.names: list[str] = []
        self.warnings: list[str] = []
        self.leaks: list[str] = []
        self.script: list[str] = []
        weights: dict[Callable[[], None], int] = {
            self.ring: 6,
            self.ring_now: 2,
            self.answer_by_click: 4,
            self.answer_by_hotkey: 4,
            self.reject: 1,
            self.caller_gives_up: 2,
            self.hang_up: 4,
            self.far_end_hangs_up: 3,
            self.hold: 3,
            self.dial: 2,
            self.scenario: 2,
            self.notes: 2,
            self.click_log: 8,
            self.right_click_log: 2,
            self.key_in_log: 3,
            self.convert: 3,
            self.close_convert: 3,
            self.jalali: 3,
            self.language: 2,
            self.reports: 2,
            self.close_reports: 2,
            self.settings: 1,
            self.about: 1,
            self.search: 3,
            self.filter: 2,
            self.missed_badge: 1,
            self.dnd: 1,
        }
        kept = {action: weight for action, weight in weights.items() if action.__name__ not in skip}
        self.actions = list(kept)
        self.weights = list(kept.values())

    # ---------------------------------------------------------------- helpers
    def _live(self, *states: str) -> list[Any]:
        return [c for c in self.window.desktop.manager.live_calls() if not states or c.state.value in states]

    def _pick(self, items: list[Any]) -> Any:
        return self.rng.choice(items) if items else None

    def _close_modal_soon(self, accept: bool = False) -> None:
        """A modal dialog or menu is about to run its own event loop: close it from inside."""
        from ui.qt import QApplication, QDialog, QTimer

        def close(tries: int = 100) -> None:
            popup = QApplication.activePopupWidget()
            if popup is not None:
                popup.close()
                return
            modal = QApplication.activeModalWidget()
            if isinstance(modal, QDialog):
                modal.accept() if accept else modal.reject()
            elif modal is not None:
                modal.close()
            elif tries > 0:  # not up yet; none comes when the click met no call (for 2 s at most)
                QTimer.singleShot(20, lambda: close(tries - 1))

        QTimer.singleShot(30, close)

    def _log_index(self) -> Any:
        proxy = self.window.log_proxy
        if proxy.rowCount() == 0:
            return None
        return proxy.index(self.rng.randrange(proxy.rowCount()), self.rng.randrange(proxy.columnCount()))

    def _click_index(self, button: Any) -> None:
        from PyQt6.QtTest import QTest

        view = self.window.log_view
        index = self._log_index()
        viewport = view.viewport()
        if index is None:
            QTest.mouseClick(viewport, button, pos=viewport.rect().center())
            return
        view.scrollTo(index)
        QTest.mouseClick(viewport, button, pos=view.visualRect(index).center())

    # ---------------------------------------------------------------- steps
    def ring(self) -> None:
        if len(self._live()) < 4:
            self.sim.ring(self.rng.choice(CALLERS), self.rng.choice(("", "Caller")), dnis="7000")

    def ring_now(self) -> None:
        """Simulate → Ring now (Sara Ahmadi on the Sales line)."""
        if len(self._live()) < 4:
            self.window.ring_action.trigger()

    def answer_by_click(self) -> None:
        from PyQt6.QtTest import QTest

        from ui.qt import Qt

        popups = [p for p in self.window.popups.popups() if p.isVisible() and p.answer_button.isVisible()]
        popup = self._pick(popups)
        if popup is not None:
            QTest.mouseClick(popup.answer_button, Qt.MouseButton.LeftButton)

    def _hotkey(self, name: str) -> None:
        from PyQt6.QtTest import QTest

        sequence = self.window.hotkeys.actions[name].shortcut()
        if sequence.isEmpty():
            return
        combo = sequence[0]
        target = self.app.focusWidget() or self.window
        QTest.keyClick(target, combo.key(), combo.keyboardModifiers())

    def answer_by_hotkey(self) -> None:
        self._hotkey("answer")

    def reject(self) -> None:
        self._hotkey("reject")

    def caller_gives_up(self) -> None:
        from callsys.model import EndReason

        call = self._pick(self._live("ringing"))
        if call is not None:
            self.sim.remote_hangup(call.id, self.rng.choice((EndReason.MISSED, EndReason.ANSWERED_ELSEWHERE)))

    def hang_up(self) -> None:
        self._hotkey("hangup")

    def far_end_hangs_up(self) -> None:
        call = self._pick(self._live("active", "held", "dialing", "alerting"))
        if call is not None:
            self.sim.remote_hangup(call.id)

    def hold(self) -> None:
        self._hotkey("hold")

    def dial(self) -> None:
        from PyQt6.QtTest import QTest

        from ui.qt import Qt

        if len(self._live()) >= 4:
            return
        self._hotkey("focus_dial")
        QTest.keyClicks(self.window.dial_edit, self.rng.choice((REZA, ACME, "1002", "Sara", "not a number")))
        QTest.keyClick(self.window.dial_edit, Qt.Key.Key_Return)
        self._close_directory_menu()

    def _close_directory_menu(self) -> None:
        menu = getattr(self.window, "directory_menu", None)
        if menu is not None and menu.isVisible():
            menu.close()

    def scenario(self) -> None:
        if len(self._live()) < 3:
            self.window.simulate(
                self.rng.choice(("missed", "rejected", "waiting", "answered-elsewhere", "ivr"))
            )

    def notes(self) -> None:
        from PyQt6.QtTest import QTest

        from ui.qt import Qt

        self._hotkey("notes")
        notes = self.window.notes
        if notes.isVisible():
            text = self.rng.choice(("Wants a quote. ", "Call back Monday. ", "یادداشت "))
            if text.isascii():
                QTest.keyClicks(notes.text, text)
            else:  # QTest types ASCII only; Persian comes from an input method anyway
                notes.text.insertPlainText(text)
            if self.rng.random() < 0.5:
                QTest.mouseClick(notes.save_button, Qt.MouseButton.LeftButton)

    def click_log(self) -> None:
        from ui.qt import Qt

        self._click_index(Qt.MouseButton.LeftButton)

    def right_click_log(self) -> None:
        from ui.qt import Qt

        # The log's context menu runs its own loop: close it from inside.
        self._close_modal_soon()
        self._click_index(Qt.MouseButton.RightButton)

    def key_in_log(self) -> None:
        from PyQt6.QtTest import QTest

        from ui.qt import Qt

        key = self.rng.choice((Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_Home, Qt.Key.Key_End))
        QTest.keyClick(self.window.log_view, key)

    def convert(self) -> None:
        if self.window.selected_log_row() is None:
            self.click_log()
        self.window.convert_action.trigger()

    def _close_all(self, name: str) -> None:
        """Close every open dialog of this object name (the agent may have opened several)."""
        from ui.qt import QApplication

        for widget in QApplication.topLevelWidgets():
            if widget.objectName() == name and widget.isVisible():
                widget.close()

    def close_convert(self) -> None:
        self._close_all("convertDialog")

    def jalali(self) -> None:
        self.window.jalali_action.trigger()

    def language(self) -> None:
        (self.window.lang_fa if self.window.language.code == "en" else self.window.lang_en).trigger()

    def reports(self) -> None:
        self.window.reports_action.trigger()

    def close_reports(self) -> None:
        self._close_all("reportsDialog")

    def settings(self) -> None:
        self._close_modal_soon()
        self.window.settings_action.trigger()

    def about(self) -> None:
        self._close_modal_soon()
        self.window.about_action.trigger()

    def search(self) -> None:
        from PyQt6.QtTest import QTest

        self._hotkey("focus_search")
        self.window.log_search.clear()
        QTest.keyClicks(self.window.log_search, self.rng.choice(("", "Sara", "0912", "ACME", "x")))

    def filter(self) -> None:
        box = self.window.log_filter
        box.setCurrentIndex(self.rng.randrange(box.count()))

    def missed_badge(self) -> None:
        if self.window.missed_badge.isVisible():
            self.window.missed_badge.click()

    def dnd(self) -> None:
        self.window.dnd_action.trigger()

    # ---------------------------------------------------------------- the run
    def step(self) -> str:
        if self.script:
            action = getattr(self, self.script[self.step_no % len(self.script)])
        else:
            action = self.rng.choices(self.actions, self.weights)[0]
        self.step_no += 1
        self.log(f"{self.step_no} {action.__name__}")
        action()
        return action.__name__

    def quiet(self) -> None:
        """A quiet moment, to count what is alive: the dialogs the monkey opened are closed,
        every call ends (the callers hang up), menus are shut."""
        from ui.qt import QApplication

        self.close_convert()
        self.close_reports()
        self._close_directory_menu()
        popup = QApplication.activePopupWidget()
        if popup is not None:
            popup.close()
        for call in self._live():
            self.sim.remote_hangup(call.id)

    def is_quiet(self) -> bool:
        return not self._live() and not any(p.isVisible() for p in self.window.popups.popups())

    def check_windows(self) -> None:
        """Dialogs the monkey closed must be gone: not shown, and deleted when they delete on
        close; count what is left (the Settings dialog is kept by the window: one at most)."""
        from ui.qt import QApplication, QDialog

        alive = [w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and not w.isVisible()]
        by_class: dict[str, int] = {}
        for widget in alive:
            by_class[type(widget).__name__] = by_class.get(type(widget).__name__, 0) + 1
        self.leaks = [f"{name}×{count}" for name, count in sorted(by_class.items()) if count > 1]


def child(args: argparse.Namespace) -> int:
    """One monkey in this process: prints its figures as JSON (dies if the window crashes)."""
    faulthandler.enable()
    os.environ["QT_QPA_PLATFORM"] = "xcb" if args.xcb else "offscreen"
    tmp = Path(tempfile.mkdtemp(prefix="callsys-monkey-"))
    for name in ("CONFIG", "DATA", "CACHE"):
        os.environ[f"XDG_{name}_HOME"] = str(tmp / name.lower())
    os.environ.setdefault("XDG_RUNTIME_DIR", str(tmp / "runtime"))
    os.makedirs(os.environ["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)

    import asyncio

    import qasync

    from callsys.crm.local import LocalCrm
    from callsys.settings import Settings
    from providers import REGISTRY

    from ui.app import create_application
    from ui.desktop import compose
    from ui.i18n import Language, set_current
    from ui.mainwindow import MainWindow
    from ui.qt import QCoreApplication, QEvent, QtCore, QTimer

    warnings: list[str] = []
    index_warnings: list[str] = []

    def on_message(kind: Any, _context: Any, message: str | None) -> None:
        text = message or ""
        if kind in (QtCore.QtMsgType.QtDebugMsg, QtCore.QtMsgType.QtInfoMsg):
            return
        if PLATFORM_NOISE.search(text):
            return
        warnings.append(text)
        if INDEX_WARNING.search(text):
            index_warnings.append(text)
        sys.stderr.write(f"Qt: {text}\n")

    QtCore.qInstallMessageHandler(on_message)
    app = create_application(["monkey"])
    trace = open(args.trace, "w", buffering=1) if args.trace else None  # noqa: SIM115 (closed below)
    last_steps: list[str] = []

    def log(line: str) -> None:
        last_steps.append(line)
        del last_steps[:-20]
        if trace is not None:
            trace.write(line + "\n")

    settings = Settings(
        {
            "phone.provider": "sim",
            "phone.options": {"speed": 0, "agent_script": False, "dial_answer_after": 0.05},
            "storage.database": str(tmp / "callsys.sqlite3"),
            "crm.backend": "local",
            "numbers.dnis_lines": {"7000": "Sales"},
        },
        path=tmp / "settings.toml",
    )
    language = Language(app)
    language.apply("en", "gregorian")
    set_current(language)
    loop = qasync.QEventLoop(app)
    loop.set_debug(False)
    asyncio.set_event_loop(loop)
    desktop = compose(settings, REGISTRY)
    crm = desktop.crm
    assert isinstance(crm, LocalCrm)
    crm.add("Sara Ahmadi", [SARA, "+989121112233"], company="Ahmadi Trading")
    crm.add("Reza Karimi", [REZA], kind="lead", company="Karimi & Sons")
    crm.add("ACME Corp", [ACME], kind="account")
    crm.add("ACME Support desk", [ACME], company="ACME Corp")
    window = MainWindow(desktop, language)
    window.ask_quit = lambda _calls: True  # type: ignore[method-assign]
    window.resize(1100, 700)
    window.show()

    monkey = Monkey(window, random.Random(args.seed), log, skip=args.skip)
    monkey.script = args.script
    figures: dict[str, Any] = {"seed": args.seed, "steps": 0}
    done = asyncio.Event()
    warm_up = max(1, args.steps // 10)
    started = time.monotonic()

    snapshots: list[Any] = []
    classes: list[dict[str, int]] = []
    types: list[Any] = []
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start(4)

    def checkpoint() -> None:
        """RSS and the live objects now (at a quiet moment, the deferred deletes done), kept by
        step number."""
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        figures.setdefault("rss_kb_at", {})[str(monkey.step_no)] = rss_kb()
        figures.setdefault("census_at", {})[str(monkey.step_no)] = census()
        if args.census:  # what grew since the last checkpoint, on stderr
            import gc
            from collections import Counter

            kinds = Counter(type(obj).__qualname__ for obj in gc.get_objects())
            if types:
                grew = sorted(((n - types[-1].get(k, 0), k) for k, n in kinds.items()), reverse=True)[:12]
                sys.stderr.write(
                    f"--- step {monkey.step_no}: Python objects that grew: "
                    + ", ".join(f"{k} {n:+d}" for n, k in grew if n > 0)
                    + "\n"
                )
                types.clear()
            types.append(kinds)
            classes.append(qobject_classes())
            if len(classes) > 1:
                before, now = classes[-2], classes[-1]
                changed = [(now.get(k, 0) - before.get(k, 0), k) for k in {*now, *before}]
                grew = sorted((c for c in changed if c[0]), reverse=True)
                sys.stderr.write(
                    f"--- step {monkey.step_no}: QObjects {sum(before.values())} → {sum(now.values())}: "
                    + ", ".join(f"{k} {n:+d}" for n, k in grew[:12])
                    + (" … " + ", ".join(f"{k} {n:+d}" for n, k in grew[-5:]) if len(grew) > 12 else "")
                    + "\n"
                )
                del classes[0]
        if args.tracemalloc:
            import tracemalloc

            snapshots.append(tracemalloc.take_snapshot())
            if len(snapshots) > 1:
                sys.stderr.write(f"--- step {monkey.step_no}: Python allocations that grew\n")
                for stat in snapshots[-1].compare_to(snapshots[-2], "traceback")[:8]:
                    sys.stderr.write(f"{stat}\n    " + "\n    ".join(stat.traceback.format()[-6:]) + "\n")
                del snapshots[0]

    def tick() -> None:
        if monkey.step_no >= args.steps:
            done.set()
            return
        try:
            monkey.step()
        except Exception as exc:  # a Python error in a step is a finding too, not a crash of the run
            warnings.append(f"step {monkey.step_no}: {type(exc).__name__}: {exc}")
            sys.stderr.write(f"step {monkey.step_no} raised {type(exc).__name__}: {exc}\n")
        if monkey.step_no % 50 == 0:
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
            monkey.check_windows()
        if monkey.step_no == warm_up or monkey.step_no % args.every == 0:
            monkey.quiet()  # then count, once the calls have ended and the deletes are done
            QTimer.singleShot(50, lambda: when_quiet(time.monotonic() + 10))
            return
        QTimer.singleShot(2, tick)

    quiet_since: list[float | None] = [None]

    def when_quiet(deadline: float) -> None:
        if not monkey.is_quiet() and time.monotonic() < deadline:
            monkey.quiet()
            QTimer.singleShot(50, lambda: when_quiet(deadline))
            return
        if quiet_since[0] is None:  # a quiet moment lasts a little: what the window does then, too
            quiet_since[0] = time.monotonic()
            QTimer.singleShot(QUIET_MS, lambda: when_quiet(deadline))
            return
        quiet_since[0] = None
        checkpoint()
        if monkey.step_no == warm_up:
            figures["rss_kb_start"] = rss_kb()
            figures["census_start"] = census()
        QTimer.singleShot(2, tick)

    async def run() -> None:
        await window.start()
        figures["rss_kb_ready"] = rss_kb()
        QTimer.singleShot(0, tick)
        await done.wait()
        # everything closed: the dialogs must be gone
        deadline = time.monotonic() + 10
        monkey.quiet()
        await asyncio.sleep(0.05)
        while not monkey.is_quiet() and time.monotonic() < deadline:
            monkey.quiet()
            await asyncio.sleep(0.05)
        for popup in window.popups.popups():
            popup.hide()
        await asyncio.sleep(QUIET_MS / 1000)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        monkey.check_windows()
        checkpoint()
        figures["census_end"] = census()

    with loop:
        loop.run_until_complete(run())
        figures.update(
            steps=monkey.step_no,
            seconds=round(time.monotonic() - started, 1),
            crashes=0,
            qt_warnings=len(warnings),
            index_warnings=len(index_warnings),
            leaked_windows=monkey.leaks,
            rss_kb_end=rss_kb(),
            calls_logged=len(desktop.calllog.query(limit=1_000_000)) if desktop.calllog else 0,
            first_warnings=warnings[:5],
        )
        window.tasks.cancel_all()
        window.close()
        loop.run_until_complete(desktop.close())
    if trace is not None:
        trace.close()
    print(json.dumps(figures, ensure_ascii=False), flush=True)
    return 0


def run_child(args: argparse.Namespace, seed: int, steps: int, trace: Path) -> dict[str, Any]:
    """A monkey in a fresh process; a crash is reported with the step it died in."""
    import subprocess

    argv = [sys.executable, __file__, "--child", "--seed", str(seed), "--steps", str(steps)]
    argv += ["--trace", str(trace), "--skip", ",".join(sorted(args.skip)), "--script", ",".join(args.script)]
    argv += ["--xcb"] if args.xcb else []
    argv += ["--every", str(args.every)] + (["--census"] if args.census else [])
    argv += ["--tracemalloc"] if args.tracemalloc else []
    env = {**os.environ, "PYTHONFAULTHANDLER": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode == 0 and lines:
        figures: dict[str, Any] = json.loads(lines[-1])
        figures["crashes"] = 0
        return figures
    trail = trace.read_text().splitlines() if trace.exists() else []
    last = trail[-1].split() if trail else ["0", "start-up"]
    return {
        "seed": seed,
        "steps": int(last[0]),
        "crashes": 1,
        "crash": {
            "seed": seed,
            "step": int(last[0]),
            "action": last[1],
            "exit": proc.returncode,
            "steps_before": [line.split()[1] for line in trail[-8:-1]],
            "stderr": proc.stderr[-3000:],
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--xcb", action="store_true", help="use the X server in DISPLAY, not offscreen")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument(
        "--skip",
        type=lambda text: frozenset(filter(None, text.split(","))),
        default=frozenset(),
        metavar="STEP,…",
        help="leave these steps out (e.g. jalali,language), to look past a known crash",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="after a crash, go on in a fresh window with the next seed until --steps are done",
    )
    parser.add_argument(
        "--script",
        type=lambda text: [step for step in text.split(",") if step],
        default=[],
        metavar="STEP,…",
        help="play these steps in this order instead of random ones (to replay a crash)",
    )
    parser.add_argument(
        "--every",
        type=int,
        default=5000,
        metavar="N",
        help="RSS and live objects every N steps (default 5000)",
    )
    parser.add_argument(
        "--census",
        action="store_true",
        help="also count QObjects by class; print on stderr which grew at each checkpoint",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also trace Python allocations (slow); print on stderr which grew at each checkpoint",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--trace", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    tmp = Path(tempfile.mkdtemp(prefix="callsys-monkey-run-"))
    total: dict[str, Any] = {"seed": args.seed, "steps": 0, "crashes": 0, "qt_warnings": 0}
    total.update(index_warnings=0, calls_logged=0, leaked_windows=[], crash_list=[], seconds=0.0)
    seed = args.seed
    started = time.monotonic()
    while total["steps"] < args.steps:
        figures = run_child(args, seed, args.steps - total["steps"], tmp / f"trace-{seed}.txt")
        total["steps"] += figures["steps"]
        total["crashes"] += figures["crashes"]
        for key in ("qt_warnings", "index_warnings", "calls_logged"):
            total[key] += figures.get(key, 0)
        total["leaked_windows"] += figures.get("leaked_windows", [])
        for key in ("rss_kb_ready", "rss_kb_start", "census_start"):
            total.setdefault(key, figures.get(key))
        for key in ("rss_kb_end", "census_end"):
            if key in figures:
                total[key] = figures[key]
        done_before = total["steps"] - figures["steps"]  # a later window's steps follow on
        for key in ("rss_kb_at", "census_at"):
            for step, value in figures.get(key, {}).items():
                total.setdefault(key, {})[str(done_before + int(step))] = value
        total.setdefault("first_warnings", figures.get("first_warnings", []))
        if figures["crashes"]:
            total["crash_list"].append(figures["crash"])
            if not args.keep_going:
                break
            seed += 1
    total["seconds"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(total, ensure_ascii=False))
        return 0
    print(
        f"seed {args.seed}: {total['steps']} steps in {total['seconds']} s, crashes {total['crashes']}, "
        f"Qt warnings {total['qt_warnings']} (invalid index {total['index_warnings']}), "
        f"leaked windows {total['leaked_windows'] or 0}"
    )
    if total.get("rss_kb_at"):
        print(
            "RSS by step (at quiet moments): "
            + ", ".join(f"{int(step):,}: {kb / 1024:.1f} MB" for step, kb in total["rss_kb_at"].items())
        )
    if total.get("rss_kb_start") and total.get("rss_kb_end"):
        growth = (total["rss_kb_end"] - total["rss_kb_start"]) / 1024
        print(
            f"RSS after the warm-up {total['rss_kb_start'] / 1024:.1f} MB, at the end "
            f"{total['rss_kb_end'] / 1024:.1f} MB ({growth:+.1f} MB, "
            f"{100 * growth * 1024 / total['rss_kb_start']:+.1f} %)"
        )
    start, end = total.get("census_start"), total.get("census_end")
    if start and end:
        print(
            "alive after the warm-up → at the end: "
            + ", ".join(f"{name} {start[name]:,} → {end[name]:,}" for name in start if name in end)
        )
    for crash in total["crash_list"]:
        print(
            f"crash: seed {crash['seed']} step {crash['step']} ({crash['action']}, exit {crash['exit']}) "
            f"after {' '.join(crash['steps_before'])}"
        )
    for text in total.get("first_warnings") or []:
        print("  warning:", text)
    return 1 if total["crashes"] else 0


if __name__ == "__main__":
    sys.exit(main())
