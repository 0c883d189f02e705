"""Test-wide isolation: no real home directory, no real keyring, Qt offscreen.

Set before anything imports Qt or platformdirs resolves a path, so no test can read or write
the developer's own settings, database or passwords.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

# The built pjsua2 engine (scripts/build-pjsua2) is in the real cache folder: keep finding it.
if not os.environ.get("CALLSYS_PJSUA2_DIR"):
    from providers.sip.engines import built_dir

    _BUILT = built_dir()
    if _BUILT is not None:
        os.environ["CALLSYS_PJSUA2_DIR"] = str(_BUILT)

# So is the Asterisk of the server's PBX tests (scripts/build-asterisk; tests/server/asterisk.py).
if not os.environ.get("CALLSYS_ASTERISK_CACHE_DIR"):
    os.environ["CALLSYS_ASTERISK_CACHE_DIR"] = os.environ.get("CALLSYS_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "callsys"
    )

_HOME = tempfile.mkdtemp(prefix="callsys-test-home-")
os.environ["QT_QPA_PLATFORM"] = os.environ.get("CALLSYS_TEST_QPA", "offscreen")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_HOME, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_HOME, "data")
os.environ["XDG_CACHE_HOME"] = os.path.join(_HOME, "cache")
os.environ["XDG_RUNTIME_DIR"] = os.path.join(_HOME, "runtime")
os.makedirs(os.environ["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)
# Nor the computer's own system-wide settings (/etc/callsys/settings.toml): a test writes its own.
os.environ["CALLSYS_SYSTEM_SETTINGS"] = os.path.join(_HOME, "etc", "callsys", "settings.toml")
for _name in list(os.environ):
    if _name.startswith("CALLSYS_SECRET_") or _name == "CALLSYS_SECRETS_FILE":
        del os.environ[_name]

import keyring  # noqa: E402
from keyring.backend import KeyringBackend  # noqa: E402


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring so tests exercise the real keyring code path without a Secret Service."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        import keyring.errors

        if (service, username) not in self.store:
            raise keyring.errors.PasswordDeleteError(username)
        del self.store[(service, username)]


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def pytest_report_header(config: pytest.Config) -> str:
    """Which pjsua2 build the softphone tests run on (``CALLSYS_SIP_ENGINE``, else the built
    engine when ``scripts/build-pjsua2`` made one, else the PyPI wheel)."""
    from providers.sip.engines import ENGINE_ENV, built_dir, resolve

    try:
        kind = resolve()
    except Exception as exc:  # a bad CALLSYS_SIP_ENGINE: the tests that start a phone say so
        return f"softphone engine: {exc}"
    built = built_dir()
    where = f"built engine in {built}" if built is not None else "no built engine (scripts/build-pjsua2)"
    return f"softphone engine: {kind} ({ENGINE_ENV}={os.environ.get(ENGINE_ENV, '') or 'auto'}; {where})"


_AT_ONCE_ENV = "CALLSYS_TEST_REPORT_AT_ONCE"


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """With ``CALLSYS_TEST_REPORT_AT_ONCE=1`` (``scripts/test`` sets it for the whole suite) a
    failure's report is printed the moment it happens, not only in the summary at the end: a
    later crash of the whole run (a native abort, a timeout) must not take the reason with it."""
    if not report.failed or os.environ.get(_AT_ONCE_ENV) != "1" or _config is None:
        return
    terminal = _config.pluginmanager.get_plugin("terminalreporter")
    if terminal is None:
        return
    terminal.write_line("")
    terminal.write_sep("_", f"FAILED {report.nodeid} ({report.when})", red=True)
    terminal.write_line(report.longreprtext)
    for name, text in report.sections:
        if text.strip():
            terminal.write_sep("-", name)
            terminal.write_line(text[-20_000:])


_config: pytest.Config | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _config
    _config = config
