"""Helpers shared by tests in more than one folder: a stand-in installer for the signed updates
(SET5)."""

from __future__ import annotations

from pathlib import Path


def installer(tmp_path: Path, version: str) -> Path:
    path = tmp_path / f"callsys_{version}-1~debian-bookworm_amd64.deb"
    path.write_bytes(b"!<arch>\n" + f"callsys {version}".encode() * 1000)
    return path
