"""A setting the administrator locked is greyed in the Settings dialog and says who set it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from callsys.settings import load_settings
from providers import REGISTRY

from ui.i18n import LRI, PDI
from ui.qt import QLabel, QLineEdit
from ui.settingsdialog import SettingsDialog


def test_locked_keys_are_greyed_with_who_set_them(qtbot: Any, tmp_path: Path) -> None:
    org = tmp_path / "briefcase.toml"
    org.write_text('[defaults.crm]\nurl = "https://org.crm4.dynamics.com"\n\n[locked]\nkeys = ["crm.url"]\n')
    system = tmp_path / "system.toml"
    system.write_text('[phone]\ndial_prefix = "9"\n\n[locked]\nkeys = ["phone.dial_prefix"]\n')
    user = tmp_path / "settings.toml"
    user.write_text('[phone]\ndial_prefix = "0"\n\n[numbers]\narea_code = "21"\n')
    settings = load_settings(user, provisioning=org, system=system)
    dialog = SettingsDialog(settings, registry=REGISTRY)
    qtbot.addWidget(dialog)
    dialog.show()

    prefix = dialog.fields["phone.dial_prefix"].widget
    assert isinstance(prefix, QLineEdit)
    assert not prefix.isEnabled()
    assert prefix.text() == "9"  # the administrator's value, not the user's "0"
    note = dialog.findChild(QLabel, "locked_phone_dial_prefix")
    assert note is not None and not note.isHidden()
    assert note.text() == (
        f"Set by this computer's administrator; it cannot be changed here ({LRI}{system}{PDI})."
    )
    url = dialog.findChild(QLabel, "locked_crm_url")
    assert url is not None and "organisation's installer" in url.text() and str(org) in url.text()
    area = dialog.fields["numbers.area_code"].widget
    assert area.isEnabled()
    assert dialog.findChild(QLabel, "locked_numbers_area_code") is None

    # Saving another change keeps the lock and leaves the user's own line in their file.
    assert isinstance(area, QLineEdit)
    area.setText("31")
    assert dialog.save()
    again = load_settings(user, provisioning=org, system=system)
    assert again.get("numbers.area_code") == "31"
    assert again.get("phone.dial_prefix") == "9"
    assert 'dial_prefix = "0"' in user.read_text()
