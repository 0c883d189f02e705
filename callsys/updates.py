"""Signed updates (SET5) with The Update Framework (python-tuf): the organisation's repository of
installers, and the client's check.

**Repository** (``callsys release``, the administrator): a folder that any static web server (or
the callsys server) serves as it is::

    REPO/metadata/1.root.json root.json targets.json snapshot.json timestamp.json
    REPO/targets/callsys-latest.json            {"version": "0.2.0", "installer": "callsys_….deb"}
    REPO/targets/callsys_0.2.0-1~debian-bookworm_amd64.deb

Four roles, one Ed25519 key each, kept as PEM files in a keys folder: ``root`` (keep it
offline: it only signs the root metadata, i.e. which keys count), ``targets`` (signs what the
installers are: their length and SHA-256), ``snapshot`` and ``timestamp`` (online; the timestamp
expires after a day by default, so a frozen feed is noticed). ``release_init`` makes them and the
first metadata; ``release_add`` adds an installer, points ``callsys-latest.json`` at it, and signs
new targets, snapshot and timestamp.

**Client** (``check_update``): starts from the organisation's ``root.json`` shipped with the app
(never one fetched from the network), lets ``tuf.ngclient`` fetch and verify the metadata —
signatures by the keys root names, expiry, version numbers never going back, snapshot and
timestamp agreeing — then reads ``callsys-latest.json`` and the installer's length and hashes
from the signed targets. Only a newer version is offered; ``download`` stores the installer only
after its length and hash matched, telling a ``progress`` callback how far it is and stopping when
a ``cancel`` event is set (the desktop runs it on a worker thread: ``ui.updater``).

**Installing** is the caller's step: ``install_command`` is the command line that hands the
verified file to the system's installer (``pkexec apt-get install --yes FILE.deb`` on Debian; an
``.msi`` to ``msiexec``). Where the installed package comes from an apt repository the
organisation configured (``apt_repository``), the system's package manager updates callsys and
the desktop stays out of the way.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from callsys.errors import CallsysError

__all__ = [
    "LATEST",
    "ROLES",
    "SHIPPED_ROOT",
    "FeedUnreachable",
    "UpdateCancelled",
    "UpdateError",
    "UpdateOffer",
    "apt_repository",
    "check_update",
    "download",
    "feed_cache",
    "install_command",
    "release_add",
    "release_init",
]

ROLES = ("root", "targets", "snapshot", "timestamp")
LATEST = "callsys-latest.json"
#: How long each role's metadata stays valid when signed (the timestamp is re-signed most often).
LIFETIMES = {
    "root": timedelta(days=365),
    "targets": timedelta(days=90),
    "snapshot": timedelta(days=7),
    "timestamp": timedelta(days=1),
}


#: The update repository's root.json an organisation ships in its installers (none by default).
SHIPPED_ROOT = Path(__file__).resolve().parents[1] / "resources" / "update-root.json"
#: The Debian package whose origin decides who installs updates (``apt_repository``).
PACKAGE = "callsys"


class UpdateError(CallsysError):
    """An update that is not offered or not installed, and why (one sentence)."""


class UpdateCancelled(UpdateError):
    """The download was cancelled (nothing is left to install)."""


class FeedUnreachable(UpdateError):
    """The feed could not be reached (no network, the server down): nothing wrong with what it
    signs — try again later."""


def _error(exc: Exception, text: str) -> UpdateError:
    """*text* as an ``UpdateError``: ``FeedUnreachable`` when *exc* says the network failed (a
    file longer than the signed length is not that: it is refused as not matching)."""
    from tuf.api import exceptions as tuf_errors

    unreachable = isinstance(exc, tuf_errors.DownloadError) and not isinstance(
        exc, tuf_errors.DownloadLengthMismatchError
    )
    return (FeedUnreachable if unreachable else UpdateError)(text)


@dataclass(frozen=True)
class UpdateOffer:
    version: str
    installer: str  # the target's path in the repository
    length: int
    sha256: str
    _info: Any = None  # tuf's TargetFile
    _updater: Any = None
    _fetcher: Any = None  # the _Fetcher the updater downloads with (progress, cancel)


class _Fetcher:
    """tuf's urllib3 fetcher, telling *progress* how many bytes of a file have come and stopping
    when *cancel* is set. tuf still checks every byte's length and hash against the signed ones."""

    def __init__(self) -> None:
        from tuf.ngclient.urllib3_fetcher import Urllib3Fetcher

        class Counting(Urllib3Fetcher):
            def _fetch(inner, url: str) -> Iterator[bytes]:
                received = 0
                for chunk in Urllib3Fetcher._fetch(inner, url):
                    if self.cancel is not None and self.cancel.is_set():
                        raise UpdateCancelled("The download of the update was cancelled.")
                    received += len(chunk)
                    if self.progress is not None:
                        self.progress(received)
                    yield chunk

        self.progress: Callable[[int], None] | None = None
        self.cancel: threading.Event | None = None
        self.tuf = Counting(chunk_size=64 * 1024)


