"""OUT3, B5 (issue 11, defect 4): the default phone — the softphone in direct mode, no registrar —
dials SIP addresses from the number field, from the call log and from sip: links; an entry it
cannot dial stays in the field with the reason beside it.

The peer test runs the real window with the real softphone and calls a real baresip on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from callsys.model import CallState, Direction
from tests.sip.peers import HOST, Baresip, free_port, have, make_tone
from tests.ui.conftest import make_settings

from ui.calllogview import LogRow
from ui.mainwindow import MainWindow
from ui.qt import Qt
from ui.schemes import sip_address


@pytest.mark.parametrize(
    ("text", "uri"),
    [
        ("sip:1002@127.0.0.1:5062", "sip:1002@127.0.0.1:5062"),
        ("1002@127.0.0.1", "sip:1002@127.0.0.1"),
        ("alice@pbx.example.com:5070", "sip:alice@pbx.example.com:5070"),
        ("<sips:bob@[::1]:5061;transport=tls>", "sips:bob@[::1]:5061;transport=tls"),
        ("sip:192.0.2.10:5060", "sip:192.0.2.10:5060"),
        ("sip:1001", None),  # a PBX's shorthand for a number
        ("tel:+14155550100", None),
        ("09123456789", None),
    ],
)
def test_what_is_a_sip_address(text: str, uri: str | None) -> None:
    assert sip_address(text) == uri


@pytest.mark.parametrize("text", ["1002@", "@127.0.0.1", "sip:bob smith@host"])
def test_a_broken_sip_address_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError, match="not a SIP address"):
        sip_address(text)


def _direct_phone(tmp_path: Path, **values: Any) -> Any:
    tone = make_tone(tmp_path / "tone440.wav", 440, seconds=5)
    return make_settings(
        tmp_path,
        **{
            "phone.provider": "sip",
            "phone.options": {
                "listen_host": HOST,
                "listen_port": free_port(),
                "audio": {"mode": "files", "play_file": str(tone), "record_dir": str(tmp_path)},
            },
            **values,
        },
    )


class DialSpy:
    """Records what the window hands the provider's ``dial`` (the real dial still runs)."""

    def __init__(self, provider: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, str | None]] = []
        real = provider.dial

        async def dial(number: str, line: str | None = None) -> str:
            self.calls.append((number, line))
            result: str = await real(number, line)
            return result

        monkeypatch.setattr(provider, "dial", dial)


@pytest.fixture
def far_end(aio: asyncio.AbstractEventLoop, qtbot: Any, tmp_path: Path) -> Iterator[Baresip]:
    if not have("baresip", "sox"):
        pytest.skip("baresip and sox are needed (apt-get install them)")
    peer = Baresip(tmp_path, ["<sip:1002@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA"])
    started = aio.create_task(peer.start())
    qtbot.waitUntil(started.done, timeout=15000)
    started.result()
    yield peer
    stopping = aio.create_task(peer.stop())
    qtbot.waitUntil(stopping.done, timeout=10000)


def _live(window: MainWindow) -> list[Any]:
    return list(window.desktop.manager.live_calls())


def _hang_up_all(window: MainWindow, qtbot: Any) -> None:
    for call in _live(window):
        window.hangup(call.id)
    qtbot.waitUntil(lambda: not _live(window), timeout=10000)


@pytest.mark.peers
def test_the_direct_phone_dials_sip_addresses_from_the_field_the_log_and_links(
    make_window: Callable[..., MainWindow],
    qtbot: Any,
    tmp_path: Path,
    far_end: Baresip,
    monkeypatch: pytest.MonkeyPatch,
    aio: asyncio.AbstractEventLoop,
) -> None:
    window = make_window(_direct_phone(tmp_path), directory=False)
    spy = DialSpy(window.desktop.provider, monkeypatch)
    address = f"sip:1002@{far_end.address}"

    # The number field: typed with sip:, reaches the provider as it is and connects.
    window.dial_edit.setText(address)
    qtbot.keyClick(window.dial_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(c.state is CallState.ACTIVE for c in _live(window)), timeout=10000)
    assert spy.calls[0][0] == address
    assert window.dial_edit.text() == "" and not window.dial_error.isVisible()
    _hang_up_all(window, qtbot)

    # Without sip: and with a port: the same address.
    window.dial_edit.setText(f"1002@{far_end.address}")
    qtbot.keyClick(window.dial_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(c.state is CallState.ACTIVE for c in _live(window)), timeout=10000)
    assert spy.calls[1][0] == address
    _hang_up_all(window, qtbot)

    # The call log calls the address back, host and port included.
    row = window.log_model.rows()[0]
    assert isinstance(row, LogRow) and row.direction == Direction.OUTGOING.value
    assert row.dial == address
    window.call_back(row)
    qtbot.waitUntil(lambda: len(spy.calls) == 3 and bool(_live(window)), timeout=10000)
    assert spy.calls[2][0] == address
    qtbot.waitUntil(lambda: any(c.state is CallState.ACTIVE for c in _live(window)), timeout=10000)
    _hang_up_all(window, qtbot)

    # A direct caller is called back where it really is: its Contact's host and port.
    phone_port = window.desktop.provider.engine.listen_address()[1]
    dialling = aio.create_task(far_end.cmd("dial", f"sip:callsys@{HOST}:{phone_port}"))
    qtbot.waitUntil(dialling.done, timeout=10000)
    qtbot.waitUntil(lambda: any(c.direction is Direction.INCOMING for c in _live(window)), timeout=10000)
    incoming = next(c for c in _live(window) if c.direction is Direction.INCOMING)
    window.reject(incoming.id)
    qtbot.waitUntil(lambda: not _live(window), timeout=10000)
    row = next(r for r in window.log_model.rows() if r.id == incoming.id)
    assert row.dial.startswith(address) and row.number == "1002"
    window.call_back(row)
    qtbot.waitUntil(lambda: len(spy.calls) == 4, timeout=10000)
    assert spy.calls[3][0].startswith(address)
    qtbot.waitUntil(lambda: any(c.state is CallState.ACTIVE for c in _live(window)), timeout=10000)
    _hang_up_all(window, qtbot)

    # A sip: link handed over by a second launch (B5).
    window.open_links([address])
    qtbot.waitUntil(lambda: len(spy.calls) == 5, timeout=10000)
    assert spy.calls[4][0] == address
    qtbot.waitUntil(lambda: any(c.state is CallState.ACTIVE for c in _live(window)), timeout=10000)
    _hang_up_all(window, qtbot)


