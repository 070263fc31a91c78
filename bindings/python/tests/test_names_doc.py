"""docs/names.md names each concept per surface: every name in its table must exist in that
surface's sources, so the table cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SOURCES = {
    "Rust": ["core/src", "state/src"],
    "C": ["ffi/include/cstoken.h"],
    "Python": ["bindings/python/python/cosmos_session_token", "bindings/python/src"],
    ".NET": ["bindings/dotnet/src"],
    "JavaScript": ["bindings/js/js/index.d.ts"],
    "CLI": ["cli/src"],
}


def _text(paths: list[str]) -> str:
    out = []
    for p in paths:
        path = ROOT / p
        files = [path] if path.is_file() else sorted(f for f in path.rglob("*") if f.suffix in {".rs", ".py", ".pyi", ".cs", ".h", ".ts"})
        out.extend(f.read_text(encoding="utf-8") for f in files)
    return "\n".join(out)


def _table() -> tuple[list[str], list[list[str]]]:
    lines = [l for l in (ROOT / "docs/names.md").read_text(encoding="utf-8").splitlines() if l.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in l.strip("|").split("|")] for l in lines[2:]]
    return header, rows


def test_every_name_in_the_table_exists_in_its_surface() -> None:
    header, rows = _table()
    assert header[1:] == list(SOURCES), header
    assert len(rows) >= 10
    sources = {surface: _text(paths) for surface, paths in SOURCES.items()}
    missing = []
    for row in rows:
        for surface, cell in zip(header[1:], row[1:]):
            if cell == "-":
                continue
            name = cell.strip("`")
            assert re.fullmatch(r"(--)?[A-Za-z_][A-Za-z0-9_-]*", name), f"{row[0]} / {surface}: {cell}"
            if not re.search(r"(?<![A-Za-z0-9_])" + re.escape(name), sources[surface]):
                missing.append(f"{row[0]} / {surface}: {name}")
    assert not missing, missing


def test_the_error_code_is_called_code_on_every_surface() -> None:
    import cosmos_session_token as cst

    try:
        cst.parse("0:x")
    except cst.SessionTokenError as e:
        assert e.code and e.code == e.kind
    else:
        raise AssertionError("a bad token parsed")
    _, rows = _table()
    codes = next(r for r in rows if r[0].startswith("error code"))
    assert {c.strip("`").lower() for c in codes[1:] if c != "-"} <= {"code", "cst_last_error_get_code"}
