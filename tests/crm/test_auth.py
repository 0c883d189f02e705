"""Sign-in (CARD5): MSAL against a fake identity provider, token commands, the encrypted cache."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from callsys.auth import (
    CommandTokens,
    EnvTokens,
    MsalConfidentialTokens,
    MsalPublicTokens,
    check_org_url,
    token_cache,
)
from callsys.crm.dynamics.client import DynamicsCrm
from callsys.errors import AuthError, ConfigError, SecretStoreError
from callsys.numbers import NumberPlan
from tests.dataverse_fake import ORG, DataverseFake, FakeIdentityProvider


def test_plain_http_only_for_loopback() -> None:
    assert check_org_url("https://contoso.crm4.dynamics.com/") == "https://contoso.crm4.dynamics.com"
    assert check_org_url("http://127.0.0.1:8555") == "http://127.0.0.1:8555"
    assert check_org_url("http://localhost:1") == "http://localhost:1"
    assert check_org_url("http://[::1]:80") == "http://[::1]:80"
    for bad in ("http://contoso.crm.dynamics.com", "http://10.0.0.5", "ftp://x", "contoso"):
        with pytest.raises(ConfigError):
            check_org_url(bad)


@pytest.mark.asyncio
async def test_server_signs_in_with_client_secret_and_reads_dataverse(
    fake: DataverseFake, plan: NumberPlan
) -> None:
    idp = FakeIdentityProvider(fake)
    idp.secrets["app-1"] = "s3cret"
    tokens = MsalConfidentialTokens(
        ORG, "app-1", idp.authority, "s3cret", http_client=idp, instance_discovery=False
    )
    crm = DynamicsCrm(ORG, tokens, plan=plan, transport=fake.transport())
    try:
        user = await crm.who_am_i()
        assert user == fake.default_user
        posts = [c for c in idp.calls if c[0] == "POST"]
        assert posts[0][1]["grant_type"] == "client_credentials"
        assert posts[0][1]["scope"].split() == [f"{ORG}/.default"]
        fake.tokens.clear()  # token revoked → one refresh, then it works again
        assert await crm.who_am_i() == fake.default_user
    finally:
        await crm.close()
    wrong = MsalConfidentialTokens(
        ORG, "app-1", idp.authority, "wrong", http_client=idp, instance_discovery=False
    )
    with pytest.raises(AuthError):
        await wrong.token()


@pytest.mark.asyncio
async def test_desktop_falls_back_to_device_code_then_stays_silent(fake: DataverseFake) -> None:
    idp = FakeIdentityProvider(fake)
    idp.device_pending = 1
    shown: list[str] = []
    tokens = MsalPublicTokens(
        ORG,
        "desktop-app",
        idp.authority,
        http_client=idp,
        show_device_code=shown.append,
        interactive=False,
        instance_discovery=False,
    )
    first = await tokens.token()
    assert first in fake.tokens
    assert shown and "ABCD-EFGH" in shown[0]
    posts_before = len([c for c in idp.calls if c[0] == "POST"])
    again = await tokens.token()  # from the cache: no prompt, no network
    assert again == first
    assert len([c for c in idp.calls if c[0] == "POST"]) == posts_before
    assert len(shown) == 1
    refreshed = await tokens.token(force_refresh=True)  # silent refresh with the refresh token
    assert refreshed != first and len(shown) == 1


@pytest.mark.asyncio
async def test_browser_failure_falls_back_to_device_code(
    fake: DataverseFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    idp = FakeIdentityProvider(fake)
    shown: list[str] = []
    tokens = MsalPublicTokens(
        ORG,
        "desktop-app",
        idp.authority,
        http_client=idp,
        show_device_code=shown.append,
        instance_discovery=False,
    )
    browser: list[object] = []

    def no_browser(*args: object, **kwargs: object) -> dict[str, str]:
        browser.append(kwargs)
        raise RuntimeError("could not locate runnable browser")

    monkeypatch.setattr(tokens.app, "acquire_token_interactive", no_browser)
    assert await tokens.token() in fake.tokens
    assert browser and browser[0]["port"] is None  # loopback redirect on a system-assigned port
    assert shown


def test_token_cache_refuses_plaintext_without_opt_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import msal_extensions

    def no_secret_store(location: str) -> object:
        raise RuntimeError("Secret Service is not available")

    monkeypatch.setattr(msal_extensions, "build_encrypted_persistence", no_secret_store)
    path = tmp_path / "cache" / "msal.bin"
    with pytest.raises(SecretStoreError) as info:
        token_cache(path)
    assert "crm.plaintext_token_cache" in str(info.value)
    assert not path.exists()
    cache = token_cache(path, allow_plaintext=True)
    assert cache is not None
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.asyncio
async def test_token_from_a_command(tmp_path: Path) -> None:
    script = tmp_path / "az.py"
    script.write_text(
        'import json; print(json.dumps({"accessToken": "tok-from-az", "expires_on": 4102444800}))'
    )
    tokens = CommandTokens([sys.executable, str(script)])
    assert await tokens.token() == "tok-from-az"
    failing = CommandTokens([sys.executable, "-c", "import sys; sys.exit('not logged in')"])
    with pytest.raises(AuthError, match="not logged in"):
        await failing.token()


@pytest.mark.asyncio
async def test_token_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLSYS_TEST_TOKEN", "tok-env")
    assert await EnvTokens("CALLSYS_TEST_TOKEN").token() == "tok-env"
    monkeypatch.delenv("CALLSYS_TEST_TOKEN")
    with pytest.raises(AuthError):
        await EnvTokens("CALLSYS_TEST_TOKEN").token()


@pytest.mark.asyncio
async def test_server_signs_in_with_a_certificate(fake: DataverseFake) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    idp = FakeIdentityProvider(fake)
    tokens = MsalConfidentialTokens(
        ORG,
        "app-cert",
        idp.authority,
        {"private_key": pem, "thumbprint": "AB" * 20},
        http_client=idp,
        instance_discovery=False,
    )
    assert await tokens.token() in fake.tokens
    [post] = [c for c in idp.calls if c[0] == "POST"]
    assert post[1]["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert "client_secret" not in post[1]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("host", "line"),
    [
        ("login.microsoftonline.us", 'authority = "https://login.microsoftonline.us"'),  # US Government
        ("login.chinacloudapi.cn", 'authority = "https://login.chinacloudapi.cn/"'),
        (
            "login.fake.test",
            'authority = "https://login.fake.test"',
        ),  # an OpenID Connect endpoint of one's own
    ],
)
async def test_the_sign_in_service_is_the_configured_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: DataverseFake, host: str, line: str
) -> None:
    from callsys.crm.dynamics.setup import tokens_from_settings
    from callsys.secretnames import DYNAMICS_SECRET
    from callsys.secrets import env_name
    from callsys.settings import load_settings

    path = tmp_path / "settings.toml"
    path.write_text(
        f'[crm]\nbackend = "dynamics"\nurl = "{ORG}"\nauth = "client_secret"\nclient_id = "app-1"\n'
        f'tenant = "contoso"\n{line}\n',
        encoding="utf-8",
    )
    monkeypatch.setenv(env_name(DYNAMICS_SECRET), "s3cret")
    idp = FakeIdentityProvider(fake, host=host)
    idp.secrets["app-1"] = "s3cret"
    tokens = tokens_from_settings(load_settings(path, must_exist=True), http_client=idp)
    assert (await tokens.token()) in fake.tokens
    assert idp.calls and all(c[1]["url"].startswith(f"https://{host}/contoso/") for c in idp.calls)


def test_the_sign_in_service_must_be_an_https_address(tmp_path: Path) -> None:
    from callsys.settings import load_settings

    path = tmp_path / "settings.toml"
    path.write_text('[crm]\nauthority = "http://login.example.test"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"crm\.authority"):
        load_settings(path, must_exist=True)
