"""Which keys a provider's options table knows, and the warning for every key it does not.

``phone.options`` is one free-form table handed to the chosen provider. A key the provider does
not read (a typo such as ``auto_answr``, or ``speed`` left over from the simulator after a switch
to the softphone) used to be ignored without a sign. Each provider now declares its keys next to
its parser (``OPTION_KEYS``) and registers them with ``ProviderRegistry.register(options=…)``;
``ProviderRegistry.option_warnings`` turns the unknown ones into sentences such as::

    phone.options.auto_answr is not an option of the embedded softphone — did you mean auto_answer?

They are *warnings*, like ``Settings.warnings`` for unknown settings: the key is kept in the file
and ignored, and the phone still starts — the desktop shows them in its banner, the command line
on stderr, the Settings dialog under the options field.

A schema maps each known key to ``None`` (a value) or to the schema of a nested table; a nested
schema also applies to every table in a list (``lines = [{…}, {…}]`` → ``lines[0].user``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

__all__ = ["OptionKeys", "Schema"]

Schema = Mapping[str, Union["Schema", None]]


@dataclass(frozen=True, slots=True)
class OptionKeys:
    """The keys of one provider's options. *owner* names the provider in a sentence
    ("the embedded softphone")."""

    owner: str
    keys: Schema

    def knows(self, key: str) -> bool:
        return key in self.keys

    def unknown(
        self,
        options: Mapping[str, Any],
        where: str = "phone.options",
        elsewhere: Mapping[str, str] | None = None,
    ) -> list[str]:
        """A warning for every key of *options* (nested tables and lists of tables included)
        that this provider does not read, with the key's full path under *where*. *elsewhere*
        names the other providers a top-level key belongs to (a leftover after a switch)."""
        return list(self._walk(options, self.keys, where, elsewhere or {}))

    def _walk(
        self, data: Mapping[str, Any], schema: Schema, where: str, elsewhere: Mapping[str, str]
    ) -> list[str]:
        out: list[str] = []
        for key, value in data.items():
            path = f"{where}.{key}"
            if key not in schema:
                out.append(self._sentence(path, str(key), schema, elsewhere.get(key, "")))
                continue
            inner = schema[key]
            if inner is None:
                continue
            if isinstance(value, Mapping):
                out.extend(self._walk(value, inner, path, {}))
            elif isinstance(value, Sequence) and not isinstance(value, str):
                for index, item in enumerate(value):
                    if isinstance(item, Mapping):
                        out.extend(self._walk(item, inner, f"{path}[{index}]", {}))
        return out

    def _sentence(self, path: str, key: str, schema: Schema, owner: str) -> str:
        text = f"{path} is not an option of {self.owner}"
        guess = suggest(key, schema)
        if guess:
            return f"{text} — did you mean {guess}?"
        if owner:
            return f"{text} but of {owner}; it is ignored."
        return f"{text}; it is ignored."


def suggest(key: str, known: Mapping[str, Any] | Sequence[str]) -> str:
    """The known key *key* most likely stands for ("" when none is close)."""
    names = list(known)
    by_case = {name.lower(): name for name in names}
    if key.lower() in by_case:
        return by_case[key.lower()]
    close = difflib.get_close_matches(key.lower(), names, n=1, cutoff=0.75)
    return close[0] if close else ""
