"""Phone-number parsing and normalisation (CARD7), dial prefix (SET3), short-number rule (IN13),
line choice (SET4)."""

from __future__ import annotations

import pytest

from callsys.model import PhoneNumber
from callsys.numbers import NumberPlan, choose_line, number_from_uri, to_ascii_digits
from callsys.provider import Line, Registration

IRAN = NumberPlan()  # region IR, no area code, no prefix
TEHRAN_LINE = NumberPlan(region="IR", area_code="21", dial_prefix="9")


# ------------------------------------------------------------------------------------ digits
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("۰۹۱۲۳۴۵۶۷۸۹", "09123456789"),
        ("٠٩١٢٣٤٥٦٧٨٩", "09123456789"),
        ("تلفن: ۰۲۱-۸۸۷۷۶۶۵۵", "تلفن: 021-88776655"),  # other characters stay as they are
        ("+98 21 8877 6655", "+98 21 8877 6655"),
        ("", ""),
    ],
)
def test_to_ascii_digits(text: str, expected: str) -> None:
    assert to_ascii_digits(text) == expected


# ------------------------------------------------------------------------------------ URIs
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tel:+98-912-345-6789", "+98-912-345-6789"),
        ("TEL:+982188776655", "+982188776655"),
        ("callto:+442079460958", "+442079460958"),
        ("callto://+14155550100/", "+14155550100"),
        ("sip:09123456789@pbx.example.com;user=phone", "09123456789"),
        ("sips:%2B982188776655@sbc.example.com", "+982188776655"),
        ("sip:+982188776655;user=phone@host", "+982188776655"),
        ('"Ali Rezaei" <sip:1001@pbx.local>', "1001"),
        ("sip:1001", "1001"),
        ("tel:+1-415-555-0100;ext=12", "+1-415-555-0100 ext. 12"),
        ("tel:88776655;phone-context=+9821", "88776655"),
    ],
)
def test_number_from_uri_extracts_the_number(text: str, expected: str) -> None:
    assert number_from_uri(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "tel:",
        "sip:alice@example.com",
        "sip:alice2@example.com",
        "sip:10.0.0.1:5060",
        "mailto:a@example.com",
        "+982188776655",  # a number, but not a URI
        "Tel: 021 8877 6655",  # a label, not a URI
        "",
    ],
)
def test_number_from_uri_rejects_non_number_uris(text: str) -> None:
    assert number_from_uri(text) is None


# ------------------------------------------------------------------------------------ parse
@pytest.mark.parametrize(
    ("text", "e164", "digits"),
    [
        ("+98 21 8877 6655", "+982188776655", "02188776655"),
        ("021-88776655", "+982188776655", "02188776655"),
        ("00982188776655", "+982188776655", "02188776655"),
        ("0098 21 8877 6655", "+982188776655", "02188776655"),
        ("+98 (0) 21 8877 6655", "+982188776655", "02188776655"),
        ("982188776655", "+982188776655", "02188776655"),  # country code without "+"
        ("۰۹۱۲۳۴۵۶۷۸۹", "+989123456789", "09123456789"),
        ("٠٩١٢٣٤٥٦٧٨٩", "+989123456789", "09123456789"),
        ("\u200f۰۹۱۲ ۳۴۵ ۶۷۸۹\u200e", "+989123456789", "09123456789"),  # copied from RTL text
        ("tel:+98-912-345-6789", "+989123456789", "09123456789"),
        ("sip:09123456789@pbx;user=phone", "+989123456789", "09123456789"),
        ("9123456789", "+989123456789", "09123456789"),  # trunk dropped the leading 0
        ("Tel: 021 8877 6655", "+982188776655", "02188776655"),
        ("+44 20 7946 0958", "+442079460958", "00442079460958"),
    ],
)
def test_parse_public_numbers(text: str, e164: str, digits: str) -> None:
    number = IRAN.parse(text)
    assert number.e164 == e164
    assert number.digits == digits
    assert number.key == e164


def test_parse_foreign_number_with_extension() -> None:
    number = IRAN.parse("+1 (415) 555-0100 x12")
    assert (number.e164, number.extension) == ("+14155550100", "12")
    assert IRAN.parse("tel:+1-415-555-0100;ext=12").extension == "12"


