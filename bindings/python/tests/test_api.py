"""The API surface: construction, dunder methods, exceptions, pickling, threads."""

import pickle
from concurrent.futures import ThreadPoolExecutor

import pytest

import cosmos_session_token as cst
from cosmos_session_token import (
    HEADER,
    MergeConflictError,
    Order,
    LimitExceededError,
    ParseError,
    ParseWarning,
    Segment,
    SessionToken,
    SessionTokenError,
)

TOKEN = "0:1#100#1=20#2=-1,1:-1#42"


def test_exports_and_constants():
    assert HEADER == "x-ms-session-token"
    assert cst.__version__ == "0.1.0"
    assert set(cst.__all__) >= {"SessionToken", "Order", "merge", "convert", "ParseError"}


def test_str_repr_len_contains_get():
    t = SessionToken.parse(TOKEN)
    assert str(t) == TOKEN
    assert repr(t) == f"SessionToken('{TOKEN}')"
    assert len(t) == 2
    assert "1" in t and "7" not in t
    seg = t.get("0")
    assert isinstance(seg, Segment)
    assert (seg.range_id, seg.format, seg.version, seg.global_lsn) == ("0", "vector", 1, 100)
    assert seg.regions == {1: 20, 2: -1}
    assert str(seg) == "0:1#100#1=20#2=-1" and repr(seg) == "Segment('0:1#100#1=20#2=-1')"
    assert t.get("9") is None
    simple = SessionToken.parse("3:45").segments[0]
    assert (simple.format, simple.version, simple.regions) == ("simple", None, {})


def test_equality_and_hash_are_semantic():
    a = SessionToken.parse("0:1#100#1=5#2=6,1:7")
    b = SessionToken.parse("1:7,0:1#100#2=6#1=5")
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1
    assert SessionToken.parse("0:1#100#1=5") != SessionToken.parse("0:1#100#2=5")  # SDK bug V12
    assert SessionToken.parse("0:5") == SessionToken.parse("0:-2#5")
    assert a != str(a)  # a str is not a token
    assert a.get("1") == b.get("1") and hash(a.get("1")) == hash(b.get("1"))


def test_pickle_round_trip_including_lenient_only_tokens():
    for t in [SessionToken.parse(TOKEN), SessionToken.parse("0:1#-5", lenient=True)]:
        back = pickle.loads(pickle.dumps(t))
        assert back == t and str(back) == str(t)


def test_parse_error_attributes():
    with pytest.raises(ParseError) as info:
        SessionToken.parse("0:1#5,17:1#x1")
    e = info.value
    assert str(e) == 'segment 1 (range "17"): global LSN "x1" is not a decimal number (byte 11)'
    assert (e.kind, e.segment, e.range_id, e.offset) == ("not_a_number", 1, "17", 11)
    assert isinstance(e, SessionTokenError) and isinstance(e, ValueError)
    with pytest.raises(ParseError) as info:
        SessionToken.parse("")
    assert (info.value.kind, info.value.segment, info.value.range_id) == ("empty", None, None)
    with pytest.raises(LimitExceededError) as info:
        SessionToken.parse("0:1#" + "1" * (1 << 20))
    assert (info.value.kind, info.value.category) == ("input_too_large", "limit_exceeded")
    assert e.category == "malformed"


def test_lenient():
    t, warnings = SessionToken.parse_lenient(" 0:1#007#,,1:5")
    assert str(t) == "0:1#7,1:5"
    assert len(warnings) == 4 and all(isinstance(w, ParseWarning) for w in warnings)
    assert [w.code for w in warnings] == ["trimmed_whitespace", "leading_zero", "trailing_separator", "dropped_empty_segment"]
    assert "leading zeros" in str(warnings[1]) and warnings[1].text == "007" and warnings[1].segment == 0
    assert warnings[1].offset == 5 and "leading_zero" in repr(warnings[1])
    assert SessionToken.parse(" 0:1#007#", lenient=True) == SessionToken.parse("0:1#7")
    with pytest.raises(ParseError):
        SessionToken.parse(" 0:1#007#")


def test_convert_methods_and_function():
    t = SessionToken.parse(TOKEN)
    assert str(t.to_simple()) == "0:100,1:42"
    assert str(SessionToken.parse("7:8").to_vector()) == "7:-2#8"
    assert cst.convert("7:8,6:2008", "vector") == "7:-2#8,6:-2#2008"
    with pytest.raises(ValueError):
        cst.convert("7:8", "binary")
    with pytest.raises(ParseError):
        cst.convert("7:x", "simple")


