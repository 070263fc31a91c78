using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using CosmosSessionToken;
using NUnit.Framework;

[TestFixture]
public class ApiTests
{
    const string Token = "0:1#100#1=20#2=-1,1:-1#42";

    [Test]
    public static void ParseAndRender()
    {
        var t = SessionToken.Parse(Token);
        Assert.AreEqual(Token, t.ToString());
        Assert.AreEqual(2, t.Segments.Count);
        var s = t.Segments[0];
        Assert.AreEqual("0", s.RangeId);
        Assert.AreEqual(SessionTokenFormat.Vector, s.Format);
        Assert.AreEqual((long?)1, s.Version);
        Assert.AreEqual(100L, s.GlobalLsn);
        Assert.AreEqual(2, s.Regions.Count);
        Assert.AreEqual(new RegionProgress(2, -1), s.Regions[1]);
        Assert.IsTrue(s.Regions[1].IsNoProgress);
        Assert.AreEqual("0:1#100#1=20#2=-1", s.ToString());
        var simple = SessionToken.Parse("3:45").Segments[0];
        Assert.AreEqual(SessionTokenFormat.Simple, simple.Format);
        Assert.AreEqual((long?)null, simple.Version);
        Assert.AreEqual("3:45", simple.ToString());
        Assert.IsTrue(SessionToken.NativeVersion.StartsWith("cosmos-session-token "), SessionToken.NativeVersion);
    }

    [Test]
    public static void ParseErrorsNameSegmentFieldAndOffset()
    {
        var e = Assert.Catch<SessionTokenFormatException>(() => SessionToken.Parse("0:1#5,17:1#x1"));
        Assert.AreEqual("segment 1 (range \"17\"): global LSN \"x1\" is not a decimal number (byte 11)", e.Message);
        Assert.AreEqual("not_a_number", e.Kind);
        Assert.AreEqual((int?)1, e.Segment);
        Assert.AreEqual((long?)11, e.Offset);
        Assert.IsTrue(e is CosmosSessionTokenException);
        var empty = Assert.Catch<SessionTokenFormatException>(() => SessionToken.Parse(""));
        Assert.AreEqual("empty", empty.Kind);
        Assert.AreEqual((int?)null, empty.Segment);
        var big = Assert.Catch<SessionTokenLimitException>(() => SessionToken.Parse("0:1#" + new string('1', 1 << 20)));
        Assert.AreEqual("input_too_large", big.Kind);
        Assert.Catch<ArgumentNullException>(() => SessionToken.Parse(null));
        Assert.Catch<ArgumentException>(() => SessionToken.Parse("0:\ud800"));
        // Offsets count UTF-8 bytes.
        var utf8 = Assert.Catch<SessionTokenFormatException>(() => SessionToken.Parse("\u00e9:1#x"));
        Assert.AreEqual((long?)5, utf8.Offset);
    }

    [Test]
    public static void TryParse()
    {
        SessionToken t;
        Assert.IsTrue(SessionToken.TryParse("0:1#5", out t) && t.ToString() == "0:1#5");
        Assert.IsTrue(!SessionToken.TryParse("0:1#x", out t) && t == null);
        Assert.IsTrue(!SessionToken.TryParse(null, out t));
        Assert.IsTrue(!SessionToken.TryParse(" 0:1#5", out t), "TryParse is strict");
    }

    [Test]
    public static void Lenient()
    {
        Assert.AreEqual("0:1#7,1:5", SessionToken.Parse(" 0:1#007#,,1:5", lenient: true).ToString());
        Assert.Catch<SessionTokenFormatException>(() => SessionToken.Parse(" 0:1#007#,,1:5"));
    }

    [Test]
    public static void Convert()
    {
        Assert.AreEqual("0:100,1:42", SessionToken.Parse(Token).ToSimple().ToString());
        Assert.AreEqual("7:-2#8,6:-2#2008", SessionToken.Parse("7:8,6:2008").ToVector().ToString());
    }

    [Test]
    public static void MergePolicies()
    {
        var a = SessionToken.Parse("0:1#101#1=20");
        var b = SessionToken.Parse("0:1#100#4=20");
        var e = Assert.Catch<SessionTokenMergeException>(() => a.Merge(b));
        Assert.AreEqual("region_mismatch", e.Kind);
        Assert.IsTrue(e is CosmosSessionTokenException && e.Message.Contains("range \"0\""), e.Message);
        Assert.AreEqual("0:1#101#1=20#4=20", a.Merge(b, MergePolicy.UnionRegions).ToString());
        var c = SessionToken.Parse("0:1#100#1=20#2=5");
        var d = SessionToken.Parse("0:2#97#1=20#2=5");
        Assert.AreEqual("0:2#97#1=20#2=5", c.Merge(d).ToString());
        Assert.AreEqual("0:2#100#1=20#2=5", c.Merge(d, MergePolicy.LegacyMaxGlobalLsn).ToString());
        Assert.Catch<ArgumentNullException>(() => c.Merge(null));
    }

    [Test]
    public static void MergeToStringIsTheMergesHeaderValue()
    {
        var a = SessionToken.Parse("0:1#101#1=20");
        var b = SessionToken.Parse("0:1#100#4=20");
        Assert.AreEqual(a.Merge(b, MergePolicy.UnionRegions).ToString(), a.MergeToString(b, MergePolicy.UnionRegions));
        Assert.AreEqual("region_mismatch", Assert.Catch<SessionTokenMergeException>(() => a.MergeToString(b)).Kind);
        Assert.Catch<ArgumentNullException>(() => a.MergeToString(null));
        // Longer than the per-thread buffer (1 KiB): the result comes through a buffer of its own.
        string big = string.Join(",", Enumerable.Range(0, 200).Select(i => i + ":1#" + (1000000 + i) + "#1=5"));
        var t = SessionToken.Parse(big);
        Assert.AreEqual(big, t.MergeToString(t));
        Assert.AreEqual("0:1#101#1=20", a.MergeToString(a)); // and the small buffer again after it
        // Non-ASCII range ids come back intact.
        var u = SessionToken.Parse("é:1#5");
        Assert.AreEqual("é:1#6", u.MergeToString(SessionToken.Parse("é:1#6")));
        var disposed = SessionToken.Parse("0:1#5");
        disposed.Dispose();
        Assert.Catch<ObjectDisposedException>(() => a.MergeToString(disposed));
        Assert.Catch<ObjectDisposedException>(() => disposed.Merge(a));
    }

