using System;
using System.Collections.Generic;

namespace CosmosSessionToken
{
    /// <summary>
    /// The token-cookie hook of one web application (the native state engine's <c>TokenCookie</c>, the same as the
    /// Django and Flask adapters use): <see cref="Begin"/> at the start of a request presents the token the session's
    /// sealed cookie carries; <see cref="Finish"/> at the end gives the <c>Set-Cookie</c> header value to send when
    /// the store's token for the session changed. Everything about the cookie is its <see cref="CookiePolicy"/>'s.
    /// Thread-safe.
    /// </summary>
    /// <example><code>
    /// var policy = new CookiePolicy(CookieKind.StateToken, "aspnet", "web", "SessionStore", new[] { secret });
    /// var hook = new StateTokenCookie(policy);
    /// hook.Begin(store, sessionId, Request.Cookies[hook.Name]?.Value);
    /// // ... the request ...
    /// string header = hook.Finish(store, sessionId, Request.Cookies[hook.Name]?.Value);
    /// if (header != null) Response.AppendHeader("Set-Cookie", header);
    /// </code></example>
    public sealed class StateTokenCookie : IDisposable
    {
        private readonly TokenCookieHandle handle;

        private readonly string name;

        /// <summary>The hook of a <see cref="CookieKind.StateToken"/> <paramref name="policy"/> (its name, the keys derived
        /// from the framework secrets, the seal bound to the framework, the store and the session id, <c>Max-Age</c>,
        /// <c>Secure</c>). Throws <see cref="SessionTokenArgumentException"/> for a policy of another kind.</summary>
        public StateTokenCookie(CookiePolicy policy)
        {
            if (policy == null) throw new ArgumentNullException("policy");
            Native.EnsureLoaded();
            handle = Create(policy);
            name = policy.Name;
        }

        /// <summary>The cookie's name (the same for every adapter).</summary>
        public string Name { get { return name; } }

        // The P/Invokes sit in methods of their own: Mono binds a method's P/Invokes when it compiles the method,
        // before EnsureLoaded could place the library (see WebSessionPolicy).
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static TokenCookieHandle Create(CookiePolicy policy)
        {
            TokenCookieHandle h;
            Native.Ensure(NativeMethods.cst_state_token_cookie_new_from_policy(policy.Handle, out h));
            return h;
        }

        /// <summary>Presents the token <paramref name="cookie"/> carries for session <paramref name="sid"/> to
        /// <paramref name="store"/>; returns whether one was presented (anything that does not unseal for this
        /// session is no token).</summary>
        public bool Begin(SessionStateStore store, string sid, string cookie)
        {
            if (store == null) throw new ArgumentNullException("store");
            byte[] id = Native.Utf8(sid, "sid"), c = Native.Utf8(cookie ?? "", "cookie");
            byte presented;
            Native.Ensure(NativeMethods.cst_state_token_cookie_begin(handle, store.Handle, id, Native.Len(id), c, Native.Len(c), out presented));
            return presented != 0;
        }

        /// <summary>The <c>Set-Cookie</c> header value for session <paramref name="sid"/> when the store's token is
        /// newer than what <paramref name="cookie"/> (the request's incoming token cookie) carried for it; null
        /// otherwise.</summary>
        public string Finish(SessionStateStore store, string sid, string cookie)
        {
            if (store == null) throw new ArgumentNullException("store");
            byte[] id = Native.Utf8(sid, "sid"), c = Native.Utf8(cookie ?? "", "cookie");
            string header;
            int status = Native.TryReadString((byte[] buf, UIntPtr cap, out UIntPtr len) => NativeMethods.cst_state_token_cookie_finish(
                handle, store.Handle, id, Native.Len(id), c, Native.Len(c), buf, cap, out len), out header);
            if (status == NativeMethods.CST_ERR_NOT_FOUND) return null; // the token did not change: no cookie
            Native.Ensure(status);
            return header;
        }

        /// <summary>Releases the native hook.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }
    }
}
