"""FlowCookieModule in the two-node farm (the two-region account of test_farm_regions.py): each
user's SessionFlow carried in the sealed cosmos_flow cookie between two fastcgi-mono-server4 nodes
behind nginx round robin. flow.axd (samples/SessionFarm/FlowPages.cs) writes and reads the user's
items through one HttpClient(new SessionFlowHandler(new HttpClientHandler())) per node, with
requests shaped like the SDKs' (gateway mode); reads go to East US, which lags 10 minutes and
serves stale data (404) to a read without a token. Many users, interleaved write-then-read
requests: 0 stale reads; the controls (no flow, or the browser not returning the cookie) are stale."""

import base64
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from test_farm_regions import RUN, shim

USERS = [f"user-{n:02}" for n in range(16)]


def rest(path, body):
    """A request to the test server (it checks no signature), shaped like the SDKs' metadata writes."""
    port = (RUN / "cosmos.port").read_text().strip()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", "x-ms-version": "2020-07-15"})
    try:
        return urllib.request.urlopen(req, timeout=10).status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture(scope="module")
def lagging(regions_farm):
    """The container flowfarm/items (4 ranges), and East US lagging 10 minutes in stale mode; the
    account's settings are restored for test_farm_regions.py afterwards."""
    shim("/_shim/partitions", {"db": "flowfarm", "coll": "items", "partitions": 4})
    assert rest("dbs", {"id": "flowfarm"}) in (201, 409)
    assert rest("dbs/flowfarm/colls", {"id": "items", "partitionKey": {"paths": ["/pk"], "kind": "Hash", "version": 2}}) in (201, 409)
    shim("/_shim/regions", {"lag_ms": 600000, "stale": True})
    try:
        yield regions_farm
    finally:
        shim("/_shim/regions", {"lag_ms": 0, "stale": False})


class Browser:
    """One user: a cookie jar (session id, the provider's token cookie, the flow cookie)."""

    def __init__(self, base, user):
        self.base, self.user, self.write_ranges = base, user, set()
        self.s = requests.Session()
        self.s.headers["Connection"] = "close"
        # A session of its own first (the counter page writes it, so its id stays): the flow cookie's binding.
        self.get("counter.axd")

    def get(self, path):
        r = self.s.get(f"{self.base}/{path}", timeout=60)
        assert r.status_code == 200, f"{path}: {r.status_code} {r.text[-3000:]}"
        # The provider's token cookie is Secure; this farm speaks plain HTTP on loopback (see test_farm_regions.get).
        for c in self.s.cookies:
            c.secure = False
        return r

    def call(self, op, i, extra=""):
        return self.get(f"flow.axd?op={op}&u={self.user}&i={i}{extra}").json()

    @property
    def cookie(self):
        return self.s.cookies.get("cosmos_flow")

    def write_then_read(self, i, extra=""):
        w = self.call("write", i, extra)
        assert w["status"] in (200, 201), w
        if extra != "&flow=off":
            self.write_ranges |= {seg.split(":")[0] for seg in w["token"].split(",")}
        r = self.call("read", i, extra)
        return {"crossed": w["node"] != r["node"], "stale": r["value"] != i, "current": w["current"] and r["current"]}


def tally(results):
    return {"reads": len(results), "crossed": sum(r["crossed"] for r in results), "stale": sum(r["stale"] for r in results),
            "crossed_stale": sum(r["crossed"] and r["stale"] for r in results), "current": sum(r["current"] for r in results)}


def cookie_ranges(cookie):
    """The ranges a flow cookie carries (the payload is signed, not encrypted: the test reads it)."""
    payload = cookie.split(".")[3]
    progress = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return {seg.split(":")[0] for c in progress["collections"] for seg in c["token"].split(",")}


def node_stats(base):
    """Both nodes' counters (nginx alternates between them): FlowCookies.Stats and NodeStats by field name."""
    seen = {}
    for _ in range(10):
        got = requests.get(f"{base}/flow.axd?op=stats", headers={"Connection": "close"}, timeout=30).json()
        seen[got["node"]] = got
        if len(seen) == 2:
            return list(seen.values())
    raise AssertionError(f"stats from one node only: {seen}")