    [Test]
    public static void DisposingWhileOtherThreadsMergeIsSafe()
    {
        // A token disposed by one thread while others merge with it: each merge either completes
        // (the native token stays alive until the call returns) or throws ObjectDisposedException.
        for (int round = 0; round < 50; round++)
        {
            var shared = SessionToken.Parse("0:1#100#1=20,1:-1#42");
            var other = SessionToken.Parse("0:1#101#1=20");
            int wrong = 0;
            var workers = Enumerable.Range(0, 4).Select(i => new Thread(() =>
            {
                for (int k = 0; k < 200; k++)
                {
                    try
                    {
                        using (var m = other.Merge(shared))
                        {
                            if (m.ToString() != "0:1#101#1=20,1:-1#42") Interlocked.Increment(ref wrong);
                        }
                        if (other.MergeToString(shared) != "0:1#101#1=20,1:-1#42") Interlocked.Increment(ref wrong);
                    }
                    catch (ObjectDisposedException)
                    {
                    }
                }
            })).ToList();
            workers.ForEach(w => w.Start());
            shared.Dispose();
            workers.ForEach(w => w.Join());
            Assert.AreEqual(0, wrong);
        }
    }

    [Test]
    public static void CompareAndEquality()
    {
        var a = SessionToken.Parse("0:1#100#1=20");
        Assert.AreEqual(SessionTokenOrder.Less, SessionToken.Compare(a, SessionToken.Parse("0:2#97#1=20")));
        Assert.AreEqual(SessionTokenOrder.Concurrent, SessionToken.Compare(a, SessionToken.Parse("0:1#100#2=20")));
        Assert.IsTrue(SessionToken.Parse("0:2#97#1=20").IsAtLeastAsNewAs(a));
        Assert.IsTrue(!a.IsAtLeastAsNewAs(SessionToken.Parse("0:2#97#1=20")));
        var x = SessionToken.Parse("0:1#100#1=5#2=6,1:7");
        var y = SessionToken.Parse("1:7,0:1#100#2=6#1=5");
        Assert.IsTrue(x == y && x.Equals((object)y) && !(x != y));
        Assert.AreEqual(x.GetHashCode(), y.GetHashCode());
        Assert.IsTrue(SessionToken.Parse("0:1#100#1=5") != SessionToken.Parse("0:1#100#2=5"), "region sets differ");
        Assert.IsTrue(!x.Equals(null) && !(x == null) && ((SessionToken)null == null));
        var set = new HashSet<SessionToken> { x, y };
        Assert.AreEqual(1, set.Count);
        Assert.Catch<ArgumentNullException>(() => SessionToken.Compare(a, null));
    }

    [Test]
    public static void Scope()
    {
        var t = SessionToken.Parse("0:1#100#1=199#2=300,1:1#99#1=200#2=299");
        Assert.AreEqual("2:1#100#1=200#2=300", t.Scope("2", "0", "1").ToString());
        Assert.AreEqual("1:1#99#1=200#2=299", t.Scope("1").ToString());
        Assert.IsTrue(t.Scope("9", "8") == null);
        Assert.IsTrue(t.Scope("9", null) == null);
        Assert.Catch<SessionTokenMergeException>(() => SessionToken.Parse("0:1#5#1=1,1:1#5#2=2").Scope("2", "0", "1"));
        Assert.Catch<ArgumentNullException>(() => t.Scope(null));
    }

    [Test]
    public static void LatestForFeedRange()
    {
        var pairs = new[]
        {
            new KeyValuePair<string, string>("AA-DD", "0:1#51#3=52"),
            new KeyValuePair<string, string>("{\"Range\":{\"min\":\"AA\",\"max\":\"BB\"}}", "1:1#55#3=52"),
            new KeyValuePair<string, string>("BB-DD", "2:1#54#3=52"),
        };
        Assert.AreEqual("1:1#55#3=52,2:1#54#3=52", SessionToken.LatestForFeedRange(pairs, "AA-DD").ToString());
        Assert.AreEqual("1:1#55#3=52,2:1#54#3=52", SessionToken.LatestForFeedRange(pairs.Reverse(), "AA-DD").ToString());
        // No pair overlaps: a missing result is null, never an exception.
        Assert.IsTrue(SessionToken.LatestForFeedRange(pairs, "DD-EE") == null);
        Assert.AreEqual("invalid_feed_range", Assert.Catch<SessionTokenArgumentException>(() => SessionToken.LatestForFeedRange(pairs, "dd-EE")).Kind);
        var bad = new[] { new KeyValuePair<string, string>("AA-DD", "0:x") };
        Assert.IsTrue(Assert.Catch<SessionTokenFormatException>(() => SessionToken.LatestForFeedRange(bad, "AA-DD")).Message.StartsWith("pair 0: "));
        Assert.Catch<ArgumentNullException>(() => SessionToken.LatestForFeedRange(null, "AA-DD"));
    }

    [Test]
    public static void DisposeThenUseThrows()
    {
        var t = SessionToken.Parse("0:1#5");
        t.Dispose();
        t.Dispose(); // idempotent
        Assert.Catch<ObjectDisposedException>(() => t.ToSimple());
    }

