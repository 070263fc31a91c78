// TraceSource.TraceEvent is [Conditional("TRACE")]: without this the compiler drops every trace call (mcs defines no
// TRACE by itself).
#define TRACE
using System;
using System.Globalization;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Configuration;
using System.Configuration.Provider;
using System.Diagnostics;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Web;
using System.Web.Configuration;
using System.Web.SessionState;

namespace CosmosSessionToken.AspNet
{
    /// <summary>
    /// An ASP.NET (System.Web) session-state store provider on Azure Cosmos DB, a drop-in for the DodoBrands
    /// provider: its <c>web.config</c> attributes work unchanged (<c>connectionStringName</c> or
    /// <c>connectionString</c>, <c>databaseId</c>, <c>xLockTtlSeconds</c>, <c>compressionEnabled</c>,
    /// <c>consistencyLevel</c>, and <c>&lt;sessionState timeout&gt;</c>); add <c>containerId</c> (default
    /// <c>SessionStore</c>) and <c>tokenCookie="true"</c> to flow the session's Cosmos DB token to the browser in a
    /// sealed cookie, which makes Session consistency safe across nodes. The token cookie follows the native web-session
    /// policy (<see cref="StateTokenCookie"/>, the native hook): keys derived from <c>tokenCookieKey</c> (base64, 16+ bytes; optional
    /// <c>tokenCookieKeyFallbacks</c>, comma-separated, for rotation) or the machine key's validation key, checked at
    /// start-up; the seal bound to the session id and the store; <c>Secure; HttpOnly; SameSite=Lax</c> unless
    /// <c>tokenCookieSecure="false"</c> (plain-HTTP development only).
    /// </summary>
    /// <remarks>
    /// Every decision (locks, fencing, expiry, renewal, compression, token flow) is the native engine's; this class
    /// only translates: it serialises the session items and static objects, maps lock ids and minutes to seconds.
    /// Read-only requests (<c>IReadOnlySessionState</c>) read the committed content and never take or wait for the
    /// lock (read-only requests do not queue behind a writer). A write whose lock was taken over throws
    /// <see cref="SessionStateLockLostException"/> and writes nothing. Trace output goes to the
    /// <see cref="TraceSource"/> named after this type; it never contains the account key, nor a session id (sessions
    /// are named by <see cref="SessionStateStore.Fingerprint"/>). Session ids from cookies that the store cannot use are
    /// "no session", never an error.
    /// </remarks>
    public class CosmosDbSessionStateProvider : SessionStateStoreProviderBase
    {
        /// <summary>The trace source name (the provider's type name, as the DodoBrands provider does).</summary>
        public const string TraceSourceName = "CosmosSessionToken.AspNet.CosmosDbSessionStateProvider";

        private static readonly TraceSource Trace = new TraceSource(TraceSourceName);

        // Mono and IIS create several provider instances: one store per configuration, shared by all.
        private static readonly ConcurrentDictionary<string, SessionStateStore> Stores = new ConcurrentDictionary<string, SessionStateStore>();

        private SessionStateStore store;
        private TimeSpan timeout = TimeSpan.FromMinutes(20);
        private TimeSpan? timeoutOverride;
        private bool tokenCookie;
        private bool tokenCookieSecure = true;
        private StateTokenCookie tokenCookieHook;
        private string cookieName = "ASP.NET_SessionId";

        /// <summary>How long a removal without a lock waits for another request's lock.</summary>
        private static readonly TimeSpan RemoveWait = TimeSpan.FromSeconds(10);

        /// <summary>The name of the cookie that carries the sealed Cosmos DB session token (with tokenCookie="true"; the
        /// core's cookie policy names it: <c>cosmos_state_token</c>); null without it.</summary>
        public string TokenCookieName { get { return tokenCookieHook == null ? null : tokenCookieHook.Name; } }

