"""docs/testing-session-consistency.md: its example runs as pasted against the server started as the page
says (scripts/cosmos-test-server with the page's arguments, in a directory of its own, stopped whatever happens),
and prints what its comments say."""
import os
import re
import subprocess
import sys

from conftest import ROOT

PAGE = ROOT / "docs" / "testing-session-consistency.md"


def test_the_session_consistency_example_runs_as_pasted(tmp_path):
    text = PAGE.read_text(encoding="utf-8")
    start = re.search(r"^(scripts/cosmos-test-server start [^\n]*)$", text, re.M).group(1)
    example = re.search(r"```python own-server\n(.*?)```", text, re.S).group(1)
    env = dict(os.environ, COSMOS_TEST_SERVER_DIR=str(tmp_path / "server"))
    try:
        out = subprocess.run(["bash", "-c", start], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True).stdout
        lines = out.strip().splitlines()
        assert lines[-1].startswith("AccountEndpoint=http://127.0.0.1:"), out
        assert any(line.startswith("region East US: http://127.0.0.1:") for line in lines[:-1]), out
        env["COSMOS_CONNECTION_STRING"] = lines[-1]
        ran = subprocess.run([sys.executable, "-c", example], env=env, capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.splitlines() == ["not found: East US has not caught up and no token was presented", "30", "1"], ran.stdout
    finally:
        subprocess.run(["scripts/cosmos-test-server", "stop"], cwd=ROOT, env=env, timeout=60)
