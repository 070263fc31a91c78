"""Sealing: shared vectors, rejection cases, rotation, budgets, the two-node web example and the
message hand-off between processes."""

import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from conftest import load_cases
from cosmos_session_token import (
    InvalidArgumentError,
    LimitExceededError,
    ParseError,
    SealError,
    SessionToken,
    SessionTokenError,
    seal,
    unseal,
)
from cosmos_session_token.messaging import SEALED_PROPERTY, TOKEN_PROPERTY, put_token, take_token

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))
CASES = load_cases("seal")
KEY = b"0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vectors(case):
    if case["op"] == "seal":
        key = bytes.fromhex(case["key_hex"])
        sealed = seal(case["token"], key, case["context"])
        assert sealed == case["expect"]
        assert str(unseal(sealed, key, case["context"])) == case["token"]
        return
    keys = [bytes.fromhex(k) for k in case["keys_hex"]]
    if "error" in case:
        with pytest.raises(SessionTokenError) as info:
            unseal(case["sealed"], keys, case["context"])
        assert info.value.kind == case["error"]
    else:
        assert str(unseal(case["sealed"], keys, case["context"])) == case["expect"]


def test_errors_and_options():
    t = SessionToken.parse("0:1#100#1=20")
    with pytest.raises(InvalidArgumentError) as info:
        seal(t, b"short", "c")
    assert info.value.kind == "weak_key" and isinstance(info.value, ValueError)
    with pytest.raises(LimitExceededError) as info:
        seal(t, KEY, "c", max_bytes=20)
    assert info.value.kind == "seal_too_large" and "scope the token" in str(info.value)
    sealed = seal("0:1#100#1=20", KEY, "c")
    assert unseal(sealed, [b"x" * 16, KEY], "c") == t  # rotation
    with pytest.raises(SealError):
        unseal(sealed, [b"x" * 16], "c")
    with pytest.raises(LimitExceededError):
        unseal(sealed, KEY, "c", max_bytes=10)
    with pytest.raises(ParseError):
        seal("0:x", KEY, "c")
    with pytest.raises(TypeError):
        unseal(sealed, "not bytes", "c")


def test_message_properties():
    props = {}
    put_token(props, "0:1#5", key=KEY, context="q")
    assert set(props) == {SEALED_PROPERTY}
    assert str(take_token(props, keys=KEY, context="q")) == "0:1#5"
    assert take_token(props) is None  # no plain token present
    put_token(props, SessionToken.parse("0:1#6"))
    assert set(props) == {TOKEN_PROPERTY} and str(take_token(props)) == "0:1#6"
    assert take_token(props, keys=[KEY]) is None  # a plain token is not trusted when keys are given
    props[SEALED_PROPERTY] = seal("0:1#999", b"attacker-key-0123", "q")
    with pytest.raises(SealError):
        take_token(props, keys=[KEY], context="q")


def test_queue_handoff_between_processes():
    producer = subprocess.run([sys.executable, str(EXAMPLES / "queue_handoff.py"), "producer"],
                              capture_output=True, text=True, check=True, timeout=60)
    assert "cst1." in producer.stdout
    consumer = subprocess.run([sys.executable, str(EXAMPLES / "queue_handoff.py"), "consumer"], input=producer.stdout,
                              capture_output=True, text=True, check=True, timeout=60)
    assert consumer.stdout.strip() == "session_token for range 0: 0:1#100#1=20"


def test_two_web_nodes_share_the_sealed_token(caplog):
    import token_cookie_node as two_node_web

    keys = [b"shared-secret-of-the-web-farm-32b"]
    (a, url_a), (b, url_b) = two_node_web.start_node(keys), two_node_web.start_node(keys)
    try:
        def call(url, cookie, method="GET"):
            req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None,
                                         headers={"Cookie": cookie} if cookie else {})
            with urllib.request.urlopen(req, timeout=5) as resp:
                set_cookie = resp.headers.get("Set-Cookie")
                return resp.read().decode(), set_cookie.split(";", 1)[0] if set_cookie else cookie

        body, cookie = call(url_a + "/write?range=0&lsn=100", "", "POST")
        assert body == "written" and cookie.startswith("cosmos_token=cst2.")
        body, cookie = call(url_a + "/write?range=1&lsn=42", cookie, "POST")
        # B (another node) gets the merged token through the cookie and scopes it per partition.
        assert call(url_b + "/read?range=1", cookie)[0] == "1:1#42"
        assert call(url_b + "/read?range=0", cookie)[0] == "0:1#100"
        assert call(url_b + "/read?range=7", cookie)[0] == "none"
        # The cookie's name before cosmos_token is still read (an upgrade keeps users' tokens).
        legacy = cookie.replace("cosmos_token=", "cosmos_session=", 1)
        assert call(url_b + "/read?range=1", legacy)[0] == "1:1#42"
        # A later write on B merges into the same cookie (never loses A's progress).
        body, cookie = call(url_b + "/write?range=0&lsn=101", cookie, "POST")
        assert call(url_a + "/read?range=0", cookie)[0] == "0:1#101"
        assert call(url_a + "/read?range=1", cookie)[0] == "1:1#42"
        # A forged cookie (huge LSN) is ignored, not trusted.
        forged = "cosmos_token=" + seal("1:1#999999999", b"attacker-key-0123", "demo-user")
        assert call(url_b + "/read?range=1", forged)[0] == "none"
        tampered = cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB")
        with caplog.at_level("WARNING", logger="cosmos_session_token.web"):
            assert call(url_b + "/read?range=1", tampered)[0] == "none"
            # A node with other keys: refused, and the log says why (never the cookie).
            (c, url_c) = two_node_web.start_node([b"another-farm-another-seal-key-32b"])
            try:
                assert call(url_c + "/read?range=1", cookie)[0] == "none"
            finally:
                c.shutdown()
                c.server_close()
        reasons = [r.getMessage() for r in caplog.records if r.name == "cosmos_session_token.web"]
        assert "session token cookie not accepted: forged" in reasons, reasons
        assert "session token cookie not accepted: unknown_key" in reasons, reasons
        assert not any(cookie.split("=", 1)[1][:20] in m for m in reasons)
    finally:
        a.shutdown()
        b.shutdown()
        a.server_close()
        b.server_close()


def test_sealed_in_python_unseals_in_the_cli_and_back(tmp_path):
    """Cross-surface: the `cst` binary (path in CST_BIN, set by scripts/test) and this package."""
    import os

    cst = os.environ.get("CST_BIN")
    if not cst:
        pytest.skip("CST_BIN not set (scripts/test sets it)")
    key_file = tmp_path / "key.bin"
    key_file.write_bytes(KEY)
    sealed = seal("0:1#100#1=20,1:-1#42", KEY, "user-42")
    out = subprocess.run([cst, "unseal", "--key-file", str(key_file), "--context", "user-42", sealed],
                         capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "0:1#100#1=20,1:-1#42"
    out = subprocess.run([cst, "seal", "--key-file", str(key_file), "--context", "user-42", "7:1#5"],
                         capture_output=True, text=True, check=True, timeout=60)
    assert str(unseal(out.stdout.strip(), KEY, "user-42")) == "7:1#5"
