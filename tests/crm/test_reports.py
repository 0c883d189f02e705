"""Reports (IN10, OUT8): FetchXML aggregates from Dynamics 365, the local call log offline."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from callsys.activity import ActivityLogger, register_handlers
from callsys.calllog import CallLog
from callsys.callmanager import CallManager
from callsys.cli import main
from callsys.crm.dynamics.client import DynamicsCrm
from callsys.crm.dynamics.reports import dynamics_report, local_report
from callsys.model import Direction, EndReason
from callsys.numbers import NumberPlan
from callsys.outbox import Outbox
from callsys.store import open_database
from providers import REGISTRY
from tests.crm.helpers import T0, play_call
from tests.dataverse_fake import DataverseFake


def _day(manager: CallManager, plan: NumberPlan) -> None:
    hour = timedelta(hours=1)
    play_call(manager, plan, "a1", "+4930100001", talk=120, line="Sales", extension="101")  # 2 min
    play_call(
        manager, plan, "a2", "+4930100002", talk=61, line="Sales", extension="102", start=T0 + hour
    )  # 2 min
    play_call(
        manager,
        plan,
        "o1",
        "+4930100003",
        direction=Direction.OUTGOING,
        talk=30,
        line="Support",
        extension="101",
        start=T0 + 2 * hour,
    )
    play_call(
        manager,
        plan,
        "m1",
        "+4930100004",
        answer_after=None,
        reason=EndReason.MISSED,
        line="Sales",
        extension="101",
        start=T0 + 3 * hour,
    )
    play_call(
        manager,
        plan,
        "x1",
        "+4930100005",
        answer_after=None,
        reason=EndReason.ANSWERED_ELSEWHERE,
        line="Sales",
        extension="101",
        start=T0 + 4 * hour,
    )
    play_call(manager, plan, "z1", "+4930100006", start=T0 + timedelta(days=3), talk=10)  # out of range


@pytest.mark.asyncio
async def test_dynamics_report_from_fetchxml_aggregates(
    tmp_path: Path, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    other = fake.add("systemuser", {"firstname": "Bea", "lastname": "Agent"})
    db = open_database(tmp_path / "db")
    outbox = Outbox(db)
    register_handlers(outbox, crm)
    owners = {"a2": other}
    manager = CallManager(is_loggable=plan.is_loggable)
    manager.subscribe(ActivityLogger(outbox, agent_for=lambda call: owners.get(call.id, fake.default_user)))
    _day(manager, plan)
    await outbox.drain()
    fake.aggregate_limit = 2  # forces the range to be split and added up (AggregateQueryRecordLimit)

    report = await dynamics_report(crm, T0 - timedelta(hours=1), T0 + timedelta(days=1))

    total = report.total
    assert (total.calls, total.answered, total.unanswered) == (4, 3, 1)
    assert total.answered_percent == 75.0
    assert total.average_talk_seconds == (2 + 2 + 1) * 60 / 3
    assert set(report.by_user) == {"Default Agent", "Bea Agent"}
    assert report.by_user["Bea Agent"].calls == 1
    assert (report.by_direction["incoming"].calls, report.by_direction["outgoing"].calls) == (3, 1)
    db.conn.close()


def test_local_report_has_exact_seconds_and_lines(tmp_path: Path, plan: NumberPlan) -> None:
    db = open_database(tmp_path / "db")
    manager = CallManager(is_loggable=plan.is_loggable)
    manager.subscribe(CallLog(db))
    _day(manager, plan)
    report = local_report(db, T0 - timedelta(hours=1), T0 + timedelta(days=1))
    assert (report.total.calls, report.total.answered, report.total.unanswered) == (4, 3, 1)
    assert report.total.average_talk_seconds == (120 + 61 + 30) / 3
    assert set(report.by_line) == {"Sales", "Support"}
    assert report.by_line["Sales"].unanswered == 1
    assert report.by_user["101"].calls == 3
    db.conn.close()


def test_report_command_falls_back_to_the_local_log_when_crm_is_down(
    tmp_path: Path, plan: NumberPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = tmp_path / "cs.sqlite3"
    db = open_database(db_path)
    manager = CallManager(is_loggable=plan.is_loggable)
    manager.subscribe(CallLog(db))
    _day(manager, plan)
    db.conn.close()
    monkeypatch.setenv("CALLSYS_TEST_CRM_TOKEN", "tok")
    config = tmp_path / "settings.toml"
    config.write_text(
        f'[storage]\ndatabase = "{db_path}"\n[numbers]\nregion = "DE"\n[crm]\nbackend = "dynamics"\n'
        'url = "http://127.0.0.1:9"\nauth = "env"\ntoken_env = "CALLSYS_TEST_CRM_TOKEN"\n'
    )
    out = io.StringIO()
    code = main(
        ["report", "--from", "2025-04-30", "--to", "2025-05-02", "--json", "--config", str(config)],
        registry=REGISTRY,
        out=out,
    )
    assert code == 0
    data = json.loads(out.getvalue())
    assert data["source"] == "local"
    assert data["total"]["calls"] == 4 and data["total"]["answered_percent"] == 75.0
    assert "not reachable" in data["notes"][0]
    out = io.StringIO()
    assert (
        main(
            [
                "report",
                "--from",
                "2025-04-30",
                "--to",
                "2025-05-02",
                "--source",
                "local",
                "--config",
                str(config),
            ],
            registry=REGISTRY,
            out=out,
        )
        == 0
    )
    assert "per line:" in out.getvalue() and "Support" in out.getvalue()