        /// <summary>Reads the configuration. Unknown attributes are an error (a typo is not silently ignored).</summary>
        public override void Initialize(string name, NameValueCollection config)
        {
            if (config == null) throw new ArgumentNullException("config");
            base.Initialize(string.IsNullOrEmpty(name) ? "CosmosDbSessionStateProvider" : name, config);
            var settings = new NameValueCollection(config);
            settings.Remove("name");
            settings.Remove("type");
            settings.Remove("description");

            var options = new SessionStateOptions();
            string connectionString = Take(settings, "connectionString");
            string connectionStringName = Take(settings, "connectionStringName");
            if (connectionString == null && connectionStringName != null)
            {
                var entry = ConfigurationManager.ConnectionStrings[connectionStringName];
                if (entry == null)
                {
                    throw new ProviderException("connectionStringName '" + connectionStringName + "' names no <connectionStrings> entry");
                }
                connectionString = entry.ConnectionString;
            }
            bool inMemory = ParseBool(Take(settings, "inMemory"), false, "inMemory");
            if (connectionString == null && !inMemory)
            {
                throw new ProviderException("set connectionStringName (or connectionString) on the session-state provider");
            }
            // Each store option passes through as text to the native library's option table, which holds every
            // default, type and range: here only the web.config attribute is named after its option.
            foreach (var attribute in OptionAttributes)
            {
                string value = Take(settings, attribute.Key);
                if (value != null) options.Set(attribute.Value, value);
            }
            tokenCookie = ParseBool(Take(settings, "tokenCookie"), false, "tokenCookie");
            tokenCookieSecure = ParseBool(Take(settings, "tokenCookieSecure"), true, "tokenCookieSecure");
            string keyText = Take(settings, "tokenCookieKey");
            string fallbackText = Take(settings, "tokenCookieKeyFallbacks");
            // The session timeout is <sessionState timeout> (minutes); timeoutSeconds overrides it for tests.
            var section = WebConfigurationManager.GetSection("system.web/sessionState") as SessionStateSection;
            if (section != null)
            {
                timeout = section.Timeout;
                cookieName = section.CookieName ?? cookieName;
            }
            // timeoutSeconds (tests) overrides <sessionState timeout>; the library checks it as the timeout option.
            string timeoutSeconds = Take(settings, "timeoutSeconds");
            if (timeoutSeconds != null) options.Set("timeout", timeoutSeconds);
            else options.Timeout = timeout;
            if (settings.Count > 0)
            {
                throw new ProviderException("unknown session-state provider attribute '" + settings.GetKey(0) + "'");
            }
            // Empty names are the store's defaults to the core's cookie policy as to the store.
            string database = options.Get("database"), container = options.Get("container");
            if (tokenCookie)
            {
                tokenCookieHook = TokenCookieHook(keyText, fallbackText, database, container, tokenCookieSecure);
            }
            var pairs = new List<string>();
            foreach (var pair in options.Pairs()) pairs.Add(pair.Key + "=" + pair.Value);
            string key = (inMemory ? "memory" : Digest(connectionString)) + "|" + string.Join("|", pairs);
            // Every request to Cosmos DB is a trace event: Verbose, or Information when it is retried (throttling, 404/1002,
            // 403/3, a transient failure, a 401).
            options.Observer = e => Trace.TraceEvent(e.Retry != null ? TraceEventType.Information : TraceEventType.Verbose, 0, "{0}", e);
            // A value the library refuses throws its SessionTokenArgumentException (kind invalid_option naming the option,
            // or invalid_connection_string, never echoing the key), as on every other surface.
            store = Stores.GetOrAdd(key, _ => inMemory ? SessionStateStore.OpenInMemory(options) : SessionStateStore.Open(connectionString, options));
            if (timeoutSeconds != null)
            {
                // The library accepted it: a positive number of seconds.
                timeout = TimeSpan.FromSeconds(double.Parse(timeoutSeconds, NumberStyles.Float, CultureInfo.InvariantCulture));
                timeoutOverride = timeout;
            }
            Trace.TraceEvent(TraceEventType.Information, 0, "initialized: {0}, token cookie {1}", string.Join(", ", pairs), tokenCookie);
        }

