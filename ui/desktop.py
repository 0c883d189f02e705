"""The desktop's call session: ``callsys.session.open_session`` with what only the window knows —
the activities' titles in the agent's language, and the log file's secret mask. Built by
``ui.app.run`` for the real app and by the tests with their own settings."""

from __future__ import annotations

from callsys.provider import ProviderRegistry
from callsys.session import ActivityLabels, CallSession, open_session
from callsys.settings import Settings

from ui.applog import remember_secrets
from ui.i18n import translate

__all__ = ["activity_labels", "compose"]


def activity_labels() -> ActivityLabels:
    """The CRM activities' titles in the window's language (IN8)."""
    return ActivityLabels(
        unanswered_title=translate("Activity", "Unanswered"),
        incoming_label=translate("Activity", "Incoming call"),
        outgoing_label=translate("Activity", "Outgoing call"),
    )


def compose(settings: Settings, registry: ProviderRegistry) -> CallSession:
    """The desktop's session from *settings*. Never raises for a part that cannot start."""
    return open_session(settings, registry, labels=activity_labels(), secrets_seen=remember_secrets)
