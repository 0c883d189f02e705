"""Convert a call (IN11, OUT7): from the call log into the built-in directory (contact, number added to
an existing record found with the search box) and into Dynamics 365 through the Dataverse fake
(case with its customer and the call's activity relinked, lead); required fields; a CRM refusal."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from callsys.crm.conversion import DynamicsBackend, LocalBackend, Subject
from callsys.crm.dynamics.client import DynamicsCrm
from callsys.crm.local import LocalCrm
from callsys.model import Party, PartyKind, PhoneNumber
from tests.dataverse_fake import ORG, Column, DataverseFake
from tests.ui.conftest import ACME, REZA
from tests.ui.helpers import UNKNOWN, in_order, missed_call, plain, tab_walk, unnamed

from ui.convert import ConvertDialog, open_convert
from ui.i18n import Language
from ui.mainwindow import MainWindow
from ui.qt import QComboBox, Qt

LEFT = Qt.MouseButton.LeftButton


def aio_run(qtbot: Any, coro: Any) -> Any:
    """Run *coro* to completion on the Qt-driven loop (the test itself is not async)."""
    task = asyncio.ensure_future(coro)
    qtbot.waitUntil(task.done, timeout=3000)
    return task.result()


def test_a_missed_call_becomes_a_contact_in_the_local_directory(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    row = missed_call(window, UNKNOWN, "PARS CO")
    lookup = window.desktop.lookup
    number = window.desktop.plan.parse(UNKNOWN)
    asked = aio_run(qtbot, lookup.lookup(number))
    assert asked == [] and lookup.cached(number) == []  # unknown, and remembered as unknown
    window.log_view.selectRow(0)
    assert window.convert_action in window.phone_menu.actions()
    assert window.convert_action in window.log_view.actions()  # the log's context menu
    window.convert_action.trigger()  # Phone → Convert call… on the selected call
    dialog = window.convert_dialog
    assert isinstance(dialog, ConvertDialog)
    assert [dialog.action.itemData(i) for i in range(dialog.action.count())] == [
        "contact",
        "lead",
        "account",
        "add_number",
    ]  # the built-in directory has no cases or scheduled calls
    assert dialog.current_action() == "contact"
    assert plain(dialog.number.text()) == "021 4455 6677"
    assert dialog.name.text() == "PARS CO"  # prefilled from the caller ID
    dialog.name.clear()
    assert not dialog.create_button.isEnabled()  # a contact needs a name
    qtbot.keyClicks(dialog.name, "Nima Pars")
    dialog.company.setText("Pars Co")
    dialog.email.setText("nima@pars.example")
    assert dialog.create_button.isEnabled()
    qtbot.mouseClick(dialog.create_button, LEFT)
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=3000)
    assert dialog.message.text().startswith("The contact was created.")
    assert not dialog.create_button.isEnabled()  # no second record by a second click

    crm = window.desktop.crm
    assert isinstance(crm, LocalCrm)
    [match] = crm.lookup_now(window.desktop.plan.parse("021 4455 6677"))
    assert (match.party.name, match.party.company, match.party.kind) == (
        "Nima Pars",
        "Pars Co",
        PartyKind.CONTACT,
    )
    assert crm.details(match.party.id)["email"] == "nima@pars.example"
    record = window.desktop.calllog.get(row)
    assert record is not None and (record.party_name, record.party_id) == ("Nima Pars", match.party.id)
    assert lookup.cached(number) is None  # forgotten: the next ring asks again and finds Nima
    dialog.close()


def test_the_number_is_added_to_a_record_found_with_the_search_box(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    crm = window.desktop.crm
    assert isinstance(crm, LocalCrm)
    [reza] = crm.lookup_now(window.desktop.plan.parse(REZA))
    row = missed_call(window, UNKNOWN)
    dialog = open_convert(window, row, action="add_number")
    assert dialog is not None
    assert dialog.chosen_record() is None and not dialog.create_button.isEnabled()
    qtbot.keyClicks(dialog.search, "Karimi")
    qtbot.waitUntil(lambda: dialog.records.count() > 0, timeout=3000)
    assert plain(dialog.records.item(0).text()) == "Reza Karimi · Lead · Karimi & Sons"
    assert dialog.chosen_record() is not None and dialog.create_button.isEnabled()
    assert dialog.create_button.text() == "&Add the number"
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=3000)
    assert dialog.message.text() == "The number was added to \u2068Reza Karimi\u2069."
    found = crm.lookup_now(window.desktop.plan.parse(UNKNOWN))
    assert [m.party.id for m in found] == [reza.party.id]
    # His own number is still there, in its own field.
    [again] = crm.lookup_now(window.desktop.plan.parse(REZA))
    assert again.party.id == reza.party.id and again.field == reza.field
    dialog.close()


def test_a_ringing_call_is_converted_from_its_pop_up_with_every_matched_record(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    call_id = window.simulator.ring(ACME, "ACME PBX", line="Support")
    qtbot.waitUntil(lambda: (p := window.popups.popup(call_id)) is not None and p._looked_up, timeout=3000)
    popup = window.popups.popup(call_id)
    assert popup is not None and len(popup.matches) == 2  # B2: the company and its help desk
    [action] = [a for a in popup.actions() if a.objectName() == "popupConvertAction"]
    assert popup.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
    assert action.text() == "Con&vert call…"
    action.trigger()
    dialog = window.convert_dialog
    assert isinstance(dialog, ConvertDialog)
    assert dialog.subject.party == popup.party
    dialog.action.setCurrentIndex(dialog.action.findData("add_number"))
    names = sorted(plain(dialog.records.item(i).text()) for i in range(dialog.records.count()))
    assert names == ["ACME Corp · Account", "ACME Support desk · Contact · ACME Corp"]
    dialog.action.setCurrentIndex(dialog.action.findData("lead"))
    assert dialog.name.text() == popup.party.name
    dialog.close()
    window.reject(call_id)


def test_an_anonymous_call_cannot_become_a_record(make_window: Callable[..., MainWindow], qtbot: Any) -> None:
    window = make_window()
    backend = LocalBackend(window.desktop.crm)
    dialog = ConvertDialog(backend, Subject(PhoneNumber(raw="anonymous")), window)
    qtbot.addWidget(dialog)
    dialog.name.setText("Somebody")
    assert not dialog.create_button.isEnabled()
    assert dialog.create_button.toolTip() == "The call has no number to put into a record."
    assert dialog.number.text() == "No number"


# ---------------------------------------------------------------------------- Dynamics 365
# (the fake and the connector: the ``fake`` and ``dynamics`` fixtures of conftest.py)


def test_a_call_becomes_a_case_for_its_contact_and_the_activity_follows(
    qtbot: Any, fake: DataverseFake, dynamics: DynamicsCrm, language: Language
) -> None:
    contact_id = fake.add(
        "contact", {"firstname": "Sara", "lastname": "Ahmadi", "telephone1": "+982188776655"}
    )
    account_id = fake.add("account", {"name": "Ahmadi Trading"})
    activity = fake.add("phonecall", {"subject": "Incoming call", "phonenumber": "+982188776655"})
    sara = Party(PartyKind.CONTACT, contact_id, "Sara Ahmadi", "Ahmadi Trading", source="dynamics")
    lead = Party(PartyKind.LEAD, "00000000-0000-4000-8000-000000000009", "Old lead", source="dynamics")
    trading = Party(PartyKind.ACCOUNT, account_id, "Ahmadi Trading", source="dynamics")
    subject = Subject(
        dynamics.plan.parse("+982188776655"),
        name="SARA A",
        party=sara,
        candidates=(lead, sara, trading),
        activity_id=activity,
        notes="Printer on floor 2 is broken",
    )
    dialog = ConvertDialog(DynamicsBackend(dynamics), subject)
    qtbot.addWidget(dialog)
    dialog.show()
    assert [dialog.action.itemData(i) for i in range(dialog.action.count())] == [
        "case",
        "lead",
        "contact",
        "account",
        "follow_up",
        "add_number",
    ]
    assert dialog.current_action() == "case"
    assert dialog.title.text() == "Call from Sara Ahmadi"
    # A case's customer is a contact or an account: the lead is not offered.
    visible = [
        plain(dialog.records.item(i).text())
        for i in range(dialog.records.count())
        if not dialog.records.item(i).isHidden()
    ]
    assert visible == ["Sara Ahmadi · Contact · Ahmadi Trading", "Ahmadi Trading · Account"]
    assert dialog.chosen_record() == sara
    dialog.title.setText("Printer broken")
    assert dialog.description.toPlainText() == "Printer on floor 2 is broken"
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=5000)
    result = dialog.result_value
    assert result is not None and result.linked
    case = fake.find("incident", result.record_id)
    assert case is not None
    assert (case["title"], case["_customerid_value"], case["caseorigincode"]) == (
        "Printer broken",
        contact_id,
        1,
    )
    assert case["description"] == "Printer on floor 2 is broken"
    call = fake.find("phonecall", activity)
    assert call is not None and call["_regardingobjectid_value"] == result.record_id
    assert dialog.message.text().startswith("The case was created. The call is now linked to it.")
    assert "Open it in the CRM" in dialog.message.text() and result.url.endswith(
        f"id=%7B{result.record_id}%7D"
    )

    # The call's activity is gone (deleted in the CRM): the lead is still made, and that is said.
    dialog = ConvertDialog(
        DynamicsBackend(dynamics),
        replace(subject, activity_id="00000000-0000-4000-8000-0000000000aa"),
        action="lead",
    )
    qtbot.addWidget(dialog)
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=5000)
    assert dialog.result_value is not None and not dialog.result_value.linked
    assert fake.find("lead", dialog.result_value.record_id) is not None
    assert "The call could not be linked to it; link it in the CRM." in dialog.message.text()


def test_a_call_becomes_a_lead_and_a_refusal_is_explained(
    qtbot: Any, fake: DataverseFake, dynamics: DynamicsCrm, language: Language
) -> None:
    from ui.convert import _explained

    subject = Subject(dynamics.plan.parse("09121234567"), name="Lea Lang", company="Fabrikam")
    dialog = ConvertDialog(_explained(DynamicsBackend(dynamics)), subject, action="lead")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.current_action() == "lead"
    assert (dialog.name.text(), dialog.company.text(), dialog.title.text()) == (
        "Lea Lang",
        "Fabrikam",
        "Call from Lea Lang",
    )
    fake.inject(400, method="POST", path="leads")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("The CRM refused:"), timeout=5000)
    assert dialog.result_value is None and dialog.create_button.isEnabled()  # kept for a retry
    assert fake.count("lead") == 0
    # What the organisation may require beyond callsys: a prefilled form to finish it in Dynamics.
    assert "Fill it in in the CRM instead" in dialog.message.text()
    assert dialog._result_url.startswith(f"{ORG}/main.aspx?pagetype=entityrecord&etn=lead&extraqs=")
    assert "Lang" in dialog._result_url and "Fabrikam" in dialog._result_url
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=5000)
    row = fake.find("lead", dialog.result_value.record_id)
    assert row is not None
    assert (row["firstname"], row["lastname"], row["companyname"], row["mobilephone"], row["subject"]) == (
        "Lea",
        "Lang",
        "Fabrikam",
        "+989121234567",  # a mobile number: the lead's mobile phone
        "Call from Lea Lang",
    )


def test_persian_right_to_left_and_keyboard(
    make_window: Callable[..., MainWindow], qtbot: Any, language: Language
) -> None:
    window = make_window()
    row = missed_call(window, UNKNOWN, "PARS CO")
    language.apply("fa")
    dialog = open_convert(window, row)
    assert dialog is not None
    assert dialog.layoutDirection().name == "RightToLeft"
    assert dialog.windowTitle() != "Convert the call"
    assert dialog.number.text().endswith("\u2066021 4455 6677\u2069")  # the number stays left-to-right
    for widget in (dialog.action, dialog.name, dialog.company, dialog.email, dialog.search, dialog.records):
        assert widget.accessibleName() and widget.accessibleName() != "Name"
    assert dialog.labels["name"].buddy() is dialog.name
    dialog.close()


def test_a_follow_up_call_and_a_number_added_in_dynamics(
    qtbot: Any, fake: DataverseFake, dynamics: DynamicsCrm, language: Language
) -> None:
    contact_id = fake.add(
        "contact", {"firstname": "Sara", "lastname": "Ahmadi", "telephone1": "+982188776655"}
    )
    sara = Party(PartyKind.CONTACT, contact_id, "Sara Ahmadi", source="dynamics")
    subject = Subject(dynamics.plan.parse("09121112233"), name="SARA MOBILE", party=sara, candidates=(sara,))
    dialog = ConvertDialog(DynamicsBackend(dynamics), subject, action="follow_up")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.title.text() == "Call back Sara Ahmadi"
    assert dialog.due.isVisibleTo(dialog) and not dialog.search.isVisibleTo(dialog)
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=5000)
    result = dialog.result_value
    assert result is not None and result.action == "follow_up"
    row = fake.find("phonecall", result.record_id)
    assert row is not None
    assert (row["subject"], row["phonenumber"], row["_regardingobjectid_value"]) == (
        "Call back Sara Ahmadi",
        "+989121112233",
        contact_id,
    )
    assert row["scheduledend"].endswith(":00Z") and row["directioncode"] is True
    assert dialog.message.text().startswith("The follow-up call was scheduled.")

    dialog = ConvertDialog(DynamicsBackend(dynamics), subject, action="add_number")
    qtbot.addWidget(dialog)
    assert dialog.chosen_record() == sara and dialog.create_button.isEnabled()
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=5000)
    assert (fake.find("contact", contact_id) or {})["mobilephone"] == "+989121112233"  # a mobile number
    assert (fake.find("contact", contact_id) or {})["telephone1"] == "+982188776655"  # untouched


# ---------------------------------------------------------------------------- what the CRM requires
REGION = Column("new_region", "Picklist", "Region", options={100000000: "North", 100000001: "South"})


def test_a_lead_asks_for_the_choice_the_organisation_requires(
    qtbot: Any, fake: DataverseFake, dynamics: DynamicsCrm, language: Language
) -> None:
    from callsys.crm.conversion import ConvertRefused, Fields

    from ui.convert import _explained, refusal_text

    fake.require("lead", REGION)
    subject = Subject(dynamics.plan.parse("09121234567"), name="Lea Lang", company="Fabrikam")
    with pytest.raises(ConvertRefused) as refused:
        # Create before the dialog knows: the backend asks the metadata itself and says what is missing.
        aio_run(
            qtbot, DynamicsBackend(dynamics).convert("lead", subject, Fields(name="Lea Lang", title="Call"))
        )
    assert (refused.value.reason, refused.value.fields) == ("missing", ("Region",))  # no sentence
    assert refusal_text(refused.value) == "The CRM refused: “\u2068Region\u2069” must be filled in."
    fake.log.clear()
    dialog = ConvertDialog(_explained(DynamicsBackend(dynamics)), subject, action="lead")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "new_region" in dialog.extra_rows.get("lead", {}), timeout=3000)
    row = dialog.extra_rows["lead"]["new_region"]
    combo = row.widget
    assert isinstance(combo, QComboBox) and combo.isVisible()
    assert [combo.itemText(i) for i in range(combo.count())] == ["Choose…", "North", "South"]
    assert row.label.text() == "Region *" and row.label.buddy() is combo
    assert combo.accessibleName() == "Region"

    assert unnamed(dialog) == []
    seen = tab_walk(qtbot, dialog, dialog.title, 3)
    assert in_order(seen, [dialog.title, combo, dialog.description]) and combo in seen
    assert not dialog.create_button.isEnabled()  # everything else is filled: only the region is missing
    assert dialog.hint.isVisible() and plain(dialog.hint.text()) == "The CRM requires “Region” as well."
    assert "Region" in dialog.create_button.toolTip()
    combo.setCurrentIndex(combo.findText("South"))
    assert dialog.create_button.isEnabled() and dialog.hint.isHidden()
    dialog.action.setCurrentIndex(dialog.action.findData("account"))
    assert not combo.isVisible()  # the lead's requirement is not the account's
    dialog.action.setCurrentIndex(dialog.action.findData("lead"))
    assert combo.isVisible() and combo.currentText() == "South"  # kept while switching
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=5000)
    assert dialog.result_value is not None
    lead = fake.find("lead", dialog.result_value.record_id)
    assert lead is not None and (lead["lastname"], lead["new_region"]) == ("Lang", 100000001)
    reads = [
        path
        for method, path in fake.log
        if method == "GET" and "EntityDefinitions(LogicalName='lead')" in path
    ]
    assert reads == []  # the backend's read above is kept for the session: no second metadata read


def test_a_required_lookup_and_a_required_company_are_named(
    qtbot: Any, fake: DataverseFake, dynamics: DynamicsCrm, language: Language
) -> None:
    fake.require("contact", Column("new_branch", "Lookup", "Branch office"))
    fake.require("contact", Column("emailaddress1", "String", "Email"))
    subject = Subject(dynamics.plan.parse("09121234567"), name="Lea Lang")
    dialog = ConvertDialog(DynamicsBackend(dynamics), subject, action="contact")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "new_branch" in dialog.extra_rows.get("contact", {}), timeout=3000)
    assert "emailaddress1" not in dialog.extra_rows["contact"]  # the dialog's own e-mail field is it
    assert dialog.labels["email"].text() == "&E-mail *"
    assert plain(dialog.extra_rows["contact"]["new_branch"].widget.text()) == "Filled in in Dynamics 365"
    assert not dialog.create_button.isEnabled()
    assert plain(dialog.hint.text()) == (
        "The CRM requires “E-mail” as well. “Branch office” can only be filled in in Dynamics 365. "
        '<a href="form">Fill it in in the CRM instead</a>'
    )
    dialog.email.setText("lea@fabrikam.example")
    assert plain(dialog.hint.text()).startswith("“Branch office” can only be filled in in Dynamics 365.")
    assert not dialog.create_button.isEnabled()  # a lookup cannot be chosen here: Create stays off


def test_the_crms_own_refusal_of_a_missing_column_is_shown_in_words(
    qtbot: Any, fake: DataverseFake, dynamics: DynamicsCrm, language: Language
) -> None:
    from ui.convert import _explained

    subject = Subject(dynamics.plan.parse("09121234567"), name="Lea Lang")
    dialog = ConvertDialog(_explained(DynamicsBackend(dynamics)), subject, action="lead")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "lead" in dialog.extra_rows, timeout=3000)
    assert dialog.extra_rows["lead"] == {} and dialog.create_button.isEnabled()
    # Made required after the dialog read the metadata (kept for the session): the CRM refuses.
    fake.require(
        "lead", Column("new_source", "String", "Lead source", refusal="Lead source: a value is required.")
    )
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("The CRM refused:"), timeout=5000)
    assert "Lead source: a value is required." in dialog.message.text()
    assert "Fill it in in the CRM instead" in dialog.message.text()
    assert fake.count("lead") == 0 and dialog.create_button.isEnabled()


# ---------------------------------------------------------------------------- Convert, metadata unreadable
def _lead_dialog(qtbot: Any, dynamics: Any) -> Any:
    from callsys.crm.conversion import DynamicsBackend, Subject

    from ui.convert import ConvertDialog, _explained

    subject = Subject(dynamics.plan.parse("09121234567"), name="Lea Lang", company="Fabrikam")
    dialog = ConvertDialog(_explained(DynamicsBackend(dynamics)), subject, action="lead")
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_convert_when_the_crm_could_not_say_what_it_requires_then_comes_back(
    qtbot: Any, fake: Any, dynamics: Any, language: Any
) -> None:
    """The metadata read fails as the dialog opens (CRM offline): the dialog says so; when the CRM
    is back, Create first shows the field it requires instead of a refusal naming a field the
    dialog does not have."""
    fake.require("lead", REGION)
    fake.inject(503, method="GET", path="EntityDefinitions", times=10)
    dialog = _lead_dialog(qtbot, dynamics)
    qtbot.waitUntil(dialog.hint.isVisible, timeout=3000)
    assert "could not be read" in plain(dialog.hint.text())
    assert dialog.create_button.isEnabled()  # the agent may still try with what is known
    fake.faults.clear()  # the CRM is back
    dialog.create_button.click()
    qtbot.waitUntil(lambda: "new_region" in dialog.extra_rows.get("lead", {}), timeout=3000)
    combo = dialog.extra_rows["lead"]["new_region"].widget
    assert combo.isVisible() and not dialog.create_button.isEnabled()
    assert plain(dialog.hint.text()) == "The CRM requires “Region” as well."
    assert "refused" not in dialog.message.text() and fake.count("lead") == 0
    combo.setCurrentIndex(combo.findText("North"))
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=5000)
    lead = fake.find("lead", dialog.result_value.record_id)
    assert lead is not None and lead["new_region"] == 100000000


def test_convert_creates_with_the_known_fields_when_the_metadata_stays_unreadable(
    qtbot: Any, fake: Any, dynamics: Any, language: Any
) -> None:
    """Only the metadata request is refused for the moment (throttled): the lead is still made with
    what the agent typed — the call is not lost — and the dialog said beforehand that the CRM's
    extra requirements were not known."""
    fake.inject(429, retry_after=30, method="GET", path="EntityDefinitions", times=10)
    dialog = _lead_dialog(qtbot, dynamics)
    qtbot.waitUntil(dialog.hint.isVisible, timeout=3000)
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=5000)
    assert fake.count("lead") == 1 and dialog.message.text().startswith("The lead was created.")


def test_a_throttled_create_is_explained_in_words(
    qtbot: Any, fake: Any, dynamics: Any, language: Any
) -> None:
    dialog = _lead_dialog(qtbot, dynamics)
    qtbot.waitUntil(lambda: "lead" in dialog.extra_rows, timeout=3000)
    fake.inject(429, retry_after=30, method="POST", path="leads")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: "nothing was created" in dialog.message.text(), timeout=5000)
    text = plain(dialog.message.text())
    assert text.startswith(
        "The CRM is busy (too many requests); nothing was created. Try again in 30 seconds."
    )
    assert fake.count("lead") == 0 and dialog.create_button.isEnabled()


def test_convert_messages_keep_the_persian_reading_order(
    qtbot: Any, fake: Any, dynamics: Any, language: Any
) -> None:
    """«CRM نپذیرفت: …» starts with a Latin word: without a direction mark Qt laid the Persian
    sentence out left-to-right, "CRM" at the wrong end and the link's words jumbled."""
    language.apply("fa")
    dialog = _lead_dialog(qtbot, dynamics)
    qtbot.waitUntil(lambda: "lead" in dialog.extra_rows, timeout=3000)
    fake.inject(400, method="POST", path="leads")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: "نپذیرفت" in dialog.message.text(), timeout=5000)
    assert dialog.message.text().startswith("\u200f")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=5000)
    assert dialog.message.text().startswith("\u200f")


