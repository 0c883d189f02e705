"""The provider contract, as the AMI and SIP providers meet it, for the TAPI provider: the
runtime-checkable protocol, honest capabilities (``require`` for what it cannot do), a
readable ``UnknownCall`` for a call that is gone, the registry entry, option keys with warnings
for typos, configuration errors that name their key, status through the listener."""

from __future__ import annotations

import pytest

from callsys.errors import ConfigError, NotSupported, UnknownCall
from callsys.provider import Capability, Provider, Registration, require
from providers import REGISTRY
from providers.tapi import NO_LINES_MESSAGE, TapiProvider, list_lines
from providers.tapi.binding import NOT_WINDOWS_MESSAGE
from tests.tapi.conftest import Rig
from tests.tapi.fake import FakeTapi

pytestmark = pytest.mark.asyncio


async def test_protocol_and_honest_capabilities(rig: Rig) -> None:
    provider = rig.provider
    assert isinstance(provider, Provider)
    assert provider.capabilities == {
        Capability.ANSWER,
        Capability.REJECT,
        Capability.HANGUP,
        Capability.HOLD,
        Capability.DIAL,
        Capability.TRANSFER,
    }
    for capability, command in (
        (Capability.MUTE, provider.set_mute("tapi:x", True)),
        (Capability.DTMF, provider.send_dtmf("tapi:x", "1")),
        (Capability.DND, provider.set_dnd(True)),
        (Capability.VOICEMAIL, provider.send_to_voicemail("tapi:x")),
    ):
        with pytest.raises(NotSupported):
            require(provider, capability)
        with pytest.raises(NotSupported, match="cannot"):
            await command


async def test_commands_on_a_call_that_is_gone_raise_unknown_call(rig: Rig) -> None:
    provider = rig.provider
    for command in (
        provider.answer("tapi:gone"),
        provider.reject("tapi:gone"),
        provider.hangup("tapi:gone"),
        provider.hold("tapi:gone"),
        provider.resume("tapi:gone"),
        provider.transfer("tapi:gone", "1002"),
    ):
        with pytest.raises(UnknownCall, match="already ended"):
            await command


async def test_status_and_lines_through_the_listener(rig: Rig) -> None:
    assert [s.registration for s in rig.statuses] == [Registration.CONNECTING, Registration.ONLINE]
    (line,) = rig.statuses[-1].lines
    assert line.id == "Sales 201" and line.registration is Registration.ONLINE
    assert rig.manager.statuses["tapi"].message == "TAPI lines open: Sales 201."


async def test_registry_options_and_configuration_errors(fake: FakeTapi) -> None:
    assert REGISTRY.title("tapi") == "Desk phone through Windows telephony (TAPI)"
    provider = REGISTRY.create("tapi", {"name": "desk", "lines": [{"id": "Sales 201", "label": "Sales"}]})
    assert isinstance(provider, TapiProvider) and provider.name == "desk"
    assert [(line.id, line.label) for line in provider.lines()] == [("Sales 201", "Sales")]
    warnings = REGISTRY.option_warnings(
        "tapi", {"monitor_onyl": True, "lines": [{"id": "a", "did": "1", "pefix": "9"}]}
    )
    assert any("monitor_onyl" in w and "did you mean monitor_only" in w for w in warnings)
    assert any("lines[0].pefix" in w for w in warnings)
    for bad, key in (
        ({"lines": [{"label": "no id"}]}, "lines"),
        ({"lines": "Sales"}, "lines"),
        ({"lines": [{"id": "a", "prefix": "9x"}]}, "lines"),
        ({"monitor_only": "yes"}, "monitor_only"),
        ({"reply_timeout": 0}, "reply_timeout"),
        ({"region": "Atlantis"}, "region"),
    ):
        with pytest.raises(ConfigError) as exc:
            TapiProvider(bad)
        assert exc.value.key == f"phone.options.{key}", bad


async def test_the_line_list_for_settings(fake: FakeTapi) -> None:
    assert list_lines({"library": str(fake.path)}).message == NO_LINES_MESSAGE
    fake.add_line("Sales 201")
    fake.add_line("Support 202")
    found = list_lines({"library": str(fake.path)})
    assert found.names == ("Sales 201", "Support 202") and found.message == ""
    assert not fake.initialized  # it shut TAPI down again
    assert list_lines({}).message == NOT_WINDOWS_MESSAGE  # no tapi32.dll off Windows
    assert "could not be loaded" in list_lines({"library": "/nonexistent/tapi32.so"}).message
    assert "reply_timeout" in list_lines({"reply_timeout": 0}).message  # never raises