    [Test]
    public static void ConcurrentUseOfOneToken()
    {
        var shared = SessionToken.Parse("0:1#100#1=20,1:-1#42");
        var newer = SessionToken.Parse("0:1#101#1=20");
        var errors = 0;
        var threads = Enumerable.Range(0, 8).Select(i => new Thread(() =>
        {
            for (int k = 0; k < 500; k++)
            {
                var m = shared.Merge(newer);
                if (SessionToken.Compare(m, shared) != SessionTokenOrder.Greater) Interlocked.Increment(ref errors);
                if (shared.ToString() != "0:1#100#1=20,1:-1#42") Interlocked.Increment(ref errors);
                if (shared.Segments.Count != 2) Interlocked.Increment(ref errors);
                try
                {
                    SessionToken.Parse("0:1#" + k + "x");
                    Interlocked.Increment(ref errors);
                }
                catch (SessionTokenFormatException e)
                {
                    // the native last error is per thread: the message is about this thread's input
                    if (!e.Message.Contains("\"" + k + "x\"")) Interlocked.Increment(ref errors);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.AreEqual(0, errors);
    }

    [Test]
    public static void UndisposedTokensAreReleasedByFinalizers()
    {
        Action settle = () =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        };
        Action churn = () =>
        {
            for (int i = 0; i < 100000; i++)
            {
                var t = SessionToken.Parse("0:1#100#1=20#2=5#3=30#4=40,1:-1#" + i);
                t.Merge(t).ToSimple();
            }
        };
        churn();
        settle();
        ulong liveBefore = NativeLiveTokens();
        for (int round = 0; round < 2; round++) churn();
        settle();
        // Each churn round makes 3 native tokens per iteration (parse, merge, convert): 600,000
        // undisposed. The library counts them gone (its test build counts live tokens): exact,
        // and no wrapper-side counter is needed in the released assembly.
        ulong liveAfter = NativeLiveTokens();
        Assert.IsTrue(liveAfter <= liveBefore + 10, "native tokens alive: " + liveBefore + " before, " + liveAfter + " after 600,000 undisposed");
    }

    [System.Runtime.InteropServices.DllImport("cstoken", EntryPoint = "cst_debug_get_live_tokens")]
    private static extern UIntPtr cst_debug_get_live_tokens();

    /// <summary>Native tokens alive (the test build of the library exports the count).</summary>
    private static ulong NativeLiveTokens()
    {
        return cst_debug_get_live_tokens().ToUInt64();
    }
}

[TestFixture]
public class LimitTests
{
    [Test]
    public static void EveryLimitGivesAClearError()
    {
        var cases = new[]
        {
            new[] { "0:" + new string('1', 1 << 20), "input_too_large" },
            new[] { string.Join(",", Enumerable.Range(0, 70000).Select(i => i + ":1")), "too_many_segments" },
            new[] { "0:1#5" + string.Concat(Enumerable.Range(1, 257).Select(i => "#" + i + "=1")), "too_many_regions" },
            new[] { new string('a', 257) + ":1", "range_id_too_long" },
        };
        foreach (var c in cases)
        {
            var e = Assert.Catch<SessionTokenLimitException>(() => SessionToken.Parse(c[0]));
            Assert.AreEqual(c[1], e.Kind);
            Assert.IsTrue(e.Message.Contains("limit"), e.Message);
        }
        string deep = new string('[', 10000) + new string(']', 10000);
        Assert.AreEqual("invalid_snapshot", Assert.Catch<SessionTokenFormatException>(() => SessionContainer.Restore(deep)).Kind);
        var pair = new[] { new KeyValuePair<string, string>(string.Concat(Enumerable.Repeat("{\"Range\":", 500)) + new string('}', 500), "0:1") };
        Assert.Catch<SessionTokenArgumentException>(() => SessionToken.LatestForFeedRange(pair, "-FF"));
        var big = SessionToken.Parse(string.Join(",", Enumerable.Range(0, 400).Select(i => i + ":1#" + i + "#1=5")));
        Assert.AreEqual("seal_too_large", Assert.Catch<SessionTokenLimitException>(() => SessionTokenSeal.Seal(big, Encoding.ASCII.GetBytes("0123456789abcdef"))).Kind);
    }
}

[TestFixture]
public class ErrorTableTests
{
    [Test]
    public static void EveryCodeOfTheLibraryMapsToAnExceptionClass()
    {
        var rows = Native.ErrorCodes();
        Assert.IsTrue(rows.Count >= 40, "rows: " + rows.Count);
        foreach (var row in rows)
        {
            Assert.IsTrue(ErrorTable.ByStatus.ContainsKey(row.Value), row.Key + " has status " + row.Value + " with no exception class");
        }
        Assert.IsTrue(rows.Any(r => r.Key == "not_a_number" && r.Value == NativeMethods.CST_ERR_MALFORMED), "not_a_number");
    }
}

[TestFixture]
public class SealTests
{
    static readonly byte[] Key = Encoding.ASCII.GetBytes("0123456789abcdef0123456789abcdef");
    static readonly byte[] Old = Encoding.ASCII.GetBytes("an-older-key-still-valid");

    [Test]
    public static void SealUnsealRotationAndRejections()
    {
        var t = SessionToken.Parse("0:1#100#1=20");
        string sealedToken = SessionTokenSeal.Seal(t, Key, "user-42");
        Assert.IsTrue(sealedToken.StartsWith("cst1."), sealedToken);
        Assert.AreEqual("0:1#100#1=20", SessionTokenSeal.Unseal(sealedToken, new[] { Old, Key }, "user-42").ToString());
        Assert.AreEqual("bad_signature", Assert.Catch<SessionTokenSealException>(() => SessionTokenSeal.Unseal(sealedToken, new[] { Key }, "user-43")).Kind);
        Assert.Catch<SessionTokenSealException>(() => SessionTokenSeal.Unseal(sealedToken, new[] { Old }, "user-42"));
        Assert.AreEqual("unknown_seal_version", Assert.Catch<SessionTokenSealException>(() => SessionTokenSeal.Unseal("cst2.a.b", new[] { Key })).Kind);
        Assert.AreEqual("weak_key", Assert.Catch<SessionTokenArgumentException>(() => SessionTokenSeal.Seal(t, new byte[8])).Kind);
        Assert.AreEqual("no_keys", Assert.Catch<SessionTokenArgumentException>(() => SessionTokenSeal.Unseal(sealedToken, new byte[0][])).Kind);
        var big = Assert.Catch<SessionTokenLimitException>(() => SessionTokenSeal.Seal(t, Key, "", 20));
        Assert.IsTrue(big.Kind == "seal_too_large" && big.Message.Contains("scope the token"), big.Message);
        SessionToken ignored;
        Assert.IsTrue(!SessionTokenSeal.TryUnseal(sealedToken + "x", new[] { Key }, "user-42", out ignored) && ignored == null);
        Assert.Catch<ArgumentNullException>(() => SessionTokenSeal.Unseal(sealedToken, new byte[][] { null }));
    }

    [Test]
    public static void TheCarriersEarlierNameStillWorks()
    {
#pragma warning disable 618 // SessionTokenCookie is obsolete: this test is about the old name
        using (var old = new SessionTokenCookie(new[] { Key }, "user-42"))
        using (var carrier = new SessionCarrier(new[] { Key }, "user-42"))
        {
            old.Read(null);
            old.Merge("0:1#7");
            Assert.IsTrue(old.Changed);
            Assert.AreEqual(SessionCarrier.DefaultName, SessionTokenCookie.DefaultName);
            carrier.Read(old.CookieValue);
            Assert.AreEqual("0:1#7", carrier.Token.ToString());
            Assert.AreEqual("0:1#7", old.ForRange("0"));
        }
#pragma warning restore 618
    }

    [Test]
    public static void CookieFlowBetweenTwoNodes()
    {
        var keys = new[] { Key };
        // Node A: no cookie yet; a write returns a token; the response sets the cookie.
        var a = new SessionCarrier(keys, "user-42");
        a.Read(null);
        Assert.IsTrue(a.Token == null);
        a.Merge("0:1#100#1=20");
        a.Merge("1:-1#42");
        Assert.IsTrue(a.Changed);
        string cookie = a.CookieValue;
        // Node B: the next request lands elsewhere; it reads the cookie and scopes per partition.
        var b = new SessionCarrier(keys, "user-42");
        b.Read(cookie);
        Assert.AreEqual("1:-1#42", b.ForRange("1"));
        Assert.AreEqual("2:1#100#1=20", b.ForRange("2", "0"));
        Assert.IsTrue(b.ForRange("9") == null && !b.Changed);
        // A forged or foreign cookie counts as no token.
        var c = new SessionCarrier(keys, "user-43");
        c.Read(cookie);
        Assert.IsTrue(c.Token == null);
        c.Read("cst1.garbage");
        Assert.IsTrue(c.Token == null);
        Assert.AreEqual("no_keys", Assert.Catch<SessionTokenArgumentException>(() => new SessionCarrier(new byte[0][], "x")).Kind);
        Assert.AreEqual("weak_key", Assert.Catch<SessionTokenArgumentException>(() => new SessionCarrier(new[] { new byte[3] }, "x")).Kind);
        Assert.AreEqual("cosmos_token", SessionCarrier.DefaultName);
        // Same version, other regions: the carrier's union merge never fails a report; an empty header is no token.
        var d = new SessionCarrier(keys, "user-42");
        d.Merge("0:1#5#1=1");
        d.Merge(SessionToken.Parse("0:1#5#2=1"));
        d.Merge("");
        Assert.AreEqual("0:1#5#1=1#2=1", d.Token.ToString());
        Assert.Catch<SessionTokenFormatException>(() => d.Merge("0:x"));
        var tiny = new SessionCarrier(keys, "user-42", 10);
        tiny.Merge("0:1#5");
        Assert.AreEqual("seal_too_large", Assert.Catch<SessionTokenLimitException>(() => { var v = tiny.CookieValue; }).Kind);
        d.Dispose();
        Assert.Catch<ObjectDisposedException>(() => d.Merge("0:1#6"));
    }
}

[TestFixture]
public class ContainerTests
{
    const string Name = "dbs/db/colls/orders";

    [Test]
    public static void CaptureResolveClear()
    {
        using (var c = new SessionContainer())
        {
            Assert.IsTrue(c.Capture(Name, "rid1", "0:1#100#1=20,1:-1#42", 201, 0));
            Assert.IsTrue(!c.Capture(Name, "rid1", "1:-1#99", 404, 1002), "404/1002 is not captured");
            Assert.IsTrue(!c.Capture(Name, "rid1", "1:-1#99", 429, 0), "429 is not captured");
            Assert.AreEqual("1:-1#42", c.Resolve(Name, "1").ToString());
            Assert.AreEqual("5:1#100#1=20", c.Resolve(Name, "5", "0").ToString());
            Assert.IsTrue(c.Resolve(Name, "9") == null);
            Assert.AreEqual("0:1#100#1=20,1:-1#42", c.ResolveAll("rid1").ToString());
            Assert.IsTrue(c.Capture(Name, "rid2", "0:1#1", 200, 0), "recreated container");
            Assert.IsTrue(c.Resolve("rid1", "0") == null, "old RID dropped");
            Assert.IsTrue(c.Clear(Name));
            Assert.IsTrue(!c.Clear(Name));
            Assert.IsTrue(c.ResolveAll(Name) == null);
            Assert.Catch<SessionTokenFormatException>(() => c.Capture(Name, "rid1", "0:x", 200, 0));
            Assert.AreEqual("empty_resource_id", Assert.Catch<SessionTokenArgumentException>(() => c.Capture(Name, "", "0:1", 200, 0)).Kind);
            Assert.IsTrue(!c.Capture(Name, "rid1", null, 200, 0));
            Assert.IsTrue(!c.Capture(Name, "rid1", "0:1", 200, 0, "colls"));
            Assert.AreEqual("unknown_resource_type", Assert.Catch<SessionTokenArgumentException>(() => c.Capture(Name, "rid1", "0:1", 200, 0, "bogus")).Kind);
            Assert.Catch<ArgumentNullException>(() => c.Capture(Name, null, "0:1", 200, 0));
        }
    }

    [Test]
    public static void SnapshotRestore()
    {
        var a = new SessionContainer();
        a.Capture(Name, "rid1", "0:1#100#1=20,1:-1#42", 200, 0);
        string snap = a.Snapshot();
        Assert.IsTrue(snap.StartsWith("{\"format\":\"cosmos-session-token/container\",\"version\":1"), snap);
        var b = SessionContainer.Restore(snap);
        Assert.AreEqual("0:1#100#1=20", b.Resolve(Name, "0").ToString());
        b.Capture(Name, "rid1", "0:1#101#1=20", 200, 0);
        b.Import(snap);
        Assert.AreEqual("0:1#101#1=20", b.Resolve(Name, "0").ToString());
        var e = Assert.Catch<SessionTokenFormatException>(() => SessionContainer.Restore("{\"format\":1}"));
        Assert.AreEqual("invalid_snapshot", e.Kind);
        a.Dispose();
        Assert.Catch<ObjectDisposedException>(() => a.Snapshot());
    }

    [Test]
    public static void ConcurrentCapturesEqualTheSequentialMerge()
    {
        var c = new SessionContainer();
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            for (int i = 1; i <= 300; i++)
            {
                c.Capture(Name, "rid1", t + ":1#" + i + ",s:1#" + (t * 1000 + i), 200, 0);
                c.Resolve(Name, t.ToString());
            }
        })).ToList();
        threads.ForEach(th => th.Start());
        threads.ForEach(th => th.Join());
        string expected = string.Join(",", Enumerable.Range(0, 8).Select(t => t + ":1#300")) + ",s:1#7300";
        Assert.AreEqual(expected, c.ResolveAll(Name).ToString());
    }
}

/// <summary>Runs every shared vector (target/vectors.lines, written by scripts/vectors_to_lines.py).</summary>
[TestFixture]
public class VectorTests
{
    static string Unhex(string x)
    {
        if (!x.StartsWith("x")) throw new FormatException("bad hex field " + x);
        var bytes = new byte[(x.Length - 1) / 2];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = System.Convert.ToByte(x.Substring(1 + 2 * i, 2), 16);
        return new UTF8Encoding(false, true).GetString(bytes);
    }

