"""README snippets are tests: every fenced ``python`` block runs (with a small prelude that stands
in for the reader's own objects: an azure-cosmos container, a Flask app, keys), a line whose
comment is a Python literal (``expr  # 'value'``) must evaluate to it, every ``console`` block's
``$ cst …`` commands print exactly what the block shows, the ``c`` fragment compiles and links
against the packaged C library, and the quick start's explain matches its ``text`` block."""

import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT, conn

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = [(m.group(1), m.group(2), README[: m.start()].count("\n") + 1) for m in re.finditer(r"```(\w*)\n(.*?)```", README, re.S)]
CST = os.environ.get("CST_BIN") or str(ROOT / "target" / "debug" / "cst")


class FakeClientConnection:
    last_response_headers = {"x-ms-session-token": "0:1#57"}


class FakeContainer:
    """Stands in for an azure-cosmos ContainerProxy in the snippets."""

    client_connection = FakeClientConnection()

    def upsert_item(self, item):
        return item

    def read_item(self, item_id, partition_key, session_token=None):
        assert session_token, "the snippet passes a session token"
        return {"id": item_id}

    def feed_range_from_partition_key(self, pk):
        return {"Range": {"min": "", "max": "FF"}}


def prelude(server_port):
    from flask import Flask

    from cosmos_session_token import SessionToken

    os.environ["COSMOS_CONNECTION_STRING"] = conn(server_port)
    return {
        "os": os,
        "container": FakeContainer(),
        "item": {"id": "item-1"},
        "item_id": "item-1",
        "pk": "pk-1",
        "carried": None,
        "rid": "rid1",
        "headers": {"x-ms-session-token": "0:1#5"},
        "status": 200,
        "sub_status": 0,
        "pk_range_id": "0",
        "parent_ids": [],
        "observed": [("pk-1", "0:1#5")],
        "target_feed_range": "-FF",
        "token": SessionToken.parse("0:1#100#1=20"),
        "key": b"0123456789abcdef0123456789abcdef",
        "new_key": b"0123456789abcdef0123456789abcdef",
        "old_key": b"an-older-key-still-valid",
        "user_id": "user-42",
        "conn_str": conn(server_port),
        "sid": "readme-session",
        "new_bytes": b"cart=3",
        "app": Flask("readme"),
    }


def literal_comment(line):
    """(expression, expected) for `expr   # <python literal> ...`, else None."""
    code, sep, comment = line.partition("#  ")
    if not sep:
        m = re.match(r"^(.*?\S)\s{2,}#\s*(.*)$", line)
        if not m:
            return None
        code, comment = m.group(1), m.group(2)
    comment = comment.strip()
    for end in range(len(comment), 0, -1):
        head = comment[:end]
        if head[:1] in "'[{\"" or head.split(" ")[0] in ("True", "False", "None"):
            try:
                return code.strip(), ast.literal_eval(head)
            except (ValueError, SyntaxError):
                continue
    return None


PYTHON = [(body, line) for lang, body, line in BLOCKS if lang == "python"]


@pytest.mark.parametrize("body,line", PYTHON, ids=[f"README.md:{line}" for _, line in PYTHON])
def test_python_blocks_run(server, body, line):
    ns = prelude(server)
    exec(compile(body, f"README.md:{line}", "exec"), ns)
    checked = 0
    for text in body.splitlines():
        found = literal_comment(text)
        if found and not text.lstrip().startswith(("#", "from ", "import ")) and "=" not in found[0].split("(")[0]:
            expr, expected = found
            assert eval(expr, ns) == expected, f"README.md:{line}: {expr} != {expected!r}"
            checked += 1
    assert body.strip()


CONSOLE = [(body, line) for lang, body, line in BLOCKS if lang == "console"]


@pytest.mark.parametrize("body,line", CONSOLE, ids=[f"README.md:{line}" for _, line in CONSOLE])
def test_console_blocks_print_what_they_show(body, line):
    bindir = tempfile.mkdtemp()
    os.symlink(CST, os.path.join(bindir, "cst"))
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"])
    commands = []
    for text in body.splitlines():
        if text.startswith("$ "):
            commands.append([text[2:], []])
        elif commands and text.strip():
            commands[-1][1].append(text)
    assert commands
    try:
        for command, expected in commands:
            out = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60)
            got = (out.stdout + out.stderr).splitlines()
            assert got == expected, f"README.md:{line}: {command}"
    finally:
        shutil.rmtree(bindir)


def test_c_fragment_compiles_and_links_against_the_package(tmp_path):
    prefix = ROOT / "target" / "dist" / "c"
    if not (prefix / "lib" / "pkgconfig" / "cstoken.pc").exists():
        pytest.fail("scripts/package has not built target/dist/c (scripts/test runs it first)")
    (body, line) = next((b, l) for lang, b, l in BLOCKS if lang == "c")
    includes = [t for t in body.splitlines() if t.startswith("#include")]
    rest = [t for t in body.splitlines() if not t.startswith("#include")]
    source = "\n".join(
        includes
        + ["#include <string.h>", "int main(void) {", 'const char *a = "0:1#5", *b = "0:1#6", *s = a; size_t len = strlen(s);']
        + rest
        + ["return 0; }"]
    )
    (tmp_path / "fragment.c").write_text(source)
    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    cflags = subprocess.run(["pkg-config", "--cflags", "--libs", "cstoken"], env=env, capture_output=True, text=True, check=True).stdout.split()
    out = subprocess.run(["gcc", "-std=c11", "-Wall", "-Wno-unused-variable", str(tmp_path / "fragment.c"), *cflags, "-o", str(tmp_path / "fragment")], capture_output=True, text=True)
    assert out.returncode == 0, f"README.md:{line}: {out.stderr}"
    run = subprocess.run([str(tmp_path / "fragment")], env=dict(os.environ, LD_LIBRARY_PATH=str(prefix / "lib")))
    assert run.returncode == 0


def test_quick_start_output():
    start = README.index("## Quick start")
    text_block = next(b for lang, b, l in BLOCKS if lang == "text" and README.index(b) > start)
    out = subprocess.run([CST, "explain", "0:1#100#1=20,1:-1#42"], capture_output=True, text=True, check=True)
    assert out.stdout == text_block


def test_literal_comments_are_checked():
    checks = [
        found
        for body, _ in PYTHON
        for text in body.splitlines()
        if (found := literal_comment(text)) and not text.lstrip().startswith(("#", "from ", "import "))
        and "=" not in found[0].split("(")[0]
    ]
    assert len(checks) >= 8, checks
