"""README and docs/ snippets are tests: every fenced ``python`` block runs (with a small prelude that stands
in for the reader's own objects: an azure-cosmos container, a Flask app, keys), a line whose
comment is a Python literal (``expr  # 'value'``) must evaluate to it, every ``console`` block's
``$ cst …`` commands print exactly what the block shows, the ``c`` fragment compiles and links
against the packaged C library, and the quick start's explain matches its ``text`` block. (The
``rust`` blocks are doctests of the core crate; ``csharp`` blocks are compiled by
``test_csharp_blocks_compile`` with Mono's ``mcs``.)"""

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
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


# A fence: ```lang [info]\n body ```. The info after the language (e.g. "fragment") must be
# allowed, or a fence with one is not an opening and every later fence of the page pairs wrongly.
FENCE = re.compile(r"```(\w*)([^\n]*)\n(.*?)```", re.S)


def fences(path):
    """(language, info, body, "page:line") of every fenced block of a page."""
    text = path.read_text(encoding="utf-8")
    name = str(path.relative_to(ROOT))
    return [(m.group(1), m.group(2), m.group(3), f"{name}:{text[: m.start()].count(chr(10)) + 1}") for m in FENCE.finditer(text)]


def blocks_of(path):
    return [(lang, body, line) for lang, _, body, line in fences(path)]


BLOCKS = [b for page in PAGES for b in blocks_of(page)]
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


# A block marked ``python own-server`` needs a server started its own way (test_testserver_docs.py runs it).
PYTHON = [(body, line) for page in PAGES for lang, info, body, line in fences(page) if lang == "python" and "own-server" not in info]


@pytest.mark.parametrize("body,line", PYTHON, ids=[line for _, line in PYTHON])
def test_python_blocks_run(server, body, line):
    ns = prelude(server)
    exec(compile(body, line, "exec"), ns)
    checked = 0
    for text in body.splitlines():
        found = literal_comment(text)
        if found and not text.lstrip().startswith(("#", "from ", "import ")) and "=" not in found[0].split("(")[0]:
            expr, expected = found
            assert eval(expr, ns) == expected, f"{line}: {expr} != {expected!r}"
            checked += 1
    assert body.strip()


CONSOLE = [(body, line) for lang, body, line in BLOCKS if lang == "console"]


@pytest.mark.parametrize("body,line", CONSOLE, ids=[line for _, line in CONSOLE])
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
            assert got == expected, f"{line}: {command}"
    finally:
        shutil.rmtree(bindir)


C_BLOCKS = [(body, line) for lang, body, line in BLOCKS if lang == "c"]


@pytest.mark.parametrize("body,line", C_BLOCKS, ids=[line for _, line in C_BLOCKS])
def test_c_fragments_compile_and_link_against_the_package(tmp_path, body, line):
    prefix = ROOT / "target" / "dist" / "c"
    if not (prefix / "lib" / "pkgconfig" / "cstoken.pc").exists():
        pytest.fail("scripts/package has not built target/dist/c (scripts/test runs it first)")
    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    if "int main(" in body:
        # A complete program: built with the command its first comment shows, run, and its output
        # compared with the "prints …" comment.
        build = re.search(r"^\s*(cc .*)$", body, re.M).group(1)
        (tmp_path / "merge.c").write_text(body)
        ran = subprocess.run(["bash", "-c", build], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, f"{line}: {ran.stderr}"
        assert ran.stdout.strip() == re.search(r"/\* prints (.*?) \*/", body).group(1), ran.stdout
        return
    includes = [t for t in body.splitlines() if t.startswith("#include")]
    rest = [t for t in body.splitlines() if not t.startswith("#include")]
    source = "\n".join(
        includes
        + ["#include <string.h>", "int main(void) {", 'const char *a = "0:1#5", *b = "0:1#6", *s = a; size_t len = strlen(s);']
        + rest
        + ["return 0; }"]
    )
    (tmp_path / "fragment.c").write_text(source)
    cflags = subprocess.run(["pkg-config", "--cflags", "--libs", "cstoken"], env=env, capture_output=True, text=True, check=True).stdout.split()
    out = subprocess.run(["gcc", "-std=c11", "-Wall", "-Wno-unused-variable", str(tmp_path / "fragment.c"), *cflags, "-o", str(tmp_path / "fragment")], capture_output=True, text=True)
    assert out.returncode == 0, f"{line}: {out.stderr}"
    run = subprocess.run([str(tmp_path / "fragment")], env=dict(os.environ, LD_LIBRARY_PATH=str(prefix / "lib")))
    assert run.returncode == 0


def test_docs_name_the_abi_the_header_declares():
    abi = re.search(r"#define CST_ABI_VERSION (\d+)", (ROOT / "ffi" / "include" / "cstoken.h").read_text()).group(1)
    assert f"(now {abi})" in (ROOT / "docs" / "c.md").read_text(encoding="utf-8")
    assert f"libcstoken.so.{abi}" in README


def test_quick_start_output():
    start = README.index("## Quick start")
    text_block = next(b for lang, b, l in blocks_of(ROOT / "README.md") if lang == "text" and README.index(b) > start)
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


# ```csharp blocks compile against the wrapper as pasted (inside a Main); ```csharp fragment
# blocks name the reader's own objects (an SDK client, a request) and are only shown.
CSHARP = [
    (body, line) for page in PAGES for lang, info, body, line in fences(page) if lang == "csharp" and "fragment" not in info
]


@pytest.mark.parametrize("body,line", CSHARP, ids=[line for _, line in CSHARP])
def test_csharp_blocks_compile(tmp_path, body, line):
    wrapper = ROOT / "bindings" / "dotnet" / "build" / "CosmosSessionToken.dll"
    if not wrapper.exists():
        pytest.fail("the .NET wrapper is not built (scripts/package or scripts/test dotnet builds it)")
    usings = [t for t in body.splitlines() if t.startswith("using ")]
    rest = [t for t in body.splitlines() if not t.startswith("using ")]
    source = "\n".join(["using System;"] + usings + ["static class Snippet { static void Main() {"] + rest + ["} }"])
    (tmp_path / "snippet.cs").write_text(source)
    out = subprocess.run(["mcs", "-langversion:7.2", f"-r:{wrapper}", "-out:" + str(tmp_path / "snippet.exe"), str(tmp_path / "snippet.cs")],
                         capture_output=True, text=True)
    assert out.returncode == 0, f"{line}: {out.stdout}{out.stderr}"


def test_every_snippet_language_is_known():
    """Blocks run (python, console, c, rust, csharp) or are shown output and configuration (text,
    the quick start's sh, xml): a block in another language would be a snippet no test looks at."""
    known = {"python", "console", "c", "rust", "csharp", "text", "sh", "xml", "js"}
    for lang, _, line in BLOCKS:
        assert lang in known, f"{line}: a ```{lang} block no test runs"