def test_a_number_the_direct_phone_cannot_dial_stays_in_the_field_with_the_reason(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    window = make_window(_direct_phone(tmp_path), directory=False)

    window.dial_edit.setText("1002")  # no registrar to route a number to
    qtbot.keyClick(window.dial_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(window.dial_error.isVisible)
    assert window.dial_edit.text() == "1002"
    assert "without a registrar dials SIP addresses" in window.dial_error.text()

    window.dial_edit.setText("1002@")
    qtbot.keyClick(window.dial_edit, Qt.Key.Key_Return)
    assert window.dial_edit.text() == "1002@"
    assert "not a SIP address that can be dialled" in window.dial_error.text()
    assert window.dial_error.isVisible()

    qtbot.keyClicks(window.dial_edit, "1")  # editing the entry takes the old reason away
    assert not window.dial_error.isVisible()
    assert not list(window.desktop.manager.live_calls())


def test_the_simulator_refuses_a_sip_address_in_words_and_keeps_it(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    window.dial_edit.setText("alice@pbx.example.com")  # not a name to search: an address
    qtbot.keyClick(window.dial_edit, Qt.Key.Key_Return)
    assert window.dial_edit.text() == "alice@pbx.example.com"
    assert "dials phone numbers, not SIP addresses" in window.dial_error.text()
    assert [c for c in window.simulator.commands if c[0] != "dnd"] == []  # nothing dialled


@pytest.mark.asyncio
async def test_a_direct_callers_sip_address_is_what_the_log_calls_back() -> None:
    from callsys.callmanager import CallManager
    from providers.sip.engine import IncomingCall
    from providers.sip.provider import SipProvider
    from tests.sip.fake_engine import FakeEngine

    from ui.calllogview import row_from_call

    engine = FakeEngine()
    provider = SipProvider({"audio": {"mode": "none"}}, engine_factory=lambda: engine)
    manager = CallManager()
    await provider.start(manager.listener("sip"))
    engine.live.add("k1")
    caller = IncomingCall("direct", "1002", "", "callsys", "c1", '"Bob" <sip:1002@192.0.2.7:5062>;tag=a')
    provider.on_incoming("k1", caller)
    call = manager.get("k1")
    assert call is not None and call.remote.digits == "1002"
    row = row_from_call(call, lambda number: number.digits)
    assert row.dial == "sip:1002@192.0.2.7:5062" and row.number == "1002"
    await provider.close()


@pytest.mark.parametrize(
    ("remote", "contact", "back"),
    [
        (
            "sip:1002@127.0.0.1",
            "<sip:1002-0x5@127.0.0.1:5062;transport=tcp>",
            "sip:1002@127.0.0.1:5062;transport=tcp",
        ),
        ('"Bob" <sip:bob@192.0.2.7>;tag=a', "sip:bob@192.0.2.7:5070;ob", "sip:bob@192.0.2.7:5070"),
        ("sip:1002@192.0.2.7", "", "sip:1002@192.0.2.7"),  # no Contact: the From URI
        ("tel:+14155550100", "sip:x@192.0.2.7", ""),  # not a SIP address to call back
    ],
)
def test_a_direct_caller_is_called_back_at_its_contact(remote: str, contact: str, back: str) -> None:
    from providers.sip.engine import callback_address

    assert callback_address(remote, contact) == back
