"""The two-node ASP.NET farm once more, against a two-region account (testserver/lib/account.js):
the provider is configured with preferredRegions="East US, West US" at Session consistency, the
read region lags the write region, and the token cookie carries the session's token between the
nodes. Reads go to East US first, answer 404/1002 while it lags, and still see every write."""

import json
import urllib.request
from pathlib import Path

import pytest
import requests

import test_farm

ROOT = Path(__file__).resolve().parents[4]
RUN = ROOT / "target" / "session-farm-regions-tests"


def farm(command):
    return test_farm.farm(command, SESSION_FARM_DIR=RUN, SESSION_FARM_TIMEOUT=60, SESSION_FARM_REGIONS="West US,East US",
                          SESSION_FARM_PREFERRED_REGIONS="East US, West US", SESSION_FARM_CONSISTENCY="Session")


def shim(path, body=None):
    port = (RUN / "cosmos.port").read_text().strip()
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST" if data else "GET",
                                 headers={"content-type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=10).read())


@pytest.fixture(scope="module")
def base():
    url = farm("start")
    try:
        yield url
    finally:
        farm("stop")  # by PID, whatever happened


def get(s, url):
    text = test_farm.get(s, url)
    # The token cookie is Secure; this farm speaks plain HTTP on loopback, where a browser would
    # still send it (localhost is a secure context) but requests would not.
    for c in s.cookies:
        c.secure = False
    return text


def test_a_farm_with_preferred_regions_reads_its_writes_through_a_lagging_region(base):
    shim("/_shim/regions", {"lag_ms": 300})
    before = shim("/_shim/stats")
    s = requests.Session()
    s.headers["Connection"] = "close"
    for n in range(1, 7):
        assert get(s, f"{base}/counter.axd") == str(n)
        # A read-only request right after the write, on the other node (round robin): its read goes
        # to East US first, which has not reached the write's token yet.
        assert get(s, f"{base}/peek.axd") == str(n)
    after = shim("/_shim/stats")
    east = after["by_region"].get("East US", 0) - before["by_region"].get("East US", 0)
    assert east > 0, after
    assert after["read_session_unavailable"] > before["read_session_unavailable"], after
    assert after["write_forbidden"] == before["write_forbidden"] == 0, after
