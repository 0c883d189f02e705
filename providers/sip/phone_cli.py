"""``callsys phone``: the embedded softphone without a window (CARD1).

For scripting, for servers and for black-box tests. ``run_phone(options, stdin, stdout)``
starts the SIP phone with *options* (the mapping described in ``providers.sip.options``; an
optional ``"number_plan"`` entry holding a ``callsys.numbers.NumberPlan`` applies the dial
prefix (SET3) and reads numbers the way the desktop does), then:

**stdout** — one JSON object per line::

    {"event": "ready", "listen": "127.0.0.1:5060", "max_calls": 4, "lines": [...],
     "engine": {"engine": "wheel", "pjproject": "2.15.1.post1", "max_calls": 4, "max_packet": 4000,
                "ioqueue": "select", "ioqueue_handles": 64, "sound_devices": false, "tls13": false}}
    {"event": "status", "registration": "online", "dnd": false, "message": "...",
     "audio": {"missing": ["microphone", "speaker", "ringer"],
               "message": "No audio device: calls have no microphone and no speaker."},
     "lines": [{"id": "office", "label": "Office", "registration": "online", "detail": ""}]}
    (``audio.missing`` is empty when calls have a microphone, a speaker and a ringer)
    {"event": "incoming", "call": "sip-1-…", "direction": "incoming", "state": "ringing",
     "remote": "1002", "remote_e164": null, "remote_name": "Alice", "line": "Office",
     "dnis": "2000", "waiting": false, "remote_hold": false, "reason": null, "digits": ""}
    … the same shape for outgoing, ringback, answered, held, resumed, updated, dtmf
    (``digits`` set) and ended (``reason``: completed, missed, rejected, cancelled, busy, …);
    ``updated`` with ``remote_hold`` true: the other party put the call on hold (false: resumed);
    ``consult_of`` (the call a consultation is for), ``conference`` and, on ``ended``,
    ``transferred_to`` (who the party was handed to) say what attended transfers did
    {"event": "ok", "command": "dial", "call": "sip-out-1-…"}     # a command worked
    {"event": "error", "command": "hold", "message": "That call has already ended."}
    {"event": "bye"}                                              # the phone has stopped

**stdin** — one command per line (``CALL`` is optional: by default ``answer``/``reject``/
``voicemail`` take the ringing call and the others the connected, not held, call — else the newest
live call)::

    answer [CALL]            reject [CALL]             hangup [CALL]
    voicemail [CALL]         (302 to the line's voicemail_uri, IN6)
    hold [CALL]              resume [CALL]             mute [CALL] / unmute [CALL]
    dtmf DIGITS [CALL]       transfer TARGET [CALL]    dial NUMBER [LINE]
    consult NUMBER [CALL]    (hold the call, dial NUMBER to talk first)
    attended [CALL]          (transfer the held call to its consultation; CALL: either of them)
    conference [CALL]        (the held call, its consultation and the agent together)
    dnd on|off               status                    quit

End of input or ``quit`` (or SIGTERM/SIGINT) hangs up, unregisters and returns 0. A bad
configuration returns 2, a phone that cannot start (port taken …) returns 1.

As ``callsys phone`` (``register`` below, picked up by the launcher ``callsys/__main__.py``) the options come from the
settings: ``phone.options`` (when ``phone.provider`` is ``sip``), the line passwords from the
keyring (``sip/USER@DOMAIN`` or the line's ``secret_name`` — the names the settings dialog
uses), ``phone.dnd``, ``phone.auto_answer``, ``phone.default_line`` and the number plan.

Standalone::

    python -m providers.sip.phone_cli '{"listen_host": "127.0.0.1", "listen_port": 5070}'
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Mapping
from typing import Any, TextIO

from callsys.callmanager import CallManager
from callsys.errors import CallsysError, ConfigError
from callsys.model import Call, CallEvent, CallState, ProviderEvent
from callsys.provider import ProviderStatus
from callsys.session import CallSession

__all__ = ["main", "register", "run_phone"]

_COMMANDS = (
    "answer", "reject", "voicemail", "hangup", "hold", "resume", "mute", "unmute", "dtmf", "transfer", "dial", "dnd",
    "consult", "attended", "conference", "status", "quit",
)  # fmt: skip


class _Output:
    def __init__(self, stdout: TextIO) -> None:
        self._out = stdout

    def write(self, obj: Mapping[str, Any]) -> None:
        try:
            self._out.write(json.dumps(obj, ensure_ascii=False) + "\n")
            self._out.flush()
        except (OSError, ValueError):  # the reader went away: keep the phone consistent anyway
            pass


def _call_json(event: CallEvent, call: Call, digits: str = "") -> dict[str, Any]:
    return {
        "event": event.value,
        "call": call.id,
        "direction": call.direction.value,
        "state": call.state.value,
        "remote": str(call.remote) if not call.remote.is_anonymous else call.remote.raw,
        "remote_e164": call.remote.e164,
        "remote_name": call.remote_name,
        "line": call.line,
        "dnis": call.dnis,
        "waiting": call.waiting,
        "remote_hold": call.remote_hold,
        "reason": call.end_reason.value if call.end_reason else None,
        "digits": digits,
        "consult_of": call.consult_of or None,
        "conference": call.conference,
        "transferred_to": call.transferred_to or None,
    }


def _status_json(status: ProviderStatus) -> dict[str, Any]:
    return {
        "event": "status",
        "registration": status.registration.value,
        "dnd": status.dnd,
        "message": status.message,
        "audio": {"missing": list(status.audio_missing), "message": status.audio},
        "lines": [
            {
                "id": line.id,
                "label": line.label,
                "registration": line.registration.value,
                "detail": line.detail,
            }
            for line in status.lines
        ],
    }


def _start_reader(stdin: TextIO, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """Read *stdin* on a daemon thread (works for pipes, terminals and StringIO alike)."""

    def pump() -> None:
        try:
            for line in iter(stdin.readline, ""):
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except (OSError, ValueError):
            pass
        with contextlib.suppress(RuntimeError):  # loop already closed
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="phone-stdin", daemon=True).start()


async def run_phone(
    options: Mapping[str, Any], stdin: TextIO, stdout: TextIO, *, dnis_lines: Mapping[str, str] | None = None
) -> int:
    """Run the headless phone until ``quit`` or end of input. See the module docstring. With a
    number plan, *dnis_lines* names the receiving line of a call by the number dialled (IN12)."""
    from providers.sip.provider import SipProvider

    out = _Output(stdout)
    plan = options.get("number_plan")
    sip_options = {k: v for k, v in options.items() if k != "number_plan"}
    try:
        provider = SipProvider(sip_options, parse_number=plan.parse if plan is not None else None)
    except ConfigError as exc:
        out.write({"event": "error", "command": "start", "message": str(exc)})
        return 2

    # The desktop's call session: numbers read, IN12 and IN13 applied with the plan.
    manager = CallSession.for_plan(plan, dnis_lines).manager if plan is not None else CallManager()
    digits_by_call: dict[str, str] = {}
    inner = manager.listener(provider.name)

    class _Listener:
        def call_event(self, event: ProviderEvent) -> None:
            if event.event is CallEvent.DTMF:
                digits_by_call[event.call_id] = event.digits
            inner.call_event(event)

        def status_changed(self, status: ProviderStatus) -> None:
            inner.status_changed(status)

    def observe(event: CallEvent, call: Call) -> None:
        digits = digits_by_call.pop(call.id, "") if event is CallEvent.DTMF else ""
        out.write(_call_json(event, call, digits))

    manager.subscribe(observe)
    manager.subscribe_status(lambda status: out.write(_status_json(status)))

    try:
        await provider.start(_Listener())
    except CallsysError as exc:
        out.write({"event": "error", "command": "start", "message": str(exc)})
        return 2 if isinstance(exc, ConfigError) else 1

    host, port = provider.engine.listen_address()
    out.write(
        {
            "event": "ready", "listen": f"{host}:{port}", "max_calls": provider.max_calls,
            "lines": [{"id": line.id, "label": line.label} for line in provider.lines()],
            "engine": provider.engine.build.as_dict(),
        }
    )  # fmt: skip

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    _start_reader(stdin, loop, queue)
    stop_signals: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, queue.put_nowait, None)
            stop_signals.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
            pass

    try:
        while True:
            line = await queue.get()
            if line is None:
                break
            words = line.split()
            if not words:
                continue
            command = words[0].lower()
            if command == "quit":
                break
            try:
                reply = await _execute(provider, manager, plan, command, words[1:])
                out.write({"event": "ok", "command": command, **reply})
            except (CallsysError, ValueError) as exc:
                out.write({"event": "error", "command": command, "message": str(exc)})
            except Exception as exc:  # a bug must not kill a phone with live calls
                out.write({"event": "error", "command": command, "message": f"{type(exc).__name__}: {exc}"})
    finally:
        for sig in stop_signals:
            loop.remove_signal_handler(sig)
        await provider.close()
        out.write({"event": "bye"})
    return 0


def _dialable(plan: Any, target: str) -> str:
    """A number as the PBX wants it (dial prefix, SET3); SIP addresses stay as they are."""
    if plan is None or "@" in target or target.lower().startswith(("sip:", "sips:")):
        return target
    return str(plan.dial_string(target[4:] if target.lower().startswith("tel:") else target))


def _pick(manager: CallManager, explicit: str | None, *, ringing: bool) -> str:
    live = manager.live_calls()
    if explicit:
        for call in live:
            if call.id == explicit:
                return call.id
        raise ValueError(f"There is no live call {explicit!r}.")
    if ringing:
        candidates = [c for c in live if c.state is CallState.RINGING]
    else:
        candidates = [c for c in live if c.state is CallState.ACTIVE] or [
            c for c in live if c.state is not CallState.RINGING
        ]
    candidates = candidates or list(live)
    if not candidates:
        raise ValueError("There is no call.")
    return candidates[-1].id


def _consultation(manager: CallManager, explicit: str | None) -> tuple[str, str]:
    """(the held call, its consultation): of the call *explicit* names (either of the two), else
    of the newest consultation."""
    live = manager.live_calls()
    if explicit:
        call = next((c for c in live if c.id == explicit), None)
        if call is None:
            raise ValueError(f"There is no live call {explicit!r}.")
        if call.consult_of:
            return call.consult_of, call.id
        consult = manager.consultation_of(call.id)
        if consult is None:
            raise ValueError(f"Call {explicit!r} has no consultation (consult NUMBER first).")
        return call.id, consult.id
    consults = [c for c in live if c.consult_of]
    if not consults:
        raise ValueError("There is no consultation (consult NUMBER first).")
    return consults[-1].consult_of, consults[-1].id


async def _execute(
    provider: Any, manager: CallManager, plan: Any, command: str, args: list[str]
) -> dict[str, Any]:
    arg = args[0] if args else None
    if command not in _COMMANDS:
        raise ValueError(f"Unknown command {command!r}; commands: {', '.join(_COMMANDS)}.")
    if command == "status":
        return _status_json(provider.status()) | {
            "event": "ok",
            "calls": [c.id for c in manager.live_calls()],
        }
    if command == "dnd":
        if arg not in ("on", "off"):
            raise ValueError("Use: dnd on | dnd off")
        await provider.set_dnd(arg == "on")
        return {}
    if command == "dial":
        if not arg:
            raise ValueError("Use: dial NUMBER [LINE]")
        target = _dialable(plan, arg)
        line = args[1] if len(args) > 1 else None
        if line is not None:
            from callsys.numbers import choose_line

            chosen = choose_line(provider.lines(), line, provider.options.default_line)
            line = chosen.id if chosen is not None else None
        return {"call": await provider.dial(target, line)}
    if command == "consult":
        if not arg:
            raise ValueError("Use: consult NUMBER [CALL]")
        call_id = _pick(manager, args[1] if len(args) > 1 else None, ringing=False)
        return {"call": await provider.consult(call_id, _dialable(plan, arg)), "consult_of": call_id}
    if command in ("attended", "conference"):
        held, consulted = _consultation(manager, arg)
        if command == "attended":
            await provider.transfer_to_call(held, consulted)
        else:
            await provider.conference(held, consulted)
        return {"call": held, "other": consulted}
    if command in ("dtmf", "transfer"):
        if not arg:
            raise ValueError(f"Use: {command} {'DIGITS' if command == 'dtmf' else 'TARGET'} [CALL]")
        call_id = _pick(manager, args[1] if len(args) > 1 else None, ringing=False)
        if command == "dtmf":
            await provider.send_dtmf(call_id, arg)
        else:
            await provider.transfer(call_id, _dialable(plan, arg))
        return {"call": call_id}
    call_id = _pick(manager, arg, ringing=command in ("answer", "reject", "voicemail"))
    if command == "answer":
        await provider.answer(call_id)
    elif command == "reject":
        await provider.reject(call_id)
    elif command == "voicemail":
        await provider.send_to_voicemail(call_id)
    elif command == "hangup":
        await provider.hangup(call_id)
    elif command == "hold":
        await provider.hold(call_id)
    elif command == "resume":
        await provider.resume(call_id)
    else:
        await provider.set_mute(call_id, command == "mute")
    return {"call": call_id}


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """``callsys phone``: the callsys CLI convention (see ``callsys.cli``)."""
    parser = commands.add_parser(
        "phone",
        parents=[common],
        help="run the embedded softphone without a window (JSON lines)",
        description="The softphone headless: call events as JSON lines on stdout; commands on stdin "
        "(answer, reject, hangup, hold, resume, mute, unmute, dtmf DIGITS, transfer TARGET, "
        "dial NUMBER [LINE], consult NUMBER, attended, conference, dnd on|off, status, quit).",
    )
    parser.add_argument("--auto-answer", action="store_true", help="answer every call (not waiting calls)")
    parser.add_argument(
        "--info", action="store_true",
        help="print which softphone engine (pjsua2 build) the settings pick and what it can do, then exit",
    )  # fmt: skip
    parser.set_defaults(run=_run_command)


def engine_info(options: Mapping[str, Any]) -> dict[str, Any]:
    """The engine the options' ``engine`` (and ``CALLSYS_SIP_ENGINE``) pick, loaded: what it can do."""
    from providers.sip.engines import load
    from providers.sip.options import SipOptions

    build = load(SipOptions.parse(options).engine)
    return {"event": "engine", **build.as_dict(), "path": build.path, "summary": build.describe()}


