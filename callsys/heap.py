"""Giving the C heap's free pages back to the system (glibc's ``malloc_trim``; Linux only).

glibc keeps freed memory in the process when its small blocks sit between live ones: a day of
dialogs in the window, or a flood of finished SIP transactions in the softphone, leaves RSS well
above what is in use. ``malloc_trim(0)`` hands those pages back (also those in the middle of the
heap); it costs a few milliseconds, so its callers run it at quiet moments (``ui.heap``, the
softphone engine's poll after busy spells). Elsewhere (macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import sys
from collections.abc import Callable

__all__ = ["trim"]

log = logging.getLogger(__name__)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        log.debug("no malloc_trim here", exc_info=True)
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return function


def trim() -> bool:
    """Give the heap's free pages back to the system; whether anything could be done."""
    function = _malloc_trim()
    return function is not None and bool(function(0))