    static byte[] HexBytes(string h)
    {
        var bytes = new byte[h.Length / 2];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = System.Convert.ToByte(h.Substring(2 * i, 2), 16);
        return bytes;
    }

    static string Hex(string s)
    {
        var sb = new StringBuilder("x");
        foreach (var b in Encoding.UTF8.GetBytes(s)) sb.Append(b.ToString("x2"));
        return sb.ToString();
    }

    static string Fields(SessionToken t)
    {
        return string.Join("|", t.Segments.Select(s =>
            Hex(s.RangeId) + "," + (s.Format == SessionTokenFormat.Simple ? "simple,null" : "vector," + s.Version) + "," +
            s.GlobalLsn + "," + string.Join(";", s.Regions.Select(r => r.ToString()))));
    }

    static SessionTokenOrder Order(string word)
    {
        switch (word)
        {
            case "less": return SessionTokenOrder.Less;
            case "equal": return SessionTokenOrder.Equal;
            case "greater": return SessionTokenOrder.Greater;
            default: return SessionTokenOrder.Concurrent;
        }
    }

    /// <summary>errors.json: the same kind, and the exception class of its category (or null for not_found).</summary>
    static void RunErrorLine(string[] f)
    {
        string op = f[2], kind = f[3], expectedClass = f[5];

        int status = int.Parse(f[4]);
        var a = f.Skip(6).ToArray();
        Func<object> call;
        switch (op)
        {
            case "parse": call = () => SessionToken.Parse(Unhex(a[1]), a[0] == "lenient"); break;
            case "merge": call = () => SessionToken.Parse(Unhex(a[0])).Merge(SessionToken.Parse(Unhex(a[1]))); break;
            case "scope":
                {
                    int n = int.Parse(a[2]);
                    var parents = Enumerable.Range(0, n).Select(i => Unhex(a[3 + i])).ToArray();
                    call = () => SessionToken.Parse(Unhex(a[0])).Scope(Unhex(a[1]), parents);
                    break;
                }
            case "seal": call = () => SessionTokenSeal.Seal(SessionToken.Parse(Unhex(a[0])), HexBytes(a[1]), Unhex(a[2]), int.Parse(a[3])); break;
            case "unseal":
                {
                    int n = int.Parse(a[1]);
                    var keys = Enumerable.Range(0, n).Select(i => HexBytes(a[2 + i])).ToList();
                    call = () => SessionTokenSeal.Unseal(Unhex(a[0]), keys, Unhex(a[2 + n]), int.Parse(a[3 + n]));
                    break;
                }
            case "latest":
                {
                    int n = int.Parse(a[0]);
                    var pairs = Enumerable.Range(0, n).Select(i => new KeyValuePair<string, string>(Unhex(a[1 + 2 * i]), Unhex(a[2 + 2 * i]))).ToList();
                    call = () => SessionToken.LatestForFeedRange(pairs, Unhex(a[1 + 2 * n]));
                    break;
                }
            case "capture": call = () => new SessionContainer().Capture("dbs/d/colls/c", Unhex(a[1]), Unhex(a[2]), int.Parse(a[3]), 0, Unhex(a[0])); break;
            case "restore": call = () => SessionContainer.Restore(Unhex(a[0])); break;
            case "carrier":
                {
                    int n = int.Parse(a[0]);
                    var keys = Enumerable.Range(0, n).Select(i => HexBytes(a[1 + i])).ToList();
                    call = () => new SessionCarrier(keys, "");
                    break;
                }
            case "state_open": call = () => SessionStateStore.Open(Unhex(a[0]), null); break;
            case "state_get": call = () => SessionStateStore.OpenInMemory(null).Get(Unhex(a[0])); break;
            case "state_write_unlocked":
                call = () => { SessionStateStore.OpenInMemory(null).SetAndRelease(Unhex(a[0]), new byte[] { 1 }, 42, false, null); return null; };
                break;
            default: throw new AssertionException("unknown error op " + op);
        }
        if (status == 6)
        {
            Assert.IsTrue(call() == null, "a missing result is null");  // CST_ERR_NOT_FOUND
            return;
        }
        var e = Assert.Catch<CosmosSessionTokenException>(() => call());
        Assert.AreEqual(kind, e.Kind, "kind");
        Assert.AreEqual(expectedClass, e.GetType().Name, "exception class");
    }

