"""docs/artefacts.md's table of artefacts agrees with what scripts/package built into target/dist/:
the same file names, each size within 10% (scripts/artefacts.py check; scripts/test runs this in
its python stage, after the package stage). After a change of names or sizes: scripts/package,
then scripts/artefacts.py write."""
import importlib.util
import platform
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DIST = ROOT / "target" / "dist"

# The arm64 leg (scripts/cross test-python) runs this directory under qemu before anything is
# packaged; target/dist/ is built and listed by the x86_64 run.
pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="target/dist/ is checked by the x86_64 python stage")


def load_artefacts():
    spec = importlib.util.spec_from_file_location("artefacts", ROOT / "scripts" / "artefacts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_artefacts_table_matches_target_dist():
    if not DIST.is_dir():
        pytest.fail("scripts/package has not built target/dist (scripts/test runs it first)")
    artefacts = load_artefacts()
    problems = artefacts.differences(DIST, (ROOT / "docs" / "artefacts.md").read_text(encoding="utf-8"))
    assert not problems, "docs/artefacts.md does not match target/dist/ (scripts/package, then scripts/artefacts.py write):\n" + "\n".join(problems)


def test_the_check_sees_a_drifted_name_and_size(tmp_path):
    artefacts = load_artefacts()
    dist = tmp_path / "dist"
    (dist / "c" / "lib").mkdir(parents=True)
    (dist / "c" / "lib" / "libcstoken.so.4").write_bytes(b"\0" * 3_600_000)
    (dist / "c" / "lib" / "libcstoken.so").symlink_to("libcstoken.so.4")
    (dist / "c" / "include").mkdir()
    (dist / "c" / "include" / "cstoken.h").write_text("/* not listed */")
    (dist / "cosmos_session_token-0.1.0.tar.gz").write_bytes(b"\0" * 257_000)
    doc = f"text\n{artefacts.BEGIN}\n{artefacts.table(dist)}{artefacts.END}\nmore\n"
    assert "| `c/lib/libcstoken.so.4` | `c` | 3.6 MB |" in doc and "257 KB" in doc and "cstoken.h" not in doc
    assert artefacts.differences(dist, doc) == []
    # Within the tolerance: a rebuild's few bytes; beyond it: a real change, and a renamed file.
    (dist / "c" / "lib" / "libcstoken.so.4").write_bytes(b"\0" * 3_800_000)
    assert artefacts.differences(dist, doc) == []
    (dist / "c" / "lib" / "libcstoken.so.4").write_bytes(b"\0" * 4_300_000)
    (dist / "cosmos_session_token-0.1.0.tar.gz").rename(dist / "cosmos_session_token-0.2.0.tar.gz")
    problems = artefacts.differences(dist, doc)
    assert any("libcstoken.so.4: docs/artefacts.md says 3.6 MB" in p for p in problems), problems
    assert any(p.startswith("cosmos_session_token-0.1.0.tar.gz: in docs/artefacts.md, not in") for p in problems), problems
    assert any(p.startswith("cosmos_session_token-0.2.0.tar.gz: in target/dist/") for p in problems), problems
    # A new kind of file at the top of target/dist/ needs a row in scripts/artefacts.py.
    (dist / "mystery.bin").write_bytes(b"x")
    assert any(p.startswith("mystery.bin: in target/dist/ but no row") for p in artefacts.differences(dist, doc))
