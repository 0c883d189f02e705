"""SET4: every field of a SIP line in Settings → Phone & lines has a title of its own, so the
Persian UI shows it in Persian — not the option's key made into English words."""

from __future__ import annotations

import re

from ui.i18n import Language
from ui.siplines import field_title, line_fields

PERSIAN = re.compile("[\u0600-\u06ff]")


def test_every_sip_line_field_has_a_persian_title(language: Language) -> None:
    language.apply("fa")
    english = [name for name, _kind, _default in line_fields() if not PERSIAN.search(field_title(name))]
    assert english == []