def test_local_number_is_completed_with_the_lines_area_code() -> None:
    assert TEHRAN_LINE.parse("88776655").e164 == "+982188776655"
    assert NumberPlan(area_code="021").parse("8877 6655").e164 == "+982188776655"


def test_local_number_without_area_code_keeps_its_digits() -> None:
    number = IRAN.parse("88776655")
    assert number.e164 is None
    assert number.digits == "88776655"
    assert number.key == "88776655"
    assert not number.is_anonymous


def test_area_code_does_not_rewrite_a_number_written_nationally() -> None:
    assert TEHRAN_LINE.parse("09123456789").e164 == "+989123456789"
    assert TEHRAN_LINE.parse("031 3222 1234").e164 == "+983132221234"  # Isfahan stays Isfahan


@pytest.mark.parametrize(
    ("text", "extension"),
    [
        # the Persian "داخلی" (internal) for an extension, Persian or ASCII digits, Arabic yeh
        ("021 88776655 داخلی 12", "12"),
        ("۰۲۱۸۸۷۷۶۶۵۵ داخلی ۱۲", "12"),
        ("۰۲۱-۸۸۷۷۶۶۵۵ داخلي ۱۲", "12"),
        ("88776655 داخلی ۱۲", "12"),  # local, completed with the line's area code
        ("88776655 داخلی: 12", "12"),
        # the area code written after the number
        ("88776655-021", None),
        ("8877 6655 - 021", None),
        ("۸۸۷۷۶۶۵۵-۰۲۱", None),
        ("88776655/021", None),
        # a local number followed by an extension in brackets, and the usual extension marks
        ("88776655 (ext 12)", "12"),
        ("021 88776655 (ext. 12)", "12"),
        ("88776655 (x 12)", "12"),
        ("021 88776655 x123", "123"),
        ("02188776655 ext. 12", "12"),
        ("88776655 ext 12", "12"),
    ],
)
def test_numbers_as_iranian_crm_users_write_them(text: str, extension: str | None) -> None:
    number = TEHRAN_LINE.parse(text)
    assert (number.e164, number.extension) == ("+982188776655", extension)


def test_area_code_after_the_number_without_a_configured_area_code() -> None:
    assert IRAN.parse("88776655-021").e164 == "+982188776655"
    assert IRAN.parse("32221234-031").e164 == "+983132221234"  # Isfahan
    assert IRAN.parse("88776655-0211").e164 is None  # no such area code: the digits are kept
    assert IRAN.parse("88776655-0211").digits == "887766550211"


@pytest.mark.parametrize("text", ["1001", "۱۰۰۱", "sip:1001@pbx.local", '"Reception" <sip:100@pbx>'])
def test_short_numbers_are_internal_extensions(text: str) -> None:
    number = TEHRAN_LINE.parse(text)
    assert number.e164 is None
    assert number.digits in ("1001", "100")
    assert TEHRAN_LINE.is_internal(number)


def test_max_internal_digits_decides_what_is_an_extension() -> None:
    plan = NumberPlan(max_internal_digits=6, area_code="21")
    assert plan.parse("100200").e164 is None
    assert plan.parse("100200").digits == "100200"
    assert NumberPlan(max_internal_digits=0).parse("1001").digits == "1001"  # still kept, not internal
    assert not NumberPlan(max_internal_digits=0).is_internal(IRAN.parse("1001"))


