"""Making callsys the handler of ``tel:`` and ``callto:`` links (B5, issue 6).

Briefcase does not register URL schemes, so the app does it itself, when the agent asks for it
(Phone → "Handle tel: links"):

- **Linux** (freedesktop): a desktop entry ``callsys-url-handler.desktop`` in
  ``$XDG_DATA_HOME/applications`` with ``MimeType=x-scheme-handler/tel;x-scheme-handler/callto;``
  and ``Exec=<this callsys> %u``, then ``xdg-mime default … x-scheme-handler/tel`` (and callto).
  The clicked link starts ``callsys tel:…``, which hands it to the running window (single
  instance, ``ui.single``).
- **Windows**: ``HKCU\\Software\\Classes\\tel`` and ``…\\callto`` with ``URL Protocol`` and
  ``shell\\open\\command = "<callsys>" "%1"`` — per user, no administrator rights needed. (Windows
  10+ still lets the user pick the default in Settings → Default apps.)
- **macOS**: the scheme is declared by the bundle (``CFBundleURLTypes`` in Info.plist) and the
  link arrives as a ``QFileOpenEvent`` — ``ui.app`` handles that event; nothing to register at
  run time, so this module says so.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["SCHEMES", "command_line", "desktop_entry", "register", "sip_address"]

SCHEMES = ("tel", "callto")
DESKTOP_FILE = "callsys-url-handler.desktop"

# user@host, user@host:port, user@[v6]:port — with optional ;params and ?headers after it.
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?"
_ADDRESS = re.compile(rf"^(?:(?P<user>[^@\s<>\"'/]+)@)?(?P<host>{_HOST})(?P<rest>[;?][^\s<>\"']*)?$")


def sip_address(text: str) -> str | None:
    """The SIP URI *text* names, or ``None`` when it is not a SIP address.

    ``sip:1002@127.0.0.1:5062`` and ``sips:…`` come back as written (scheme in lower case),
    ``1002@127.0.0.1`` and ``alice@pbx.example.com:5070`` get ``sip:`` in front, and a
    ``<sip:…>`` from a From header loses its brackets. A ``sip:`` URI with only a host
    (``sip:192.0.2.10:5060``) is an address too; ``sip:1001`` without a host is a PBX's
    shorthand for a number (``callsys.numbers.number_from_uri``) and so is not. Raises
    ``ValueError`` with a readable sentence for text that looks like a SIP address but is
    not one (a space, a missing host)."""
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    scheme, colon, rest = text.partition(":")
    lowered = scheme.lower()
    if colon and lowered in ("sip", "sips"):
        if "@" not in rest and re.fullmatch(r"\+?\d+", rest.split(";", 1)[0]):
            return None  # "sip:1001": a number
        body = rest
    elif "@" in text and lowered not in ("tel", "callto"):
        lowered, body = "sip", text
    else:
        return None
    if len(body) > 250 or not _ADDRESS.match(body) or ("@" in text and not body.split("@", 1)[0]):
        raise ValueError(f"{text!r} is not a SIP address (user@host or user@host:port).")
    return f"{lowered}:{body}"


def command_line() -> list[str]:
    """How to start this callsys: the installed launcher, or this Python running ``-m callsys``."""
    launcher = shutil.which("callsys")
    if launcher and not getattr(sys, "frozen", False):
        return [launcher]
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "callsys"]


def desktop_entry(command: Sequence[str]) -> str:
    exec_line = " ".join(shlex.quote(part) for part in command) + " %u"
    mime = "".join(f"x-scheme-handler/{scheme};" for scheme in SCHEMES)
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=callsys\n"
        "Comment=Dial tel: and callto: links with callsys\n"
        f"Exec={exec_line}\n"
        "Icon=callsys\n"
        "Terminal=false\n"
        "NoDisplay=true\n"
        f"MimeType={mime}\n"
        "Categories=Network;Telephony;\n"
    )


def _register_linux(command: Sequence[str]) -> str:
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    folder = data / "applications"
    folder.mkdir(parents=True, exist_ok=True)
    entry = folder / DESKTOP_FILE
    entry.write_text(desktop_entry(command), encoding="utf-8")
    icon = Path(__file__).resolve().parent.parent / "resources" / "icons" / "callsys.svg"
    if icon.exists():  # "Icon=callsys" in the entry: the theme looks it up by name
        icons = data / "icons" / "hicolor" / "scalable" / "apps"
        icons.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(icon, icons / "callsys.svg")
    xdg_mime = shutil.which("xdg-mime")
    if xdg_mime is None:
        raise OSError(
            f"wrote {entry}, but xdg-mime is not installed (Debian: xdg-utils) to make it the default"
        )
    for scheme in SCHEMES:
        subprocess.run(
            [xdg_mime, "default", DESKTOP_FILE, f"x-scheme-handler/{scheme}"],
            check=True,
            capture_output=True,
            timeout=20,
        )
    update = shutil.which("update-desktop-database")
    if update is not None:
        subprocess.run([update, str(folder)], check=False, capture_output=True, timeout=20)
    return str(entry)


def _register_windows(command: Sequence[str]) -> str:
    import importlib

    winreg: Any = importlib.import_module("winreg")  # Windows only; typed loosely elsewhere

    open_command = " ".join(f'"{part}"' for part in command) + ' "%1"'
    for scheme in SCHEMES:
        base = rf"Software\Classes\{scheme}"
        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, base) as key:
            winreg.SetValueEx(key, "", 0, winreg.REG_SZ, f"URL:{scheme} (callsys)")
            winreg.SetValueEx(key, "URL Protocol", 0, winreg.REG_SZ, "")
        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, base + r"\shell\open\command") as key:
            winreg.SetValueEx(key, "", 0, winreg.REG_SZ, open_command)
    return r"HKEY_CURRENT_USER\Software\Classes\tel, callto"


def register(command: Sequence[str] | None = None, platform: str | None = None) -> str:
    """Make callsys the handler of tel:/callto: links for this user. Returns where it was
    registered; raises ``OSError`` with a readable sentence when it cannot."""
    command = list(command or command_line())
    platform = platform or sys.platform
    if platform.startswith("linux") or platform.startswith("freebsd"):
        try:
            return _register_linux(command)
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or b"").decode(errors="replace").strip()
            raise OSError(f"xdg-mime refused: {detail or exc}") from None
    if platform == "win32":
        return _register_windows(command)
    if platform == "darwin":
        raise OSError(
            "On macOS the callsys app bundle declares tel: and callto: itself (CFBundleURLTypes); "
            "choose callsys as the default in FaceTime → Settings → Default for calls."
        )
    raise OSError(f"Registering link handlers is not supported on {platform}.")