    public static void RunLine(string[] f)
    {
        switch (f[0])
        {
            case "parse":
                {
                    bool lenient = f[2] == "lenient";
                    string input = Unhex(f[3]);
                    if (f[4] == "err")
                    {
                        var e = Assert.Catch<CosmosSessionTokenException>(() => SessionToken.Parse(input, lenient));
                        Assert.AreEqual(f[5], e.Kind, "kind");
                        var fe = e as SessionTokenFormatException;
                        if (fe != null)
                        {
                            Assert.AreEqual(long.Parse(f[6]), fe.Segment.HasValue ? fe.Segment.Value : -1L, "segment");
                            Assert.AreEqual(long.Parse(f[7]), fe.Offset.HasValue ? fe.Offset.Value : -1L, "offset");
                        }
                        else Assert.IsTrue(e is SessionTokenLimitException, e.GetType().Name);
                        SessionToken ignored;
                        if (!lenient) Assert.IsTrue(!SessionToken.TryParse(input, out ignored), "TryParse");
                    }
                    else
                    {
                        var t = SessionToken.Parse(input, lenient);
                        Assert.AreEqual(Unhex(f[5]), t.ToString(), "render");
                        if (f.Length > 6 && f[6] != "-") Assert.AreEqual(f[6], Fields(t), "fields");
                        if (lenient)
                        {
                            IReadOnlyList<SessionTokenWarning> warnings;
                            SessionToken.ParseLenient(input, out warnings);
                            string codes = warnings.Count == 0 ? "-" : string.Join(",", warnings.Select(w => w.Code));
                            Assert.AreEqual(f.Length > 7 ? f[7] : "-", codes, "warnings");
                        }
                    }
                    break;
                }
            case "convert":
                {
                    var t = SessionToken.Parse(Unhex(f[2]));
                    Assert.AreEqual(Unhex(f[4]), (f[3] == "simple" ? t.ToSimple() : t.ToVector()).ToString());
                    break;
                }
            case "merge":
                {
                    var policy = (MergePolicy)int.Parse(f[2]);
                    int n = int.Parse(f[3]);
                    var tokens = Enumerable.Range(0, n).Select(i => SessionToken.Parse(Unhex(f[4 + i]))).ToList();
                    Func<SessionToken> fold = () => tokens.Skip(1).Aggregate(tokens[0], (acc, t) => acc.Merge(t, policy));
                    if (f[4 + n] == "err")
                    {
                        var e = Assert.Catch<SessionTokenMergeException>(() => fold());
                        Assert.AreEqual(f[5 + n], e.Kind);
                    }
                    else
                    {
                        Assert.AreEqual(Unhex(f[5 + n]), fold().ToString());
                    }
                    break;
                }
            case "compare":
                {
                    var a = SessionToken.Parse(Unhex(f[2]));
                    var b = SessionToken.Parse(Unhex(f[3]));
                    Assert.AreEqual(Order(f[4]), SessionToken.Compare(a, b));
                    Assert.AreEqual(f[4] == "equal", a == b, "==");
                    if (a == b) Assert.AreEqual(a.GetHashCode(), b.GetHashCode(), "hash");
                    break;
                }
            case "explain":
                {
                    var a = SessionToken.Parse(Unhex(f[2]));
                    var b = SessionToken.Parse(Unhex(f[3]));
                    int n = int.Parse(f[4]);
                    string[] lacks;
                    a.CompareExplained(b, out lacks);
                    var want = new string[n];
                    for (int i = 0; i < n; i++) want[i] = Unhex(f[5 + i]);
                    CollectionAssert.AreEqual(want, lacks);
                    break;
                }
            case "scope":
                {
                    var t = SessionToken.Parse(Unhex(f[2]));
                    string range = Unhex(f[3]);
                    int n = int.Parse(f[4]);
                    var parents = Enumerable.Range(0, n).Select(i => Unhex(f[5 + i])).ToArray();
                    string outcome = f[5 + n];
                    if (outcome == "none") Assert.IsTrue(t.Scope(range, parents) == null, "expected no token");
                    else if (outcome == "err") Assert.AreEqual(f[6 + n], Assert.Catch<SessionTokenMergeException>(() => t.Scope(range, parents)).Kind);
                    else Assert.AreEqual(Unhex(f[6 + n]), t.Scope(range, parents).ToString());
                    break;
                }
            case "latest":
                {
                    int n = int.Parse(f[2]);
                    var pairs = Enumerable.Range(0, n)
                        .Select(i => new KeyValuePair<string, string>(Unhex(f[3 + 2 * i]), Unhex(f[4 + 2 * i]))).ToList();
                    string target = Unhex(f[3 + 2 * n]);
                    if (f[4 + 2 * n] == "err")
                    {
                        if (f[5 + 2 * n] == "no_overlapping_feed_range")
                        {
                            Assert.IsTrue(SessionToken.LatestForFeedRange(pairs, target) == null, "no result is null");
                            break;
                        }
                        var e = Assert.Catch<CosmosSessionTokenException>(() => SessionToken.LatestForFeedRange(pairs, target));
                        Assert.AreEqual(f[5 + 2 * n], e.Kind);
                    }
                    else
                    {
                        Assert.AreEqual(Unhex(f[5 + 2 * n]), SessionToken.LatestForFeedRange(pairs, target).ToString());
                    }
                    break;
                }
            case "seal":
                {
                    var key = HexBytes(f[3]);
                    string sealedToken = SessionTokenSeal.Seal(SessionToken.Parse(Unhex(f[2])), key, Unhex(f[4]));
                    Assert.AreEqual(Unhex(f[5]), sealedToken, "seal");
                    Assert.AreEqual(Unhex(f[2]), SessionTokenSeal.Unseal(sealedToken, new[] { key }, Unhex(f[4])).ToString(), "unseal");
                    break;
                }
            case "unseal":
                {
                    int n = int.Parse(f[3]);
                    var keys = Enumerable.Range(0, n).Select(i => HexBytes(f[4 + i])).ToList();
                    string sealedToken = Unhex(f[2]), context = Unhex(f[4 + n]);
                    if (f[5 + n] == "err")
                    {
                        string kind = f[6 + n];
                        Assert.AreEqual(kind, Assert.Catch<CosmosSessionTokenException>(() => SessionTokenSeal.Unseal(sealedToken, keys, context)).Kind);
                    }
                    else
                    {
                        Assert.AreEqual(Unhex(f[6 + n]), SessionTokenSeal.Unseal(sealedToken, keys, context).ToString());
                    }
                    break;
                }
            case "container":
                {
                    var c = new SessionContainer();
                    int n = int.Parse(f[2]);
                    for (int i = 0; i < n; i++)
                    {
                        var p = f[3 + i].Split(':');
                        switch (p[0])
                        {
                            case "cap":
                                {
                                    string token = p[3] == "none" ? null : Unhex(p[3]);
                                    bool got = c.Capture(Unhex(p[1]), Unhex(p[2]), token, int.Parse(p[4]), int.Parse(p[5]), Unhex(p[7]));
                                    Assert.AreEqual(p[6] == "true", got, "captured");
                                    break;
                                }
                            case "fgt":
                                Assert.AreEqual(p[3] == "true", c.ForgetRange(Unhex(p[1]), Unhex(p[2])), "forget_range");
                                break;
                            case "res":
                                {
                                    var parents = p[3] == "-" ? new string[0] : p[3].Split(',').Select(Unhex).ToArray();
                                    var t = c.Resolve(Unhex(p[1]), Unhex(p[2]), parents);
                                    Assert.AreEqual(p[4] == "none" ? null : Unhex(p[4]), t == null ? null : t.ToString(), "resolve");
                                    break;
                                }
                            case "all":
                                {
                                    var t = c.ResolveAll(Unhex(p[1]));
                                    Assert.AreEqual(p[2] == "none" ? null : Unhex(p[2]), t == null ? null : t.ToString(), "resolve_all");
                                    break;
                                }
                            case "clr":
                                Assert.AreEqual(p[2] == "true", c.Clear(Unhex(p[1])), "clear");
                                break;
                            default:
                                throw new AssertionException("unknown container step " + p[0]);
                        }
                    }
                    c.Dispose();
                    break;
                }
            case "error":
                RunErrorLine(f);
                break;
            case "cookie_keys":
                {
                    int n = int.Parse(f[2]);
                    var secrets = Enumerable.Range(0, n).Select(i => HexBytes(f[3 + i])).ToList();
                    if (f[3 + n] == "err")
                    {
                        Assert.AreEqual(f[4 + n], Assert.Catch<CosmosSessionTokenException>(() => WebSessionPolicy.DeriveCookieKeys(secrets)).Kind);
                    }
                    else
                    {
                        var keys = WebSessionPolicy.DeriveCookieKeys(secrets);
                        for (int i = 0; i < n; i++) CollectionAssert.AreEqual(HexBytes(f[4 + n + i]), keys[i], "key " + i);
                    }
                    break;
                }
            case "cookie_context":
                Assert.AreEqual(Unhex(f[5]), WebSessionPolicy.TokenCookieContext(Unhex(f[2]), Unhex(f[3]), Unhex(f[4])));
                break;
            case "cookie_header":
                {
                    long age = long.Parse(f[4]);
                    Assert.AreEqual(Unhex(f[6]), WebSessionPolicy.TokenCookieHeader(Unhex(f[2]), Unhex(f[3]), age < 0 ? (long?)null : age, f[5] == "1"));
                    break;
                }
            case "fingerprint":
                Assert.AreEqual(Unhex(f[3]), SessionStateStore.Fingerprint(Unhex(f[2])));
                break;
            case "epk":
                {
                    var kind = (PartitionKeyKind)int.Parse(f[2]);
                    int version = int.Parse(f[3]), levels = int.Parse(f[4]);
                    string value = Unhex(f[5]);
                    if (f[6] == "ok")
                    {
                        Assert.AreEqual(Unhex(f[7]), PartitionKeys.EffectivePartitionKey(value, kind, version, levels));
                    }
                    else
                    {
                        var e = Assert.Throws<SessionTokenArgumentException>(() => PartitionKeys.EffectivePartitionKey(value, kind, version, levels));
                        Assert.AreEqual(f[7], e.Kind);
                    }
                    break;
                }
            default:
                throw new AssertionException("unknown vector kind " + f[0]);
        }
    }

