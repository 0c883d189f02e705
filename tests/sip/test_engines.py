"""The engine choice (``providers.sip.engines``) without starting a phone: which build ``auto``
picks, what a built engine's folder says it can do, and the option's validation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from callsys.errors import ConfigError, ProviderUnavailable
from providers.sip import engines
from providers.sip.guard import BUDGET, budget_for
from providers.sip.options import SipOptions

ROOT = Path(__file__).resolve().parents[2]


def fake_build(folder: Path) -> Path:
    """A folder shaped like scripts/build-pjsua2's output, with the real config_site.h."""
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "pjsua2" / "config_site.h", folder / "config_site.h")
    (folder / "pjsua2.py").write_text("")
    (folder / "_pjsua2.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    manifest = {"pjproject": "2.17", "configure": "--enable-epoll --disable-video", "sound": "alsa",
                "openssl": "3.0.19"}  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture
def no_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CALLSYS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(engines.DIR_ENV, raising=False)
    monkeypatch.delenv(engines.ENGINE_ENV, raising=False)
    monkeypatch.setattr(engines, "BUNDLED", tmp_path / "app" / "pjsua2-engine")
    return tmp_path


def test_auto_is_the_wheel_without_a_build_and_the_build_when_there_is_one(
    no_build: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert engines.built_dir() is None
    assert engines.resolve("auto") == "wheel"
    build = fake_build(no_build / "cache" / "pjsua2-0123456789abcdef")
    (no_build / "cache" / f"current-{engines._python_tag()}").write_text(f"{build}\n")
    assert engines.built_dir() == build
    assert engines.resolve("auto") == "built"
    assert engines.resolve("wheel") == "wheel"
    monkeypatch.setenv(engines.ENGINE_ENV, "wheel")  # tests and benchmarks pick one this way
    assert engines.resolve("auto") == "wheel"
    assert engines.resolve("built") == "built"  # an explicit option wins


def test_the_engine_shipped_with_the_app_is_taken_before_the_build_cache(no_build: Path) -> None:
    """The Debian package carries the built engine beside the app's code (scripts/package):
    the installed app runs it, not the wheel, whatever its user's build cache holds."""
    cached = fake_build(no_build / "cache" / "pjsua2-0123456789abcdef")
    (no_build / "cache" / f"current-{engines._python_tag()}").write_text(f"{cached}\n")
    shipped = fake_build(engines.BUNDLED)
    assert engines.built_dir() == shipped
    assert engines.resolve("auto") == "built"
    # one built for another Python cannot be imported: the cache's (or the wheel) instead
    manifest = json.loads((shipped / "manifest.json").read_text())
    (shipped / "manifest.json").write_text(json.dumps({**manifest, "python": "cpython-399-linux-x86_64"}))
    assert engines.built_dir() == cached
    (shipped / "manifest.json").write_text(json.dumps({**manifest, "python": engines._python_tag()}))
    assert engines.built_dir() == shipped


def test_a_pointer_to_a_half_built_folder_is_no_build(no_build: Path) -> None:
    build = fake_build(no_build / "cache" / "pjsua2-x")
    (build / "manifest.json").unlink()  # the build script writes it last
    (no_build / "cache" / f"current-{engines._python_tag()}").write_text(str(build))
    assert engines.built_dir() is None


def test_asking_for_the_built_engine_without_one_says_how_to_get_it(no_build: Path) -> None:
    with pytest.raises(ProviderUnavailable, match="scripts/build-pjsua2"):
        engines.load("built")


def test_a_built_engine_says_what_its_config_site_allows(no_build: Path) -> None:
    build = engines._built_build(fake_build(no_build / "b"))
    assert (build.kind, build.max_calls, build.max_packet) == ("built", 32, 16384)
    assert build.ioqueue == "epoll" and build.ioqueue_handles >= 1024
    assert build.sound_devices and build.tls13
    wheel = engines.WHEEL
    assert (wheel.max_calls, wheel.max_packet, wheel.ioqueue_handles, wheel.tls13) == (4, 4000, 64, False)
    assert "32 calls" in build.describe() and "TLS 1.3" in build.describe()


def test_the_flood_guard_budget_follows_the_engines_sockets() -> None:
    assert budget_for(64) == BUDGET == 56  # the wheel: 28 calls
    assert budget_for(4096) == 3584


def test_the_engine_option() -> None:
    assert SipOptions.parse({}).engine == "auto"
    assert SipOptions.parse({"engine": "Built"}).engine == "built"
    with pytest.raises(ConfigError) as err:
        SipOptions.parse({"engine": "baresip"})
    assert err.value.key is not None and err.value.key.endswith("engine")
    with pytest.raises(ConfigError):
        engines.resolve("nonsense")


def test_phone_info_names_the_running_engine_and_a_switch_needs_a_restart() -> None:
    from providers.sip.phone_cli import engine_info

    info = engine_info({})  # loads the engine auto picks (as the phones of this test run do)
    assert info["engine"] == engines.resolve() == engines.current().kind
    assert info["max_calls"] == engines.current().max_calls and info["summary"].startswith(info["engine"])
    other = "wheel" if info["engine"] == "built" else "built"
    with pytest.raises(ProviderUnavailable):  # one pjsua2 per process
        engines.load(other)
    assert engines.load("auto") is engines.current()
