"""Phone numbers: parsing and normalisation (CARD7), the dial prefix (SET3), the short-number rule
(IN13) and the choice of line (SET4).

Numbers reach us in every shape a phone system or a CRM user can produce: ``+98 21 8877 6655``,
``021-88776655``, ``00982188776655``, Persian digits ``۰۹۱۲۳۴۵۶۷۸۹``, ``tel:`` / ``sip:`` URIs,
a trunk that drops the leading 0, a local number dialled without its area code, an internal
extension ``1001`` — or junk (``anonymous``, a 10 kB header, control characters). A
``NumberPlan`` turns all of them into a ``PhoneNumber`` (E.164 when it is a real public number,
otherwise the digits) and never raises while doing so: a caller ID we cannot read must not stop
the phone from ringing.

Digits-only text is parsed strictly (we keep the digits even when the number is not a valid
public one); free text is handed to ``phonenumbers`` and kept only when it yields a *valid*
number, because ``phonenumbers`` reads letters as vanity digits and would otherwise turn
``"abc 021 8877 6655 office"`` into a longer, wrong number.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import unquote

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from callsys.errors import ConfigError
from callsys.model import PhoneNumber
from callsys.provider import Line

if TYPE_CHECKING:
    from callsys.settings import Settings

__all__ = ["NumberPlan", "choose_line", "number_from_uri", "plan_from_settings", "to_ascii_digits"]

log = logging.getLogger(__name__)

#: We look at no more than this much of an incoming text; no phone number is longer.
_MAX_INPUT = 256
#: More digits than this is not a phone number (E.164 allows 15, plus an international prefix).
_MAX_DIGITS = 24

# Persian (U+06F0…) and Arabic-Indic (U+0660…) digits -> ASCII.
_ASCII_DIGITS = str.maketrans(
    {**{chr(0x06F0 + i): str(i) for i in range(10)}, **{chr(0x0660 + i): str(i) for i in range(10)}}
)

# A URI that may carry a number. "callto:" is written with or without "//" (Skype-era links).
# No space after the colon: "Tel: 021 8877 6655" is a label in front of a number, not a URI.
_URI = re.compile(r"^(?P<scheme>tel|callto|sips?):(?://)?(?!\s)(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
# A SIP header value such as '"Alice" <sip:1001@pbx>' -> the URI inside the angle brackets.
_ANGLE = re.compile(r"<([^<>]*)>")
# What the number part of a URI may contain: digits, "+", "*", "#" and RFC 3966 visual separators.
_URI_NUMBER = re.compile(r"^\+?[\d*#\-.()\s]*\d[\d*#\-.()\s]*$")
_SIP_SHORTHAND = re.compile(r"^\+?\d+$")
_URI_EXT = re.compile(r"^ext=(\d{1,10})$", re.IGNORECASE)

# Text that is nothing but a phone number: optional "+", digits with visual separators, an
# optional extension ("x12", "ext. 12", ";ext=12", "#12", "(ext 12)", and the Persian "داخلی 12"
# — "internal", written with the Persian or the Arabic yeh, Persian digits already made ASCII).
_NUMBER_TEXT = re.compile(
    r"\s*(?P<plus>\+)?\s*(?P<body>[\d\s\-./()]*\d[\d\s\-./()]*?)"
    r"(?:\s*\(?\s*(?:;\s*ext\s*=|ext(?:ension)?\.?|x|\#|\u062f\u0627\u062e\u0644[\u06cc\u064a])\s*:?\s*"
    r"(?P<ext>\d{1,10})\s*\)?)?\s*",
    re.IGNORECASE,
)
# The area code written after the local number: "88776655-021", "8877 6655 / 021".
_AREA_AFTER = re.compile(r"^(?P<local>\d[\d\s.]{4,14}\d)\s*[-/]\s*(?P<area>0\d{1,4})$")
_NON_DIGITS = re.compile(r"\D")
_DIAL_PREFIX = re.compile(r"^[0-9*#]{0,6}$")
# A PBX feature code such as "*97" or "#21#": sent as typed, without the outside-line prefix.
_SERVICE_CODE = re.compile(r"^[*#][0-9*#]{0,15}$")


def to_ascii_digits(text: str) -> str:
    """Return *text* with Persian (۰-۹) and Arabic-Indic (٠-٩) digits replaced by ASCII ones."""
    return text.translate(_ASCII_DIGITS)


def number_from_uri(text: str) -> str | None:
    """Return the number inside a ``tel:``, ``callto:``, ``callto://``, ``sip:`` or ``sips:`` URI.

    URI parameters are dropped, except a ``tel`` extension, which comes back as ``" ext. 12"``.
    Percent-escapes are decoded (``%2B`` is ``+``). ``None`` when *text* is not such a URI or
    its user part is not a number (``sip:alice@example.com``, ``tel:``).
    """
    text = text.strip()
    if "<" in text:
        inner = _ANGLE.search(text)
        if inner:
            text = inner.group(1).strip()
    match = _URI.match(text)
    if not match:
        return None
    scheme = match["scheme"].lower()
    rest = match["rest"]
    if scheme.startswith("sip"):
        if "@" in rest:
            rest = rest.split("@", 1)[0].split(":", 1)[0]  # "user:password@host"
        else:
            # No user part: "sip:1001" (a PBX's shorthand) names a number, "sip:10.0.0.1:5060" not.
            host = re.split(r"[;:?]", rest, maxsplit=1)[0]
            rest = host if _SIP_SHORTHAND.match(host) else ""
    rest = rest.split("?", 1)[0].rstrip("/")  # URI headers; "callto://…/" from some web pages
    number, *params = rest.split(";")
    number = unquote(number).strip()
    if not _URI_NUMBER.match(number):
        return None
    for param in params:
        ext = _URI_EXT.match(unquote(param).strip())
        if ext:
            return f"{number} ext. {ext.group(1)}"
    return number


class _Forms(NamedTuple):
    """Everything we derive from one E.164 number for one region (cached, see ``_forms``)."""

    e164: str
    international: str  # "+98 21 8877 6655"
    national: str  # "021 8877 6655"
    dial_digits: str  # from inside the region, without outside-line prefix: "02188776655"
    idd_international: str  # "0098 21 8877 6655"
    idd_digits: str  # "00982188776655"
    rfc3966: str  # "+98-21-8877-6655"
    domestic: bool


@functools.lru_cache(maxsize=64)
def _idd(region: str) -> str:
    """The international call prefix of *region* ("00" for IR and most of the world, "011" US)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is not None:
        for prefix in (meta.preferred_international_prefix, meta.international_prefix):
            if prefix and prefix.isdigit():
                return prefix
    return "00"