    private static string VectorsPath()
    {
        return Environment.GetEnvironmentVariable("CST_VECTORS") ?? "vectors.lines";
    }

    /// <summary>Every shared vector line (scripts/vectors_to_lines.py) as its own test case.</summary>
    public static IEnumerable<TestCaseData> Vectors()
    {
        foreach (var line in File.ReadAllLines(VectorsPath()).Where(l => l.Trim().Length > 0))
        {
            var f = line.Split(' ');
            yield return new TestCaseData(line).SetName("vector " + f[0] + " " + f[1]);
        }
    }

    [Test]
    public static void AllSharedVectorsAreThere()
    {
        int count = File.ReadAllLines(VectorsPath()).Count(l => l.Trim().Length > 0);
        Assert.IsTrue(count >= 150, "only " + count + " vectors in " + VectorsPath());
    }

    [TestCaseSource("Vectors")]
    public static void SharedVector(string line)
    {
        RunLine(line.Split(' '));
    }
}

/// <summary>Where the native library is looked for (a pure function): every combination of OS, bitness and
/// shadow copying, and the message of a missing DLL.</summary>
[TestFixture]
public class NativeLibraryPathTests
{
    private const string Bin = "/app/bin", Shadow = "/tmp/shadow/abc", Base = "/app";

    [Test]
    public void WindowsLooksInTheBitnessSubdirectoryFirst()
    {
        foreach (bool x64 in new[] { true, false })
        {
            string arch = x64 ? "x64" : "x86";
            var c = CosmosSessionToken.NativeLibraryPath.Candidates(true, x64, Bin, Bin, Base);
            CollectionAssert.AreEqual(new[]
            {
                Path.Combine(Bin, arch, "cstoken.dll"), Path.Combine(Bin, "cstoken.dll"),
                Path.Combine(Base, arch, "cstoken.dll"), Path.Combine(Base, "cstoken.dll"),
            }, c);
            var deployed = Path.Combine(Bin, arch, "cstoken.dll");
            Assert.AreEqual(deployed, CosmosSessionToken.NativeLibraryPath.Select(c, p => p == deployed || p.Contains("x86") || p.Contains("x64")));
        }
    }

