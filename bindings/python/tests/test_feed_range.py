"""latest_for_feed_range: shared vectors (every accepted feed-range form), errors, and azure-cosmos."""

import json

import pytest

from conftest import load_cases
from cosmos_session_token import (
    ParseError,
    SessionToken,
    SessionTokenError,
    explain_latest_for_feed_range,
    latest_for_feed_range,
)

CASES = load_cases("feed_range")


def as_dict(r: str) -> dict:
    lo, hi = r.split("-", 1)
    return {"Range": {"min": lo, "max": hi, "isMinInclusive": True, "isMaxInclusive": False}}


FORMS = {
    "text": lambda r: r,
    "dict": as_dict,
    "json": lambda r: json.dumps({"Range": {"min": r.split("-", 1)[0], "max": r.split("-", 1)[1]}}),
    "tuple": lambda r: tuple(r.split("-", 1)),
}


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vectors(case, form):
    conv = FORMS[form]
    pairs = [(conv(r), t) for r, t in case["pairs"]]
    target = conv(case["target"])
    if case.get("error") == "no_overlapping_feed_range":
        # A missing result is a return value, never an exception.
        assert latest_for_feed_range(pairs, target) is None
        return
    if "error" in case:
        with pytest.raises(SessionTokenError) as info:
            latest_for_feed_range(pairs, target)
        assert getattr(info.value, "kind", None) == case["error"]
        return
    assert str(latest_for_feed_range(pairs, target)) == case["expect"]
    assert str(latest_for_feed_range(list(reversed(pairs)), target)) == case["expect"]


def test_explanation_and_token_objects():
    token, lines = explain_latest_for_feed_range(
        [("AA-DD", SessionToken.parse("0:1#51#3=52")), ("AA-BB", "1:1#55#3=52"), ("BB-DD", "2:1#54#3=52")], "AA-DD"
    )
    assert str(token) == "1:1#55#3=52,2:1#54#3=52"
    assert lines[0].startswith("pair 0 [AA,DD) 0:1#51#3=52: dropped: sub-ranges in pairs 1, 2 cover it")
    assert lines[1] == "pair 1 [AA,BB) 1:1#55#3=52: kept"


def test_bad_inputs():
    with pytest.raises(SessionTokenError) as info:
        latest_for_feed_range([("aa-BB", "0:1")], "AA-BB")
    assert info.value.kind == "invalid_feed_range" and "pair 0" in str(info.value)
    with pytest.raises(SessionTokenError):
        latest_for_feed_range([({"Range": {"min": "AA", "max": "BB", "isMaxInclusive": True}}, "0:1")], "AA-BB")
    with pytest.raises(ParseError) as perr:
        latest_for_feed_range([("AA-BB", "missing")], "AA-BB")
    assert perr.value.kind == "missing_colon" and str(perr.value).startswith("pair 0: ")
    with pytest.raises(TypeError):
        latest_for_feed_range([(42, "0:1")], "AA-BB")
    with pytest.raises(ValueError, match="length 2"):
        latest_for_feed_range([("AA-BB",)], "AA-BB")
    assert latest_for_feed_range([], "AA-BB") is None
    assert explain_latest_for_feed_range([("AA-BB", "0:1")], "CC-DD") is None


def test_ten_thousand_pairs():
    # 5,000 leaf ranges split from 2,500 parents split from one root, plus a duplicate of every leaf.
    pairs = [(("", "FF"), "0:1#1")]
    bounds = [f"{i:04X}" for i in range(0, 0x10000, 0x10000 // 5000)][:5000] + ["FF"]
    bounds[0] = ""
    for i in range(0, 5000, 2):
        pairs.append(((bounds[i], bounds[i + 2] if i + 2 < len(bounds) else "FF"), f"{i // 2 + 1}:1#2"))
    for i in range(5000):
        leaf = (bounds[i], bounds[i + 1])
        pairs.append((leaf, f"{10000 + i}:1#3"))
        pairs.append((leaf, f"{10000 + i}:1#4"))
    assert len(pairs) >= 10000
    token = latest_for_feed_range(pairs, ("", "FF"))
    assert len(token) == 5000
    assert token.get("10000").global_lsn == 4


# ---- azure-cosmos's get_latest_session_token, on the cases it gets right
helpers = pytest.importorskip("azure.cosmos._session_token_helpers")
RIGHT_IN_AZURE_COSMOS = ["F1", "F2", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11", "F12", "F13", "F14", "F19", "F22"]
WRONG_IN_AZURE_COSMOS = ["F3", "F17", "F18"]  # order-dependent, operator-precedence gap bug, version-unaware


def sdk_latest(case):
    pairs = [(as_dict(r), t) for r, t in case["pairs"]]
    return helpers.get_latest_session_token(pairs, as_dict(case["target"]))


@pytest.mark.parametrize("cid", RIGHT_IN_AZURE_COSMOS)
def test_matches_azure_cosmos_where_it_is_right(cid, monkeypatch):
    monkeypatch.setenv("AZURE_COSMOS_SESSION_TOKEN_FALSE_PROGRESS_MERGE", "true")
    case = next(c for c in CASES if c["id"] == cid)
    ours = latest_for_feed_range([(r, t) for r, t in case["pairs"]], case["target"])
    assert ours == SessionToken.parse(sdk_latest(case)), cid


@pytest.mark.parametrize("cid", WRONG_IN_AZURE_COSMOS)
def test_differs_from_azure_cosmos_where_it_is_wrong(cid, monkeypatch):
    monkeypatch.setenv("AZURE_COSMOS_SESSION_TOKEN_FALSE_PROGRESS_MERGE", "true")
    case = next(c for c in CASES if c["id"] == cid)
    ours = latest_for_feed_range([(r, t) for r, t in case["pairs"]], case["target"])
    assert str(ours) == case["expect"]
    assert SessionToken.parse(sdk_latest(case)) != ours, cid