        /// <summary>What this provider's store has done so far: requests, retries by cause (404/1002, 403/3, throttling,
        /// transient failures, 401), region changes, request charge, lock waits, takeovers and fence failures.</summary>
        public SessionStateStats Stats
        {
            get
            {
                if (store == null) throw new InvalidOperationException("the provider is not initialized");
                return store.Stats;
            }
        }

        /// <summary>The web.config attributes of the store's options (the names of Microsoft's provider where it has one)
        /// and the option each sets.</summary>
        private static readonly KeyValuePair<string, string>[] OptionAttributes =
        {
            new KeyValuePair<string, string>("databaseId", "database"),
            new KeyValuePair<string, string>("containerId", "container"),
            new KeyValuePair<string, string>("consistencyLevel", "consistency"),
            new KeyValuePair<string, string>("compressionEnabled", "compression"),
            new KeyValuePair<string, string>("xLockTtlSeconds", "lock_ttl"),
            new KeyValuePair<string, string>("renewFraction", "renew_fraction"),
            new KeyValuePair<string, string>("requestTimeoutSeconds", "request_timeout"),
            new KeyValuePair<string, string>("maxRetries", "max_retries"),
            new KeyValuePair<string, string>("operationTimeoutSeconds", "operation_timeout"),
            new KeyValuePair<string, string>("preferredRegions", "preferred_regions"),
            new KeyValuePair<string, string>("allowMultiWrite", "allow_multi_write"),
            new KeyValuePair<string, string>("createIfMissing", "create_if_missing"),
            new KeyValuePair<string, string>("authentication", "authentication"),
            new KeyValuePair<string, string>("managedIdentityClientId", "managed_identity_client_id"),
        };

        private static string Take(NameValueCollection settings, string key)
        {
            string value = settings[key];
            settings.Remove(key);
            return value;
        }

        private static bool ParseBool(string value, bool fallback, string what)
        {
            if (value == null) return fallback;
            bool result;
            if (!bool.TryParse(value, out result)) throw new ProviderException(what + " must be true or false");
            return result;
        }

        // Identifies a configuration without keeping the key text around.
        private static string Digest(string text)
        {
            using (var sha = SHA256.Create())
            {
                return Convert.ToBase64String(sha.ComputeHash(Encoding.UTF8.GetBytes(text)));
            }
        }

        // The native token-cookie hook, keyed from tokenCookieKey (base64) and its fallbacks, or from the machine key's
        // validation key; a secret shorter than 16 bytes fails here, at start-up.
        private static StateTokenCookie TokenCookieHook(string keyText, string fallbackText, string database, string container,
            bool secure)
        {
            var secrets = CookieSecrets.Read(keyText, fallbackText, "tokenCookieKey", "tokenCookieKeyFallbacks",
                "tokenCookie=\"true\" needs a key shared by every node: set tokenCookieKey (base64, 16+ bytes) or an explicit <machineKey validationKey>",
                m => new ProviderException(m));
            try
            {
                // The core's policy binds the seal to the store (database/container) and names the cookie.
                using (var policy = new CookiePolicy(CookieKind.StateToken, "aspnet", database, container, secrets, secure))
                {
                    return new StateTokenCookie(policy);
                }
            }
            catch (SessionTokenArgumentException e)
            {
                throw new ProviderException("tokenCookieKey: " + e.Message, e);
            }
        }

        /// <summary>Session expiry callbacks are not supported (Cosmos DB deletes expired items itself); returns false.</summary>
        public override bool SetItemExpireCallback(SessionStateItemExpireCallback expireCallback)
        {
            return false;
        }

