"""Languages (B6): English and Persian, the whole UI right-to-left in Persian, numbers left-to-right.

Every visible string goes through ``translate(context, text)`` (``QCoreApplication.translate``)
with a literal context and text, so ``resources/translations/update_ts.py`` (and Qt's own
``lupdate``) can find it; ``tests/ui/test_translations.py`` fails when one has no Persian text.

Phone numbers are shown inside a left-to-right isolate (U+2066 … U+2069) — in a Persian
sentence ``+98 21 8877 6655`` must not come out as ``8877 6655 21 98+``. Dates follow the
``ui.calendar`` setting (Gregorian or Jalali, via jdatetime).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from ui.qt import QApplication, QCoreApplication, QLibraryInfo, QLocale, Qt, QTranslator

__all__ = [
    "LANGUAGES",
    "TRANSLATIONS_DIR",
    "Language",
    "format_duration",
    "format_time",
    "isolate",
    "latin_mnemonic",
    "ltr",
    "para",
    "resolve_language",
    "translate",
]

log = logging.getLogger(__name__)

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "resources" / "translations"
LANGUAGES = ("en", "fa")
_RTL = frozenset({"fa"})
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

translate = QCoreApplication.translate

LRI, PDI = "\u2066", "\u2069"


def ltr(text: str) -> str:
    """*text* (a phone number, an extension) kept left-to-right inside any paragraph direction."""
    return f"{LRI}{text}{PDI}" if text else text


def para(text: str) -> str:
    """*text* laid out in the UI's direction whatever script it starts with.

    Qt picks a label's paragraph direction from its first strong character, so a Persian name in
    the English UI (or "Sara Ahmadi" in the Persian one) would align to the wrong edge; a
    leading direction mark (LRM/RLM) fixes the paragraph direction.
    """
    if not text:
        return text
    return ("\u200f" if _current is not None and _current.rtl else "\u200e") + text


def isolate(text: str) -> str:
    """*text* (a name, a value from outside) as a first-strong isolate inside a sentence."""
    return f"\u2068{text}{PDI}" if text else text


def _mnemonic_at(text: str) -> int | None:
    """Where the mnemonic letter of *text* is (after a single "&"; "&&" is a shown ampersand)."""
    at = 0
    while (at := text.find("&", at)) != -1 and at + 1 < len(text):
        if text[at + 1] == "&":
            at += 2
            continue
        return at + 1 if not text[at + 1].isspace() else None
    return None


def latin_mnemonic(text: str, source: str) -> str:
    """A menu's translated *text* whose mnemonic is a letter a Latin keyboard layout cannot type
    ("&پرونده") gets the English *source*'s letter in parentheses after it, as Windows writes
    the menus of East Asian languages: "پرونده (&F)" — Alt+F opens it on any layout (on a
    Persian one too: Qt also matches a shortcut by the key's Latin letter)."""
    mine, theirs = _mnemonic_at(text), _mnemonic_at(source)
    if mine is None or text[mine].isascii() or theirs is None or not source[theirs].isascii():
        return text
    plain = text[: mine - 1] + text[mine:]
    return f"{plain} (&{source[theirs].upper()})"


def resolve_language(setting: str) -> str:
    """``auto`` → the system language if we have it, else English."""
    if setting in LANGUAGES:
        return setting
    system = QLocale.system().language()
    return "fa" if system == QLocale.Language.Persian else "en"


class Language:
    """Installs the translators of one language on the application and keeps them alive.

    ``apply("fa")`` loads ``callsys_fa.qm`` and Qt's own ``qtbase_fa.qm`` (standard buttons,
    context menus) and flips the layout direction; widgets retranslate themselves on the
    ``LanguageChange`` event that installing a translator sends them.
    """

    def __init__(self, app: QApplication) -> None:
        self._app = app
        self._translators: list[QTranslator] = []
        self.code = "en"
        self.calendar = "gregorian"

    def apply(self, code: str, calendar: str = "gregorian") -> None:
        code = code if code in LANGUAGES else "en"
        for translator in self._translators:
            self._app.removeTranslator(translator)
            translator.deleteLater()  # a child of the app: kept (with its loaded file) otherwise
        self._translators.clear()
        self.code = code
        self.calendar = calendar
        if code != "en":
            ours = QTranslator(self._app)
            if ours.load(f"callsys_{code}", str(TRANSLATIONS_DIR)):
                self._translators.append(ours)
            else:
                log.warning("no translation file callsys_%s.qm in %s", code, TRANSLATIONS_DIR)
            qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
            qtbase = QTranslator(self._app)
            if qtbase.load(f"qtbase_{code}", qt_dir):
                self._translators.append(qtbase)
            for translator in self._translators:
                self._app.installTranslator(translator)
        QLocale.setDefault(QLocale(QLocale.Language.Persian if code == "fa" else QLocale.Language.English))
        self._app.setLayoutDirection(
            Qt.LayoutDirection.RightToLeft if code in _RTL else Qt.LayoutDirection.LeftToRight
        )

    @property
    def rtl(self) -> bool:
        return self.code in _RTL

    def digits(self, text: str) -> str:
        """Digits of dates and durations as the reader expects them (Persian digits in Persian)."""
        return text.translate(_PERSIAN_DIGITS) if self.code == "fa" else text


_current: Language | None = None


def set_current(language: Language) -> None:
    global _current
    _current = language


def current() -> Language | None:
    return _current


def _localize(text: str) -> str:
    return _current.digits(text) if _current is not None else text


def format_time(moment: datetime | None, *, with_date: bool = True) -> str:
    """A timestamp in local time, in the configured calendar."""
    if moment is None:
        return ""
    local = moment.astimezone() if moment.tzinfo is not None else moment
    calendar = _current.calendar if _current is not None else "gregorian"
    if calendar == "jalali":
        import jdatetime

        jal = jdatetime.datetime.fromgregorian(datetime=local.replace(tzinfo=None))
        text = jal.strftime("%Y/%m/%d %H:%M:%S" if with_date else "%H:%M:%S")
    else:
        text = local.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")
    return _localize(text)


def format_duration(seconds: int | float | None) -> str:
    """``0:42`` / ``1:02:03``."""
    if seconds is None:
        return ""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return _localize(text)
