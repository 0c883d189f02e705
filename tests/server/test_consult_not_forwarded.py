"""A desktop on a callsys server is not offered a consultation, an attended transfer or a
conference, although the server's phone system can: the server does not forward them (they need
both calls on the server's side), and a button that would fail must not be enabled."""

from __future__ import annotations

import pytest

from callsys.callmanager import CallManager
from callsys.errors import NotSupported
from callsys.provider import Capability
from providers.server import ServerProvider

from .conftest import SECRETS, ServerMaker, url

pytestmark = pytest.mark.asyncio

ATTENDED = {Capability.CONSULT, Capability.ATTENDED_TRANSFER, Capability.CONFERENCE}


async def test_the_desktop_is_not_offered_what_the_server_does_not_forward(make_server: ServerMaker) -> None:
    server = await make_server()  # its phone system, the simulator, can do all three
    provider = ServerProvider({"url": url(server), "agent": "sara", "token": SECRETS["server/agent/sara"]})
    await provider.start(CallManager().listener("server"))
    try:
        assert await provider.wait_connected()
        assert Capability.TRANSFER in provider.capabilities  # blind transfer is forwarded
        assert not ATTENDED & provider.capabilities
        with pytest.raises(NotSupported, match="consult"):
            await provider.consult("hq/sim-1", "1003")
        with pytest.raises(NotSupported, match="party you consulted"):
            await provider.transfer_to_call("hq/sim-1", "hq/sim-2")
        with pytest.raises(NotSupported, match="conference"):
            await provider.conference("hq/sim-1", "hq/sim-2")
    finally:
        await provider.close()