# ------------------------------------------------------------------------------------ keys
def _signer(keys: Path, role: str) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from securesystemslib.signer import CryptoSigner

    path = keys / f"{role}.pem"
    try:
        private = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise UpdateError(f"The {role} key {path} cannot be read: {exc}") from None
    return CryptoSigner(private)


def _new_key(keys: Path, role: str) -> Any:
    import os

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    path = keys / f"{role}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return _signer(keys, role)


# ------------------------------------------------------------------------------ repository
def _expires(role: str, now: datetime | None = None) -> datetime:
    return ((now or datetime.now(UTC)) + LIFETIMES[role]).replace(microsecond=0)


def _write(repo: Path, md: Any, *, versioned: bool = False) -> None:
    from tuf.api.serialization.json import JSONSerializer

    folder = repo / "metadata"
    folder.mkdir(parents=True, exist_ok=True)
    data = md.to_bytes(JSONSerializer(compact=False))
    role = md.signed.type
    if versioned:  # root is fetched as N.root.json by clients walking key rotations
        (folder / f"{md.signed.version}.{role}.json").write_bytes(data)
    (folder / f"{role}.json").write_bytes(data)


def _read(repo: Path, role: str) -> Any:
    from tuf.api.metadata import Metadata

    return Metadata.from_file(str(repo / "metadata" / f"{role}.json"))


def release_init(repo: Path, keys: Path) -> Path:
    """Make the four keys (in *keys*, mode 0600) and the first signed metadata in *repo*.
    Returns the ``root.json`` that the desktops must be given (shipped with the installer)."""
    from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp

    keys.mkdir(parents=True, exist_ok=True)
    if any((keys / f"{role}.pem").exists() for role in ROLES):
        raise UpdateError(f"{keys} already holds update keys: an update repository is not made twice.")
    signers = {role: _new_key(keys, role) for role in ROLES}
    root = Root(expires=_expires("root"), consistent_snapshot=False)
    for role, signer in signers.items():
        root.add_key(signer.public_key, role)
    roles: dict[str, Any] = {
        "root": Metadata(root),
        "targets": Metadata(Targets(expires=_expires("targets"))),
        "snapshot": Metadata(Snapshot(expires=_expires("snapshot"))),
        "timestamp": Metadata(Timestamp(expires=_expires("timestamp"))),
    }
    for role, md in roles.items():
        md.sign(signers[role])
    (repo / "targets").mkdir(parents=True, exist_ok=True)
    _write(repo, roles["root"], versioned=True)
    for role in ("targets", "snapshot", "timestamp"):
        _write(repo, roles[role])
    return repo / "metadata" / "root.json"