def settings_options(settings: Any, plan: Any = None) -> dict[str, Any]:
    """The softphone's options from callsys settings, passwords from the keyring."""
    from callsys.secretnames import with_secrets
    from callsys.settings import AUTO_ANSWER, DEFAULT_LINE, DND, PHONE_PROVIDER, PROVIDER_OPTIONS

    options = dict(settings[PROVIDER_OPTIONS]) if settings[PHONE_PROVIDER] == "sip" else {}
    # Line passwords from the keyring, under the names the settings dialog stores them.
    options = with_secrets("sip", options)
    options.setdefault("dnd", bool(settings[DND]))
    options.setdefault("auto_answer", bool(settings[AUTO_ANSWER]))
    if settings[DEFAULT_LINE] and "default_line" not in options:
        options["default_line"] = settings[DEFAULT_LINE]
    if plan is not None:
        options["number_plan"] = plan
    return options


def option_warnings(settings: Any) -> list[str]:
    """Keys of ``phone.options`` the softphone does not know (a typo, another provider's option)."""
    from callsys.settings import PHONE_PROVIDER, PROVIDER_OPTIONS
    from providers.sip.options import OPTION_KEYS

    if settings[PHONE_PROVIDER] != "sip":
        return []
    return OPTION_KEYS.unknown(settings[PROVIDER_OPTIONS])


