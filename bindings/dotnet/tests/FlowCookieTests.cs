using System;
using System.Linq;
using System.Text;
using CosmosSessionToken;
using NUnit.Framework;

/// <summary>FlowCookies over the C ABI (cst_flow_cookies_*, cst_cookie_flow_*): a user's progress sealed on one node
/// and opened on another with the same keys; another user's, an unknown key's, a forged and a malformed cookie are
/// no progress, never an error, and counted; nothing is written when the progress did not move.</summary>
[TestFixture]
public class FlowCookieTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("the-farm-shares-this-secret-32b!");
    private static readonly byte[] OtherSecret = Encoding.UTF8.GetBytes("another-farm-has-another-secret!");

    private static FlowCookies Node(byte[] secret, int maxBytes = 0)
    {
        return new FlowCookies(WebSessionPolicy.DeriveCookieKeys(new[] { secret }), maxBytes);
    }

    private static string Context(string sessionId)
    {
        return WebSessionPolicy.TokenCookieContext("aspnet", "flow", sessionId);
    }

    // A write's response, as the handler gives it to the flow.
    private static void Write(CookieFlow user, string token)
    {
        user.Flow.Capture("dbs/d/colls/c", "rid", token, 201, 0);
    }

    private static string Sealed(FlowCookies node, CookieFlow user, string contextNow = null)
    {
        string value;
        Assert.AreEqual(CookieSealOutcome.Sealed, node.Seal(user, contextNow, out value));
        Assert.IsNotNull(value);
        return value;
    }

    [Test]
    public void ProgressSealedOnOneNodeOpensOnAnotherWithTheSameKeys()
    {
        using (var a = Node(Secret))
        using (var b = Node(Secret))
        {
            string cookie;
            using (var alice = a.Open(Context("alice"), null))
            {
                Assert.AreEqual(CookieVerdict.Missing, alice.Verdict);
                Assert.IsFalse(alice.Refused);
                Assert.IsNull(a.Seal(alice), "nothing moved: nothing to write");
                Write(alice, "0:1#9#0=9");
                cookie = Sealed(a, alice);
            }
            using (var again = b.Open(Context("alice"), cookie))
            {
                Assert.AreEqual(CookieVerdict.Accepted, again.Verdict);
                Assert.AreEqual("accepted", again.VerdictName);
                Assert.AreEqual("0:1#9#0=9", again.Flow.TokenFor("dbs/d/colls/c", "[\"k\"]"), "alice's progress on node B");
                string unchanged;
                Assert.AreEqual(CookieSealOutcome.Unchanged, b.Seal(again, null, out unchanged));
                Assert.IsNull(unchanged);
                Write(again, "0:1#12#0=12");
                string moved = Sealed(b, again);
                Assert.AreNotEqual(cookie, moved);
                using (var third = a.Open(Context("alice"), moved))
                {
                    Assert.AreEqual("0:1#12#0=12", third.Flow.TokenFor("dbs/d/colls/c", "[\"k\"]"));
                }
            }
            // The header as every adapter renders it.
            string header;
            using (var policy = new CookiePolicy(CookieKind.Flow, "aspnet", "", "", new[] { new byte[16] }))
            {
                header = policy.Header(cookie);
                Assert.AreEqual(0, policy.LegacyNames.Count);
                Assert.AreEqual(4000, policy.MaxBytes);
                Assert.AreEqual(WebSessionPolicy.TokenCookieContext("aspnet", "flow", "sid"), policy.Context("sid"));
            }
            using (var token = new CookiePolicy(CookieKind.Token, "aspnet", "db", "c", new[] { new byte[16] }))
            {
                Assert.AreEqual("cosmos_token", token.Name);
                CollectionAssert.AreEqual(new[] { "cosmos_session" }, token.LegacyNames);
                Assert.AreEqual("old", token.Pick(n => n == "cosmos_session" ? "old" : null), "the earlier name is still read");
            }
            StringAssert.StartsWith("cosmos_flow=" + cookie + "; Path=/", header);
            StringAssert.Contains("HttpOnly", header);
            StringAssert.Contains("SameSite=Lax", header);
            StringAssert.Contains("Secure", header);
            Assert.AreEqual(2UL, a.Stats.Sealed + b.Stats.Sealed);
            Assert.AreEqual(1UL, b.Stats.Accepted);
            Assert.AreEqual(1UL, a.Stats.Missing);
        }
    }

    [Test]
    public void AnotherUsersAnUnknownKeysAForgedAndAMalformedCookieAreNoProgressAndCounted()
    {
        using (var a = Node(Secret))
        using (var other = Node(OtherSecret))
        {
            string cookie;
            using (var alice = a.Open(Context("alice"), null))
            {
                Write(alice, "0:1#9#0=9");
                cookie = Sealed(a, alice);
            }
            using (var bob = a.Open(Context("bob"), cookie))
            {
                Assert.AreEqual(CookieVerdict.ForeignContext, bob.Verdict);
                Assert.AreEqual("foreign_context", bob.VerdictName);
                Assert.IsTrue(bob.Refused);
                Assert.IsNull(bob.Flow.TokenFor("dbs/d/colls/c", "[\"k\"]"), "bob gets nothing of alice's");
            }
            using (var elsewhere = other.Open(Context("alice"), cookie))
            {
                Assert.AreEqual(CookieVerdict.UnknownKey, elsewhere.Verdict);
                Assert.AreEqual("unknown_key", elsewhere.VerdictName);
            }
            // Another payload under alice's seal (the envelope is signed, not encrypted).
            string[] parts = cookie.Split('.');
            parts[3] = Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"format\":\"x\"}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            using (var forged = a.Open(Context("alice"), string.Join(".", parts)))
            {
                Assert.AreEqual(CookieVerdict.Forged, forged.Verdict);
            }
            using (var garbage = a.Open(Context("alice"), "not a cookie"))
            {
                Assert.AreEqual(CookieVerdict.Malformed, garbage.Verdict);
                Assert.IsTrue(garbage.Refused);
            }
            using (var surrogate = a.Open(Context("alice"), "\ud800"))
            {
                Assert.AreEqual(CookieVerdict.Malformed, surrogate.Verdict, "text with no UTF-8 form is no flow cookie");
            }
            using (var huge = a.Open(Context("alice"), new string('a', 5000)))
            {
                Assert.AreEqual(CookieVerdict.TooLarge, huge.Verdict);
            }
            using (var anonymous = a.Open("", cookie))
            {
                Assert.AreEqual(CookieVerdict.NoSession, anonymous.Verdict);
                Assert.IsFalse(anonymous.Refused);
                Write(anonymous, "0:1#20#0=20");
                Assert.IsNull(a.Seal(anonymous), "no session: nothing written");
            }
            FlowCookieStats s = a.Stats;
            Assert.AreEqual(1UL, s.ForeignContext);
            Assert.AreEqual(1UL, s.Forged);
            Assert.AreEqual(2UL, s.Malformed);
            Assert.AreEqual(1UL, s.TooLarge);
            Assert.AreEqual(1UL, s.NoSession);
            Assert.AreEqual(1UL, s.Missing);
            Assert.AreEqual(1UL, s.Sealed);
            Assert.AreEqual(0UL, s.Accepted);
            Assert.AreEqual(1UL, other.Stats.UnknownKey);
            // The node's flow counts every user's requests and responses (bob's read, alice's and the anonymous write).
            SessionFlowStats node = a.NodeStats;
            Assert.AreEqual(1UL, node.Requests);
            Assert.AreEqual(2UL, node.Captured);
        }
    }

    [Test]
    public void ANewOrRenewedSessionGetsTheProgressUnderItsNewId()
    {
        using (var a = Node(Secret))
        {
            string cookie;
            using (var first = a.Open("", null))
            {
                Write(first, "0:1#9#0=9");
                cookie = Sealed(a, first, Context("new-session"));
            }
            using (var next = a.Open(Context("new-session"), cookie))
            {
                Assert.AreEqual(CookieVerdict.Accepted, next.Verdict);
                string renewed = Sealed(a, next, Context("renewed-session"));
                using (var after = a.Open(Context("renewed-session"), renewed))
                {
                    Assert.AreEqual(CookieVerdict.Accepted, after.Verdict);
                    Assert.AreEqual("0:1#9#0=9", after.Flow.TokenFor("dbs/d/colls/c", "[\"k\"]"));
                }
            }
        }
    }

    [Test]
    public void ProgressOverTheBudgetIsNotWrittenAndCounted()
    {
        using (var small = Node(Secret, 120))
        using (var user = small.Open(Context("alice"), null))
        {
            for (int r = 0; r < 8; r++) Write(user, r + ":1#" + (1000000 + r) + "#0=" + (1000000 + r));
            string value;
            Assert.AreEqual(CookieSealOutcome.OverBudget, small.Seal(user, null, out value));
            Assert.IsNull(value);
            Assert.AreEqual(1UL, small.Stats.OverBudget);
            Assert.AreEqual(0UL, small.Stats.Sealed);
        }
    }

    [Test]
    public void KeysAreCheckedAtOnceAndVerdictsHaveTheCoresNames()
    {
        var weak = Assert.Throws<SessionTokenArgumentException>(() => new FlowCookies(new[] { new byte[8] }));
        Assert.AreEqual("weak_key", weak.Kind);
        var none = Assert.Throws<SessionTokenArgumentException>(() => new FlowCookies(new byte[0][]));
        Assert.AreEqual("no_keys", none.Kind);
        var names = Enum.GetValues(typeof(CookieVerdict)).Cast<CookieVerdict>().Select(FlowCookies.VerdictName).ToArray();
        CollectionAssert.AreEqual(new[] { "accepted", "no_session", "missing", "malformed", "too_large", "unknown_key",
            "foreign_context", "forged", "unreadable", "unverified" }, names);
        Assert.Throws<ArgumentOutOfRangeException>(() => FlowCookies.VerdictName((CookieVerdict)99));
        var node = Node(Secret);
        node.Dispose();
        Assert.Throws<ObjectDisposedException>(() => node.Open(Context("alice"), null));
    }
}
