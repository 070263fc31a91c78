using System;
using System.Text;
using System.Collections.Specialized;
using System.Configuration.Provider;
using System.Threading;
using System.Web;
using System.Web.SessionState;
using CosmosSessionToken;
using CosmosSessionToken.AspNet;
using NUnit.Framework;

namespace CosmosSessionToken.AspNet.Tests
{
    /// <summary>The provider's contract with ASP.NET's SessionStateModule, on the in-memory engine (no HttpContext).</summary>
    [TestFixture]
    public class ProviderTests
    {
        private static int counter;

        // Each test gets its own store: a distinct configuration (database name) keys a distinct shared store.
        private static CosmosDbSessionStateProvider NewProvider(string database = null, int lockTtl = 30)
        {
            var p = new CosmosDbSessionStateProvider();
            var config = new NameValueCollection
            {
                { "inMemory", "true" },
                { "databaseId", database ?? "db" + Interlocked.Increment(ref counter) },
                { "xLockTtlSeconds", lockTtl.ToString() },
                { "compressionEnabled", "true" },
                { "consistencyLevel", "Strong" },
            };
            p.Initialize("cosmos", config);
            return p;
        }

        private static SessionStateStoreData WithCounter(CosmosDbSessionStateProvider p, int n)
        {
            var data = p.CreateNewStoreData(null, 20);
            data.Items["n"] = n;
            return data;
        }

        [Test]
        public void NewSessionLockWriteRead()
        {
            var p = NewProvider();
            bool locked;
            TimeSpan age;
            object lockId;
            SessionStateActions actions;
            Assert.IsNull(p.GetItemExclusive(null, "s", out locked, out age, out lockId, out actions));
            Assert.IsFalse(locked);
            Assert.Greater((long)lockId, 0L);
            p.SetAndReleaseItemExclusive(null, "s", WithCounter(p, 1), lockId, true);
            object readLock;
            var read = p.GetItem(null, "s", out locked, out age, out readLock, out actions);
            Assert.AreEqual(1, read.Items["n"]);
            Assert.AreEqual(0L, readLock, "a read-only get hands back a lock id that releases nothing");
            Assert.AreEqual(SessionStateActions.None, actions);
            p.ReleaseItemExclusive(null, "s", readLock);
        }

        [Test]
        public void ALockIsReportedWithItsHolderAndTrueAge()
        {
            var p = NewProvider();
            bool locked;
            TimeSpan age;
            object held, seen;
            SessionStateActions actions;
            p.GetItemExclusive(null, "s", out locked, out age, out held, out actions);
            p.SetAndReleaseItemExclusive(null, "s", WithCounter(p, 5), held, true);
            p.GetItemExclusive(null, "s", out locked, out age, out held, out actions);
            Thread.Sleep(200);
            Assert.IsNull(p.GetItemExclusive(null, "s", out locked, out age, out seen, out actions));
            Assert.IsTrue(locked);
            Assert.AreEqual(held, seen);
            Assert.That(age, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(150)).And.LessThan(TimeSpan.FromSeconds(10)));
            // Read-only requests read the committed content while the lock is held, without waiting.
            object ro;
            Assert.AreEqual(5, p.GetItem(null, "s", out locked, out age, out ro, out actions).Items["n"]);
            Assert.IsFalse(locked);
            // A foreign or zero lock id releases nothing.
            p.ReleaseItemExclusive(null, "s", (long)held + 1);
            p.ReleaseItemExclusive(null, "s", 0L);
            p.ReleaseItemExclusive(null, "s", null);
            p.GetItemExclusive(null, "s", out locked, out age, out seen, out actions);
            Assert.IsTrue(locked, "still held");
            p.ReleaseItemExclusive(null, "s", held);
            p.GetItemExclusive(null, "s", out locked, out age, out seen, out actions);
            Assert.IsFalse(locked);
        }

        [Test]
        public void ALostLockIsReportedAndNothingIsWritten()
        {
            var p = NewProvider(lockTtl: 1);
            bool locked;
            TimeSpan age;
            object slow, fast;
            SessionStateActions actions;
            p.GetItemExclusive(null, "s", out locked, out age, out slow, out actions);
            Thread.Sleep(1100);
            p.GetItemExclusive(null, "s", out locked, out age, out fast, out actions);
            Assert.IsFalse(locked, "an expired lock is taken over");
            p.SetAndReleaseItemExclusive(null, "s", WithCounter(p, 2), fast, true);
            var e = Assert.Throws<SessionStateLockLostException>(() => p.SetAndReleaseItemExclusive(null, "s", WithCounter(p, 1), slow, true));
            Assert.AreEqual("lock_lost", e.Kind);
            object ro;
            Assert.AreEqual(2, p.GetItem(null, "s", out locked, out age, out ro, out actions).Items["n"]);
        }

