"""What the main window's status bar shows besides its messages: the phone connection's state (a
coloured dot and its words, on the right) and how the phone index's sync goes (B3: the first full
sync can take minutes on a big CRM). The update bar (SET5) sits between them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ui.i18n import Language, translate
from ui.qt import QLabel, QProgressBar, QStatusBar, QWidget, named

if TYPE_CHECKING:
    from callsys.crm.dynamics.phoneindex import SyncProgress

__all__ = ["StatusParts"]


class StatusParts:
    def __init__(self, status_bar: QStatusBar, language: Language, middle: QWidget) -> None:
        """The parts in *status_bar*, with *middle* (the update bar) between the sync and the
        phone's state."""
        self._language = language
        self.status_label = named(QLabel(), "providerStatus")
        self.status_dot = named(QLabel(), "providerDot")
        self.sync_label = named(QLabel(), "indexSyncStatus")
        self.sync_bar = named(QProgressBar(), "indexSyncProgress")
        self.sync_bar.setRange(0, 0)  # Dataverse does not say how many rows will come: busy bar
        self.sync_bar.setMaximumWidth(120)
        self.sync_bar.setTextVisible(False)
        self.sync_label.hide()
        self.sync_bar.hide()
        status_bar.addWidget(self.sync_label)
        status_bar.addWidget(self.sync_bar)
        status_bar.addWidget(middle)
        status_bar.addPermanentWidget(self.status_dot)
        status_bar.addPermanentWidget(self.status_label)

    def show_phone(self, text: str, colour: str, why: str) -> None:
        """The phone connection's state in words, its colour, and *why* as the tooltip."""
        self.status_label.setText(text)
        self.status_label.setToolTip(why)
        self.status_label.setAccessibleName(text)
        self.status_dot.setText("●")
        self.status_dot.setStyleSheet(f"color: {colour};")

    def show_sync_progress(self, step: SyncProgress | None) -> None:
        """How the phone-index sync goes (a ``SyncProgress``: records, rate, and the time left
        when the table's size is known from its last sync), or ``None`` once it has ended."""
        if step is None or (step.records == 0 and step.mode != "full"):
            self.sync_label.hide()
            self.sync_bar.hide()
            return
        digits = self._language.digits
        count, rate = digits(f"{step.records:,}"), digits(f"{round(step.rate):,}")
        eta = step.eta
        if eta is None:
            text = translate(
                "MainWindow", "Updating the phone index: {table}, {count} records, {rate} a second"
            )
            text = text.format(table=step.table, count=count, rate=rate)
            self.sync_bar.setRange(0, 0)  # Dataverse does not say how many rows will come: busy bar
        else:
            left = round(eta)
            text = translate(
                "MainWindow",
                "Updating the phone index: {table}, {count} of about {expected} records, "
                "{rate} a second, about {left} left",
            ).format(
                table=step.table,
                count=count,
                expected=digits(f"{step.expected:,}"),
                rate=rate,
                left=digits(f"{left // 60}:{left % 60:02d}"),
            )
            self.sync_bar.setRange(0, max(1, step.expected))
            self.sync_bar.setValue(min(step.records, step.expected))
        self.sync_label.setText(text)
        self.sync_bar.setAccessibleDescription(text)
        self.sync_label.show()
        self.sync_bar.show()
