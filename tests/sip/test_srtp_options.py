"""A line's ``srtp`` and ``srtp_secure_signaling`` settings: read, defaulted and checked."""

from __future__ import annotations

import pytest

from callsys.errors import ConfigError
from providers.sip.options import OPTION_KEYS, SipOptions


def line(**extra: object) -> SipOptions:
    return SipOptions.parse(
        {"lines": [{"id": "office", "user": "1001", "registrar": "sip:pbx.example.com", **extra}]}
    )


def test_srtp_is_off_by_default_and_read_per_line() -> None:
    assert (line().lines[0].srtp, line().lines[0].srtp_secure_signaling) == ("off", 0)
    chosen = line(srtp="Mandatory", srtp_secure_signaling=1).lines[0]
    assert (chosen.srtp, chosen.srtp_secure_signaling) == ("mandatory", 1)
    assert OPTION_KEYS.unknown({"lines": [{"srtp": "optional", "srtp_secure_signaling": 2}]}) == []


@pytest.mark.parametrize(
    ("extra", "key", "says"),
    [
        ({"srtp": "always"}, "phone.options.lines[0].srtp", "srtp must be one of off, optional, mandatory"),
        ({"srtp_secure_signaling": 3}, "phone.options.lines[0].srtp_secure_signaling", "from 0 to 2"),
    ],
)
def test_a_wrong_srtp_setting_names_the_line_s_key(extra: dict[str, object], key: str, says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        line(**extra)
    assert says in str(raised.value) and raised.value.key == key