@functools.lru_cache(maxsize=2048)
def _forms(e164: str, region: str) -> _Forms:
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        # A well-formed E.164 string for a country code that does not exist (built elsewhere,
        # e.g. read back from an old log): keep it usable, unformatted.
        idd = _idd(region)
        return _Forms(e164, e164, e164, idd + e164[1:], idd + e164[1:], idd + e164[1:], e164, False)
    domestic = number.country_code == phonenumbers.country_code_for_region(region)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    idd = _idd(region)
    if domestic:
        # Same country code (also NANPA: a Canadian number from the US gets its "1 " here).
        dial = phonenumbers.format_out_of_country_calling_number(number, region)
        dial_digits = _NON_DIGITS.sub("", dial)
    else:
        dial_digits = idd + e164[1:]
    return _Forms(
        e164=e164,
        international=international,
        national=national,
        dial_digits=dial_digits,
        idd_international=idd + international[1:],
        idd_digits=idd + e164[1:],
        rfc3966=phonenumbers.format_number(number, PhoneNumberFormat.RFC3966).removeprefix("tel:"),
        domestic=domestic,
    )


def _clean_input(text: str) -> str:
    """Bounded, single-line text with ASCII digits and no control or format characters.

    Format characters (RLM/LRM, bidi overrides, zero-width joiners) come with numbers copied
    from right-to-left text; any other Unicode decimal digit (fullwidth, Devanagari …) becomes
    ASCII too, so that what we keep as ``digits`` is always ASCII.
    """
    text = to_ascii_digits(text[:_MAX_INPUT])
    if text.isascii():
        return "".join(ch for ch in text if ch.isprintable()).strip()
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Nd":
            out.append(str(unicodedata.decimal(ch)))
        elif category[0] == "C" or category[0] == "Z":
            out.append(" " if category[0] == "Z" else "")
        else:
            out.append(ch)
    return "".join(out).strip()


