"""``callsys simulate`` reads the caller's number with the configured number plan
(``numbers.region``) and names the receiving line from ``numbers.dnis_lines`` however the PBX
writes the dialled number (IN12) — through the real command line, with a scripted trunk call."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from callsys.cli import main
from callsys.model import EndReason
from callsys.provider import Provider, ProviderRegistry
from providers.sim import SimulatedProvider, Step

# (numbers.region, the caller's number as the PBX sends it, as E.164, as written in the directory,
#  the number the caller dialled as the PBX sends it, the same number as numbers.dnis_lines has it)
CALLERS = [
    ("DE", "0171 2345678", "+491712345678", "+49 171 2345678", "+49 30 70001234", "030 70001234"),
    ("US", "(212) 555-0142", "+12125550142", "212-555-0142", "+1 (415) 555-7000", "4155557000"),
    ("IR", "09123456789", "+989123456789", "+98 912 345 6789", "+98 21 7000 1234", "021 7000 1234"),
]


def _registry(caller: str, dialled: str) -> ProviderRegistry:
    """The simulator with one more scenario: a trunk call from *caller* to *dialled*, missed."""

    class Trunk(SimulatedProvider):
        scenarios: Mapping[str, Sequence[Step]] = {
            "trunk": (
                Step(0, "ring", "a", number=caller, name="Erika", dnis=dialled),
                Step(1, "hangup", "a", reason=EndReason.MISSED),
            )
        }

        def play(self, scenario: str | Sequence[Step]) -> Any:
            return super().play(self.scenarios[scenario] if isinstance(scenario, str) else scenario)

    def create(options: Mapping[str, Any]) -> Provider:
        return Trunk(options)

    registry = ProviderRegistry()
    registry.register("sim", create)
    return registry


def _run(registry: ProviderRegistry, config: Path, *argv: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    assert main([*argv, "--config", str(config), "--json"], registry=registry, out=out) == 0, out.getvalue()
    text = out.getvalue()
    return [json.loads(line) for line in text.splitlines()] if argv[0] == "simulate" else json.loads(text)


@pytest.mark.parametrize(("region", "caller", "e164", "written", "dialled", "configured"), CALLERS)
def test_simulate_reads_the_caller_and_the_line_with_the_configured_region(
    tmp_path: Path, region: str, caller: str, e164: str, written: str, dialled: str, configured: str
) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(
        f'[storage]\ndatabase = "{tmp_path / "cs.sqlite3"}"\n\n'
        f'[numbers]\nregion = "{region}"\ndnis_lines = {{ "{configured}" = "Sales" }}\n',
        encoding="utf-8",
    )
    registry = _registry(caller, dialled)
    erika = _run(registry, config, "directory", "add", "Erika Mustermann", written)
    events = _run(registry, config, "simulate", "trunk", "--speed", "0")
    ringing = events[0]
    assert (ringing["event"], ringing["number"]) == ("incoming", e164)
    assert ringing["party_id"] == erika["id"]  # found by the number as the directory has it
    assert ringing["line"] == "Sales"  # IN12: the dialled number, however written
    [logged] = _run(registry, config, "log", "--simulated")
    assert (logged["number"], logged["missed"]) == (e164, True)
