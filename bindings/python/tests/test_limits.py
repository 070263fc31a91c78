"""Every input limit, hit through the Python surface, gives a clear typed error."""

import pytest

from cosmos_session_token import (
    LimitExceededError,
    ParseError,
    SealError,
    SessionContainer,
    SessionToken,
    SessionTokenError,
    latest_for_feed_range,
    seal,
    unseal,
)

KEY = b"0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "text, kind",
    [
        ("0:" + "1" * (1 << 20), "input_too_large"),
        (",".join(f"{i}:1" for i in range(70_000)), "too_many_segments"),
        ("0:1#5" + "".join(f"#{i}=1" for i in range(1, 258)), "too_many_regions"),
        ("a" * 257 + ":1", "range_id_too_long"),
    ],
)
def test_token_limits(text, kind):
    with pytest.raises(LimitExceededError) as info:
        SessionToken.parse(text)
    assert info.value.kind == kind
    assert "limit" in str(info.value)


def test_seal_budget_and_oversize_envelope():
    big = SessionToken.parse(",".join(f"{i}:1#{i}#1=5" for i in range(400)))
    with pytest.raises(LimitExceededError) as info:
        seal(big, KEY)
    assert info.value.kind == "seal_too_large"
    with pytest.raises(LimitExceededError) as info:
        unseal("cst1." + "A" * 5000 + ".x", KEY)
    assert info.value.kind == "seal_too_large"


def test_deeply_nested_json_is_refused_cleanly():
    deep = "[" * 10_000 + "]" * 10_000
    with pytest.raises(SessionTokenError) as info:
        SessionContainer.restore(deep)
    assert info.value.kind == "invalid_snapshot"
    deep_range = '{"Range":' * 500 + "}" * 500
    with pytest.raises(SessionTokenError) as info:
        latest_for_feed_range([(deep_range, "0:1")], "-FF")
    assert info.value.kind == "invalid_feed_range"
    with pytest.raises(SessionTokenError) as info:
        latest_for_feed_range([("AA-" + "B" * 70_000, "0:1")], "-FF")
    assert info.value.kind == "invalid_feed_range"