def test_merge_policies_and_arguments():
    a = SessionToken.parse("0:1#101#1=20")
    with pytest.raises(MergeConflictError) as info:
        a.merge("0:1#100#4=20")
    assert info.value.range_id == "0" and isinstance(info.value, SessionTokenError)
    assert str(a.merge("0:1#100#4=20", region_mismatch="union")) == "0:1#101#1=20#4=20"
    b = SessionToken.parse("0:1#100#1=20#2=5")
    assert str(b.merge("0:2#97#1=20#2=5")) == "0:2#97#1=20#2=5"
    assert str(b.merge("0:2#97#1=20#2=5", false_progress_protection=False)) == "0:2#100#1=20#2=5"
    with pytest.raises(ValueError):
        a.merge(a, region_mismatch="maybe")
    with pytest.raises(ParseError):
        a.merge("not a token")
    with pytest.raises(TypeError, match="expected a SessionToken or str, not int"):
        a.merge(42)
    with pytest.raises(TypeError, match="not bytes"):
        cst.merge(a, b"0:1#5")
    with pytest.raises(TypeError):
        a.merge(a, "union")  # keyword-only


def test_module_parse_is_the_classmethod():
    assert cst.parse("0:1#5#1=2") == SessionToken.parse("0:1#5#1=2")
    assert str(cst.parse("0:1#5 ", lenient=True)) == "0:1#5"
    with pytest.raises(ParseError):
        cst.parse("0:1#5 ")
    with pytest.raises(TypeError):
        cst.parse("0:1#5", True)  # lenient is keyword-only


def test_module_merge_many_tokens_in_one_pass():
    tokens = [f"{i % 50}:1#{i}" for i in range(1000)]
    merged = cst.merge(*tokens, SessionToken.parse("7:1#5000"))
    assert len(merged) == 50
    assert merged.get("7").global_lsn == 5000
    assert merged.get("49").global_lsn == 999
    with pytest.raises(SessionTokenError):
        cst.merge()


def test_compare_order_and_is_at_least_as_new_as():
    a = SessionToken.parse("0:1#100#1=20")
    assert a.compare("0:2#97#1=20") is Order.LESS
    assert a.compare(a) == Order.EQUAL
    assert SessionToken.parse("0:2#97#1=20").is_at_least_as_new_as(a)
    assert not a.is_at_least_as_new_as("0:2#97#1=20")
    assert a.compare("0:1#100#2=5") == Order.CONCURRENT
    assert len({Order.LESS, Order.LESS, Order.GREATER}) == 2
    assert int(Order.LESS) == 0 and int(Order.CONCURRENT) == 3


def test_scope():
    t = SessionToken.parse("0:1#100#1=199#2=300,1:1#99#1=200#2=299")
    assert str(t.scope("2", ["0", "1"])) == "2:1#100#1=200#2=300"
    assert str(t.scope("1")) == "1:1#99#1=200#2=299"
    assert t.scope("9", ("8",)) is None
    with pytest.raises(TypeError):
        t.scope("2", "01")  # a str is not a sequence of parents here


def test_tokens_are_shared_safely_between_threads():
    shared = SessionToken.parse("0:1#100#1=20,1:-1#42")
    newer = SessionToken.parse("0:1#101#1=20")

    def work(i):
        m = shared.merge(newer)
        assert m.compare(shared) is Order.GREATER
        assert str(shared) == "0:1#100#1=20,1:-1#42"
        return str(m.merge(f"{i}:1#{i}" if i > 1 else "9:1#1"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(400)))
    assert results[5] == "0:1#101#1=20,1:-1#42,5:1#5"
    assert len(set(results)) == 399  # i = 0 and 1 both add 9:1#1


def test_segments_are_a_lazy_read_only_sequence() -> None:
    from collections.abc import Sequence

    from cosmos_session_token import Segment, Segments

    t = SessionToken.parse("0:1#5#1=2,1:7,2:-1#9")
    segs = t.segments
    assert isinstance(segs, Segments) and isinstance(segs, Sequence)
    assert len(segs) == 3
    assert segs[0].range_id == "0" and segs[-1].range_id == "2"
    assert [s.range_id for s in segs] == ["0", "1", "2"]
    assert [s.range_id for s in segs[1:]] == ["1", "2"]
    assert [s.range_id for s in segs[::-2]] == ["2", "0"]
    assert segs[5:] == []
    assert segs == list(segs) and segs == t.segments and list(segs) == [t.get("0"), t.get("1"), t.get("2")]
    assert segs != [t.get("0")] and segs != 3
    assert isinstance(segs[1], Segment) and segs[1].global_lsn == 7
    for bad in (3, -4):
        with pytest.raises(IndexError, match="out of range for 3 segments"):
            segs[bad]
    with pytest.raises(TypeError):
        segs["0"]  # type: ignore[call-overload]
    it = iter(segs)
    assert next(it).range_id == "0" and len(list(it)) == 2 and next(it, None) is None
    assert "1" in t and repr(segs).startswith("Segments([Segment('0:1#5#1=2')")
    # Lazy: a large token's length and one item come without building every Segment.
    big = SessionToken.parse(",".join(f"{i}:1#{i}" for i in range(5000)))
    assert len(big.segments) == 5000 and big.segments[4999].global_lsn == 4999