HOSTILE = [
    None,
    "",
    "anonymous",
    "Anonymous",
    "Restricted",
    "unknown",
    "'; DROP TABLE contacts; --",
    "+",
    "%",
    "%00",
    "\x00\x1b[31m",
    "\x00" * 300,
    "a" * 10000,
    "9" * 10000,
    "+" + "1" * 500,
    "sip:alice@example.com",
    "sip:",
    "tel:",
    "tel:;ext=",
    "callto://",
    "sip:@",
    "<sip:",
    "📞📞📞",
    "📞 0912 345 6789",
    "\u202e6655 7788 120\u202c",  # right-to-left override
    "\u200f\u200e\u200b",
    "١٢٣" * 3000,
    "x12",
    "ext. 12",
    "((((((((((",
    "1-2-3-4-5-6-7-8-9-0-" * 50,
    "０９１２３４５６７８９",
    "\ud800",  # lone surrogate
    "+98 21 8877 6655\n+98 21 8877 6656",
]


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("plan", [IRAN, TEHRAN_LINE, NumberPlan(region="US", dial_prefix="9")])
def test_parse_never_raises_and_returns_a_valid_value(text: str | None, plan: NumberPlan) -> None:
    number = plan.parse(text)
    assert isinstance(number, PhoneNumber)
    assert len(number.raw) <= 64
    assert number.digits == "" or (number.digits.isascii() and number.digits.isdigit())
    assert len(number.digits) <= 24
    # everything else a caller does with the value must not raise either
    plan.lookup_keys(number)
    plan.written_forms(number)
    plan.is_loggable(number)
    plan.display(number)


@pytest.mark.parametrize("text", [None, "", "anonymous", "Restricted", "sip:alice@example.com", "tel:", "📞"])
def test_withheld_and_non_numbers_are_anonymous(text: str | None) -> None:
    number = IRAN.parse(text)
    assert number.is_anonymous
    assert IRAN.lookup_keys(number) == ()
    assert IRAN.written_forms(number) == ()


def test_raw_is_kept_for_display_but_bounded() -> None:
    assert IRAN.parse("Restricted").raw == "Restricted"
    assert IRAN.parse("a" * 10000).raw == "a" * 64


def test_junk_around_digits_is_not_turned_into_a_number() -> None:
    # phonenumbers reads letters as vanity digits; free text only counts when it is valid.
    assert IRAN.parse("abc 021 8877 6655 office").e164 is None
    assert IRAN.parse("'; DROP TABLE 1; --").digits == ""


def test_fullwidth_digits_become_ascii() -> None:
    assert IRAN.parse("０９１２３４５６７８９").e164 == "+989123456789"


# ------------------------------------------------------------------------------------ plan
def test_region_is_validated_and_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="'XX'"):
        NumberPlan(region="XX")
    with pytest.raises(ValueError, match="'Iran'"):
        NumberPlan(region="Iran")


def test_region_is_case_insensitive() -> None:
    assert NumberPlan(region="de").region == "DE"
    assert NumberPlan(region="de").parse("030 123456").e164 == "+4930123456"


@pytest.mark.parametrize("prefix", ["9a", "+9", "0 0", "1234567"])
def test_dial_prefix_is_validated(prefix: str) -> None:
    with pytest.raises(ValueError, match="dial prefix"):
        NumberPlan(dial_prefix=prefix)


@pytest.mark.parametrize("prefix", ["", "9", "0", "*9", "#", "۹"])
def test_dial_prefix_accepts_digits_star_and_hash(prefix: str) -> None:
    assert NumberPlan(dial_prefix=prefix).dial_prefix == to_ascii_digits(prefix)


