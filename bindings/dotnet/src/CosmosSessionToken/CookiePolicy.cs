using System;
using System.Collections.Generic;

namespace CosmosSessionToken
{
    /// <summary>What a sealed web cookie carries (the core's <c>CookieKind</c>); each kind has one name,
    /// <c>cosmos_&lt;what&gt;</c>, the same in every adapter.</summary>
    public enum CookieKind
    {
        /// <summary>A Cosmos DB session token for the application's reads (<see cref="SessionCarrier"/>):
        /// <c>cosmos_token</c>.</summary>
        Token = 0,
        /// <summary>A session-state store's token (<see cref="StateTokenCookie"/>): <c>cosmos_state_token</c>.</summary>
        StateToken = 1,
        /// <summary>A user's SDK flow (<see cref="FlowCookies"/>): <c>cosmos_flow</c>.</summary>
        Flow = 2,
    }

    /// <summary>
    /// The core's one web-cookie policy (<c>cst_cookie_policy</c>): from the framework, the session store's database and
    /// container and the framework's secrets, the cookie's <see cref="Name"/> (and the <see cref="LegacyNames"/> still
    /// read), the keys derived from the secrets, the seal's binding (<see cref="Context"/>), the budget
    /// (<see cref="MaxBytes"/>), <c>Max-Age</c> and <c>Secure</c> (<see cref="Header"/>). The ASP.NET provider's token
    /// cookie (<see cref="StateTokenCookie"/>) and flow cookies (<see cref="FlowCookies"/>) are
    /// built from one, as the Django, Flask and WSGI adapters' are. Immutable; thread-safe.
    /// </summary>
    /// <example><code>
    /// using (var policy = new CookiePolicy(CookieKind.StateToken, "aspnet", "web", "SessionStore", new[] { secret }))
    /// using (var hook = new StateTokenCookie(policy))
    /// {
    ///     hook.Begin(store, sessionId, Request.Cookies[policy.Name]?.Value);
    /// }
    /// </code></example>
    public sealed class CookiePolicy : IDisposable
    {
        private readonly CookiePolicyHandle handle;

        /// <summary>The policy of a <paramref name="kind"/> cookie of <paramref name="framework"/> for the store
        /// <paramref name="database"/>/<paramref name="container"/> (a flow cookie's application is the flow's own), its
        /// keys derived from <paramref name="secrets"/> (the current one first, then the rotation list; each 16+ bytes),
        /// <c>Secure</c> unless <paramref name="secure"/> is false (plain-HTTP development only), <c>Max-Age</c>
        /// <paramref name="maxAge"/> (null: none), a budget of <paramref name="maxBytes"/> (0: the core's). Throws
        /// <see cref="SessionTokenArgumentException"/> (kinds <c>no_keys</c>, <c>weak_key</c>) at once, so a bad
        /// configuration fails at start-up.</summary>
        public CookiePolicy(CookieKind kind, string framework, string database, string container, IList<byte[]> secrets,
            bool secure = true, TimeSpan? maxAge = null, int maxBytes = 0)
        {
            if (secrets == null) throw new ArgumentNullException("secrets");
            if (maxBytes < 0) throw new ArgumentOutOfRangeException("maxBytes", "the budget is a number of bytes (0: the default)");
            Native.EnsureLoaded();
            handle = Create(kind, Native.Utf8(framework, "framework"), Native.Utf8(database ?? "", "database"),
                Native.Utf8(container ?? "", "container"), secrets, secure,
                maxAge.HasValue ? (long)maxAge.Value.TotalSeconds : -1, maxBytes);
            Kind = kind;
        }

        // The P/Invokes sit in methods of their own: Mono binds a method's P/Invokes when it compiles the method,
        // before EnsureLoaded could place the library (see WebSessionPolicy).
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static CookiePolicyHandle Create(CookieKind kind, byte[] framework, byte[] database, byte[] container,
            IList<byte[]> secrets, bool secure, long maxAge, int maxBytes)
        {
            using (var s = new Utf8Strings(secrets))
            {
                CookiePolicyHandle h;
                Native.Ensure(NativeMethods.cst_cookie_policy_new((uint)kind, framework, Native.Len(framework), database,
                    Native.Len(database), container, Native.Len(container), s.Pointers, s.Lengths, s.Count, secure, maxAge,
                    new UIntPtr((uint)maxBytes), out h));
                return h;
            }
        }

        internal CookiePolicyHandle Handle
        {
            get
            {
                if (handle.IsClosed) throw new ObjectDisposedException("CookiePolicy");
                return handle;
            }
        }

        /// <summary>What the cookie carries.</summary>
        public CookieKind Kind { get; private set; }

        /// <summary>The cookie's name.</summary>
        public string Name
        {
            get { return Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) => NativeMethods.cst_cookie_policy_get_name(Handle, buf, cap, out len)); }
        }

        /// <summary>Earlier names of the cookie, still read (never written) for one release: look the request's cookie
        /// up by <see cref="Name"/>, then by these (<see cref="Pick"/> does).</summary>
        public IList<string> LegacyNames
        {
            get
            {
                var names = new List<string>();
                for (uint i = 0; ; i++)
                {
                    string name;
                    uint index = i;
                    int status = Native.TryReadString((byte[] buf, UIntPtr cap, out UIntPtr len) =>
                        NativeMethods.cst_cookie_policy_get_legacy_name(Handle, new UIntPtr(index), buf, cap, out len), out name);
                    if (status == NativeMethods.CST_ERR_NOT_FOUND) return names;
                    Native.Ensure(status);
                    names.Add(name);
                }
            }
        }

        /// <summary>The budget of the sealed cookie text in bytes.</summary>
        public int MaxBytes
        {
            get
            {
                UIntPtr value;
                Native.Ensure(NativeMethods.cst_cookie_policy_get_max_bytes(Handle, out value));
                return (int)value.ToUInt32();
            }
        }

        /// <summary>The seal context of one session's (or user's) cookie: the framework, the application and
        /// <paramref name="sessionId"/>.</summary>
        public string Context(string sessionId)
        {
            byte[] s = Native.Utf8(sessionId, "sessionId");
            return Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) =>
                NativeMethods.cst_cookie_policy_compute_context(Handle, s, Native.Len(s), buf, cap, out len));
        }

        /// <summary>The <c>Set-Cookie</c> value that sets the cookie to <paramref name="value"/> (cookie-safe, as a
        /// sealed value is) with the policy's name, <c>Max-Age</c> and <c>Secure</c>.</summary>
        public string Header(string value)
        {
            byte[] v = Native.Utf8(value, "value");
            return Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) =>
                NativeMethods.cst_cookie_policy_compute_header(Handle, v, Native.Len(v), buf, cap, out len));
        }

        /// <summary>The cookie's value among a request's cookies (<paramref name="lookup"/> gives a cookie's value by
        /// name, null when absent): by <see cref="Name"/> first, then by the <see cref="LegacyNames"/>.</summary>
        public string Pick(Func<string, string> lookup)
        {
            if (lookup == null) throw new ArgumentNullException("lookup");
            string found = lookup(Name);
            if (found != null) return found;
            foreach (string legacy in LegacyNames)
            {
                found = lookup(legacy);
                if (found != null) return found;
            }
            return null;
        }

        /// <summary>Releases the native policy (what was built from it lives on).</summary>
        public void Dispose()
        {
            handle.Dispose();
        }
    }
}
