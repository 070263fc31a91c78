import base64
import json
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

VECTORS = Path(__file__).resolve().parents[3] / "testdata" / "vectors"


def load_cases(name: str) -> list[dict]:
    cases = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))["cases"]
    assert cases, f"{name}.json has no cases"
    return cases


ROOT = Path(__file__).resolve().parents[3]
SERVER = ROOT / "testserver" / "server.js"
KEY = base64.b64encode(b"test-key-not-a-secret-0123456789").decode()


def conn(port: int) -> str:
    """A connection string for the test server (which does not check keys)."""
    return f"AccountEndpoint=http://127.0.0.1:{port}/;AccountKey={KEY};"


def _start_server(*args: str):
    """Starts the test server with `args`; yields its global port and each region's (name, port)."""
    assert (SERVER.parent / "node_modules" / "@vercel" / "cosmosdb-server").is_dir(), "run npm ci in testserver"
    proc = subprocess.Popen(["node", str(SERVER), "--port", "0", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        regions = []
        line = proc.stdout.readline()
        while line.startswith("region "):  # one line per region, then the global endpoint
            name, port = line[len("region "):].rsplit(" ", 1)
            regions.append((name, int(port)))
            line = proc.stdout.readline()
        assert line.startswith("listening "), line
        port = int(line.split()[1])
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_shim/stats", timeout=2).read()
                break
            except OSError:
                time.sleep(0.05)
        yield port, regions
    finally:
        proc.kill()  # by PID, whatever happened
        proc.wait()


@pytest.fixture(scope="session")
def server():
    for port, _ in _start_server():
        yield port


@pytest.fixture()
def regions_server():
    """A fresh two-region account: West US (writes) and East US (reads); see testserver/lib/account.js."""
    for port, regions in _start_server("--regions", "West US,East US"):
        yield port, regions
