"""A fake SIP engine for SipProvider's rules, and a rig around it.

The fake follows the ``Engine`` contract: it records commands, refuses unknown calls and a 5th
call like pjsua does; the rig plays pjsua's part by calling the listener methods.
"""

from __future__ import annotations

import socket
from typing import Any

from callsys.callmanager import CallManager
from callsys.errors import ProviderError, UnknownCall
from callsys.model import CallState
from providers.sip.engine import AudioTap, CallBusy, EngineListener, IncomingCall, Phase
from providers.sip.engines import WHEEL
from providers.sip.options import MAX_CALLS, LineConfig, SipOptions
from providers.sip.provider import SipProvider


class FakeEngine:
    build = WHEEL  # the limits of the wheel (4 calls)

    def __init__(self) -> None:
        self.commands: list[tuple[Any, ...]] = []
        self.live: set[str] = set()
        self.started: SipOptions | None = None
        self.destroyed = False
        self.busy_once: set[str] = set()

    def start(self, options: SipOptions, listener: EngineListener) -> None:
        self.started = options

    def poll(self) -> int:
        return 0

    def listen_address(self) -> tuple[str, int]:
        return ("127.0.0.1", 5099)

    def wakeup_sockets(self) -> list[socket.socket]:
        return []

    def call_count(self) -> int:
        return len(self.live)

    def _known(self, key: str) -> None:
        if key not in self.live:
            raise UnknownCall("That call has already ended.")

    def answer(self, key: str, code: int = 200) -> None:
        self._known(key)
        self.commands.append(("answer", key, code))

    def hangup(self, key: str, code: int = 0) -> None:
        self._known(key)
        self.commands.append(("hangup", key, code))

    def redirect(self, key: str, uri: str) -> None:
        self._known(key)
        self.commands.append(("redirect", key, uri))

    def hold(self, key: str) -> None:
        self._known(key)
        if "hold" in self.busy_once:
            self.busy_once.discard("hold")
            raise CallBusy("offer/answer in progress")
        self.commands.append(("hold", key))

    def resume(self, key: str) -> None:
        self._known(key)
        self.commands.append(("resume", key))

    def set_mute(self, key: str, muted: bool) -> None:
        self._known(key)
        self.commands.append(("mute", key, muted))

    def dial(self, key: str, line: LineConfig, uri: str) -> None:
        if len(self.live) >= MAX_CALLS:
            raise ProviderError("at most 4 calls")
        self.live.add(key)
        self.commands.append(("dial", key, line.id, uri))

    def send_dtmf(self, key: str, digits: str) -> None:
        self._known(key)
        self.commands.append(("dtmf", key, digits))

    def transfer(self, key: str, uri: str) -> None:
        self._known(key)
        self.commands.append(("transfer", key, uri))

    def reregister(self, line_id: str) -> None:
        self.commands.append(("reregister", line_id))

    def set_audio_tap(self, tap: AudioTap | None) -> None: ...

    def hangup_all(self) -> None:
        self.commands.append(("hangup_all",))

    def unregister_all(self) -> None:
        self.commands.append(("unregister_all",))

    def destroy(self) -> None:
        self.destroyed = True


class Rig:
    def __init__(self, **options: Any) -> None:
        self.engine = FakeEngine()
        opts = {"audio": {"mode": "none"}, "ring_timeout": 0, **options}
        self.provider = SipProvider(opts, engine_factory=lambda: self.engine)
        self.manager = CallManager()
        self.statuses: list[Any] = []
        self.manager.subscribe_status(self.statuses.append)
        self.n = 0

    async def start(self) -> Rig:
        await self.provider.start(self.manager.listener("sip"))
        return self

    def ring(
        self,
        user: str = "1002",
        line: str = "direct",
        dialled: str = "2000",
        name: str = "",
        source: str = "",
    ) -> str:
        self.n += 1
        key = f"k{self.n}"
        self.engine.live.add(key)
        self.provider.on_incoming(
            key, IncomingCall(line, user, name, dialled, f"cid{self.n}", f"sip:{user}@h", source=source)
        )
        return key

    def connect(self, key: str) -> None:
        self.provider.on_phase(key, Phase.CONFIRMED, 200, "OK")

    def disconnect(self, key: str, code: int = 200) -> None:
        self.engine.live.discard(key)
        self.provider.on_phase(key, Phase.DISCONNECTED, code, "")

    def state(self, key: str) -> CallState:
        call = self.manager.get(key)
        assert call is not None
        return call.state


VOICEMAIL_LINES = [
    {"id": "office", "registrar": "sip:pbx.example.com", "user": "1001", "voicemail_uri": "*97"},
    {"id": "home", "user": "callsys", "voicemail_uri": "sip:vm-1001@192.0.2.9;transport=tcp"},
    {"id": "shop", "registrar": "sip:pbx.example.com", "user": "1003"},  # no voicemail
]