    [Test]
    public void AShadowCopiedAssemblyFindsTheDllWhereItWasCopiedFrom()
    {
        foreach (bool windows in new[] { true, false })
        {
            foreach (bool x64 in new[] { true, false })
            {
                var c = CosmosSessionToken.NativeLibraryPath.Candidates(windows, x64, Shadow, Bin, Base);
                string file = windows ? "cstoken.dll" : "libcstoken.so";
                string deployed = windows ? Path.Combine(Bin, x64 ? "x64" : "x86", file) : Path.Combine(Bin, file);
                Assert.AreEqual(deployed, CosmosSessionToken.NativeLibraryPath.Select(c, p => p == deployed), windows + " " + x64);
                Assert.IsTrue(c.IndexOf(deployed) > 0, "the shadow directory is searched first");
                Assert.IsTrue(c[0].StartsWith(Shadow));
            }
        }
    }

    [Test]
    public void NoBitnessDirectoriesOffWindowsAndNoDuplicates()
    {
        var c = CosmosSessionToken.NativeLibraryPath.Candidates(false, true, Bin, Bin, Base);
        CollectionAssert.AreEqual(new[] { Path.Combine(Bin, "libcstoken.so"), Path.Combine(Base, "libcstoken.so") }, c);
        Assert.IsFalse(c.Exists(p => p.Contains("x64") || p.Contains("x86")));
        Assert.AreEqual(2, CosmosSessionToken.NativeLibraryPath.Candidates(false, false, null, "", Base).Count);
    }

    [Test]
    public void AMissingDllListsEveryPathTried()
    {
        foreach (bool x64 in new[] { true, false })
        {
            var c = CosmosSessionToken.NativeLibraryPath.Candidates(true, x64, Shadow, Bin, Base);
            Assert.IsNull(CosmosSessionToken.NativeLibraryPath.Select(c, p => false));
            string wrongArch = Path.Combine(Bin, x64 ? "x64" : "x86", "cstoken.dll");
            string message = CosmosSessionToken.NativeLibraryPath.NotFoundMessage(true, x64, c, p => p == wrongArch);
            foreach (var p in c) StringAssert.Contains(p, message);
            StringAssert.Contains(wrongArch + " (present, but it did not load", message);
            StringAssert.Contains((x64 ? "64" : "32") + "-bit process", message);
            StringAssert.Contains("bin\\x64\\cstoken.dll and bin\\x86\\cstoken.dll", message);
        }
    }
}

[TestFixture]
public class RoutingTests
{
    private const string Ranges = "{\"PartitionKeyRanges\":[{\"id\":\"1\",\"minInclusive\":\"\",\"maxExclusive\":\"20\",\"parents\":[\"0\"]},"
        + "{\"id\":\"2\",\"minInclusive\":\"20\",\"maxExclusive\":\"FF\",\"parents\":[\"0\"]}]}";

    [Test]
    public void TokensForAPartitionKeyOrAFeedRange()
    {
        using (var map = RoutingMap.Parse(Ranges))
        {
            Assert.AreEqual(2, map.Count);
            var token = SessionToken.Parse("0:1#5,1:1#9");
            // "partitionKey" hashes (V2) to 013AEF..., in range 1.
            Assert.AreEqual("013AEFCF77FA271571CF665A58C933F1", PartitionKeys.EffectivePartitionKey("\"partitionKey\""));
            Assert.AreEqual("1:1#9", token.ForPartitionKey("\"partitionKey\"", map).ToString());
            Assert.AreEqual("1:1#9,2:1#5", token.ForFeedRange("-FF", map).ToString());
            Assert.IsNull(SessionToken.Parse("9:1#5").ForPartitionKey("1", map));
            Assert.IsNotNull(token.ForPartitionKey("\"partitionKey\"", map, "{\"paths\":[\"/pk\"],\"kind\":\"Hash\"}"));
            var container = new SessionContainer();
            container.Capture("dbs/d/colls/c", "rid1", "1:1#10,2:1#20", 200, 0, "docs");
            Assert.AreEqual("1:1#10", container.ResolveForPartitionKey("dbs/d/colls/c", "\"partitionKey\"", map).ToString());
            Assert.IsNull(container.ResolveForPartitionKey("dbs/x/colls/c", "\"partitionKey\"", map));
            token.CheckHeaderBudget(11);
            Assert.AreEqual("token_too_large", Assert.Throws<SessionTokenLimitException>(() => token.CheckHeaderBudget(10)).Kind);
        }
        var gap = Assert.Throws<SessionTokenFormatException>(() => RoutingMap.Parse(
            "[{\"id\":\"1\",\"minInclusive\":\"\",\"maxExclusive\":\"20\"},{\"id\":\"2\",\"minInclusive\":\"30\",\"maxExclusive\":\"FF\"}]"));
        Assert.AreEqual("invalid_routing_map", gap.Kind);
        StringAssert.Contains("gap", gap.Message);
    }

    [Test]
    public void CompareExplainedSaysByHowMuch()
    {
        string[] lacks;
        var order = SessionToken.Parse("0:1#90#1=15").CompareExplained(SessionToken.Parse("0:1#100#1=20"), out lacks);
        Assert.AreEqual(SessionTokenOrder.Less, order);
        CollectionAssert.AreEqual(new[] { "A lacks range 0: global LSN 90 < 100 (10 behind)", "A lacks range 0 region 1: LSN 15 < 20 (5 behind)" }, lacks);
        order = SessionToken.Parse("0:1#5").CompareExplained(SessionToken.Parse("0:1#5"), out lacks);
        Assert.AreEqual(SessionTokenOrder.Equal, order);
        Assert.AreEqual(0, lacks.Length);
    }
}

/// <summary>Entra ID tokens from a delegate, every request to an observer, and the counters, against the Cosmos DB test
/// server (scripts/test starts it and passes its port in CST_TEST_SERVER_PORT).</summary>
[TestFixture]
public class StoreHooksTests
{
    internal static int Port()
    {
        string port = Environment.GetEnvironmentVariable("CST_TEST_SERVER_PORT");
        if (port == null)
        {
            if (Environment.GetEnvironmentVariable("CST_REQUIRE_TEST_SERVER") != null) Assert.Fail("CST_TEST_SERVER_PORT is not set");
            Assert.Ignore("needs the Cosmos DB test server (scripts/test dotnet starts it)");
        }
        return int.Parse(port);
    }

