"""The Cosmos DB store with regions and Entra ID, from Python, against the test server's account
model (testserver/lib/account.js): preferred regions and 404/1002, stats(), the azure-core
credential protocol (credential=), and errors that never carry a token or a secret."""

import json
import time
import urllib.request

import pytest

from cosmos_session_token import StateStoreError
from cosmos_session_token.state import SessionStateStore

from conftest import conn


def shim(port: int, path: str, body: dict) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"}, method="POST")
    return json.loads(urllib.request.urlopen(req, timeout=10).read())


def write(store: SessionStateStore, sid: str, data: bytes) -> None:
    ex = store.get_exclusive(sid)
    assert not ex.locked
    store.set_and_release(sid, data, ex.lock_id, new_item=ex.data is None)


def test_token_flow_reads_every_write_through_a_lagging_preferred_region(regions_server):
    port, regions = regions_server
    assert [name for name, _ in regions] == ["West US", "East US"]
    shim(port, "/_shim/regions", {"lag_ms": 150})
    kw = dict(database="pyregions", consistency="Session", preferred_regions=["East US", "West US"])
    writer, reader = SessionStateStore(conn(port), **kw), SessionStateStore(conn(port), **kw)
    seen = 0
    for i in range(100):
        write(writer, "s", f"n={i}".encode())
        reader.present_token("s", writer.token("s"))
        seen += reader.get("s") == f"n={i}".encode()
    assert seen == 100
    stats = reader.stats()
    assert stats["read_session_unavailable"] > 0 and stats["requests"] > 100, stats
    assert set(stats) >= {"retries", "throttled", "write_forbidden", "region_failovers", "transient", "unauthorized",
                          "account_reads", "containers_created", "request_charge", "lock_waits", "lock_takeovers",
                          "fence_failures"}


def test_a_token_no_region_reached_raises_store_unavailable_never_none(regions_server):
    port, _ = regions_server
    s = SessionStateStore(conn(port), database="pyahead", consistency="Session", preferred_regions="East US, West US")
    write(s, "s", b"v")
    from cosmos_session_token import SessionToken
    s.present_token("s", SessionToken.parse("0:1#999999"))
    start = time.monotonic()
    with pytest.raises(StateStoreError) as info:
        s.get("s")
    assert info.value.kind == "store_unavailable" and time.monotonic() - start < 5
    assert "East US" in str(info.value) and "West US" in str(info.value)


def test_preferred_regions_must_be_text():
    with pytest.raises(Exception) as info:
        SessionStateStore("AccountEndpoint=http://127.0.0.1:9/;AccountKey=eA==;", preferred_regions=[1, 2])
    assert getattr(info.value, "kind", None) == "invalid_option"
    with pytest.raises(Exception) as info:
        SessionStateStore("AccountEndpoint=http://127.0.0.1:9/;AccountKey=eA==;", authentication="Password")
    assert getattr(info.value, "kind", None) == "invalid_option"


class ShimCredential:
    """An azure-core style credential: get_token(*scopes) -> AccessToken(token, expires_on)."""

    def __init__(self, port: int, seconds: float):
        self.port, self.seconds, self.calls, self.scopes, self.issued = port, seconds, 0, [], []

    def get_token(self, *scopes: str):
        from azure.core.credentials import AccessToken
        self.calls += 1
        self.scopes.extend(scopes)
        token = shim(self.port, "/_shim/auth", {"issue": self.seconds})["token"]
        self.issued.append(token)
        return AccessToken(token, int(time.time() + self.seconds))


class Broken:
    def get_token(self, *scopes: str):
        raise RuntimeError("client secret s3cr3t-4711 was refused")


def test_entra_only_account_with_an_azure_core_credential(server):
    pytest.importorskip("azure.core.credentials")
    admin = SessionStateStore(conn(server), database="pyentra")
    write(admin, "setup", b"x")  # the container exists (an administrator created it)
    shim(server, "/_shim/auth", {"mode": "entra"})
    try:
        endpoint_only = f"AccountEndpoint=http://127.0.0.1:{server}/;"
        cred = ShimCredential(server, 3600)
        s = SessionStateStore(endpoint_only, database="pyentra", credential=cred)
        write(s, "e", b"signed in")
        assert s.get("e") == b"signed in"
        assert cred.scopes and all(scope.endswith("/.default") for scope in cred.scopes)
        shim(server, "/_shim/auth", {"revoke_all": True})
        write(s, "e", b"after revocation")
        assert s.stats()["unauthorized"] == 1 and cred.calls == 2
        with pytest.raises(StateStoreError) as info:
            admin.get("e")
        assert info.value.kind == "store_rejected" and "Entra ID" in str(info.value)
        broken = SessionStateStore(endpoint_only, database="pyentra", credential=Broken())
        with pytest.raises(StateStoreError) as info:
            broken.get("e")
        assert info.value.kind == "store_rejected" and "4711" not in str(info.value)
        for token in cred.issued:
            assert token not in str(info.value)
    finally:
        shim(server, "/_shim/auth", {"mode": "key"})


def test_every_request_is_logged_and_retries_say_why(regions_server, caplog):
    port, _ = regions_server
    kw = dict(database="pylog", consistency="Session", preferred_regions=["East US"])
    writer, reader = SessionStateStore(conn(port), **kw), SessionStateStore(conn(port), **kw)
    write(writer, "s", b"v1")
    shim(port, "/_shim/regions", {"lag_ms": -1})
    write(writer, "s", b"v2")
    reader.present_token("s", writer.token("s"))
    with caplog.at_level("DEBUG", logger="cosmos_session_token.state"):
        assert reader.get("s") == b"v2"
    records = [r for r in caplog.records if r.name == "cosmos_session_token.state"]
    retried = [r.getMessage() for r in records if r.levelname == "INFO"]
    assert len(retried) == 3 and all("region=East US" in m and "retry=read_session_unavailable" in m for m in retried), retried
    last = records[-1].getMessage()
    assert records[-1].levelname == "DEBUG" and "region=West US" in last and "status=200" in last, last
    assert reader.stats()["read_session_unavailable"] == 3
