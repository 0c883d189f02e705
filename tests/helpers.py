"""Helpers shared by tests in more than one folder: a stand-in installer for the signed updates
(SET5), stopping a process the test started, and a real ``callsys server --json`` process."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any


def installer(tmp_path: Path, version: str) -> Path:
    path = tmp_path / f"callsys_{version}-1~debian-bookworm_amd64.deb"
    path.write_bytes(b"!<arch>\n" + f"callsys {version}".encode() * 1000)
    return path


def stop(proc: subprocess.Popen[Any], timeout: float = 30) -> None:
    """Ask *proc* to end (SIGTERM) as a service manager would; kill it if it has not within
    *timeout* seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def listening_server(argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path) -> Iterator[str]:
    """Run ``callsys server … --json`` (*argv*) with its log in *log*; yield the ``host:port`` it
    says it listens on, and stop it at the end. Fails with the log's end if it never listens."""
    with log.open("wb") as err:
        proc = subprocess.Popen(list(argv), cwd=str(cwd), env=dict(env), stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        try:
            said = b""  # {"listening": "127.0.0.1:PORT"} (indented), or nothing if it failed
            while not said.rstrip().endswith(b"}"):
                line = proc.stdout.readline()
                assert line, log.read_text()[-3000:]
                said += line
            yield str(json.loads(said)["listening"])
        finally:
            stop(proc)
            proc.stdout.close()
