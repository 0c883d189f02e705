"""Which pjsua2 the softphone runs on: the PyPI wheel, or callsys's own build (Linux).

Two builds of the same pjsua2 API can be imported as ``pjsua2``:

* ``wheel`` — the ``pjsua2-python`` wheel from PyPI (every platform). Compiled with pjproject's
  defaults: 4 calls, 4,000-byte SIP messages, 64 sockets through select(), no sound devices
  (callsys bridges the sound card in Python), OpenSSL 1.0.2 (TLS 1.2 at most).
* ``built`` — made by ``scripts/build-pjsua2`` from pjproject's source with
  ``scripts/pjsua2/config_site.h`` (32 calls, 16 KB messages, epoll, ALSA sound in pjmedia,
  the system's OpenSSL 3 with TLS 1.3, SRTP) and cached in ``~/.cache/callsys/pjsua2-<key>/``.

``phone.options.engine`` chooses: ``"auto"`` (the default: the built one when it is there, else
the wheel), ``"wheel"`` or ``"built"``. The environment variable ``CALLSYS_SIP_ENGINE`` takes the
place of ``"auto"`` (tests and benchmarks pick an engine with it); ``CALLSYS_PJSUA2_DIR`` names a
built engine's folder. The built engine is looked for there, then in ``pjsua2-engine/`` beside
the app's code (where ``scripts/package`` puts it in the Debian package: ``/usr/lib/callsys/app/``),
then in the build cache. One process imports one ``pjsua2`` only: :func:`load` must run before
anything imports it, and a later different choice is an error.

Nothing here imports pjsua2 at module level; the compile-time limits the rest of the softphone
must respect are read from :func:`current` (``EngineBuild``).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import re
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callsys.errors import ConfigError, MissingExtra, ProviderUnavailable
from providers.sip.options import ENGINES as CHOICES

__all__ = [
    "CHOICES",
    "ENGINE_ENV",
    "WHEEL",
    "EngineBuild",
    "built_dir",
    "current",
    "load",
    "require",
    "resolve",
]

ENGINE_ENV = "CALLSYS_SIP_ENGINE"
DIR_ENV = "CALLSYS_PJSUA2_DIR"
#: The built engine shipped with the app (scripts/package copies a build here): beside the
#: callsys, ui and providers packages.
BUNDLED = Path(__file__).resolve().parents[2] / "pjsua2-engine"


@dataclass(frozen=True, slots=True)
class EngineBuild:
    """What a pjsua2 build can do (its compile-time settings)."""

    kind: str  # "wheel" | "built"
    max_calls: int  # PJSUA_MAX_CALLS: pjsua answers the next INVITE 486 itself
    max_packet: int  # PJSIP_MAX_PKT_LEN: longer messages are cut (UDP) or dropped (TCP)
    ioqueue_handles: int  # PJ_IOQUEUE_MAX_HANDLES: sockets pjlib can watch
    ioqueue: str  # "select" | "epoll"
    sound_devices: bool  # pjmedia opens the sound card itself (no Python bridge)
    tls13: bool
    version: str = ""  # pjproject version, once loaded
    path: str = ""  # folder the module was imported from

    def describe(self) -> str:
        sound = "pjmedia sound (ALSA)" if self.sound_devices else "Python sound bridge"
        tls = "TLS 1.3" if self.tls13 else "TLS 1.2"
        version = f" {self.version}" if self.version else ""
        return (
            f"{self.kind} pjsua2{version}: {self.max_calls} calls, {self.max_packet}-byte SIP messages, "
            f"{self.ioqueue} ({self.ioqueue_handles} sockets), {sound}, {tls}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": self.kind,
            "pjproject": self.version,
            "max_calls": self.max_calls,
            "max_packet": self.max_packet,
            "ioqueue": self.ioqueue,
            "ioqueue_handles": self.ioqueue_handles,
            "sound_devices": self.sound_devices,
            "tls13": self.tls13,
        }


#: The PyPI wheel (pjsua2-python 2.15.1.post1): pjproject's defaults, OpenSSL 1.0.2k.
WHEEL = EngineBuild(
    kind="wheel",
    max_calls=4,
    max_packet=4000,
    ioqueue_handles=64,
    ioqueue="select",
    sound_devices=False,
    tls13=False,
)

_current: EngineBuild | None = None


def _cache_root() -> Path:
    explicit = os.environ.get("CALLSYS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "callsys"


def _python_tag() -> str:
    # the same tag scripts/build-pjsua2 keys its builds by
    return f"{sys.implementation.cache_tag}-{sysconfig.get_platform()}"


def _complete(path: Path) -> bool:
    return (
        (path / "manifest.json").is_file()
        and (path / "pjsua2.py").is_file()
        and any(path.glob("_pjsua2*.so"))
    )


def _for_this_python(path: Path) -> bool:
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("python") in (None, _python_tag())


def built_dir() -> Path | None:
    """The folder of the built engine for this Python, or None when there is none:
    ``CALLSYS_PJSUA2_DIR``, else the one shipped with the app (``BUNDLED``), else the last
    build in the cache."""
    explicit = os.environ.get(DIR_ENV)
    if explicit:
        path = Path(explicit)
        return path if _complete(path) else None
    if not sys.platform.startswith("linux"):
        return None
    if _complete(BUNDLED) and _for_this_python(BUNDLED):
        return BUNDLED
    pointer = _cache_root() / f"current-{_python_tag()}"
    try:
        path = Path(pointer.read_text(encoding="utf-8").strip())
    except OSError:
        return None
    return path if _complete(path) else None


def _define(text: str, name: str, default: int) -> int:
    match = re.search(rf"^#define\s+{name}\s+(\d+)\s*$", text, re.M)
    return int(match.group(1)) if match else default


def _built_build(path: Path) -> EngineBuild:
    """The limits of the built engine, read from the config_site.h it was built with."""
    try:
        config = (path / "config_site.h").read_text(encoding="utf-8")
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config, manifest = "", {}
    return EngineBuild(
        kind="built",
        max_calls=_define(config, "PJSUA_MAX_CALLS", 4),
        max_packet=_define(config, "PJSIP_MAX_PKT_LEN", 4000),
        ioqueue_handles=_define(config, "PJ_IOQUEUE_MAX_HANDLES", 64),
        ioqueue="epoll" if "--enable-epoll" in str(manifest.get("configure", "")) else "select",
        sound_devices=manifest.get("sound") == "alsa",
        tls13=str(manifest.get("openssl", "")).startswith("3"),
        version=str(manifest.get("pjproject", "")),
        path=str(path),
    )


def resolve(choice: str = "auto") -> str:
    """``"wheel"`` or ``"built"`` for an ``engine`` option (``"auto"`` asks the environment,
    then takes the built engine when there is one)."""
    choice = (choice or "auto").strip().lower()
    if choice == "auto":
        choice = (os.environ.get(ENGINE_ENV) or "auto").strip().lower()
    if choice not in CHOICES:
        raise ConfigError(f"The softphone engine must be one of {', '.join(CHOICES)}, not {choice!r}.")
    if choice == "auto":
        return "built" if built_dir() is not None else "wheel"
    return choice


def _loaded_kind(module: Any) -> str:
    folder = os.path.dirname(os.path.abspath(str(getattr(module, "__file__", "") or "")))
    built = built_dir()
    return "built" if built is not None and os.path.samefile(folder, built) else "wheel"


def _no_wheel() -> MissingExtra:
    return MissingExtra("The softphone", "softphone", ["pjsua2"])


def require(choice: str = "auto") -> None:
    """Raise ``MissingExtra`` when *choice* takes the wheel and this installation has no
    ``pjsua2`` — one installed without the ``softphone`` extra (``pip install callsys`` on a
    server). Looks the module up without importing it; a bad *choice* is left to :func:`load`."""
    try:
        kind = resolve(choice)
    except ConfigError:
        return
    if kind == "wheel":
        MissingExtra.check("The softphone", "softphone", ["pjsua2"])


def load(choice: str = "auto") -> EngineBuild:
    """Import the chosen ``pjsua2`` (once per process) and return what it can do.

    Raises ``ProviderUnavailable`` when ``"built"`` is asked for and there is no build, or when
    this process already runs the other one; ``MissingExtra`` when the wheel is asked for and
    not installed."""
    global _current
    if _current is not None and (choice or "auto").strip().lower() == "auto":
        return _current  # e.g. pjengine's own load() after the provider's explicit one
    kind = resolve(choice)
    if kind == "built" and built_dir() is None:
        raise ProviderUnavailable(
            "The built softphone engine is not there: run scripts/build-pjsua2 (Linux), "
            "or set the engine to wheel."
        )
    loaded = sys.modules.get("pjsua2")
    if loaded is not None:
        have = _current.kind if _current is not None else _loaded_kind(loaded)
        if have != kind:
            raise ProviderUnavailable(
                f"This process already runs the {have} softphone engine; the {kind} one needs a restart."
            )
        if _current is None:
            _current = _describe(kind, loaded)
        return _current
    if kind == "built":
        path = built_dir()
        assert path is not None
        sys.path.insert(0, str(path))
        try:
            module = importlib.import_module("pjsua2")
        finally:
            with_path = str(path)
            if with_path in sys.path:
                sys.path.remove(with_path)
        if _loaded_kind(module) != "built":  # pragma: no cover - a stray pjsua2 shadowed it
            raise ProviderUnavailable(f"pjsua2 was imported from {module.__file__}, not the built engine.")
    else:
        try:
            module = importlib.import_module("pjsua2")
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] not in ("pjsua2", "_pjsua2"):
                raise
            raise _no_wheel() from None
    _current = _describe(kind, module)
    return _current


def _describe(kind: str, module: Any) -> EngineBuild:
    if kind == "built":
        path = built_dir()
        base = _built_build(path) if path is not None else WHEEL
    else:
        base = WHEEL
    version = base.version
    if not version:
        try:
            version = importlib.metadata.version("pjsua2-python")
        except importlib.metadata.PackageNotFoundError:
            version = ""
    folder = os.path.dirname(os.path.abspath(str(getattr(module, "__file__", "") or "")))
    return EngineBuild(
        kind=kind,
        max_calls=base.max_calls,
        max_packet=base.max_packet,
        ioqueue_handles=base.ioqueue_handles,
        ioqueue=base.ioqueue,
        sound_devices=base.sound_devices,
        tls13=base.tls13,
        version=version,
        path=folder,
    )


def current() -> EngineBuild:
    """The engine this process runs (or would run: the wheel's limits before any is loaded)."""
    return _current if _current is not None else WHEEL