        /// <summary>Presents the token carried by the request's sealed cookie (tokenCookie="true").</summary>
        public override void InitializeRequest(HttpContext context)
        {
            if (!tokenCookie || context == null) return;
            var sid = context.Request.Cookies[cookieName];
            var carried = context.Request.Cookies[TokenCookieName];
            // An id the store cannot use (too long, control characters) is no session: never an error per request.
            if (sid == null || carried == null || !SessionStateStore.IsValidSessionId(sid.Value)) return;
            tokenCookieHook.Begin(store, sid.Value, carried.Value);
        }

        /// <summary>Writes the session's Cosmos DB token back in the sealed cookie (tokenCookie="true") when it changed.</summary>
        public override void EndRequest(HttpContext context)
        {
            if (!tokenCookie || context == null) return;
            string sid = SessionIdOf(context);
            if (sid == null || !SessionStateStore.IsValidSessionId(sid)) return;
            var incoming = context.Request.Cookies[TokenCookieName];
            // The header as the native policy renders it (Secure, HttpOnly, SameSite=Lax): HttpCookie has no SameSite on
            // .NET Framework before 4.7.2, nor on Mono.
            string header = tokenCookieHook.Finish(store, sid, incoming == null ? null : incoming.Value);
            if (header != null) context.Response.AppendHeader("Set-Cookie", header);
        }

        private string SessionIdOf(HttpContext context)
        {
            return SessionCookie.IdOf(context, cookieName);
        }

        /// <summary>A new, empty session.</summary>
        public override SessionStateStoreData CreateNewStoreData(HttpContext context, int timeoutMinutes)
        {
            var statics = context == null ? new HttpStaticObjectsCollection() : SessionStateUtility.GetSessionStaticObjects(context);
            return new SessionStateStoreData(new SessionStateItemCollection(), statics, timeoutMinutes);
        }

        /// <summary>Creates an uninitialized session (cookieless sessions).</summary>
        public override void CreateUninitializedItem(HttpContext context, string id, int timeoutMinutes)
        {
            store.CreateUninitialized(id, timeoutOverride ?? TimeSpan.FromMinutes(timeoutMinutes));
        }

        /// <summary>Read-only access: the committed session, never waiting for the lock. The lock id handed back is 0,
        /// which releases nothing (Mono's module calls ReleaseItemExclusive with it).</summary>
        public override SessionStateStoreData GetItem(HttpContext context, string id, out bool locked, out TimeSpan lockAge,
            out object lockId, out SessionStateActions actions)
        {
            locked = false;
            lockAge = TimeSpan.Zero;
            lockId = 0L;
            actions = SessionStateActions.None;
            // Mono: a first cookieless request has no id yet; an id the store cannot use is no session.
            if (id == null || !SessionStateStore.IsValidSessionId(id)) return null;
            var entry = store.Get(id);
            if (entry == null) return null;
            if (entry.Uninitialized) actions = SessionStateActions.InitializeItem;
            return Deserialize(context, entry.Data);
        }

        /// <summary>Exclusive access: acquires the lock and returns the session, or reports the holder's lock id and
        /// its true age (the module then polls).</summary>
        public override SessionStateStoreData GetItemExclusive(HttpContext context, string id, out bool locked,
            out TimeSpan lockAge, out object lockId, out SessionStateActions actions)
        {
            locked = false;
            lockAge = TimeSpan.Zero;
            lockId = 0L;
            actions = SessionStateActions.None;
            if (id == null || !SessionStateStore.IsValidSessionId(id)) return null;
            var ex = store.GetExclusive(id);
            lockId = ex.LockId;
            if (ex.Locked)
            {
                locked = true;
                lockAge = ex.LockAge;
                Trace.TraceEvent(TraceEventType.Verbose, 0, "{0} is locked by {1} for {2}", SessionStateStore.Fingerprint(id), ex.LockId, ex.LockAge);
                return null;
            }
            if (ex.Entry == null) return null;
            if (ex.Entry.Uninitialized) actions = SessionStateActions.InitializeItem;
            return Deserialize(context, ex.Entry.Data);
        }