def _fits_e164(number: phonenumbers.PhoneNumber) -> bool:
    """At most 15 digits with the country code (ITU-T E.164): phonenumbers calls some longer
    digit runs "possible" for countries whose numbers vary in length (+62, +81, +49 …)."""
    return len(str(number.country_code)) + len(phonenumbers.national_significant_number(number)) <= 15


def _valid(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) and _fits_e164(number) else None


def _possible(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    """A number that is not valid by the metadata but has a plausible length.

    Used only for numbers written with an explicit country code: a new number range that our
    copy of the metadata does not know yet should still match the CRM by its E.164 form.
    """
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    reason = phonenumbers.is_possible_number_with_reason(number)
    return number if reason == phonenumbers.ValidationResult.IS_POSSIBLE and _fits_e164(number) else None


@functools.lru_cache(maxsize=64)
def _country_code(region: str) -> int:
    return int(phonenumbers.country_code_for_region(region))


def _dial_digits(number: phonenumbers.PhoneNumber, e164: str, region: str) -> str:
    """What one dials from *region* (without the outside-line prefix) — the same value as
    ``_forms(e164, region).dial_digits``, computed with one format call instead of a re-parse
    and five (this is on the directory-import path: one call per imported number)."""
    if number.country_code == _country_code(region):
        return _NON_DIGITS.sub("", phonenumbers.format_out_of_country_calling_number(number, region))
    return _idd(region) + e164[1:]


def _public(raw: str, number: phonenumbers.PhoneNumber, region: str, extension: str | None) -> PhoneNumber:
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    ext = extension or number.extension or None
    if ext is not None and not (ext.isascii() and ext.isdigit()):
        ext = None
    return PhoneNumber(raw=raw, e164=e164, digits=_dial_digits(number, e164, region), extension=ext)


@functools.lru_cache(maxsize=4096)
def _parse(raw: str, region: str, area_code: str, max_internal_digits: int) -> PhoneNumber:
    """The pure core of ``NumberPlan.parse`` (cached: the same caller rings, is looked up, is
    logged, is shown — one parse)."""
    text = _clean_input(raw)
    if not text or not any(ch.isdigit() for ch in text):
        return PhoneNumber(raw=raw)  # "anonymous", "Restricted", "", junk without digits
    from_uri = number_from_uri(text)
    if from_uri is not None:
        text = from_uri
    elif _URI.match(text):
        return PhoneNumber(raw=raw)  # a URI without a number in it: "sip:alice2@example.com"

    match = _NUMBER_TEXT.fullmatch(text)
    if match is None:
        # Free text around a number ("Tel: +98 21 8877 6655 (office)"): only a valid one counts.
        number = _valid(text, region)
        return _public(raw, number, region, None) if number else PhoneNumber(raw=raw)

    plus = match["plus"] is not None
    digits = _NON_DIGITS.sub("", match["body"])
    extension = match["ext"]
    if len(digits) > _MAX_DIGITS:
        return PhoneNumber(raw=raw)
    if not plus and extension is None and len(digits) <= max_internal_digits:
        if not _mostly_digits(match["body"]):
            return PhoneNumber(raw=raw)  # "(1)", "-.1.-": stray digits, not an extension
        return PhoneNumber(raw=raw, digits=digits)  # an internal extension, never a public number

    written = ("+" if plus else "") + digits
    # phonenumbers also copes with a trunk that drops the national prefix ("9123456789") and
    # with the country code sent without "+" ("982188776655").
    number = _valid(written, region)
    if number is None and area_code and not plus:
        number = _complete_local(digits, region, area_code)
    idd = _idd(region)
    international = plus or digits.startswith(idd)
    if number is None and international:
        number = _possible(written, region)
    if number is None and not plus:
        number = _area_written_after(match["body"].strip(), region)
    if number is not None:
        return _public(raw, number, region, extension)
    if plus:
        digits = idd + digits  # keep what one would dial from here
    return PhoneNumber(raw=raw, digits=digits, extension=extension)


def _mostly_digits(text: str) -> bool:
    """More digits than other (non-space) characters: ``1001``, ``10-01``, but not ``(1)``."""
    digits = sum(ch.isdigit() for ch in text)
    return digits > sum(1 for ch in text if not ch.isdigit() and not ch.isspace())


@functools.lru_cache(maxsize=1024)
def _written_as_extension(raw: str) -> bool:
    """Whether the caller ID *raw* reads as an extension of our PBX: a number's shape (digits and
    visual separators, in a SIP/tel URI or not) and mostly digits. ``%27`` or ``' or 1 eq 1``
    — hostile caller IDs with a few stray digits — are not, whoever took their digits out."""
    text = _clean_input(raw)
    from_uri = number_from_uri(text)
    match = _NUMBER_TEXT.fullmatch(from_uri if from_uri is not None else text)
    return match is not None and match["plus"] is None and _mostly_digits(match["body"])


def _area_written_after(body: str, region: str) -> phonenumbers.PhoneNumber | None:
    """``88776655-021``: a local number with its area code (national prefix included) written
    after it, as Iranian business cards and CRM users often do. Only when the swapped number is
    valid — the text as written was not."""
    found = _AREA_AFTER.match(body)
    if found is None:
        return None
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    national_prefix = (meta.national_prefix if meta is not None else None) or ""
    if not national_prefix or not found["area"].startswith(national_prefix):
        return None
    return _valid(found["area"] + _NON_DIGITS.sub("", found["local"]), region)


def _complete_local(digits: str, region: str, area_code: str) -> phonenumbers.PhoneNumber | None:
    """A local number dialled without its area code: ``88776655`` on a Tehran line (area 21)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    national_prefix = (meta.national_prefix if meta is not None else None) or ""
    if national_prefix and digits.startswith(national_prefix):
        return None  # already written nationally; the area code is not missing
    if digits.startswith(_idd(region)):
        return None
    for candidate in (area_code + digits, national_prefix + area_code + digits):
        number = _valid(candidate, region)
        if number is not None:
            return number
    return None


@dataclass(frozen=True, slots=True)
class NumberPlan:
    """How numbers are written where this agent sits: the country, the area, the PBX's habits.

    Built from the ``numbers.*``, ``phone.dial_prefix`` and ``logging.min_log_digits``
    settings; validates itself, so a plan that exists is a plan that works.
    """

    region: str = "IR"
    area_code: str = ""
    dial_prefix: str = ""
    min_log_digits: int = 5
    max_internal_digits: int = 4

    def __post_init__(self) -> None:
        region = self.region.upper() if isinstance(self.region, str) else self.region
        if not isinstance(region, str) or region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(
                f"unknown region {self.region!r}: expected a two-letter country code such as IR, DE or US"
            )
        object.__setattr__(self, "region", region)
        area = to_ascii_digits(self.area_code).strip() if isinstance(self.area_code, str) else None
        if area is None or not (area == "" or (area.isascii() and area.isdigit() and len(area) <= 6)):
            raise ValueError(f"area code {self.area_code!r} must be up to 6 digits, e.g. 21 for Tehran")
        object.__setattr__(self, "area_code", area)
        prefix = to_ascii_digits(self.dial_prefix).strip() if isinstance(self.dial_prefix, str) else None
        if prefix is None or not _DIAL_PREFIX.match(prefix):
            raise ValueError(
                f"dial prefix {self.dial_prefix!r} must be up to 6 characters of 0-9, * and #, e.g. 9"
            )
        object.__setattr__(self, "dial_prefix", prefix)
        for name in ("min_log_digits", "max_internal_digits"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 20:
                raise ValueError(f"{name} must be a whole number from 0 to 20, not {value!r}")

    # ------------------------------------------------------------------------------ parsing
    def parse(self, text: str | None) -> PhoneNumber:
        """Whatever a phone system or a person wrote, as a ``PhoneNumber``. Never raises."""
        if text is None:
            return PhoneNumber(raw="")
        try:
            raw = text if isinstance(text, str) else str(text)
            return _parse(raw[:_MAX_INPUT], self.region, self.area_code, self.max_internal_digits)
        except Exception:  # the ring path must survive any input; a bug here is logged, not fatal
            log.exception("could not parse a phone number; treating it as unknown")
            try:
                return PhoneNumber(raw=str(text)[:_MAX_INPUT])
            except Exception:
                return PhoneNumber(raw="")

    def is_internal(self, number: PhoneNumber) -> bool:
        """An extension of our own PBX (``1001``): digits only, short, no public form — and, when
        the caller ID as received is known, written as one (``%27`` is not extension 27)."""
        return (
            number.e164 is None
            and 0 < len(number.digits) <= self.max_internal_digits
            and (not number.raw or _written_as_extension(number.raw[:_MAX_INPUT]))
        )

    # ------------------------------------------------------------------------------ lookups
    def lookup_keys(self, number: PhoneNumber) -> tuple[str, ...]:
        """Keys to try in a local index, best first.

        E.164 first; for a domestic number then the national digits (``02188776655``), which is
        how a number the metadata did not recognise when it was stored got indexed. A number
        without a public form (an extension, a local number) has only its digits.
        """
        if number.e164 is None:
            return (number.digits,) if number.digits else ()
        forms = _forms(number.e164, self.region)
        keys = [number.e164]
        if forms.domestic:
            keys.append(forms.dial_digits)
        if number.digits and number.digits not in keys:
            keys.append(number.digits)
        return tuple(keys)

    def written_forms(self, number: PhoneNumber) -> tuple[str, ...]:
        """The canonical ways people write *number* in a CRM phone column, for an exact (``eq``)
        lookup: ``+982188776655``, ``+98 21 8877 6655``, ``021 8877 6655``, ``02188776655``,
        ``00982188776655``, ``0098 21 8877 6655``, ``+98-21-8877-6655``, ``982188776655``.

        Deduplicated, at most 8, and only made of digits, ``+``, spaces, hyphens and brackets —
        safe to put in a query string after the usual quoting.
        """
        if number.e164 is None:
            return (number.digits,) if number.digits else ()
        forms = _forms(number.e164, self.region)
        candidates = (
            forms.e164,
            forms.international,
            forms.national,
            _NON_DIGITS.sub("", forms.national),
            forms.idd_digits,
            forms.idd_international,
            forms.rfc3966,
            forms.e164[1:],
        )
        return tuple(dict.fromkeys(c for c in candidates if c))[:8]

    # ------------------------------------------------------------------------------ rules
    def is_loggable(self, number: PhoneNumber) -> bool:
        """IN13: ``False`` for a number with fewer than ``min_log_digits`` digits (an internal
        extension). An anonymous caller *is* logged: a missed anonymous call still matters, and so
        is a caller ID that is mostly not digits, whatever digits were taken out of it."""
        if number.is_anonymous:
            return True
        count = len(number.digits) if number.digits else len(number.e164 or "") - 1
        if count >= self.min_log_digits:
            return True
        # a short number is an extension only when the caller ID reads as one: a hostile caller
        # ID with a few stray digits ("%27", "' or 1 eq 1") is logged, not skipped
        return bool(number.raw) and number.e164 is None and not _written_as_extension(number.raw[:_MAX_INPUT])

    def dial_string(self, number: PhoneNumber | str) -> str:
        """What to send to the PBX for *number* (SET3).

        Public numbers get the outside-line prefix: national digits for our own country
        (``902188776655``), the international prefix for others (``90014155550100``). Internal
        extensions and PBX feature codes (``*97``) go out as they are. An extension of a public
        number (``x12``) is not part of the dial string — it is sent as DTMF once connected.

        Raises ``ValueError`` with a sentence a user can read when there is nothing to dial.
        """
        if isinstance(number, str):
            code = _clean_input(number).replace(" ", "")
            if _SERVICE_CODE.match(code):
                return code
            number = self.parse(number)
        if not number.digits:
            shown = repr(number.raw) if number.raw else "An empty number"
            raise ValueError(f"{shown} cannot be dialled: it is not a phone number")
        if self.is_internal(number):
            return number.digits
        return self.dial_prefix + number.digits

    def undial(self, number: PhoneNumber) -> PhoneNumber:
        """The number an outgoing call reaches, from what was dialled: ``dial_string`` with the
        SET3 outside-line prefix taken off again (``9 021 8877 6655`` → ``+982188776655``), so the
        CRM lookup and the call log see the customer's number, not the PBX route. A dialled
        string without the prefix (an extension, a feature code) is parsed as it is."""
        prefix = self.dial_prefix
        text = to_ascii_digits(number.raw or number.digits).strip()
        digits = _NON_DIGITS.sub("", text)
        # Written with "+" it was dialled as an international number: no prefix to take off.
        if not prefix or text.startswith("+") or not digits.startswith(prefix):
            return number if number.e164 else self.parse(text)
        rest = digits[len(prefix) :]
        if len(rest) <= self.max_internal_digits:
            return number if number.e164 else self.parse(text)  # "9123" is extension 9123
        return self.parse(rest)

    def display(self, number: PhoneNumber) -> str:
        """For people: international format for a foreign number, national for a domestic one,
        the digits for an extension or a number we could not place, else what was written."""
        if number.e164 is None:
            return number.digits or number.raw
        forms = _forms(number.e164, self.region)
        text = forms.national if forms.domestic else forms.international
        return f"{text} ext. {number.extension}" if number.extension else text


def plan_from_settings(settings: Settings) -> NumberPlan:
    """The configured number plan: ``numbers.region``, ``numbers.area_code``, ``phone.dial_prefix``
    and ``logging.min_log_digits``. The one place every front end — the desktop, the server,
    ``callsys simulate`` and ``callsys phone`` — builds it, and hands it to its providers, its
    CallManager and its CRM connector, so that a caller's "0171 2345678" is read as German in
    Germany, not as an Iranian number because a part fell back to ``NumberPlan()``.

    Raises ``ConfigError`` naming ``numbers`` when the values do not make a plan (the settings
    validate each value, so this means they were built around that validation).
    """
    from callsys.settings import AREA_CODE, DIAL_PREFIX, MIN_LOG_DIGITS, REGION

    try:
        return NumberPlan(
            region=settings[REGION],
            area_code=settings[AREA_CODE],
            dial_prefix=settings[DIAL_PREFIX],
            min_log_digits=settings[MIN_LOG_DIGITS],
        )
    except ValueError as exc:
        raise ConfigError(f"The number settings are not valid: {exc}.", key="numbers") from None


def choose_line(lines: Sequence[Line], requested: str | None, default: str | None) -> Line | None:
    """SET4: the line the agent picked for this call if it exists, else the configured default
    line, else the first line; ``None`` when the provider has no lines at all."""
    for wanted in (requested, default):
        if wanted:
            for line in lines:
                if line.id == wanted:
                    return line
    return lines[0] if lines else None
