"""IN6: the softphone says per call whether it can go to voicemail — ``capabilities`` only says that
some line has a ``voicemail_uri``; a call on a line without one showed a Voicemail button that
answered "The line … has no voicemail address (voicemail_uri)"."""

from __future__ import annotations

import pytest

from tests.sip.fake_engine import VOICEMAIL_LINES, Rig


@pytest.mark.asyncio
async def test_can_send_to_voicemail_per_call() -> None:
    rig = await Rig(lines=VOICEMAIL_LINES).start()
    office, shop = rig.ring(line="office"), rig.ring(line="shop")
    assert rig.provider.can_send_to_voicemail(office)
    assert not rig.provider.can_send_to_voicemail(shop)  # its line has no voicemail address
    assert not rig.provider.can_send_to_voicemail("no-such-call")
    await rig.provider.send_to_voicemail(office)
    assert not rig.provider.can_send_to_voicemail(office)  # on its way already
    rig.connect(shop)
    assert not rig.provider.can_send_to_voicemail(shop)  # answered: no longer ringing
