"""The ctypes structures of ``providers.tapi.structs`` have the Windows SDK's x64 layout.

Every size and every field offset is written out as a C ``_Static_assert`` and compiled twice:
against the fake's ``tapi_layout.h`` (which carries its own asserts, written down from tapi.h),
and — the real evidence — against MinGW-w64's ``tapi.h`` with the x86-64 Windows cross compiler
(``x86_64-w64-mingw32-gcc``, Debian's ``gcc-mingw-w64-x86-64-win32``; scripts/setup installs it).
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest

from providers.tapi import structs
from tests.tapi.fake import HERE

MINGW = shutil.which("x86_64-w64-mingw32-gcc")


def asserts(wrong: str = "") -> str:
    lines = []
    for kind in structs.STRUCTURES:
        name = kind.__name__
        size = ctypes.sizeof(kind) + (1 if name == wrong else 0)
        lines.append(f'_Static_assert(sizeof({name}) == {size}, "size of {name}");')
        for field, *_ in kind._fields_:
            offset = getattr(kind, field).offset
            lines.append(f'_Static_assert(offsetof({name}, {field}) == {offset}, "{name}.{field}");')
    return "\n".join(lines) + "\n"


def compile_check(compiler: str, header: str, body: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "layout.c"
    source.write_text(f"{header}\n#include <stddef.h>\n{body}")
    return subprocess.run(
        [compiler, "-fsyntax-only", "-I", str(HERE), str(source)], capture_output=True, text=True, check=False
    )


def test_the_fake_has_the_layout_the_provider_reads(tmp_path: Path) -> None:
    gcc = shutil.which("gcc")
    assert gcc is not None
    done = compile_check(gcc, '#include "tapi_layout.h"', asserts(), tmp_path)
    assert done.returncode == 0, done.stderr
    broken = compile_check(gcc, '#include "tapi_layout.h"', asserts(wrong="LINECALLINFO"), tmp_path)
    assert broken.returncode != 0 and "size of LINECALLINFO" in broken.stderr  # the check can fail


@pytest.mark.skipif(MINGW is None, reason="x86_64-w64-mingw32-gcc is not installed (scripts/setup --test)")
def test_the_provider_has_the_layout_of_the_windows_sdk(tmp_path: Path) -> None:
    assert MINGW is not None
    header = "#include <windows.h>\n#include <tapi.h>"
    done = compile_check(MINGW, header, asserts(), tmp_path)
    assert done.returncode == 0, done.stderr
    broken = compile_check(MINGW, header, asserts(wrong="LINEINITIALIZEEXPARAMS"), tmp_path)
    assert "size of LINEINITIALIZEEXPARAMS" in broken.stderr
    assert ctypes.sizeof(structs.LINEINITIALIZEEXPARAMS) == 28  # pack(1): 32 with natural alignment
