"""Signed updates (SET5) against a real local HTTP update repository: a good update is offered and
verified; a tampered installer, an expired timestamp, a rollback, a wrong key and a missing
signature are each refused with a clear message, and nothing is left to install."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callsys.updates import UpdateError, check_update, download, release_add, release_init
from tests.cli_runner import run
from tests.helpers import installer


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[tuple[Path, Path, str]]:
    """(repository folder, keys folder, URL) — the folder served on 127.0.0.1."""
    folder, keys = tmp_path / "repo", tmp_path / "keys"
    release_init(folder, keys)
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, keys, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def root_of(folder: Path) -> bytes:
    return (folder / "metadata" / "1.root.json").read_bytes()


def test_a_good_update_is_offered_and_verified(repo: tuple[Path, Path, str], tmp_path: Path) -> None:
    folder, keys, url = repo
    assert check_update(url, root_of(folder), "0.1.0", tmp_path / "cache") is None  # nothing yet
    built = installer(tmp_path, "0.2.0")
    release_add(folder, keys, built, "0.2.0")
    offer = check_update(url, root_of(folder), "0.1.0", tmp_path / "cache")
    assert offer is not None
    assert (offer.version, offer.installer, offer.length) == ("0.2.0", built.name, built.stat().st_size)
    got = download(offer, tmp_path / "downloads")
    assert got.read_bytes() == built.read_bytes()
    # the same or an older version is not offered
    assert check_update(url, root_of(folder), "0.2.0", tmp_path / "cache") is None
    assert check_update(url, root_of(folder), "0.10.0", tmp_path / "cache") is None


def test_a_tampered_installer_is_refused(repo: tuple[Path, Path, str], tmp_path: Path) -> None:
    folder, keys, url = repo
    name = release_add(folder, keys, installer(tmp_path, "0.2.0"), "0.2.0")
    served = folder / "targets" / name
    served.write_bytes(served.read_bytes()[:-1] + b"X")  # same length, other bytes
    offer = check_update(url, root_of(folder), "0.1.0", tmp_path / "cache")
    assert offer is not None
    with pytest.raises(UpdateError, match="does not match what was signed"):
        download(offer, tmp_path / "downloads")
    assert not any((tmp_path / "downloads").iterdir())  # nothing to install
    served.write_bytes(served.read_bytes()[:100])  # truncated
    with pytest.raises(UpdateError, match="was not installed"):
        download(offer, tmp_path / "downloads")
    assert not any((tmp_path / "downloads").iterdir())


def test_an_expired_timestamp_is_refused(repo: tuple[Path, Path, str], tmp_path: Path) -> None:
    folder, keys, url = repo
    yesterday = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    release_add(folder, keys, installer(tmp_path, "0.2.0"), "0.2.0", timestamp_expires=yesterday)
    with pytest.raises(UpdateError, match=r"expired .*ExpiredMetadataError"):
        check_update(url, root_of(folder), "0.1.0", tmp_path / "cache")


def test_a_rollback_to_older_metadata_is_refused(repo: tuple[Path, Path, str], tmp_path: Path) -> None:
    folder, keys, url = repo
    release_add(folder, keys, installer(tmp_path, "0.2.0"), "0.2.0")
    old = tmp_path / "old-metadata"
    shutil.copytree(folder / "metadata", old)
    release_add(folder, keys, installer(tmp_path, "0.3.0"), "0.3.0")
    offer = check_update(url, root_of(folder), "0.1.0", tmp_path / "cache")
    assert offer is not None and offer.version == "0.3.0"
    # an attacker (or a stale mirror) serves the older, validly signed metadata again
    shutil.rmtree(folder / "metadata")
    shutil.copytree(old, folder / "metadata")
    with pytest.raises(UpdateError, match=r"rollback"):
        check_update(url, root_of(folder), "0.1.0", tmp_path / "cache")


def test_metadata_signed_by_a_wrong_key_is_refused(repo: tuple[Path, Path, str], tmp_path: Path) -> None:
    folder, keys, url = repo
    trusted = root_of(folder)
    # another repository's keys sign this one's metadata: the shipped root does not name them
    other_keys = tmp_path / "other-keys"
    release_init(tmp_path / "other-repo", other_keys)
    for role in ("targets", "snapshot", "timestamp"):
        (keys / f"{role}.pem").write_bytes((other_keys / f"{role}.pem").read_bytes())
    release_add(folder, keys, installer(tmp_path, "0.2.0"), "0.2.0")
    with pytest.raises(UpdateError, match="not signed by the organisation's keys"):
        check_update(url, trusted, "0.1.0", tmp_path / "cache")


def test_a_missing_signature_is_refused(repo: tuple[Path, Path, str], tmp_path: Path) -> None:
    folder, keys, url = repo
    release_add(folder, keys, installer(tmp_path, "0.2.0"), "0.2.0")
    path = folder / "metadata" / "timestamp.json"
    doc = json.loads(path.read_text())
    doc["signatures"] = []
    path.write_text(json.dumps(doc))
    with pytest.raises(UpdateError, match="not signed by the organisation's keys"):
        check_update(url, root_of(folder), "0.1.0", tmp_path / "cache")


def test_release_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "settings.toml"
    repo_dir, keys = tmp_path / "repo", tmp_path / "keys"
    code, text = run(config, "release", "init", "--repo", str(repo_dir), "--keys", str(keys))
    assert code == 0, capsys.readouterr().err
    assert str(repo_dir / "metadata" / "root.json") in text
    assert oct((keys / "root.pem").stat().st_mode & 0o777) == "0o600"
    built = installer(tmp_path, "0.2.0")
    code, text = run(
        config,
        "release",
        "add",
        str(built),
        "--version",
        "0.2.0",
        "--repo",
        str(repo_dir),
        "--keys",
        str(keys),
    )
    assert code == 0, capsys.readouterr().err
    assert (repo_dir / "targets" / built.name).read_bytes() == built.read_bytes()
    assert json.loads((repo_dir / "targets" / "callsys-latest.json").read_text())["version"] == "0.2.0"
    code, _ = run(config, "release", "init", "--repo", str(repo_dir), "--keys", str(keys))
    assert code == 1
    assert "already holds update keys" in capsys.readouterr().err


def test_update_check_command(
    repo: tuple[Path, Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, keys, url = repo
    config, root = tmp_path / "settings.toml", folder / "metadata" / "1.root.json"
    code, text = run(config, "update", "check", "--url", url, "--root", str(root))
    assert (code, text) == (0, "callsys 0.1.0 is up to date.\n")
    built = installer(tmp_path, "0.2.0")
    release_add(folder, keys, built, "0.2.0")
    code, text = run(
        config, "update", "check", "--url", url, "--root", str(root), "--download", str(tmp_path / "dl")
    )
    assert code == 0, capsys.readouterr().err
    assert (
        text.splitlines()[0]
        == f"Version 0.2.0 is available ({built.name}, {built.stat().st_size} bytes, signed)."
    )
    assert (tmp_path / "dl" / built.name).read_bytes() == built.read_bytes()
    # a frozen feed: refused with the reason, exit status 1
    release_add(
        folder,
        keys,
        built,
        "0.2.0",
        timestamp_expires=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1),
    )
    code, text = run(config, "update", "check", "--url", url, "--root", str(root))
    assert (code, text) == (1, "")
    assert "No update: the update feed has expired" in capsys.readouterr().err


def test_update_check_takes_the_feed_from_the_settings(
    repo: tuple[Path, Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, keys, url = repo
    release_add(folder, keys, installer(tmp_path, "0.2.0"), "0.2.0")
    config = tmp_path / "settings.toml"
    config.write_text("", encoding="utf-8")
    code, _ = run(config, "update", "check")
    assert code == 2
    assert "No update feed is set" in capsys.readouterr().err
    # as an administrator's layer would set them
    root = folder / "metadata" / "1.root.json"
    config.write_text(f'[updates]\nurl = "{url}"\nroot = "{root}"\n', encoding="utf-8")
    code, text = run(config, "update", "check")
    assert code == 0, capsys.readouterr().err
    assert text.startswith("Version 0.2.0 is available")
