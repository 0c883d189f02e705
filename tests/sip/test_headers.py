"""Who calls and what they dialled, read from raw INVITEs (IN12) — including hostile ones."""

from __future__ import annotations

import pytest

from providers.sip.headers import SipMessage, caller_info, number_from_user, parse_name_addr


def invite(*headers: str, ruri: str = "sip:1001@10.0.0.5:5060") -> str:
    return "\r\n".join([f"INVITE {ruri} SIP/2.0", *headers, "Content-Length: 0", "", ""])


def test_from_gives_number_and_display_name() -> None:
    info = caller_info(
        invite('From: "Alice Example" <sip:+4930123456@pbx.example.com>;tag=1', "To: <sip:2000@x>")
    )
    assert info.number.e164 == "+4930123456"
    assert info.name == "Alice Example"
    assert info.dialled == "2000"


def test_p_asserted_identity_wins_over_from() -> None:
    info = caller_info(
        invite(
            'From: "Spoofed" <sip:anonymous@anonymous.invalid>;tag=1',
            'P-Asserted-Identity: "Bob" <sip:+15551234567@carrier.example>, <tel:+15551234567>',
            "To: <sip:2000@x>",
        )
    )
    assert info.number.e164 == "+15551234567"
    assert info.name == "Bob"


def test_remote_party_id_of_the_calling_party() -> None:
    info = caller_info(
        invite(
            "From: <sip:trunk@gw>;tag=1",
            'Remote-Party-ID: "Called" <sip:2000@gw>;party=called, "Carol" <sip:05551234@gw>;party=calling',
        )
    )
    assert info.user == "05551234"
    assert info.name == "Carol"


def test_privacy_hides_an_unasserted_number() -> None:
    info = caller_info(invite('From: "Dave" <sip:0301234@gw>;tag=1', "Privacy: id"))
    assert info.number.is_anonymous and info.user == ""


@pytest.mark.parametrize(
    ("headers", "ruri", "dialled"),
    [
        (["P-Called-Party-ID: <sip:+49301111@x>", "To: <sip:1001@x>"], "sip:1001@x", "+49301111"),
        (
            [
                "Diversion: <sip:3000@x>;reason=no-answer",  # the most recent diversion comes first
                "Diversion: <sip:08001234@x>;reason=unconditional",
                "To: <sip:1001@x>",
            ],
            "sip:1001@x",
            "08001234",
        ),
        (["To: <tel:+49302222;phone-context=x>"], "sip:1001@x", "+49302222"),
        ([], "sip:5555@x", "5555"),  # only the Request-URI
    ],
)
def test_dialled_number_sources(headers: list[str], ruri: str, dialled: str) -> None:
    info = caller_info(invite("From: <sip:1@x>;tag=1", *headers, ruri=ruri))
    assert info.dialled == dialled


def test_compact_and_lower_case_headers_and_folding() -> None:
    msg = SipMessage.parse(
        "INVITE sip:a@b SIP/2.0\r\nf: <sip:77@h>;tag=1\r\nt: <sip:88@h>\r\nx-long: one\r\n two\r\ni: abc\r\n\r\nbody"
    )
    assert msg.first("from") == "<sip:77@h>;tag=1"
    assert msg.first("to") == "<sip:88@h>"
    assert msg.first("x-long") == "one two"
    assert msg.first("call-id") == "abc"


def test_name_addr_forms() -> None:
    assert parse_name_addr('"A \\"quoted\\" name" <sip:1@h>;tag=x').display == 'A "quoted" name'
    bare = parse_name_addr("sip:42@h;tag=x")
    assert bare.uri == "sip:42@h" and bare.params == ";tag=x"
    assert parse_name_addr("Plain Name <sip:1@h>").display == "Plain Name"


def test_numbers_from_user_parts() -> None:
    assert number_from_user("+49 30 123").e164 == "+4930123"
    assert number_from_user("1001").digits == "1001"
    assert number_from_user("anonymous").is_anonymous
    alice = number_from_user("alice")
    assert alice.raw == "alice" and alice.is_anonymous


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "INVITE\r\n\r\n",
        'INVITE sip:a@b SIP/2.0\r\nFrom: "unterminated <sip:1@h\r\n\r\n',
        "INVITE sip:a@b SIP/2.0\r\nFrom: <sip:" + "9" * 100000 + "@h>\r\n\r\n",
        'INVITE sip:a@b SIP/2.0\r\nFrom: "\u202eevil\u200b" <sip:%00%ff@h>\r\n\r\n',
    ],
)
def test_hostile_input_never_raises(text: str) -> None:
    info = caller_info(text)
    assert len(info.name) <= 256 and "\u202e" not in info.name
