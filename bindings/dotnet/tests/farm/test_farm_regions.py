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
RUN = test_farm.RUN.parent / (test_farm.RUN.name.replace("session-farm-tests", "session-farm-regions-tests")
                              if "session-farm-tests" in test_farm.RUN.name else test_farm.RUN.name + "-regions")


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
def base(regions_farm):
    return regions_farm  # started once (conftest.py), shared with test_farm_flow.py


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
        test_farm.expect(get(s, f"{base}/counter.axd"), str(n), f"write {n}")
        # A read-only request right after the write, on the other node (round robin): its read goes
        # to East US first, which has not reached the write's token yet.
        test_farm.expect(get(s, f"{base}/peek.axd"), str(n), f"the read after write {n}, through the lagging region")
    after = shim("/_shim/stats")
    east = after["by_region"].get("East US", 0) - before["by_region"].get("East US", 0)
    assert east > 0, f"reads went to East US: {after}"
    assert after["read_session_unavailable"] > before["read_session_unavailable"], f"East US answered 1002: before {before}, after {after}"
    assert after["write_forbidden"] == before["write_forbidden"] == 0, f"no write went to a read region: before {before}, after {after}"