@pytest.mark.parametrize(
    "kwargs",
    [{"area_code": "2a"}, {"area_code": "1234567"}, {"min_log_digits": -1}, {"max_internal_digits": 99}],
)
def test_other_fields_are_validated(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        NumberPlan(**kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ lookups
def test_lookup_keys_e164_first() -> None:
    assert IRAN.lookup_keys(IRAN.parse("021 8877 6655")) == ("+982188776655", "02188776655")
    assert IRAN.lookup_keys(IRAN.parse("+1 415 555 0100")) == ("+14155550100", "0014155550100")
    assert IRAN.lookup_keys(IRAN.parse("1001")) == ("1001",)


def test_written_forms_of_a_domestic_number() -> None:
    forms = IRAN.written_forms(IRAN.parse("۰۲۱۸۸۷۷۶۶۵۵"))
    assert forms[0] == "+982188776655"
    for expected in (
        "+98 21 8877 6655",
        "021 8877 6655",
        "02188776655",
        "00982188776655",
        "0098 21 8877 6655",
        "982188776655",
    ):
        assert expected in forms
    assert len(forms) == len(set(forms)) <= 8


def test_written_forms_of_a_foreign_number_use_the_regions_international_prefix() -> None:
    forms = NumberPlan(region="US").written_forms(IRAN.parse("+98 912 345 6789"))
    assert "+989123456789" in forms
    assert "011989123456789" in forms
    assert all(set(f) <= set("+0123456789 -()") for f in forms)


def test_written_forms_of_an_extension_are_its_digits() -> None:
    assert IRAN.written_forms(IRAN.parse("1001")) == ("1001",)


# ------------------------------------------------------------------------------------ IN13
@pytest.mark.parametrize(
    ("text", "min_digits", "loggable"),
    [
        ("1001", 5, False),
        ("100", 5, False),
        ("12345", 5, True),
        ("1001", 4, True),
        ("1001", 0, True),
        ("021 8877 6655", 5, True),
        ("+1 415 555 0100", 11, True),
        ("anonymous", 5, True),  # a missed anonymous call still matters
        ("", 5, True),
        ("88776655", 9, False),
    ],
)
def test_short_number_rule(text: str, min_digits: int, loggable: bool) -> None:
    plan = NumberPlan(min_log_digits=min_digits)
    assert plan.is_loggable(plan.parse(text)) is loggable


# ------------------------------------------------------------------------------------ SET3
@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+98 21 8877 6655", "902188776655"),
        ("۰۹۱۲۳۴۵۶۷۸۹", "909123456789"),
        ("88776655", "902188776655"),  # completed with the line's area code
        ("+1 (415) 555-0100 x12", "90014155550100"),  # the extension goes as DTMF later
        ("tel:+44-20-7946-0958", "900442079460958"),
        ("1001", "1001"),  # internal: no outside-line prefix
    ],
)
def test_dial_string_with_prefix(number: str, expected: str) -> None:
    assert TEHRAN_LINE.dial_string(number) == expected
    assert TEHRAN_LINE.dial_string(TEHRAN_LINE.parse(number)) == expected


@pytest.mark.parametrize("code", ["*97", "#21#", "*72 1001"])
def test_pbx_feature_codes_are_dialled_as_typed(code: str) -> None:
    assert TEHRAN_LINE.dial_string(code) == code.replace(" ", "")


def test_dial_string_without_prefix_and_unknown_local_number() -> None:
    assert IRAN.dial_string("021 8877 6655") == "02188776655"
    assert IRAN.dial_string("88776655") == "88776655"
    assert NumberPlan(dial_prefix="9").dial_string("88776655") == "988776655"


def test_dial_string_uses_the_regions_international_prefix() -> None:
    us = NumberPlan(region="US", dial_prefix="9")
    assert us.dial_string("+98 21 8877 6655") == "9011982188776655"
    assert us.dial_string("(415) 555-0100") == "914155550100"  # NANPA dials the 1 at home too


@pytest.mark.parametrize("text", ["", "anonymous", "+", "sip:alice@example.com", "📞"])
def test_dial_string_refuses_what_cannot_be_dialled(text: str) -> None:
    with pytest.raises(ValueError, match="cannot be dialled"):
        TEHRAN_LINE.dial_string(text)


# ------------------------------------------------------------------------------------ display
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+982188776655", "021 8877 6655"),
        ("00989123456789", "0912 345 6789"),
        ("+1 (415) 555-0100", "+1 415-555-0100"),
        ("+1 (415) 555-0100 x12", "+1 415-555-0100 ext. 12"),
        ("1001", "1001"),
        ("88776655", "88776655"),
        ("Restricted", "Restricted"),
    ],
)
def test_display(text: str, expected: str) -> None:
    assert IRAN.display(IRAN.parse(text)) == expected


def test_display_of_a_value_built_elsewhere_does_not_raise() -> None:
    odd = PhoneNumber(raw="", e164="+999123456")  # well-formed E.164, no such country code
    assert IRAN.display(odd) == "+999123456"
    assert IRAN.lookup_keys(odd)[0] == "+999123456"


# ------------------------------------------------------------------------------------ SET4
LINES = (Line("sip-1", "Sales"), Line("sip-2", "Support"), Line("sip-3", "Branch", Registration.OFFLINE))


