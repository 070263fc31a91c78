using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace CosmosSessionToken
{
    /// <summary>What became of the flow cookie a request brought (cst_cookie_verdict). Only
    /// <see cref="Accepted"/> restores progress; none of the others is an error.</summary>
    public enum CookieVerdict
    {
        /// <summary>Opened: the user's progress is restored.</summary>
        Accepted = 0,
        /// <summary>The request had no session (an empty context): nothing read, nothing written.</summary>
        NoSession = 1,
        /// <summary>No cookie.</summary>
        Missing = 2,
        /// <summary>Not a flow cookie (another format, cut, not base64url).</summary>
        Malformed = 3,
        /// <summary>Over the budget.</summary>
        TooLarge = 4,
        /// <summary>Sealed with a key this node does not hold (nodes configured with different keys).</summary>
        UnknownKey = 5,
        /// <summary>Sealed for another user or application.</summary>
        ForeignContext = 6,
        /// <summary>This node's key and this user, tampered with.</summary>
        Forged = 7,
        /// <summary>Genuine, but its progress cannot be read.</summary>
        Unreadable = 8,
        /// <summary>An older (cst1) sealed value that does not verify: another key, another user or tampered (that
        /// format cannot tell which; only carriers still read it, never a flow cookie).</summary>
        Unverified = 9,
    }

    /// <summary>What <see cref="FlowCookies.Seal(CookieFlow, string, out string)"/> did.</summary>
    public enum CookieSealOutcome
    {
        /// <summary>Nothing to write: the user's progress did not move (or the request had no session).</summary>
        Unchanged,
        /// <summary>A new cookie value: send it.</summary>
        Sealed,
        /// <summary>The progress no longer fits the cookie's budget: nothing written (the browser keeps its previous
        /// cookie); counted in <see cref="FlowCookieStats.OverBudget"/>.</summary>
        OverBudget,
    }

    /// <summary>Cookies met by verdict and written back since the node started (cst_flow_cookie_stats).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct FlowCookieStats
    {
        /// <summary>Cookies opened.</summary>
        public ulong Accepted;
        /// <summary>Requests without a session.</summary>
        public ulong NoSession;
        /// <summary>Requests without a cookie.</summary>
        public ulong Missing;
        /// <summary>Cookies that were not flow cookies.</summary>
        public ulong Malformed;
        /// <summary>Cookies over the budget.</summary>
        public ulong TooLarge;
        /// <summary>Cookies sealed with a key this node does not hold.</summary>
        public ulong UnknownKey;
        /// <summary>Cookies of another user or application.</summary>
        public ulong ForeignContext;
        /// <summary>Tampered cookies.</summary>
        public ulong Forged;
        /// <summary>Genuine cookies whose progress could not be read.</summary>
        public ulong Unreadable;
        /// <summary>Cookies written back (the progress moved).</summary>
        public ulong Sealed;
        /// <summary>Progress that no longer fit the budget.</summary>
        public ulong OverBudget;
    }

    /// <summary>
    /// A web node's flow cookies (the core's <c>FlowCookies</c>, the same policy as the Python WSGI, ASGI, Django and
    /// Flask adapters): each user's <see cref="SessionFlow"/> progress sealed in a cookie bound to the user, and the
    /// node's routing knowledge, learned from every user's traffic, shared by every user's flow. Per request:
    /// <see cref="Open"/> the user's cookie, make <see cref="CookieFlow.Flow"/> current
    /// (<see cref="SessionFlow.Activate"/>), and at the end <see cref="Seal(CookieFlow, string)"/> says what to write
    /// back — nothing when the progress did not move. A cookie that is not accepted is no progress, never an error;
    /// <see cref="CookieFlow.Verdict"/> says why and <see cref="Stats"/> counts it. One per node (per process);
    /// thread-safe.
    /// </summary>
    /// <example><code>
    /// var policy = new CookiePolicy(CookieKind.Flow, "aspnet", "", "", new[] { secret });
    /// var cookies = new FlowCookies(policy);
    /// using (CookieFlow user = cookies.Open(policy.Context(sessionId), Request.Cookies[policy.Name]?.Value))
    /// {
    ///     using (user.Flow.Activate()) { /* every request of the shared client goes through the user's flow */ }
    ///     string value = cookies.Seal(user);
    ///     if (value != null) Response.AppendHeader("Set-Cookie", policy.Header(value));
    /// }
    /// </code></example>
    public sealed class FlowCookies : IDisposable
    {
        private readonly FlowCookiesHandle handle;
        private readonly int budget;

        /// <summary>Flow cookies sealed with <paramref name="keys"/> (each at least 16 bytes; the first seals, all open,
        /// for rotation; derive them from a framework secret with <see cref="WebSessionPolicy.DeriveCookieKeys"/>) within
        /// <paramref name="maxBytes"/> of cookie text (0: the core's default budget). Throws <see cref="SessionTokenArgumentException"/>
        /// (kinds <c>no_keys</c>, <c>weak_key</c>) at once, so a bad configuration fails at start-up.</summary>
        public FlowCookies(IList<byte[]> keys, int maxBytes = 0)
        {
            if (keys == null) throw new ArgumentNullException("keys");
            if (maxBytes < 0) throw new ArgumentOutOfRangeException("maxBytes", "the budget is a number of bytes (0: the default)");
            Native.EnsureLoaded();
            handle = Create(keys, maxBytes);
            budget = Budget(handle);
        }

        /// <summary>Flow cookies from a <see cref="CookieKind.Flow"/> <paramref name="policy"/> (the core's: keys derived from
        /// the framework secrets, budget). Throws <see cref="SessionTokenArgumentException"/> for a policy of another
        /// kind.</summary>
        public FlowCookies(CookiePolicy policy)
        {
            if (policy == null) throw new ArgumentNullException("policy");
            Native.EnsureLoaded();
            handle = FromPolicy(policy);
            budget = Budget(handle);
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static FlowCookiesHandle FromPolicy(CookiePolicy policy)
        {
            FlowCookiesHandle h;
            Native.Ensure(NativeMethods.cst_flow_cookies_new_from_policy(policy.Handle, out h));
            return h;
        }

        // The budget the native cookies seal within (the core's default for 0).
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static int Budget(FlowCookiesHandle h)
        {
            UIntPtr value;
            Native.Ensure(NativeMethods.cst_flow_cookies_get_max_bytes(h, out value));
            return (int)value.ToUInt32();
        }

        // The P/Invoke sits in a method of its own: Mono binds a method's P/Invokes when it compiles the method, before
        // EnsureLoaded could place the library (see WebSessionPolicy).
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static FlowCookiesHandle Create(IList<byte[]> keys, int maxBytes)
        {
            using (var k = new Utf8Strings(keys))
            {
                FlowCookiesHandle h;
                Native.Ensure(NativeMethods.cst_flow_cookies_new(k.Pointers, k.Lengths, k.Count, new UIntPtr((uint)maxBytes), out h));
                return h;
            }
        }

        private FlowCookiesHandle Handle
        {
            get
            {
                if (handle.IsClosed) throw new ObjectDisposedException("FlowCookies");
                return handle;
            }
        }

        /// <summary>Opens the cookie a request brought (<paramref name="cookieValue"/> null or empty: none) for the user
        /// <paramref name="context"/> binds it to (e.g. <see cref="WebSessionPolicy.TokenCookieContext"/> of the session
        /// id; empty when the request has no session: nothing is read, and nothing will be written). Never throws for
        /// the cookie's content: a cookie that is not accepted is no progress (<see cref="CookieFlow.Verdict"/>).</summary>
        public CookieFlow Open(string context, string cookieValue)
        {
            byte[] c = Native.Utf8(context ?? "", "context");
            // Text with no UTF-8 form (a lone surrogate) is no flow cookie: the core counts it as malformed.
            byte[] v = cookieValue == null ? new byte[0] : (Native.TryUtf8(cookieValue) ?? new byte[] { (byte)'?' });
            CookieFlowHandle user;
            Native.Ensure(NativeMethods.cst_flow_cookies_open(Handle, c, Native.Len(c), v, Native.Len(v), out user));
            return new CookieFlow(user);
        }

        /// <summary>The cookie value to write back at the end of the request when the user's progress moved; null when
        /// there is nothing to write (unchanged, no session, or over the budget — see
        /// <see cref="Seal(CookieFlow, string, out string)"/>). <paramref name="contextNow"/>: the user's context at the
        /// end of the request when the request created or renewed the session (null: the one it was opened for).
        /// Render the header with <see cref="WebSessionPolicy.TokenCookieHeader"/>.</summary>
        public string Seal(CookieFlow user, string contextNow = null)
        {
            string value;
            Seal(user, contextNow, out value);
            return value;
        }

        /// <summary><see cref="Seal(CookieFlow, string)"/> that also says why nothing was written.</summary>
        public CookieSealOutcome Seal(CookieFlow user, string contextNow, out string value)
        {
            if (user == null) throw new ArgumentNullException("user");
            value = null;
            byte[] c = contextNow == null ? null : Native.Utf8(contextNow, "contextNow");
            UIntPtr cLen = c == null ? UIntPtr.Zero : Native.Len(c);
            // A buffer of the budget + 1: a call retried for a larger buffer would seal (and count) again.
            byte[] buf = new byte[budget + 1];
            UIntPtr len;
            int status = NativeMethods.cst_flow_cookies_seal(Handle, user.Handle, c, cLen, buf, new UIntPtr((uint)buf.Length), out len);
            if (status == NativeMethods.CST_ERR_BUFFER_TOO_SMALL)
            {
                buf = new byte[checked((int)len.ToUInt64() + 1)];
                status = NativeMethods.cst_flow_cookies_seal(Handle, user.Handle, c, cLen, buf, new UIntPtr((uint)buf.Length), out len);
            }
            if (status == NativeMethods.CST_ERR_NOT_FOUND) return CookieSealOutcome.Unchanged;
            if (status == NativeMethods.CST_ERR_LIMIT_EXCEEDED) return CookieSealOutcome.OverBudget;
            Native.Ensure(status);
            value = System.Text.Encoding.UTF8.GetString(buf, 0, checked((int)len.ToUInt64()));
            return CookieSealOutcome.Sealed;
        }

        /// <summary>Cookies met by verdict and written back since this node's flow cookies were created.</summary>
        public FlowCookieStats Stats
        {
            get
            {
                FlowCookieStats s;
                Native.Ensure(NativeMethods.cst_flow_cookies_get_stats(Handle, out s));
                return s;
            }
        }

        /// <summary>The flow counters of every user's requests on this node (requests, scoped, stepped aside, maps
        /// learned …).</summary>
        public SessionFlowStats NodeStats
        {
            get
            {
                FlowHandle h;
                Native.Ensure(NativeMethods.cst_flow_cookies_get_node_flow(Handle, out h));
                using (var node = new SessionFlow(h))
                {
                    return node.Stats;
                }
            }
        }

        /// <summary>A verdict's stable snake_case name (<c>accepted</c>, <c>unknown_key</c> …), the core's: safe to log,
        /// it says nothing of the cookie.</summary>
        public static string VerdictName(CookieVerdict verdict)
        {
            Native.EnsureLoaded();
            return NameOf(verdict);
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static string NameOf(CookieVerdict verdict)
        {
            IntPtr p = NativeMethods.cst_cookie_verdict_get_name((int)verdict);
            if (p == IntPtr.Zero) throw new ArgumentOutOfRangeException("verdict", "not a cookie verdict");
            return Marshal.PtrToStringAnsi(p); // ASCII snake_case
        }

        /// <summary>Releases the node's flow cookies (flows opened from them live on).</summary>
        public void Dispose()
        {
            handle.Dispose();
        }
    }

    /// <summary>One user's flow for one request, opened from the user's cookie (<see cref="FlowCookies.Open"/>).
    /// Dispose it at the end of the request, after <see cref="FlowCookies.Seal(CookieFlow, string)"/>.</summary>
    public sealed class CookieFlow : IDisposable
    {
        private readonly CookieFlowHandle handle;

        internal CookieFlow(CookieFlowHandle h)
        {
            handle = h;
            int verdict;
            Native.Ensure(NativeMethods.cst_cookie_flow_get_verdict(h, out verdict));
            Verdict = (CookieVerdict)verdict;
            FlowHandle f;
            Native.Ensure(NativeMethods.cst_cookie_flow_get_flow(h, out f));
            Flow = new SessionFlow(f);
        }

        /// <summary>The user's flow: the user's progress and the node's routing knowledge. Make it current while the
        /// request runs (<see cref="SessionFlow.Activate"/>) so a <see cref="SessionFlowHandler"/> built without a flow
        /// sends the user's progress.</summary>
        public SessionFlow Flow { get; private set; }

        /// <summary>What became of the cookie the request brought.</summary>
        public CookieVerdict Verdict { get; private set; }

        /// <summary>The verdict's stable name (<see cref="FlowCookies.VerdictName"/>), safe to log.</summary>
        public string VerdictName
        {
            get { return FlowCookies.VerdictName(Verdict); }
        }

        /// <summary>True when the request brought a cookie and it was not accepted (malformed, too large, an unknown
        /// key, another user's, forged, unreadable, unverified): worth a warning in a log, by its <see cref="VerdictName"/>.</summary>
        public bool Refused
        {
            get { return Verdict != CookieVerdict.Accepted && Verdict != CookieVerdict.NoSession && Verdict != CookieVerdict.Missing; }
        }

        internal CookieFlowHandle Handle
        {
            get
            {
                if (handle.IsClosed) throw new ObjectDisposedException("CookieFlow");
                return handle;
            }
        }

        /// <summary>Releases the cookie flow and its <see cref="Flow"/>.</summary>
        public void Dispose()
        {
            Flow.Dispose();
            handle.Dispose();
        }
    }
}