def release_add(
    repo: Path, keys: Path, installer: Path, version: str, *, timestamp_expires: datetime | None = None
) -> str:
    """Add *installer* as *version*: copy it into the repository, point ``callsys-latest.json``
    at it, and sign new targets, snapshot and timestamp metadata. Returns the target's name."""
    from tuf.api.metadata import MetaFile, TargetFile

    if not installer.is_file():
        raise UpdateError(f"No installer at {installer}.")
    targets_dir = repo / "targets"
    name = installer.name
    shutil.copyfile(installer, targets_dir / name)
    latest = targets_dir / LATEST
    latest.write_text(json.dumps({"version": version, "installer": name}) + "\n", encoding="utf-8")

    targets = _read(repo, "targets")
    for path in (name, LATEST):
        targets.signed.targets[path] = TargetFile.from_file(path, str(targets_dir / path), ["sha256"])
    targets.signed.version += 1
    targets.signed.expires = _expires("targets")
    targets.signatures.clear()
    targets.sign(_signer(keys, "targets"))
    _write(repo, targets)

    snapshot = _read(repo, "snapshot")
    snapshot.signed.meta["targets.json"] = MetaFile(version=targets.signed.version)
    snapshot.signed.version += 1
    snapshot.signed.expires = _expires("snapshot")
    snapshot.signatures.clear()
    snapshot.sign(_signer(keys, "snapshot"))
    _write(repo, snapshot)

    timestamp = _read(repo, "timestamp")
    timestamp.signed.snapshot_meta = MetaFile(version=snapshot.signed.version)
    timestamp.signed.version += 1
    timestamp.signed.expires = timestamp_expires or _expires("timestamp")
    timestamp.signatures.clear()
    timestamp.sign(_signer(keys, "timestamp"))
    _write(repo, timestamp)
    return name


