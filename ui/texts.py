"""Translated names of core values (directions, states, end reasons, record kinds).

Kept in one place so the log, the pop-ups and the reports say the same word for the same thing.
"""

from __future__ import annotations

from callsys.model import CallState, Direction, EndReason, PartyKind

from ui.i18n import translate

__all__ = ["audio_warning", "direction_text", "kind_text", "number_type_text", "result_text", "state_text"]


def direction_text(direction: Direction | str) -> str:
    if str(direction) == Direction.OUTGOING.value:
        return translate("Texts", "Outgoing")
    return translate("Texts", "Incoming")


def state_text(state: CallState | str) -> str:
    value = str(state)
    if value == CallState.RINGING.value:
        return translate("Texts", "Ringing")
    if value == CallState.DIALING.value:
        return translate("Texts", "Dialling")
    if value == CallState.ALERTING.value:
        return translate("Texts", "Ringing at the other end")
    if value == CallState.ACTIVE.value:
        return translate("Texts", "Connected")
    if value == CallState.HELD.value:
        return translate("Texts", "On hold")
    return translate("Texts", "Ended")


def result_text(reason: EndReason | str | None, direction: Direction | str = Direction.INCOMING) -> str:
    """What happened to a call, in the agent's words. Unanswered is IN8's "بی پاسخ"."""
    value = str(reason) if reason is not None else ""
    outgoing = str(direction) == Direction.OUTGOING.value
    if value == EndReason.COMPLETED.value:
        return translate("Texts", "Answered")
    if value == EndReason.MISSED.value:
        return translate("Texts", "Unanswered")
    if value == EndReason.REJECTED.value:
        return translate("Texts", "Rejected")
    if value == EndReason.VOICEMAIL.value:
        return translate("Texts", "Sent to voicemail")
    if value == EndReason.CANCELLED.value:
        return translate("Texts", "Cancelled") if outgoing else translate("Texts", "Caller hung up")
    if value == EndReason.BUSY.value:
        return translate("Texts", "Busy")
    if value == EndReason.NO_ANSWER.value:
        return translate("Texts", "No answer")
    if value == EndReason.ANSWERED_ELSEWHERE.value:
        return translate("Texts", "Answered elsewhere")
    if value == EndReason.FAILED.value:
        return translate("Texts", "Failed")
    return ""


def kind_text(kind: PartyKind | str) -> str:
    value = str(kind)
    if value == PartyKind.CONTACT.value:
        return translate("Texts", "Contact")
    if value == PartyKind.ACCOUNT.value:
        return translate("Texts", "Account")
    if value == PartyKind.LEAD.value:
        return translate("Texts", "Lead")
    if value == PartyKind.SYSTEMUSER.value:
        return translate("Texts", "User")
    return translate("Texts", "Record")


def number_type_text(field: str, kind: PartyKind | str = PartyKind.CONTACT) -> str:
    """What a number is (work, mobile, home …), from the CRM field it is stored in: the local
    directory's ``telephone``/``mobilephone``/``home``/``fax``, Dataverse's ``telephone1`` …
    (a contact's ``telephone2`` is its home phone, an account's is another main line).
    ``""`` when the field is not known."""
    name = field.strip().lower()
    if not name:
        return ""
    company = str(kind) == PartyKind.ACCOUNT.value
    if name in ("mobilephone", "mobile", "cell"):
        return translate("Texts", "Mobile")
    if name in ("telephone1", "telephone", "work", "business"):
        return translate("Texts", "Main") if company else translate("Texts", "Work")
    if name in ("telephone2", "home"):
        return translate("Texts", "Other") if company else translate("Texts", "Home")
    if name == "fax":
        return translate("Texts", "Fax")
    if name == "pager":
        return translate("Texts", "Pager")
    if name.startswith("address"):
        return translate("Texts", "Address")
    return translate("Texts", "Other")


def audio_warning(missing: tuple[str, ...] | frozenset[str], *, calls_only: bool = False) -> str:
    """What a call lacks when the phone has no microphone / speaker / ringer (a softphone on a
    computer without a sound device, or with its audio off); "" when nothing is missing. With
    *calls_only* the ringer is not mentioned (the call is already up)."""
    mic, speaker = "microphone" in missing, "speaker" in missing
    if mic and speaker:
        return translate(
            "Texts",
            "No microphone and no speaker: calls connect, but nobody hears anything. Connect a "
            "headset, or choose the devices in Settings → Audio.",
        )
    if mic:
        return translate("Texts", "No microphone: the other side of a call hears nothing.")
    if speaker:
        return translate("Texts", "No speaker: you cannot hear the other side of a call.")
    if "ringer" in missing and not calls_only:
        return translate("Texts", "No device for the ringtone: incoming calls ring silently.")
    return ""
