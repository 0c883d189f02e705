"""Building and driving the fake ``tapi32`` (``fake_tapi32.c``) from the tests.

``build()`` compiles it with the Debian toolchain (gcc) into a shared library in the temporary
directory, once per source hash; ``FakeTapi`` wraps its control API — the calls a test makes to
play the TSP's part — with ``ctypes``. The provider loads the same library file through its own
``ctypes`` code path, so both see one state (one ``dlopen`` handle).
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).parent
SOURCES = (HERE / "fake_tapi32.c", HERE / "tapi_layout.h")

# fake_add_line flags
REFUSE_OWNER = 1  # lineOpen with owner privilege fails (LINEERR_INVALPRIVSELECT)
NO_ANSWER = 2  # the TSP cannot answer on this line (no LINECALLFEATURE_ANSWER)
OLD_VERSION = 4  # the line speaks TAPI 1.4 only

# call states and modes the tests play
IDLE, OFFERING, CONNECTED, ONHOLD, DISCONNECTED, BUSY = 0x1, 0x2, 0x100, 0x400, 0x4000, 0x40
NORMAL, REJECT, PICKUP, BUSY_MODE, NOANSWER = 0x1, 0x4, 0x8, 0x20, 0x40


def build() -> Path:
    """The fake's shared library, compiled once per source hash."""
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in SOURCES)).hexdigest()[:16]
    out = Path(tempfile.gettempdir()) / f"callsys-fake-tapi32-{digest}" / "fake_tapi32.so"
    if out.exists():
        return out
    gcc = shutil.which("gcc")
    if gcc is None:
        raise RuntimeError("gcc is needed to build the fake tapi32 (scripts/setup installs it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f"fake_tapi32.{os.getpid()}.part")  # parallel sessions build side by side
    subprocess.run(
        [
            gcc,
            "-shared",
            "-fPIC",
            "-O1",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pthread",
            "-o",
            str(partial),
            str(SOURCES[0]),
        ],
        check=True,
    )
    partial.replace(out)
    return out


class FakeTapi:
    """The control API of the fake (see the ``fake_*`` functions in ``fake_tapi32.c``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        lib = ctypes.CDLL(str(path))
        dw, cs = ctypes.c_uint32, ctypes.c_char_p
        for name, args, res in (
            ("fake_reset", [], None),
            ("fake_add_line", [cs, dw], ctypes.c_int),
            ("fake_set_init_error", [dw], None),
            ("fake_fail_next", [cs, dw, ctypes.c_int], None),
            ("fake_hold_replies", [ctypes.c_int], None),
            ("fake_late_handle", [ctypes.c_int], None),
            ("fake_release_replies", [], ctypes.c_int),
            ("fake_offer", [ctypes.c_int, cs, cs, cs, dw], dw),
            ("fake_phone_dials", [ctypes.c_int, cs], dw),
            ("fake_set_caller", [dw, cs, cs], None),
            ("fake_set_connected", [dw, cs], None),
            ("fake_state", [dw, dw, dw], None),
            ("fake_post", [dw, dw, dw, dw, dw], None),
            ("fake_line_handle", [ctypes.c_int], dw),
            ("fake_line_privileges", [ctypes.c_int], dw),
            ("fake_live_calls", [], ctypes.c_int),
            ("fake_last_call", [], dw),
            ("fake_too_small", [], ctypes.c_int),
            ("fake_pending_replies", [], ctypes.c_int),
            ("fake_initialized", [], ctypes.c_int),
            ("fake_app_name", [], cs),
            ("fake_log", [], cs),
        ):
            func = getattr(lib, name)
            func.argtypes, func.restype = args, res
        self._lib = lib
        lib.fake_reset()

    @staticmethod
    def _b(text: str | None) -> bytes | None:
        return None if text is None else text.encode()

    def add_line(self, name: str, flags: int = 0) -> int:
        return int(self._lib.fake_add_line(name.encode(), flags))

    def init_error(self, code: int) -> None:
        self._lib.fake_set_init_error(code)

    def fail_next(self, function: str, code: int, *, later: bool = False) -> None:
        """The next *function* fails with *code*: at once, or (*later*) in its LINE_REPLY."""
        self._lib.fake_fail_next(function.encode(), code, int(later))

    def hold_replies(self, on: bool = True) -> None:
        self._lib.fake_hold_replies(int(on))

    def late_handle(self, on: bool = True) -> None:
        """lineMakeCallW writes the HCALL only with its LINE_REPLY, and the call's first
        LINE_CALLSTATE comes before that reply (both allowed by the TAPI documentation)."""
        self._lib.fake_late_handle(int(on))

    def release_replies(self) -> int:
        return int(self._lib.fake_release_replies())

    def offer(
        self, line: int, caller: str | None = None, name: str = "", called: str = "", reason: int = 0
    ) -> int:
        return int(self._lib.fake_offer(line, self._b(caller), name.encode(), called.encode(), reason))

    def phone_dials(self, line: int, number: str) -> int:
        return int(self._lib.fake_phone_dials(line, number.encode()))

    def set_caller(self, call: int, number: str, name: str = "") -> None:
        self._lib.fake_set_caller(call, number.encode(), name.encode())

    def set_connected(self, call: int, number: str) -> None:
        self._lib.fake_set_connected(call, number.encode())

    def state(self, call: int, state: int, mode: int = 0) -> None:
        self._lib.fake_state(call, state, mode)

    def post(self, device: int, message: int, p1: int = 0, p2: int = 0, p3: int = 0) -> None:
        self._lib.fake_post(device, message, p1, p2, p3)

    def line_handle(self, line: int) -> int:
        return int(self._lib.fake_line_handle(line))

    def privileges(self, line: int) -> int:
        return int(self._lib.fake_line_privileges(line))

    @property
    def live_calls(self) -> int:
        return int(self._lib.fake_live_calls())

    @property
    def last_call(self) -> int:
        """The HCALL of the call made last (by lineMakeCallW or the control API)."""
        return int(self._lib.fake_last_call())

    @property
    def too_small(self) -> int:
        return int(self._lib.fake_too_small())

    @property
    def pending_replies(self) -> int:
        return int(self._lib.fake_pending_replies())

    @property
    def initialized(self) -> bool:
        return bool(self._lib.fake_initialized())

    @property
    def app_name(self) -> str:
        return bytes(self._lib.fake_app_name()).decode()

    def log(self) -> list[str]:
        return bytes(self._lib.fake_log()).decode().splitlines()


async def until(predicate: Callable[[], object], what: str = "", timeout: float = 5.0) -> None:
    """Wait until *predicate* holds (the message thread hands TAPI's messages to the loop)."""

    async def wait() -> None:
        while not predicate():
            await asyncio.sleep(0.002)

    try:
        await asyncio.wait_for(wait(), timeout)
    except TimeoutError:
        raise AssertionError(f"never happened: {what or predicate}") from None
