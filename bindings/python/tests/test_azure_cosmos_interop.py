"""Differential tests against the real azure-cosmos package (its private VectorSessionToken).

Where azure-cosmos is correct, both must agree; where it is not (the differences listed in SECURITY.md and the README's behaviour section),
each test states the expected difference explicitly.
"""

import random

import pytest

from cosmos_session_token import MergeConflictError, Order, SessionToken

vst = pytest.importorskip("azure.cosmos._vector_session_token")
exceptions = pytest.importorskip("azure.cosmos.exceptions")
SdkToken = vst.VectorSessionToken
FP_SWITCH = "AZURE_COSMOS_SESSION_TOKEN_FALSE_PROGRESS_MERGE"


@pytest.fixture(params=["true", "false"])
def fp(request, monkeypatch):
    """Pins azure-cosmos's false-progress switch (read on every merge call)."""
    monkeypatch.setenv(FP_SWITCH, request.param)
    return request.param == "true"


def random_value(rng, regions=None, version=None):
    version = rng.choice([-2, -1, 0, 1, 2, 3]) if version is None else version
    glsn = rng.randrange(0, 10**rng.randrange(1, 12))
    if regions is None:
        regions = rng.sample(range(1, 40), rng.randrange(0, 6))
    parts = [str(version), str(glsn)] + [f"{r}={rng.choice([-1, rng.randrange(0, 10**9)])}" for r in regions]
    return "#".join(parts), regions


def fields(value: str):
    seg = SessionToken.parse("0:" + value).segments[0]
    return seg.version, seg.global_lsn, seg.regions


def sdk_fields(value: str):
    t = SdkToken.create(value)
    assert t is not None, value
    return t.version, t.global_lsn, dict(t.local_lsn_by_region)


def test_parsed_fields_agree_on_generated_tokens():
    rng = random.Random(20261121)
    for _ in range(2000):
        value, _ = random_value(rng)
        assert fields(value) == sdk_fields(value), value


def test_every_rendered_value_is_accepted_by_azure_cosmos():
    rng = random.Random(7)
    for _ in range(500):
        a, _ = random_value(rng)
        b, _ = random_value(rng)
        merged = SessionToken.parse("0:" + a).merge("0:" + b, region_mismatch="union")
        for t in (merged, merged.to_vector()):
            for seg in t.segments:
                rendered = str(seg).split(":", 1)[1]
                assert SdkToken.create(rendered) is not None, rendered


def test_merge_agrees_when_both_are_defined(fp):
    rng = random.Random(99)
    checked = 0
    for _ in range(1500):
        a, regions = random_value(rng)
        same_regions = rng.random() < 0.6
        b, _ = random_value(rng, regions=regions if same_regions else None, version=rng.choice([None, fields(a)[0]]))
        ours_a = SessionToken.parse("0:" + a)
        try:
            ours = ours_a.merge("0:" + b, false_progress_protection=fp)
        except MergeConflictError:
            ours = None
        try:
            theirs = SdkToken.create(a).merge(SdkToken.create(b)).convert_to_string()
        except exceptions.CosmosHttpResponseError:
            theirs = None
        if ours is None or theirs is None:
            # Both refuse the same cases: same version, different region sets.
            assert ours is None and theirs is None, (a, b, ours, theirs)
            continue
        assert ours == SessionToken.parse("0:" + theirs), (a, b, str(ours), theirs)
        checked += 1
    assert checked > 800


@pytest.mark.parametrize(
    "a, b, ours_fp, ours_legacy",
    [
        ("1#100#1=20#2=5", "2#97#1=20#2=5", "2#97#1=20#2=5", "2#100#1=20#2=5"),  # M6
        ("1#200#1=20#2=5#3=30", "2#100#1=10#2=8#3=30", "2#100#1=20#2=8#3=30", "2#200#1=20#2=8#3=30"),  # M7
        ("1#200#1=20#2=5", "2#100#1=10#2=5#3=30", "2#100#1=20#2=5#3=30", "2#200#1=20#2=5#3=30"),  # M9
        ("2#100#1=5", "1#200#1=9", "2#100#1=9", "2#200#1=9"),  # M15
    ],
)
def test_documented_merge_rows_match_azure_cosmos(fp, a, b, ours_fp, ours_legacy):
    expected = ours_fp if fp else ours_legacy
    assert str(SessionToken.parse("0:" + a).merge("0:" + b, false_progress_protection=fp)) == "0:" + expected
    theirs = SdkToken.create(a).merge(SdkToken.create(b)).convert_to_string()
    assert SessionToken.parse("0:" + theirs) == SessionToken.parse("0:" + expected)


def test_difference_union_policy(monkeypatch):
    """azure-cosmos always fails on a region mismatch (M4); we fail by default and unite on request."""
    monkeypatch.setenv(FP_SWITCH, "true")
    a, b = "1#101#1=20#2=5#3=30", "1#100#1=20#2=5#3=30#4=40"
    with pytest.raises(exceptions.CosmosHttpResponseError):
        SdkToken.create(a).merge(SdkToken.create(b))
    with pytest.raises(MergeConflictError):
        SessionToken.parse("0:" + a).merge("0:" + b)
    union = SessionToken.parse("0:" + a).merge("0:" + b, region_mismatch="union")
    assert str(union) == "0:1#101#1=20#2=5#3=30#4=40"


def test_difference_equality_compares_region_sets():
    """V12: azure-cosmos calls 1#100#1=5 and 1#100#2=5 equal; they are not."""
    assert SdkToken.create("1#100#1=5").equals(SdkToken.create("1#100#2=5"))
    a, b = SessionToken.parse("0:1#100#1=5"), SessionToken.parse("0:1#100#2=5")
    assert a != b and a.compare(b) is Order.CONCURRENT


@pytest.mark.parametrize(
    "value",
    ["500", "1#100#", " 1#100", "1_000#5", "\u0661#\u0665", "1#99999999999999999999", "1#100#1=20#1=30", "+1#100"],
)
def test_difference_strict_grammar(value):
    """azure-cosmos parses with int(), so it accepts (or for simple values, rejects) what
    the strict grammar decides otherwise; our strict parser rejects every one of these."""
    sdk = SdkToken.create(value)
    if value == "500":
        assert sdk is None  # no simple-token support; we accept simple values
        assert str(SessionToken.parse("0:" + value)) == "0:500"
        return
    from cosmos_session_token import ParseError

    with pytest.raises(ParseError):
        SessionToken.parse("0:" + value)
    if value in ("1#100#",):
        assert sdk is None
    else:
        assert sdk is not None, value