def test_flow_cookie_module_reads_every_users_writes_across_the_nodes(lagging):
    base = lagging
    # The control without a flow (a plain HttpClient): the read region's lag is real.
    control = tally([Browser(base, f"plain-{n}").write_then_read(0, "&flow=off") for n in range(6)])
    assert control["stale"] == control["reads"] and control["crossed"] >= 3, control

    browsers = [Browser(base, u) for u in USERS]
    # Sequential rounds (nginx alternates: reads land on the other node), then every user at once
    # (interleaved write-then-read requests of 8 users at a time).
    sequential = tally([b.write_then_read(i) for i in (1, 2) for b in browsers])
    with ThreadPoolExecutor(8) as pool:
        concurrent = tally([r for rs in pool.map(lambda b: [b.write_then_read(i) for i in (3, 4, 5)], browsers) for r in rs])
    print("control", control, "sequential", sequential, "concurrent", concurrent)
    for t in (sequential, concurrent):
        assert t["stale"] == 0 and t["current"] == t["reads"], t
    assert sequential["crossed"] >= sequential["reads"] // 2, sequential
    assert concurrent["crossed"] >= 10, concurrent

    # Each cookie carries only its user's progress: the ranges of that user's own writes.
    for b in browsers:
        assert b.cookie and cookie_ranges(b.cookie) == b.write_ranges, (b.user, b.write_ranges)

    # The cookie is what carries it: a browser that does not send it back reads stale on the other node.
    dropping = Browser(base, "dropping")
    dropped = []
    for i in range(1, 5):
        w = dropping.call("write", i)
        assert dropping.cookie, "the write set the flow cookie"
        dropping.s.cookies.set("cosmos_flow", None)
        r = dropping.call("read", i)
        dropped.append({"crossed": w["node"] != r["node"], "stale": r["value"] != i, "current": r["current"]})
    dropped = tally(dropped)
    assert dropped["crossed"] >= 2 and dropped["crossed_stale"] == dropped["crossed"], dropped

    # A handler that flushes: the cookie goes out with the headers (PreSendRequestHeaders).
    flusher = browsers[2]
    r = flusher.get(f"flow.axd?op=write&u={flusher.user}&i=6&flush=1")
    header = next(h for h in r.raw.headers.getlist("Set-Cookie") if h.startswith("cosmos_flow="))
    assert "; Path=/" in header and "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header, header
    assert flusher.call("read", 6)["value"] == 6

    # Another user's cookie and a forged one: no progress, never an error; counted, and traced by verdict only.
    alice, bob = browsers[0], browsers[1]
    before = node_stats(base)
    mallory = requests.Session()
    mallory.cookies.set("ASP.NET_SessionId", bob.s.cookies.get("ASP.NET_SessionId"))
    mallory.cookies.set("cosmos_flow", alice.cookie)
    forger = requests.Session()
    forger.cookies.set("ASP.NET_SessionId", alice.s.cookies.get("ASP.NET_SessionId"))
    parts = alice.cookie.split(".")
    parts[3] = base64.urlsafe_b64encode(b'{"format":"x"}').decode().rstrip("=")
    forger.cookies.set("cosmos_flow", ".".join(parts))
    for s, who in ((mallory, bob), (forger, alice)):
        for _ in range(2):  # once on each node
            got = s.get(f"{base}/flow.axd?op=read&u={who.user}&i=1", headers={"Connection": "close"}, timeout=60)
            assert got.status_code == 200, got.text
    after = node_stats(base)
    total = lambda stats, key: sum(n["cookies"][key] for n in stats)  # noqa: E731
    assert total(after, "ForeignContext") - total(before, "ForeignContext") == 2, (before, after)
    assert total(after, "Forged") - total(before, "Forged") == 2, (before, after)
    assert total(after, "Accepted") > 0 and total(after, "Sealed") > 0, after
    assert all(n["flow"]["Scoped"] > 0 and n["flow"]["SteppedAside"] == 0 for n in after), after
    trace = (RUN / "flow-trace.log").read_text()
    assert "flow cookie not accepted: foreign_context" in trace and "flow cookie not accepted: forged" in trace, trace[-2000:]
    assert "written at PreSendRequestHeaders" in trace and "written at EndRequest" in trace, trace[-2000:]
    assert "cst2." not in trace and alice.cookie not in trace, "the trace never holds a cookie"
