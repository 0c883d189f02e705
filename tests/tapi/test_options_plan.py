"""The TAPI connection reads caller IDs with the configured number plan (SET3, issue 12's bug
for the SIP and AMI connections): the front end puts it in the options as ``number_plan``."""

from __future__ import annotations

from callsys.numbers import NumberPlan
from providers.tapi.options import OPTION_KEYS, TapiOptions


def test_the_configured_plan_is_used_and_not_reported_as_an_unknown_option() -> None:
    options = {"number_plan": NumberPlan(region="DE", area_code="30"), "prefix": "0"}
    parsed = TapiOptions.from_mapping(options)
    assert parsed.number_plan.region == "DE" and parsed.number_plan.area_code == "30"
    assert parsed.number_plan.parse("0171 2345678").e164 == "+491712345678"
    assert parsed.number_plan.dial_prefix == "0"  # the route prefix stays the connection's own
    assert all(OPTION_KEYS.knows(key) for key in options)


def test_a_region_written_for_the_connection_wins_over_the_plan() -> None:
    parsed = TapiOptions.from_mapping({"number_plan": NumberPlan(region="DE"), "region": "US"})
    assert parsed.number_plan.region == "US"
