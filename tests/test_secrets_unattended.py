"""Secrets for an unattended set-up (a service, a kiosk): no keyring session needed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from callsys.errors import SecretStoreError
from callsys.secrets import get_secret, set_secret
from tests.cli_runner import run


def secrets_file(tmp_path: Path, mode: int, text: str = '"sip/1001@pbx" = "pw-from-file"\n') -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_the_environment_gives_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLSYS_SECRET_SIP_1001_PBX", "pw-from-env")
    assert get_secret("sip/1001@pbx") == "pw-from-env"


def test_an_owner_only_file_gives_secrets_and_the_keyring_is_not_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_secret("dynamics/client-secret", "in-the-keyring")
    monkeypatch.setenv("CALLSYS_SECRETS_FILE", str(secrets_file(tmp_path, 0o600)))
    assert get_secret("sip/1001@pbx") == "pw-from-file"
    assert get_secret("dynamics/client-secret") is None  # the file stands in for the keyring
    monkeypatch.setenv("CALLSYS_SECRET_SIP_1001_PBX", "pw-from-env")
    assert get_secret("sip/1001@pbx") == "pw-from-env"  # the environment still wins


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_file_others_may_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    path = secrets_file(tmp_path, mode)
    monkeypatch.setenv("CALLSYS_SECRETS_FILE", str(path))
    with pytest.raises(SecretStoreError) as refused:
        get_secret("sip/1001@pbx")
    assert f"(mode {mode:04o})" in str(refused.value)
    assert f"chmod 600 {path}" in str(refused.value)


def test_a_malformed_or_missing_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLSYS_SECRETS_FILE", str(secrets_file(tmp_path, 0o600, "[sip]\n'1001' = 'x'\n")))
    with pytest.raises(SecretStoreError, match="'sip' is not one"):
        get_secret("sip/1001@pbx")
    monkeypatch.setenv("CALLSYS_SECRETS_FILE", str(tmp_path / "nowhere.toml"))
    with pytest.raises(SecretStoreError, match="cannot be read"):
        get_secret("sip/1001@pbx")


def test_the_command_line_reads_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CALLSYS_SECRETS_FILE", str(secrets_file(tmp_path, 0o600)))
    code, text = run(tmp_path / "settings.toml", "secret", "get", "sip/1001@pbx")
    assert (code, text) == (0, "The secret sip/1001@pbx is stored (use --show to print it).\n")
    os.chmod(tmp_path / "secrets.toml", 0o644)
    code, _ = run(tmp_path / "settings.toml", "secret", "get", "sip/1001@pbx")
    assert code == 1
    assert "can be read by other users" in capsys.readouterr().err