        private static long LockIdOf(object lockId)
        {
            if (lockId == null) return 0;
            try
            {
                return Convert.ToInt64(lockId);
            }
            catch (FormatException)
            {
                return 0;
            }
            catch (InvalidCastException)
            {
                return 0;
            }
        }

        /// <summary>Writes the session and releases its lock in one fenced operation; a lost lock throws
        /// <see cref="SessionStateLockLostException"/> and nothing is written.</summary>
        public override void SetAndReleaseItemExclusive(HttpContext context, string id, SessionStateStoreData item,
            object lockId, bool newItem)
        {
            if (item == null) throw new ArgumentNullException("item");
            byte[] data = Serialize(item);
            try
            {
                store.SetAndRelease(id, data, LockIdOf(lockId), newItem, timeoutOverride ?? TimeSpan.FromMinutes(item.Timeout));
            }
            catch (SessionStateLockLostException e)
            {
                Trace.TraceEvent(TraceEventType.Warning, 0, "{0}", e.Message); // the message names the fingerprint
                throw;
            }
        }

        /// <summary>Releases the lock; a foreign or zero lock id is a no-op, never a delete.</summary>
        public override void ReleaseItemExclusive(HttpContext context, string id, object lockId)
        {
            long l = LockIdOf(lockId);
            if (id == null || l == 0) return;
            store.Release(id, l);
        }

        /// <summary>Removes the session (<c>Session.Abandon()</c>) under its lock.</summary>
        public override void RemoveItem(HttpContext context, string id, object lockId, SessionStateStoreData item)
        {
            if (id == null || !SessionStateStore.IsValidSessionId(id)) return;
            long l = LockIdOf(lockId);
            if (l == 0)
            {
                // Abandoned from a read-only request: the native bounded-wait removal (it waits for a concurrent
                // request's lock instead of leaving the abandoned session alive).
                store.Delete(id, RemoveWait);
                return;
            }
            store.Remove(id, l);
        }

        /// <summary>Extends the session's life when the renewal is due (Mono calls it after every request; free when
        /// this node renewed it recently).</summary>
        public override void ResetItemTimeout(HttpContext context, string id)
        {
            if (id == null) return;
            store.ResetTimeout(id);
        }

        /// <summary>Nothing per request.</summary>
        public override void Dispose()
        {
        }

        // Format: timeout (minutes), then the items and the static objects with ASP.NET's own serializers.
        internal static byte[] Serialize(SessionStateStoreData item)
        {
            using (var stream = new MemoryStream())
            using (var writer = new BinaryWriter(stream))
            {
                writer.Write(item.Timeout);
                var items = item.Items as SessionStateItemCollection;
                writer.Write(items != null);
                if (items != null) items.Serialize(writer);
                // Count, not NeverAccessed: Mono's System.Web does not implement the latter.
                bool statics = item.StaticObjects != null && item.StaticObjects.Count > 0;
                writer.Write(statics);
                if (statics) item.StaticObjects.Serialize(writer);
                writer.Flush();
                return stream.ToArray();
            }
        }

        internal static SessionStateStoreData Deserialize(HttpContext context, byte[] data)
        {
            if (data == null || data.Length == 0)
            {
                var empty = context == null ? new HttpStaticObjectsCollection() : SessionStateUtility.GetSessionStaticObjects(context);
                return new SessionStateStoreData(new SessionStateItemCollection(), empty, 20);
            }
            using (var reader = new BinaryReader(new MemoryStream(data)))
            {
                int timeoutMinutes = reader.ReadInt32();
                var items = reader.ReadBoolean() ? SessionStateItemCollection.Deserialize(reader) : new SessionStateItemCollection();
                HttpStaticObjectsCollection statics;
                if (reader.ReadBoolean())
                {
                    statics = HttpStaticObjectsCollection.Deserialize(reader);
                }
                else
                {
                    statics = context == null ? new HttpStaticObjectsCollection() : SessionStateUtility.GetSessionStaticObjects(context);
                }
                return new SessionStateStoreData(items, statics, timeoutMinutes);
            }
        }
    }
}