    internal static string Shim(int port, string path, string json)
    {
        using (var web = new System.Net.WebClient())
        {
            web.Headers[System.Net.HttpRequestHeader.ContentType] = "application/json";
            return web.UploadString("http://127.0.0.1:" + port + path, json);
        }
    }

    private static void Write(SessionStateStore s, string sid, byte[] data)
    {
        var ex = s.GetExclusive(sid);
        Assert.IsFalse(ex.Locked);
        s.SetAndRelease(sid, data, ex.LockId, ex.Entry == null, null);
    }

    [Test]
    public void TokensFromADelegateAndEveryRequestObserved()
    {
        int port = Port();
        string key = "AccountEndpoint=http://127.0.0.1:" + port + "/;AccountKey=dGVzdC1rZXktbm90LWEtc2VjcmV0LTAxMjM0NTY3ODk=;";
        string endpointOnly = "AccountEndpoint=http://127.0.0.1:" + port + "/;";
        using (var admin = SessionStateStore.Open(key, new SessionStateOptions { Database = "dotnethooks" }))
        {
            Write(admin, "s", new byte[] { 7 });
            string issued = Shim(port, "/_shim/auth", "{\"mode\":\"entra\",\"issue\":3600}");
            string token = System.Text.RegularExpressions.Regex.Match(issued, "\"token\":\"([^\"]+)\"").Groups[1].Value;
            Assert.IsNotEmpty(token);
            try
            {
                var events = new List<SessionStateRequestEvent>();
                var scopes = new List<string>();
                var options = new SessionStateOptions
                {
                    Database = "dotnethooks",
                    TokenSource = scope => { lock (scopes) scopes.Add(scope); return new SessionStateAccessToken(token, DateTimeOffset.UtcNow.AddHours(1)); },
                    Observer = e => { lock (events) events.Add(e); },
                };
                using (var s = SessionStateStore.Open(endpointOnly, options))
                {
                    CollectionAssert.AreEqual(new byte[] { 7 }, s.Get("s").Data);
                    Write(s, "s", new byte[] { 8 });
                    CollectionAssert.AreEqual(new byte[] { 8 }, s.Get("s").Data);
                    Assert.AreEqual(1, scopes.Count);
                    StringAssert.EndsWith("/.default", scopes[0]);
                    Assert.IsTrue(events.Any(e => e.Status == 200 && e.Region == "Local" && e.Method == "GET" && e.Retry == null),
                        string.Join("; ", events.Select(e => e.ToString())));
                    Assert.IsTrue(events.Any(e => e.Method == "PATCH"));
                    var stats = s.Stats;
                    Assert.AreEqual(stats.Requests - stats.AccountReads, events.Count);
                    Assert.AreEqual(0, stats.Unauthorized);
                }
                // The key alone is refused, and the error names the fix.
                var refused = Assert.Throws<SessionStateStoreException>(() => admin.Get("s"));
                Assert.AreEqual("store_rejected", refused.Kind);
                StringAssert.Contains("Entra ID", refused.Message);
                // A token source that throws: store_rejected without its message.
                using (var broken = SessionStateStore.Open(endpointOnly, new SessionStateOptions
                {
                    Database = "dotnethooks",
                    TokenSource = scope => { throw new InvalidOperationException("secret-4711"); },
                }))
                {
                    var e = Assert.Throws<SessionStateStoreException>(() => broken.Get("s"));
                    Assert.AreEqual("store_rejected", e.Kind);
                    StringAssert.DoesNotContain("4711", e.Message);
                    StringAssert.DoesNotContain(token, e.Message);
                }
            }
            finally
            {
                Shim(port, "/_shim/auth", "{\"mode\":\"key\"}");
            }
        }
    }

    [Test]
    public void NewOptionsAreValidatedByTheNativeLibrary()
    {
        foreach (var bad in new[] {
            new SessionStateOptions { OperationTimeout = TimeSpan.Zero },
            new SessionStateOptions { Authentication = "Password" },
            new SessionStateOptions { ManagedIdentityClientId = "abc" },
        })
        {
            var e = Assert.Throws<SessionTokenArgumentException>(() => SessionStateStore.OpenInMemory(bad));
            Assert.AreEqual("invalid_option", e.Kind);
        }
        using (var s = SessionStateStore.OpenInMemory(new SessionStateOptions { PreferredRegions = "East US, West US" }))
        {
            var ex = s.GetExclusive("a");
            Assert.IsTrue(s.GetExclusive("a").Locked);
            var stats = s.Stats;
            Assert.AreEqual(1, stats.LockWaits);
            Assert.IsTrue(stats.Requests > 0);
            s.Release("a", ex.LockId);
        }
    }

    [Test]
    public void OptionsPassByNameThroughTheNativeTable()
    {
        // Defaults are the library's: nothing in .NET spells them.
        Assert.AreEqual("30", SessionStateOptions.Default("lock_ttl"));
        Assert.AreEqual("sessions", SessionStateOptions.Default("database"));
        Assert.AreEqual("9", SessionStateOptions.Default("max_retries"));
        StringAssert.Contains("\"name\":\"managed_identity_client_id\"", SessionStateOptions.TableJson());
        var unknown = Assert.Throws<SessionTokenArgumentException>(() => SessionStateOptions.Default("lock_tll"));
        Assert.AreEqual("invalid_option", unknown.Kind);
        // A name/value pair and a typed property reach the same option; the property wins.
        var options = new SessionStateOptions { MaxRetries = 3 }.Set("max_retries", "200").Set("lock_ttl", "12.5");
        CollectionAssert.Contains(options.Pairs(), new KeyValuePair<string, string>("lock_ttl", "12.5"));
        Assert.AreEqual("3", options.Get("max_retries"));
        Assert.AreEqual("12.5", options.Get("lock_ttl"));
        Assert.AreEqual("sessions", options.Get("database"));
        using (SessionStateStore.OpenInMemory(options)) { }
        // One refusal for a negative count everywhere (no unsigned wrap-around), naming the option.
        foreach (var bad in new[] { new SessionStateOptions { MaxRetries = -1 }, new SessionStateOptions().Set("max_retries", "-1"),
            new SessionStateOptions().Set("lock_ttl", "soon"), new SessionStateOptions().Set("nope", "1") })
        {
            var e = Assert.Throws<SessionTokenArgumentException>(() => SessionStateStore.OpenInMemory(bad));
            Assert.AreEqual("invalid_option", e.Kind);
        }
    }
}
