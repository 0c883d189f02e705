"""The command line, run in-process as a user would run it (black-box over the real database)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callsys.cli import main
from callsys.cli.log import parse_when
from providers import REGISTRY
from tests.cli_runner import run, run_json

DATA = Path(__file__).parent / "data"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(
        f'[storage]\ndatabase = "{tmp_path / "cs.sqlite3"}"\n\n'
        '[numbers]\narea_code = "21"\ndnis_lines = { "7100" = "Support IVR" }\n',
        encoding="utf-8",
    )
    return path


def test_directory_import_reports_rows(config: Path) -> None:
    code, text = run(config, "directory", "import", str(DATA / "contacts.csv"))
    assert code == 0
    assert "Imported 4 new record(s) and updated 1" in text
    assert "line 5: Nobody Without Number: no phone number" in text
    report = run_json(config, "directory", "import", str(DATA / "contacts.vcf"))
    assert report["format"] == "vcard"
    assert report["imported"] == 3
    assert {"line": 37, "reason": "vCard without END:VCARD"} in report["skipped"]


def test_directory_import_of_a_missing_file_is_one_sentence(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _text = run(config, "directory", "import", "/nonexistent/contacts.csv")
    assert code == 1
    assert capsys.readouterr().err.strip() == "callsys: There is no file /nonexistent/contacts.csv."


def test_lookup_finds_every_record_best_first(config: Path) -> None:
    run(config, "directory", "import", str(DATA / "contacts.csv"))
    result = run_json(config, "lookup", "۰۲۱-۸۸۷۷۶۶۵۵")
    assert result["number"]["e164"] == "+982188776655"
    assert [m["party"]["name"] for m in result["matches"]] == ["Sara Ahmadi", "Shared Line One"]
    code, text = run(config, "lookup", "+98 912 345 6789")
    assert code == 0
    assert "1. Sara Ahmadi — Ahmadi & Co  (contact)" in text
    code, text = run(config, "lookup", "+49 30 1234567")
    assert (code, text.strip()) == (0, "No record has the number +49 30 1234567.")


def test_lookup_of_a_page_of_digits_quotes_the_start_of_it(config: Path) -> None:
    code, text = run(config, "lookup", "9" * 10_000)
    assert code == 0
    assert text.strip().startswith("'9999") and text.strip().endswith("…' is not a phone number.")
    assert len(text) < 100


def test_directory_add_list_delete(config: Path) -> None:
    added = run_json(
        config, "directory", "add", "Kamran Bahrami", "0912 555 1234", "021-22223333", "--company", "KB"
    )
    assert [n["e164"] for n in added["numbers"]] == ["+989125551234", "+982122223333"]
    listing = run_json(config, "directory", "list")
    assert listing["total"] == 1
    assert listing["records"][0]["name"] == "Kamran Bahrami"
    assert run_json(config, "directory", "delete", added["id"])["deleted"] is True
    assert run(config, "directory", "delete", added["id"])[0] == 1


def test_simulate_prints_events_with_the_matched_party_and_fills_the_log(config: Path) -> None:
    run(config, "directory", "import", str(DATA / "contacts.csv"))
    code, text = run(config, "simulate", "waiting-abandoned", "--speed", "0", "--json", "--log-to-real")
    assert code == 0
    events = [json.loads(line) for line in text.splitlines()]
    assert [(e["event"], e["call"]) for e in events][:3] == [
        ("incoming", events[0]["call"]),
        ("answered", events[0]["call"]),
        ("incoming", events[2]["call"]),
    ]
    assert events[0]["party"] == "Sara Ahmadi"
    assert events[0]["matches"] == 2  # the shared main line (B2)
    assert events[2]["waiting"] is True
    ended = {e["call"]: e for e in events if e["event"] == "ended"}
    assert ended[events[2]["call"]]["reason"] == "cancelled"
    assert ended[events[2]["call"]]["missed"] is True
    assert ended[events[0]["call"]]["reason"] == "completed"

    log = run_json(config, "log")
    assert len(log) == 2
    by_id = {r["call_id"]: r for r in log}
    first = by_id[events[0]["call"]]
    assert (first["result"], first["party_name"], first["direction"]) == (
        "completed",
        "Sara Ahmadi",
        "incoming",
    )
    assert [r["id"] for r in run_json(config, "log", "--missed")] == [events[2]["log_id"]]


def test_simulate_text_output_and_dnis_line(config: Path) -> None:
    code, text = run(config, "simulate", "ivr", "--speed", "0")
    assert code == 0
    lines = text.splitlines()
    assert "incoming" in lines[0]
    assert "line Support IVR" in lines[0]  # resolved from the dialled number (IN12)
    assert "completed" in lines[-2]
    assert lines[-1].startswith("3 event(s)")


def test_simulate_list_and_unknown_scenario(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenarios = run_json(config, "simulate", "--list")["scenarios"]
    assert {"incoming", "missed", "waiting", "outgoing", "answered-elsewhere"} <= set(scenarios)
    code, _ = run(config, "simulate", "no-such-thing", "--speed", "0")
    assert code == 2
    assert "There is no scenario 'no-such-thing'" in capsys.readouterr().err


def test_log_filters(config: Path) -> None:
    for scenario in ("missed", "outgoing", "rejected", "answered-elsewhere"):
        assert run(config, "simulate", scenario, "--speed", "0", "--log-to-real")[0] == 0
    assert len(run_json(config, "log", "--since", "today")) == 4
    assert run_json(config, "log", "--since", "1m", "--until", "7d") == []
    assert [r["result"] for r in run_json(config, "log", "--direction", "outgoing")] == ["completed"]
    assert [r["result"] for r in run_json(config, "log", "--result", "rejected")] == ["rejected"]
    assert [r["result"] for r in run_json(config, "log", "--missed")] == ["missed"]
    assert [r["result"] for r in run_json(config, "log", "--search", "ACME")] == ["rejected", "completed"]
    assert len(run_json(config, "log", "--limit", "1")) == 1
    code, text = run(config, "log", "--direction", "incoming")
    assert code == 0
    assert "answered_elsewhere" in text
    assert "missed (missed)" in text


def test_bad_since_is_a_sentence(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(config, "log", "--since", "last tuesday")
    assert code == 2
    assert "--since: 'last tuesday' is not a time" in capsys.readouterr().err


def test_parse_when() -> None:
    now = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
    local_midnight = datetime.combine(now.astimezone().date(), datetime.min.time()).astimezone()
    assert parse_when("today", now) == local_midnight
    assert parse_when("yesterday", now) == local_midnight - timedelta(days=1)
    assert parse_when("7d", now) == now - timedelta(days=7)
    assert parse_when("12h", now) == now - timedelta(hours=12)
    assert parse_when("2026-11-20T08:00:00+00:00", now) == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert parse_when("2026-11-20", now).date().isoformat() == "2026-11-20"


def test_bad_config_gives_exit_2_and_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[logging]\nmin_log_digits = "five"\n', encoding="utf-8")
    code, _ = run(bad, "log")
    assert code == 2
    err = capsys.readouterr().err
    assert "logging.min_log_digits" in err
    assert "whole number" in err
    code, text = run(bad, "lookup", "0912", "--json")
    assert code == 2
    assert "logging.min_log_digits" in json.loads(text)["error"]


def test_unusable_database_is_a_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database" * 100)
    config = tmp_path / "settings.toml"
    config.write_text(f'[storage]\ndatabase = "{garbage}"\n', encoding="utf-8")
    code, _ = run(config, "log")
    assert code == 1
    assert "is damaged or is not a callsys database" in capsys.readouterr().err


def test_secret_set_get_delete(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    assert run(config, "secret", "set", "sip/1001@pbx")[0] == 0
    assert run_json(config, "secret", "get", "sip/1001@pbx") == {"name": "sip/1001@pbx", "set": True}
    code, text = run(config, "secret", "get", "sip/1001@pbx", "--show")
    assert (code, text.strip()) == (0, "s3cret")
    code, text = run(config, "secret", "get", "sip/1001@pbx")
    assert "s3cret" not in text
    assert run(config, "secret", "delete", "sip/1001@pbx")[0] == 0
    assert run(config, "secret", "get", "sip/1001@pbx")[0] == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["directory", "--help"],
        ["directory", "import", "--help"],
        ["lookup", "--help"],
        ["log", "--help"],
        ["simulate", "--help"],
        ["secret", "--help"],
    ],
)
def test_every_command_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv, registry=REGISTRY, out=io.StringIO())
    assert caught.value.code == 0
    assert "--config" in capsys.readouterr().out


def test_big_imports_show_progress_on_stderr(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import callsys.cli.directory
    import callsys.crm.local_import

    monkeypatch.setattr(callsys.cli.directory, "_PROGRESS_BYTES", 0)
    monkeypatch.setattr(callsys.crm.local_import, "PROGRESS_EVERY", 2)
    code, text = run(config, "directory", "import", str(DATA / "contacts.csv"), "--json")
    assert code == 0
    assert json.loads(text)["imported"] == 4  # stdout stays clean JSON
    assert "importing contacts.csv: 2 of ~" in capsys.readouterr().err


def test_log_in_the_jalali_calendar(config: Path) -> None:
    from callsys.cli.log import format_time

    assert format_time(datetime(2026, 11, 25, 12, 0, tzinfo=UTC), jalali=True).startswith("1405-09-04 ")
    run(config, "simulate", "missed", "--speed", "0", "--log-to-real")
    code, text = run(config, "log", "--calendar", "jalali")
    assert code == 0
    assert text.startswith("14")  # the Persian year, not 20xx
    assert run_json(config, "log", "--calendar", "jalali")[0]["started_at"].startswith("20")  # JSON stays ISO


def test_an_unknown_setting_is_a_warning_on_stderr_not_a_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "typo.toml"
    typo.write_text("[logging]\nmin_log_digit = 3\n", encoding="utf-8")
    code, _ = run(typo, "log", "--json")
    assert code == 0
    err = capsys.readouterr().err
    assert "callsys: warning: Unknown setting 'logging.min_log_digit'" in err