@pytest.mark.parametrize(
    ("lines", "requested", "default", "expected"),
    [
        (LINES, "sip-2", "sip-3", "sip-2"),  # the agent's pick wins
        (LINES, "gone", "sip-3", "sip-3"),  # picked line no longer exists -> default
        (LINES, None, "sip-3", "sip-3"),
        (LINES, "", "", "sip-1"),  # nothing configured -> first line
        (LINES, None, "gone", "sip-1"),
        (LINES, None, None, "sip-1"),
        ((), "sip-1", "sip-1", None),  # no lines at all
    ],
)
def test_choose_line(
    lines: tuple[Line, ...], requested: str | None, default: str | None, expected: str | None
) -> None:
    chosen = choose_line(lines, requested, default)
    assert (chosen.id if chosen else None) == expected


@pytest.mark.parametrize(
    ("region", "dialled", "expected"),
    [
        ("IR", "902188776655", "+982188776655"),  # domestic, prefix 9 taken off
        ("IR", "909123456789", "+989123456789"),
        ("IR", "900493012345678", "+493012345678"),  # 9 + 00 + Germany
        ("US", "914155550100", "+14155550100"),  # NANPA: 9 + 1 + number
        ("IR", "+905321234567", "+905321234567"),  # written with + (Turkey): nothing to take off
    ],
)
def test_undial_takes_the_outside_line_prefix_off_again(region: str, dialled: str, expected: str) -> None:
    """SET3: what was dialled (prefix + number) becomes the customer's number again."""
    plan = NumberPlan(region=region, dial_prefix="9")
    assert plan.undial(plan.parse(dialled)).e164 == expected


def test_undial_keeps_extensions_and_works_without_a_prefix() -> None:
    plan = NumberPlan(region="IR", dial_prefix="9")
    assert plan.undial(plan.parse("9123")).digits == "9123"  # extension 9123, not 9 + "123"
    assert plan.undial(plan.parse("1001")).digits == "1001"
    plain = NumberPlan(region="IR")
    assert plain.undial(plain.parse("02188776655")).e164 == "+982188776655"
    assert plan.dial_string(plan.undial(plan.parse(plan.dial_string("+982188776655")))) == "902188776655"


@pytest.mark.parametrize("raw", ["%27", "' or 1 eq 1", "1' or '1'='1", "sip:%27@pbx", "(1)", "x1y2", "-.1.-"])
def test_caller_id_that_is_mostly_not_digits_is_not_an_extension(raw: str) -> None:
    # however a provider took the stray digits out of it, it is logged (IN13), not skipped
    digits = "".join(ch for ch in raw if ch.isdigit())
    for number in (TEHRAN_LINE.parse(raw), PhoneNumber(raw=raw, digits=digits)):
        assert not TEHRAN_LINE.is_internal(number)
        assert TEHRAN_LINE.is_loggable(number)


@pytest.mark.parametrize(
    "raw", ["1001", "10-01", "۱۰۰۱", "sip:1001@pbx.local", '"Reception" <sip:100@pbx>', ""]
)
def test_extensions_written_as_extensions_stay_unlogged(raw: str) -> None:
    number = PhoneNumber(raw=raw, digits="1001")
    assert TEHRAN_LINE.is_internal(number)
    assert not TEHRAN_LINE.is_loggable(number)


@pytest.mark.parametrize("raw", ["+622865870919758525", "+8143885698796088177", "0049301234567890123"])
def test_a_digit_run_longer_than_e164_is_unknown_without_an_error(
    raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    """phonenumbers calls some over-long digit runs "possible" (+62, +81, +49 vary in length);
    E.164 stops at 15 digits. Such a number is kept as written, with no public form — and it is
    not an error in the log (a sync of messy CRM data met thousands of them)."""
    plan = NumberPlan(region="DE")
    with caplog.at_level("ERROR", logger="callsys.numbers"):
        number = plan.parse(raw)
    assert number.e164 is None
    assert caplog.records == []


def test_fifteen_digits_with_the_country_code_are_still_public() -> None:
    assert NumberPlan(region="DE").parse("+49 30 1234567890").e164 == "+49301234567890"
