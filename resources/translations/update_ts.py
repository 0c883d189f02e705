"""Refresh the Qt translation sources and compile them.

    .venv/bin/python resources/translations/update_ts.py [--merge FILE.tsv] [--no-compile]

Reads every translatable message from the source (``ui.catalog``), keeps the translations
already in ``callsys_<lang>.ts``, adds new messages as unfinished, drops the ones no longer in
the source, optionally merges translations from a TSV file (``context<TAB>source<TAB>text``,
``\\n`` for a line break), writes the ``.ts`` and compiles it with Qt's ``lrelease`` (Debian
package ``qt6-l10n-tools``) to the ``.qm`` that ships with the app.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from ui.catalog import extract  # noqa: E402

LANGUAGES = {"fa": "fa_IR"}
LRELEASE = ("/usr/lib/qt6/bin/lrelease", "lrelease6", "lrelease")


def read_ts(path: Path) -> dict[tuple[str, str], str]:
    if not path.exists():
        return {}
    found: dict[tuple[str, str], str] = {}
    root = ET.parse(path).getroot()
    for context in root.iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            source = message.findtext("source") or ""
            translation = message.find("translation")
            if (
                translation is not None
                and translation.text
                and translation.get("type") not in ("unfinished", "vanished", "obsolete")
            ):
                found[(name, source)] = translation.text
    return found


def read_tsv(path: Path) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        context, source, text = line.split("\t")
        found[(context, source.replace("\\n", "\n"))] = text.replace("\\n", "\n")
    return found


def write_ts(
    path: Path, language: str, messages: dict[tuple[str, str], str], known: dict[tuple[str, str], str]
) -> int:
    root = ET.Element("TS", version="2.1", language=language, sourcelanguage="en_GB")
    missing = 0
    by_context: dict[str, list[tuple[str, str]]] = {}
    for (context, source), where in messages.items():
        by_context.setdefault(context, []).append((source, where))
    for context in sorted(by_context):
        node = ET.SubElement(root, "context")
        ET.SubElement(node, "name").text = context
        for source, where in sorted(by_context[context]):
            message = ET.SubElement(node, "message")
            file, _, line = where.partition(":")
            ET.SubElement(message, "location", filename="../../" + file, line=line)
            ET.SubElement(message, "source").text = source
            translation = ET.SubElement(message, "translation")
            text = known.get((context, source))
            if text:
                translation.text = text
            else:
                translation.set("type", "unfinished")
                missing += 1
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    path.write_text('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n", encoding="utf-8")
    return missing


def compile_ts(path: Path) -> bool:
    for candidate in LRELEASE:
        tool = shutil.which(candidate) or (candidate if Path(candidate).exists() else None)
        if tool:
            subprocess.run([tool, "-silent", str(path), "-qm", str(path.with_suffix(".qm"))], check=True)
            return True
    print("lrelease not found (Debian: apt-get install qt6-l10n-tools); .qm not rebuilt", file=sys.stderr)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--merge", type=Path, help="TSV file with translations to add")
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args()
    messages = extract()
    for code, language in LANGUAGES.items():
        path = HERE / f"callsys_{code}.ts"
        known = read_ts(path)
        if args.merge:
            known.update(read_tsv(args.merge))
        missing = write_ts(path, language, messages, known)
        print(f"{path.name}: {len(messages)} messages, {missing} without translation")
        if not args.no_compile:
            compile_ts(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
