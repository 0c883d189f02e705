"""The local details view of a CRM record (IN3 for ``LocalCrm``, OUT4): who it is, and every one
of its numbers with a button that dials it."""

from __future__ import annotations

from callsys.model import Party

from ui.i18n import ltr, translate
from ui.qt import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
    pyqtSignal,
)
from ui.texts import kind_text, number_type_text

__all__ = ["PartyDetailsDialog"]


class PartyDetailsDialog(QDialog):
    dial_requested = pyqtSignal(str)

    def __init__(self, party: Party, display: object = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.party = party
        self.setObjectName("partyDetails")
        self.setWindowTitle(party.name or translate("Details", "Record"))
        form = QFormLayout(self)
        name = QLabel(party.name)
        name.setObjectName("detailsName")
        name.setStyleSheet("font-size: 14pt; font-weight: bold;")
        form.addRow(translate("Details", "Name:"), name)
        form.addRow(translate("Details", "Type:"), QLabel(kind_text(party.kind)))
        if party.company:
            form.addRow(translate("Details", "Company:"), QLabel(party.company))
        self.dial_buttons: list[QPushButton] = []
        for at, number in enumerate(party.numbers):
            shown = display(number) if callable(display) else str(number)
            row = QWidget()
            box = QHBoxLayout(row)
            box.setContentsMargins(0, 0, 0, 0)
            kind = number_type_text(party.field_of(at), party.kind)  # work, mobile, home …
            label = QLabel(f"{kind}: {ltr(shown)}" if kind else ltr(shown))
            label.setObjectName("detailsNumber")
            button = QPushButton(translate("Details", "Call"))
            button.setAccessibleName(translate("Details", "Call {number}").format(number=shown))
            target = number.e164 or number.digits or number.raw
            button.clicked.connect(lambda _=False, t=target: self._dial(t))
            self.dial_buttons.append(button)
            box.addWidget(label, 1)
            box.addWidget(button)
            form.addRow(translate("Details", "Phone:"), row)
        if not party.numbers:
            form.addRow(translate("Details", "Phone:"), QLabel(translate("Details", "No numbers")))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _dial(self, target: str) -> None:
        self.dial_requested.emit(target)
        self.accept()