def test_a_required_number_typed_wrong_is_named_as_such(
    qtbot: Any, fake: Any, dynamics: Any, language: Any
) -> None:
    """ "12 staff" in a required whole-number field was reported as "The CRM requires “Employees”
    as well." — as if it were empty."""
    from tests.dataverse_fake import Column

    fake.require("lead", Column("new_staff", "Integer", "Employees"))
    dialog = _lead_dialog(qtbot, dynamics)
    qtbot.waitUntil(lambda: "new_staff" in dialog.extra_rows.get("lead", {}), timeout=3000)
    field = dialog.extra_rows["lead"]["new_staff"].widget
    assert plain(dialog.hint.text()) == "The CRM requires “Employees” as well."
    field.setText("12 staff")
    assert plain(dialog.hint.text()) == "“Employees” takes a whole number."
    assert not dialog.create_button.isEnabled()
    field.setText("۱۲")  # Persian digits
    assert dialog.hint.isHidden() and dialog.create_button.isEnabled()


def test_enter_in_the_convert_search_box_searches_and_creates_nothing(
    make_window: Callable[..., MainWindow], qtbot: Any, language: Any
) -> None:
    """Enter in the search box also pressed Create: with a record already chosen, searching for
    another one added the number to the chosen one."""

    from ui.convert import open_convert
    from ui.qt import QApplication, Qt

    window = make_window()
    dialog = open_convert(window, missed_call(window, UNKNOWN, "PARS CO"), action="add_number")
    assert dialog is not None
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    dialog.search.setFocus()
    qtbot.keyClicks(dialog.search, "Sara")
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.chosen_record() is not None)
    qtbot.keyClicks(dialog.search, " Ahmadi")  # the agent refines the search: Enter again
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    qtbot.wait(300)
    assert dialog.result_value is None and dialog.isVisible()
    assert QApplication.focusWidget() is dialog.search
    qtbot.keyClick(dialog.create_button, Qt.Key.Key_Space)  # Create is a deliberate act
    qtbot.waitUntil(lambda: dialog.result_value is not None)
    dialog.close()