        [Test]
        public void ProviderInstancesShareTheStore()
        {
            var a = NewProvider("shared-db");
            var b = NewProvider("shared-db");
            bool locked;
            TimeSpan age;
            object l;
            SessionStateActions actions;
            a.GetItemExclusive(null, "x", out locked, out age, out l, out actions);
            a.SetAndReleaseItemExclusive(null, "x", WithCounter(a, 7), l, true);
            Assert.AreEqual(7, b.GetItem(null, "x", out locked, out age, out l, out actions).Items["n"]);
        }

        [Test]
        public void AbandonInMonosOrderAndCookielessSessions()
        {
            var p = NewProvider();
            bool locked;
            TimeSpan age;
            object l;
            SessionStateActions actions;
            p.GetItemExclusive(null, "s", out locked, out age, out l, out actions);
            p.SetAndReleaseItemExclusive(null, "s", WithCounter(p, 1), l, true);
            p.GetItemExclusive(null, "s", out locked, out age, out l, out actions);
            var item = p.GetItemExclusive(null, "s", out locked, out age, out l, out actions);
            p.ReleaseItemExclusive(null, "s", l);
            item = p.GetItemExclusive(null, "s", out locked, out age, out l, out actions);
            p.RemoveItem(null, "s", l, item);
            p.ReleaseItemExclusive(null, "s", l); // Mono releases after removing: a no-op
            Assert.IsNull(p.GetItem(null, "s", out locked, out age, out l, out actions));
            // Abandon from a read-only request (lock id 0) takes the lock for the removal.
            p.GetItemExclusive(null, "r", out locked, out age, out l, out actions);
            p.SetAndReleaseItemExclusive(null, "r", WithCounter(p, 3), l, true);
            p.RemoveItem(null, "r", 0L, null);
            Assert.IsNull(p.GetItem(null, "r", out locked, out age, out l, out actions));
            // Cookieless: an uninitialized item asks the module to initialize it.
            p.CreateUninitializedItem(null, "c", 20);
            var c = p.GetItem(null, "c", out locked, out age, out l, out actions);
            Assert.IsNotNull(c);
            Assert.AreEqual(SessionStateActions.InitializeItem, actions);
            p.GetItemExclusive(null, "c", out locked, out age, out l, out actions);
            Assert.AreEqual(SessionStateActions.InitializeItem, actions);
            p.ResetItemTimeout(null, "c");
            p.ResetItemTimeout(null, null);
            Assert.IsFalse(p.SetItemExpireCallback(null));
            // A null id (Mono: a first cookieless request) is no session, not an error.
            Assert.IsNull(p.GetItem(null, null, out locked, out age, out l, out actions));
            Assert.IsNull(p.GetItemExclusive(null, null, out locked, out age, out l, out actions));
        }

        [Test]
        public void SerializationRoundTripsItemsAndTimeout()
        {
            var p = NewProvider();
            var data = p.CreateNewStoreData(null, 42);
            data.Items["s"] = "text";
            data.Items["n"] = 12;
            data.Items["d"] = new DateTime(2026, 11, 22, 0, 0, 0, DateTimeKind.Utc);
            var back = CosmosDbSessionStateProvider.Deserialize(null, CosmosDbSessionStateProvider.Serialize(data));
            Assert.AreEqual(42, back.Timeout);
            Assert.AreEqual("text", back.Items["s"]);
            Assert.AreEqual(12, back.Items["n"]);
            Assert.AreEqual(data.Items["d"], back.Items["d"]);
        }