def _run_command(args: argparse.Namespace, ctx: Any) -> int:
    for warning in option_warnings(ctx.settings):  # stdout is the JSON lines: warnings go to stderr
        print(f"callsys: warning: {warning}", file=sys.stderr)
    from callsys.settings import DNIS_LINES
    from providers.sip.engines import require

    options = settings_options(ctx.settings, ctx.plan)  # ctx.plan: callsys.numbers.plan_from_settings
    # Installed without the softphone extra: one sentence naming it on stderr (callsys.cli says
    # it) and no JSON lines — there is no phone to run.
    require(str(options.get("engine") or "auto"))
    if args.info:
        try:
            _Output(ctx.out).write(engine_info(options))
        except CallsysError as exc:
            _Output(ctx.out).write({"event": "error", "command": "info", "message": str(exc)})
            return 2 if isinstance(exc, ConfigError) else 1
        return 0
    if args.auto_answer:
        options["auto_answer"] = True
    return asyncio.run(run_phone(options, sys.stdin, ctx.out, dnis_lines=ctx.settings[DNIS_LINES]))


def main(argv: list[str] | None = None) -> int:
    """``python -m providers.sip.phone_cli OPTIONS_JSON_OR_FILE``."""
    args = sys.argv[1:] if argv is None else argv
    options: dict[str, Any] = {}
    if args:
        text = args[0]
        if not text.lstrip().startswith("{"):
            with open(text, encoding="utf-8") as fh:
                text = fh.read()
        options = json.loads(text)
    return asyncio.run(run_phone(options, sys.stdin, sys.stdout))


if __name__ == "__main__":
    sys.exit(main())
