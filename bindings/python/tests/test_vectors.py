"""Every case of testdata/vectors/*.json, through the Python API."""

import pytest
import cosmos_session_token as cst

from conftest import load_cases
from cosmos_session_token import (
    MergeConflictError,
    Order,
    ParseError,
    SessionToken,
    convert,
    merge,
)


def ids(cases):
    return [c["id"] for c in cases]


def segment_dict(seg):
    return {
        "range_id": seg.range_id,
        "format": seg.format,
        "version": seg.version,
        "global_lsn": seg.global_lsn,
        "regions": [{"id": k, "lsn": v} for k, v in seg.regions.items()],
    }


PARSE = load_cases("parse")


@pytest.mark.parametrize("case", PARSE, ids=ids(PARSE))
def test_parse(case):
    lenient = case["mode"] == "lenient"
    if "error" in case:
        with pytest.raises(ParseError) as info:
            SessionToken.parse(case["input"], lenient=lenient)
        err = info.value
        assert err.kind == case["error"]["kind"], str(err)
        assert err.segment == case["error"]["segment"], str(err)
        assert err.offset == case["error"]["offset"], str(err)
        with pytest.raises(ParseError) as module_info:
            cst.parse(case["input"], lenient=lenient)
        assert str(module_info.value) == str(err)
        return
    assert str(cst.parse(case["input"], lenient=lenient)) == case["render"]
    token, warnings = (
        SessionToken.parse_lenient(case["input"])
        if lenient
        else (SessionToken.parse(case["input"]), [])
    )
    assert str(token) == case["render"]
    assert token.encoded_len == len(case["render"].encode())
    assert [w.code for w in warnings] == case.get("warnings", [])
    if "ok" in case:
        assert [segment_dict(s) for s in token.segments] == case["ok"]["segments"]


CONVERT = load_cases("convert")


@pytest.mark.parametrize("case", CONVERT, ids=ids(CONVERT))
def test_convert(case):
    assert convert(case["input"], case["to"]) == case["expect"]
    token = SessionToken.parse(case["input"])
    method = token.to_simple if case["to"] == "simple" else token.to_vector
    assert str(method()) == case["expect"]


MERGE = load_cases("merge")


def policy_kwargs(case):
    policy = case.get("policy") or {}
    return {
        "region_mismatch": policy.get("region_mismatch", "error"),
        "false_progress_protection": policy.get("false_progress_protection", True),
    }


@pytest.mark.parametrize("case", MERGE, ids=ids(MERGE))
def test_merge(case):
    kwargs = policy_kwargs(case)
    if "error" in case:
        assert case["error"] == "region_mismatch"
        with pytest.raises(MergeConflictError):
            merge(*case["inputs"], **kwargs)
        return
    assert str(merge(*case["inputs"], **kwargs)) == case["expect"]
    acc = SessionToken.parse(case["inputs"][0])
    for other in case["inputs"][1:]:
        acc = acc.merge(other, **kwargs)
    assert str(acc) == case["expect"]


COMPARE = load_cases("compare")
WORDS = {"less": Order.LESS, "equal": Order.EQUAL, "greater": Order.GREATER, "concurrent": Order.CONCURRENT}
MIRROR = {"less": "greater", "greater": "less", "equal": "equal", "concurrent": "concurrent"}


@pytest.mark.parametrize("case", COMPARE, ids=ids(COMPARE))
def test_compare(case):
    a, b = SessionToken.parse(case["a"]), SessionToken.parse(case["b"])
    assert a.compare(b) == WORDS[case["expect"]]
    assert b.compare(case["a"]) == WORDS[MIRROR[case["expect"]]]
    assert (a == b) == (case["expect"] == "equal")
    if a == b:
        assert hash(a) == hash(b)
    if "explain" in case:
        order, a_lacks, b_lacks = a.compare_explained(b)
        assert order == WORDS[case["expect"]]
        lines = [f"A lacks {lack['text']}" for lack in a_lacks] + [f"B lacks {lack['text']}" for lack in b_lacks]
        assert lines == case["explain"]
        # have/need are exact Python ints (no i64 wrap-around on the way).
        for lack in a_lacks + b_lacks:
            if "have" in lack and lack["have"] is not None:
                assert lack["have"] < lack["need"] or lack["kind"] == "version"


SCOPE = load_cases("scope")


@pytest.mark.parametrize("case", SCOPE, ids=ids(SCOPE))
def test_scope(case):
    token = SessionToken.parse(case["token"])
    if "error" in case:
        with pytest.raises(MergeConflictError):
            token.scope(case["range_id"], case["parents"])
        return
    result = token.scope(case["range_id"], tuple(case["parents"]))
    assert (None if result is None else str(result)) == case["expect"]


@pytest.mark.parametrize("case", load_cases("web"), ids=lambda c: c["id"])
def test_web(case):
    import cosmos_session_token as cst

    op = case["op"]
    if op == "cookie_keys":
        secrets = [bytes.fromhex(h) for h in case["secrets_hex"]]
        if "error" in case:
            with pytest.raises(cst.SessionTokenError) as e:
                cst.derive_cookie_keys(secrets)
            assert e.value.kind == case["error"]
        else:
            assert [k.hex() for k in cst.derive_cookie_keys(secrets)] == case["expect_hex"]
    elif op == "cookie_context":
        assert cst.token_cookie_context(case["framework"], case["app"], case["sid"]) == case["expect"]
    elif op == "cookie_header":
        got = cst.token_cookie_header(case["name"], case["value"], max_age=case["max_age"], secure=case["secure"])
        assert got == case["expect"]
    elif op == "fingerprint":
        assert cst.session_fingerprint(case["sid"]) == case["expect"]
    else:
        raise AssertionError(f"unknown op {op}")