        [Test]
        public void ConfigurationIsCheckedAndNeverEchoesTheKey()
        {
            var p = new CosmosDbSessionStateProvider();
            Assert.Throws<ProviderException>(() => p.Initialize("x", new NameValueCollection { { "databaseId", "d" } }));
            Assert.Throws<ProviderException>(() => new CosmosDbSessionStateProvider().Initialize("x",
                new NameValueCollection { { "inMemory", "true" }, { "xLockTtlSecond", "30" } }));
            // Store options are the library's: its invalid_option names the option, as on every surface.
            foreach (var bad in new[] { new[] { "xLockTtlSeconds", "-1", "lock_ttl" }, new[] { "maxRetries", "-1", "max_retries" },
                new[] { "compressionEnabled", "yes", "compression" }, new[] { "timeoutSeconds", "0", "timeout" },
                new[] { "renewFraction", "NaN", "renew_fraction" } })
            {
                var o = Assert.Throws<SessionTokenArgumentException>(() => new CosmosDbSessionStateProvider().Initialize("x",
                    new NameValueCollection { { "inMemory", "true" }, { bad[0], bad[1] } }));
                Assert.AreEqual("invalid_option", o.Kind, bad[0]);
                StringAssert.Contains(bad[2], o.Message);
            }
            Assert.Throws<ProviderException>(() => new CosmosDbSessionStateProvider().Initialize("x",
                new NameValueCollection { { "connectionStringName", "missing" } }));
            var e = Assert.Throws<SessionTokenArgumentException>(() => new CosmosDbSessionStateProvider().Initialize("x",
                new NameValueCollection { { "connectionString", "AccountEndpoint=https://h/;AccountKey=SECRET!!" }, { "databaseId", "d" } }));
            Assert.AreEqual("invalid_connection_string", e.Kind);
            Assert.IsFalse(e.Message.Contains("SECRET"));
        }
    }

    /// <summary>The .NET SessionStateStore over the in-memory engine, and the session-state error vectors.</summary>
    [TestFixture]
    public class StateStoreTests
    {
        [Test]
        public void StoreContract()
        {
            using (var s = SessionStateStore.OpenInMemory(new SessionStateOptions { LockTtl = TimeSpan.FromSeconds(5) }))
            {
                Assert.IsNull(s.Get("a"));
                var ex = s.GetExclusive("a");
                Assert.IsFalse(ex.Locked);
                Assert.IsNull(ex.Entry);
                Assert.IsTrue(s.GetExclusive("a").Locked);
                s.SetAndRelease("a", new byte[] { 1, 2, 3 }, ex.LockId, true, null);
                CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, s.Get("a").Data);
                Assert.Throws<SessionStateLockLostException>(() => s.SetAndRelease("a", new byte[] { 9 }, ex.LockId, false, null));
                Assert.IsNotNull(s.Token("a"));
                bool locked;
                TimeSpan expiresIn;
                Assert.IsTrue(s.Describe("a", out locked, out expiresIn));
                Assert.IsFalse(locked);
                var again = s.GetExclusive("a");
                Assert.AreEqual(again.LockId, s.ForceUnlock("a"));
                Assert.IsNull(s.ForceUnlock("a"));
                // A foreign or zero lock id: release and remove change nothing, the holder keeps its lock.
                var holder = s.GetExclusive("a");
                Assert.IsFalse(s.Release("a", holder.LockId + 1));
                Assert.IsFalse(s.Remove("a", holder.LockId + 1));
                Assert.IsFalse(s.Remove("a", 0));
                Assert.IsTrue(s.GetExclusive("a").Locked);
                CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, s.Get("a").Data);
                Assert.IsTrue(s.Remove("a", holder.LockId));
                Assert.IsNull(s.Get("a"));
                // Every id the engine accepts round-trips, non-ASCII included.
                foreach (var sid in new[] { "\u00fcn\u00ef", "\u30bb\u30c3\u30b7\u30e7\u30f3", "\ud83d\ude00/?#%\\" })
                {
                    var e = s.GetExclusive(sid);
                    s.SetAndRelease(sid, System.Text.Encoding.UTF8.GetBytes(sid), e.LockId, true, null);
                    CollectionAssert.AreEqual(System.Text.Encoding.UTF8.GetBytes(sid), s.Get(sid).Data);
                }
                // One set of ranges: the native library refuses what every surface refuses.
                foreach (var bad in new[] {
                    new SessionStateOptions { MaxRetries = 101 }, new SessionStateOptions { MaxRetries = -1 },
                    new SessionStateOptions { RenewFraction = 1.5 }, new SessionStateOptions { RequestTimeout = TimeSpan.FromHours(1) } })
                {
                    Assert.AreEqual("invalid_option", Assert.Throws<SessionTokenArgumentException>(() => SessionStateStore.OpenInMemory(bad)).Kind);
                }
                Assert.AreEqual("invalid_session_id", Assert.Throws<SessionTokenArgumentException>(() => s.Get("")).Kind);
                Assert.AreEqual("item_too_large", Assert.Throws<SessionTokenLimitException>(() =>
                    SessionStateStore.OpenInMemory(new SessionStateOptions { Compression = false })
                        .SetAndRelease("b", new byte[3 << 20], 1, true, null)).Kind);
            }
        }
    }

    /// <summary>Regression tests of the outside security review's findings on the .NET surfaces.</summary>
    [TestFixture]
    public class SecurityTests
    {
        private static int counter;

        private static CosmosDbSessionStateProvider Provider(NameValueCollection extra)
        {
            var config = new NameValueCollection
            {
                { "inMemory", "true" },
                { "databaseId", "sec" + Interlocked.Increment(ref counter) },
            };
            config.Add(extra);
            var p = new CosmosDbSessionStateProvider();
            p.Initialize("cosmos", config);
            return p;
        }

        [Test]
        public void AWeakTokenCookieKeyFailsAtStartUp()
        {
            var weak = Convert.ToBase64String(new byte[8]);
            var e = Assert.Throws<ProviderException>(() => Provider(new NameValueCollection
                { { "tokenCookie", "true" }, { "tokenCookieKey", weak } }));
            StringAssert.Contains("16 bytes", e.Message);
            Assert.Throws<ProviderException>(() => Provider(new NameValueCollection
                { { "tokenCookie", "true" }, { "tokenCookieKey", "not base64!" } }));
            Provider(new NameValueCollection
            {
                { "tokenCookie", "true" }, { "tokenCookieKey", Convert.ToBase64String(new byte[32]) },
                { "tokenCookieKeyFallbacks", Convert.ToBase64String(new byte[16]) }, { "tokenCookieSecure", "false" },
            });
        }

        [Test]
        public void IdsTheStoreCannotUseAreNoSession()
        {
            var p = Provider(new NameValueCollection());
            bool locked;
            TimeSpan age;
            object lockId;
            SessionStateActions actions;
            string tooLong = new string('x', 200);
            Assert.IsNull(p.GetItem(null, tooLong, out locked, out age, out lockId, out actions));
            Assert.IsNull(p.GetItemExclusive(null, tooLong, out locked, out age, out lockId, out actions));
            Assert.IsFalse(locked);
            p.RemoveItem(null, tooLong, 0L, null);
            Assert.IsFalse(SessionStateStore.IsValidSessionId(tooLong));
            Assert.IsFalse(SessionStateStore.IsValidSessionId("\ud800"));
            Assert.IsTrue(SessionStateStore.IsValidSessionId("abc"));
        }

        [Test]
        public void AbandonFromAReadOnlyRequestWaitsForTheLockAndRemoves()
        {
            var p = Provider(new NameValueCollection());
            bool locked;
            TimeSpan age;
            object lockId;
            SessionStateActions actions;
            p.GetItemExclusive(null, "s", out locked, out age, out lockId, out actions);
            var data = p.CreateNewStoreData(null, 20);
            data.Items["n"] = 1;
            p.SetAndReleaseItemExclusive(null, "s", data, lockId, true);
            object held;
            p.GetItemExclusive(null, "s", out locked, out age, out held, out actions);
            var releaser = new Thread(() =>
            {
                Thread.Sleep(200);
                p.ReleaseItemExclusive(null, "s", held);
            });
            releaser.Start();
            p.RemoveItem(null, "s", 0L, null); // waits for the holder, then removes
            releaser.Join();
            object readLock;
            Assert.IsNull(p.GetItem(null, "s", out locked, out age, out readLock, out actions), "removed, not left alive");
        }

        [Test]
        public void TheNativeTokenCookieHookSetsTheCookieOnlyWhenTheTokenChanged()
        {
            using (var store = SessionStateStore.OpenInMemory(new SessionStateOptions()))
            using (var policy = new CookiePolicy(CookieKind.StateToken, "aspnet", "db", "c", new[] { Encoding.UTF8.GetBytes("aspnet-secret-0123456789") }))
            using (var hook = new StateTokenCookie(policy))
            {
                Assert.IsFalse(hook.Begin(store, "sid-a", null));
                var ex = store.GetExclusive("sid-a");
                store.SetAndRelease("sid-a", new byte[] { 1 }, ex.LockId, true, null);
                string header = hook.Finish(store, "sid-a", null);
                StringAssert.StartsWith(hook.Name + "=", header);
                StringAssert.EndsWith("; HttpOnly; SameSite=Lax; Secure", header);
                string value = header.Substring(hook.Name.Length + 1, header.IndexOf(';') - hook.Name.Length - 1);
                Assert.IsTrue(hook.Begin(store, "sid-a", value));
                Assert.IsNull(hook.Finish(store, "sid-a", value), "unchanged: no cookie");
                Assert.IsFalse(hook.Begin(store, "sid-b", value), "bound to its session");
                Assert.AreEqual("cosmos_state_token", hook.Name);
                Assert.AreEqual("weak_key", Assert.Throws<SessionTokenArgumentException>(() =>
                    new CookiePolicy(CookieKind.StateToken, "aspnet", "db", "c", new[] { new byte[5] })).Kind);
                using (var flow = new CookiePolicy(CookieKind.Flow, "aspnet", "db", "c", new[] { new byte[16] }))
                {
                    Assert.AreEqual("invalid_argument", Assert.Throws<SessionTokenArgumentException>(() =>
                        new StateTokenCookie(flow)).Kind, "a state token cookie needs a state_token policy");
                }
            }
        }

        [Test]
        public void WebSessionPolicyBindsAndSecuresTheTokenCookie()
        {
            var keys = WebSessionPolicy.DeriveCookieKeys(new[] { System.Text.Encoding.UTF8.GetBytes("a-long-enough-secret") });
            Assert.AreEqual(32, keys[0].Length);
            var e = Assert.Throws<SessionTokenArgumentException>(() => WebSessionPolicy.DeriveCookieKeys(new[] { new byte[8] }));
            Assert.AreEqual("weak_key", e.Kind);
            string sealedValue;
            using (var mine = new SessionCarrier(keys, WebSessionPolicy.TokenCookieContext("aspnet", "db/c", "sid-a")))
            {
                mine.Merge("0:1#5");
                sealedValue = mine.CookieValue;
            }
            using (var theirs = new SessionCarrier(keys, WebSessionPolicy.TokenCookieContext("aspnet", "db/c", "sid-b")))
            {
                theirs.Read(sealedValue);
                Assert.IsNull(theirs.Token, "an envelope moved to another session unseals to nothing");
                theirs.Read("\ud800");
                Assert.IsNull(theirs.Token, "a lone surrogate is no token, not an exception");
            }
            SessionToken token;
            Assert.IsFalse(SessionTokenSeal.TryUnseal("\ud800", keys, "ctx", out token));
            StringAssert.EndsWith("; HttpOnly; SameSite=Lax; Secure", WebSessionPolicy.TokenCookieHeader("c", "v", null, true));
            StringAssert.DoesNotContain("Secure", WebSessionPolicy.TokenCookieHeader("c", "v", 60, false));
        }

        [Test]
        public void SecretsAndSessionIdsNeverAppearInErrors()
        {
            var rng = new Random(7);
            for (int round = 0; round < 10; round++)
            {
                var raw = new byte[64];
                rng.NextBytes(raw);
                string key = Convert.ToBase64String(raw);
                foreach (string text in new[] { key, "AccountKey:" + key, "AccountEndpoint=https://a.example/;" + key,
                                                key + ";AccountEndpoint=https://a.example/" })
                {
                    var ex = Assert.Throws<SessionTokenArgumentException>(() => SessionStateStore.Open(text, new SessionStateOptions()));
                    string shown = ex.Message + ex.ToString();
                    for (int i = 0; i + 8 <= key.Length; i++)
                    {
                        Assert.IsFalse(shown.Contains(key.Substring(i, 8)), "key run shown for " + text);
                    }
                }
            }
            using (var store = SessionStateStore.OpenInMemory(new SessionStateOptions()))
            {
                string sid = "bearer-credential-0123456789";
                var held = store.GetExclusive(sid);
                store.ForceUnlock(sid);
                var lost = Assert.Throws<SessionStateLockLostException>(() => store.SetAndRelease(sid, new byte[1], held.LockId, false, null));
                StringAssert.DoesNotContain(sid, lost.Message);
                StringAssert.Contains(SessionStateStore.Fingerprint(sid), lost.Message);
                var bad = Assert.Throws<SessionTokenArgumentException>(() => store.SetAndRelease("s", new byte[1], -1L, true, null));
                Assert.AreEqual("invalid_argument", bad.Kind);
            }
        }
    }
}