# ---------------------------------------------------------------------------------- client
def _version_key(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _why(exc: Exception) -> str:
    from tuf.api import exceptions as tuf_errors

    kinds: list[tuple[type[Exception], str]] = [
        (tuf_errors.ExpiredMetadataError, "the update feed has expired (a stale or frozen feed)"),
        (tuf_errors.BadVersionNumberError, "the update feed went back to an older version (rollback)"),
        (tuf_errors.UnsignedMetadataError, "the update feed is not signed by the organisation's keys"),
        (tuf_errors.LengthOrHashMismatchError, "a file of the update does not match what was signed"),
        (tuf_errors.DownloadError, "the update feed could not be downloaded"),
        (tuf_errors.RepositoryError, "the update feed is not valid"),
    ]
    for kind, text in kinds:
        if isinstance(exc, kind):
            return f"{text} ({type(exc).__name__}: {exc})"
    return f"{type(exc).__name__}: {exc}"


def check_update(url: str, trusted_root: bytes, current_version: str, cache: Path) -> UpdateOffer | None:
    """The newer version the repository at *url* offers, verified, or None when there is none.
    Raises ``UpdateError`` saying why when the feed cannot be trusted."""
    from tuf.api import exceptions as tuf_errors
    from tuf.ngclient import Updater

    base = url.rstrip("/")
    (cache / "metadata").mkdir(parents=True, exist_ok=True)
    (cache / "targets").mkdir(parents=True, exist_ok=True)
    fetcher = _Fetcher()
    try:
        updater = Updater(
            metadata_dir=str(cache / "metadata"),
            metadata_base_url=f"{base}/metadata/",
            target_dir=str(cache / "targets"),
            target_base_url=f"{base}/targets/",
            bootstrap=trusted_root,
            fetcher=fetcher.tuf,
        )
        updater.refresh()
        latest_info = updater.get_targetinfo(LATEST)
        if latest_info is None:
            return None
        latest_path = updater.download_target(latest_info, str(cache / "targets" / LATEST))
        latest = json.loads(Path(latest_path).read_text(encoding="utf-8"))
        version, installer = str(latest["version"]), str(latest["installer"])
        info = updater.get_targetinfo(installer)
    except (tuf_errors.RepositoryError, tuf_errors.DownloadError) as exc:
        raise _error(exc, f"No update: {_why(exc)}.") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UpdateError(f"No update: the update feed is not valid ({exc}).") from None
    if info is None:
        raise UpdateError(f"No update: the feed names {installer}, which it does not sign.")
    if _version_key(version) <= _version_key(current_version):
        return None
    return UpdateOffer(version, installer, info.length, info.hashes.get("sha256", ""), info, updater, fetcher)


def _matches(path: Path, offer: UpdateOffer) -> bool:
    """Is *path* the signed installer already (its length and SHA-256)?"""
    try:
        if path.stat().st_size != offer.length or not offer.sha256:
            return False
        digest = hashlib.sha256()
        with path.open("rb") as data:
            for block in iter(lambda: data.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return False
    return digest.hexdigest() == offer.sha256


def download(
    offer: UpdateOffer,
    folder: Path,
    *,
    progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Fetch the offered installer into *folder*; it is kept only if its length and hashes match
    the signed ones (otherwise ``UpdateError``, and nothing is left to install).

    *progress* is told the bytes received so far (of ``offer.length``); setting *cancel* stops
    the download (``UpdateCancelled``). An installer already in *folder* that matches the signed
    length and hash is not fetched again."""
    from tuf.api import exceptions as tuf_errors

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / Path(offer.installer).name
    if _matches(target, offer):
        if progress is not None:
            progress(offer.length)
        return target
    if offer._fetcher is not None:
        offer._fetcher.progress, offer._fetcher.cancel = progress, cancel
    try:
        return Path(offer._updater.download_target(offer._info, str(target)))
    except UpdateCancelled:
        target.unlink(missing_ok=True)
        raise
    except (tuf_errors.RepositoryError, tuf_errors.DownloadError) as exc:
        target.unlink(missing_ok=True)
        raise _error(exc, f"The update to {offer.version} was not installed: {_why(exc)}.") from None
    finally:
        if offer._fetcher is not None:
            offer._fetcher.progress = offer._fetcher.cancel = None


def feed_cache(url: str) -> Path:
    """Where what was seen of the feed at *url* is kept: one folder per feed, because what was
    seen of one repository (its versions) says nothing about another's."""
    import platformdirs

    feed = hashlib.sha256(url.rstrip("/").encode()).hexdigest()[:16]
    return platformdirs.user_cache_path("callsys", appauthor=False) / "updates" / feed


# -------------------------------------------------------------------------------- install
def install_command(installer: Path) -> list[str]:
    """The command line that installs the verified *installer* with the system's installer.

    A ``.deb``: ``pkexec apt-get install --yes /path/file.deb`` — polkit asks for an
    administrator's password, apt checks the dependencies. An ``.msi``: ``msiexec /i FILE
    /passive /norestart`` (not tested here)."""
    path = str(installer.resolve())
    if installer.suffix == ".msi":
        return ["msiexec", "/i", path, "/passive", "/norestart"]
    if installer.suffix != ".deb":
        raise UpdateError(
            f"callsys cannot install {installer.name}: only .deb and .msi installers are known."
        )
    pkexec = shutil.which("pkexec")
    if pkexec is None:
        raise UpdateError(
            f"pkexec is not installed, so the update cannot ask for an administrator: "
            f"install it with sudo apt-get install {path}"
        )
    return [pkexec, shutil.which("apt-get") or "/usr/bin/apt-get", "install", "--yes", path]


def apt_repository(package: str = PACKAGE) -> str | None:
    """The apt repository the installed *package* comes from, when the organisation set one up
    (the system's package manager then updates callsys); None when it was installed from a file
    or is not a Debian package here.

    Reads ``apt-cache policy``: the installed version (``***``) lists where it is found; anything
    but ``/var/lib/dpkg/status`` (the installed file itself) is a repository."""
    apt_cache = shutil.which("apt-cache")
    if apt_cache is None:
        return None
    env = {**os.environ, "LC_ALL": "C", "LANGUAGE": ""}
    try:
        out = subprocess.run(
            [apt_cache, "policy", package], capture_output=True, text=True, timeout=30, env=env, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    installed = False
    for line in out.splitlines():
        text = line.strip()
        if line.startswith(" ***"):
            installed = True
            continue
        if not installed:
            continue
        parts = text.split()
        if len(parts) < 2 or not parts[0].isdigit():
            break  # the next version of the table
        source = " ".join(parts[1:])
        if source != "/var/lib/dpkg/status":
            return source
    return None
