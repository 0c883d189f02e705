"""``CallManager.for_plan``: the one place a front end's number plan and ``numbers.dnis_lines``
become the manager's rules — E.164 (CARD7), the receiving line (IN12), the short-number rule
(IN13) and the dial prefix taken off an outgoing call (SET3)."""

from __future__ import annotations

from callsys.callmanager import CallManager
from callsys.model import CallEvent, Direction, PhoneNumber, ProviderEvent
from callsys.numbers import NumberPlan

LINES = {"030 70001234": "Sales", "7001": "Support"}


def ring(manager: CallManager, call_id: str, number: str, *, dnis: str = "", line: str = "") -> None:
    manager.handle(
        ProviderEvent(
            CallEvent.INCOMING,
            call_id,
            direction=Direction.INCOMING,
            remote=PhoneNumber(raw=number, digits="".join(c for c in number if c.isdigit())),
            dnis=dnis or None,
            line=line or None,
        )
    )


def test_numbers_are_read_with_the_plan_and_lines_found_however_the_dialled_number_is_written() -> None:
    manager = CallManager.for_plan(NumberPlan(region="DE", min_log_digits=5), LINES)
    ring(manager, "a", "0171 2345678", dnis="+49 30 70001234")
    ring(manager, "b", "(0171) 234-5678", dnis="7001")
    ring(manager, "c", "1002", dnis="7002", line="")
    ring(manager, "d", "0171 2345678", dnis="+49 30 70001234", line="Trunk 2")
    a, b, c, d = (manager.get(x) for x in "abcd")
    assert a is not None and b is not None and c is not None and d is not None
    assert a.remote.e164 == b.remote.e164 == "+491712345678"
    assert (a.line, b.line, c.line) == ("Sales", "Support", "")  # IN12; an unknown DID names no line
    assert d.line == "Trunk 2"  # the line the provider names wins
    assert a.loggable and not c.loggable  # IN13: an internal extension is not logged


def test_an_outgoing_call_carries_the_customers_number_not_the_route() -> None:
    manager = CallManager.for_plan(NumberPlan(region="US", dial_prefix="9"))
    manager.handle(
        ProviderEvent(
            CallEvent.OUTGOING, "o", direction=Direction.OUTGOING, remote=PhoneNumber(raw="92125550142")
        )
    )
    call = manager.get("o")
    assert call is not None and call.remote.e164 == "+12125550142"  # SET3: undialled
