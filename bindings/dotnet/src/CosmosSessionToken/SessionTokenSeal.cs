using System;
using System.Collections.Generic;

namespace CosmosSessionToken
{
    /// <summary>
    /// Sealed tokens: an HMAC-SHA256-signed, cookie-safe envelope (<c>cst1.&lt;token&gt;.&lt;mac&gt;</c>) for carrying a
    /// session token through untrusted hands (cookies, message properties). The context binds the envelope to its
    /// use (e.g. user id + container) so it cannot be replayed elsewhere; keys must be at least 16 bytes.
    /// <c>maxBytes</c> is the budget of the sealed text in both directions (0: the core's default budget).
    /// </summary>
    public static class SessionTokenSeal
    {
        /// <summary>Seals <paramref name="token"/>. Throws <see cref="SessionTokenArgumentException"/> for a weak key,
        /// <see cref="SessionTokenLimitException"/> when over budget (scope the token first).</summary>
        public static string Seal(SessionToken token, byte[] key, string context = "", int maxBytes = 0)
        {
            if (token == null) throw new ArgumentNullException("token");
            if (key == null) throw new ArgumentNullException("key");
            Native.EnsureLoaded();
            byte[] ctx = Native.Utf8(context ?? "", "context");
            return Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) => NativeMethods.cst_token_seal(
                token.Handle, key, Native.Len(key), ctx, Native.Len(ctx), Budget(maxBytes), buf, cap, out len));
        }

        /// <summary>Checks a sealed token against any of <paramref name="keys"/> (the first seals; all are
        /// accepted, for rotation) and the context; returns the token. Throws <see cref="SessionTokenSealException"/>
        /// when it is tampered, signed with another key or for another context, or malformed;
        /// <see cref="SessionTokenLimitException"/> when over budget.</summary>
        public static SessionToken Unseal(string sealedToken, IList<byte[]> keys, string context = "", int maxBytes = 0)
        {
            if (sealedToken == null) throw new ArgumentNullException("sealedToken");
            if (keys == null) throw new ArgumentNullException("keys");
            Native.EnsureLoaded();
            byte[] sealedBytes = Native.Utf8(sealedToken, "sealedToken");
            byte[] ctx = Native.Utf8(context ?? "", "context");
            using (var k = new Utf8Strings(keys))
            {
                TokenHandle result;
                Native.Ensure(NativeMethods.cst_token_unseal(sealedBytes, Native.Len(sealedBytes), k.Pointers, k.Lengths,
                    k.Count, ctx, Native.Len(ctx), Budget(maxBytes), out result));
                return new SessionToken(result);
            }
        }

        /// <summary>Like <see cref="Unseal"/> but false (and null) instead of an exception for a refused,
        /// malformed or oversize sealed token — what a web node does with an untrusted cookie.</summary>
        public static bool TryUnseal(string sealedToken, IList<byte[]> keys, string context, out SessionToken token)
        {
            token = null;
            // Untrusted text with no UTF-8 form (a lone surrogate) cannot be a sealed value.
            if (Native.TryUtf8(sealedToken) == null) return false;
            try
            {
                token = Unseal(sealedToken, keys, context);
                return true;
            }
            catch (SessionTokenSealException)
            {
                return false;
            }
            catch (SessionTokenFormatException)
            {
                return false;
            }
            catch (SessionTokenLimitException)
            {
                return false;
            }
        }

        internal static UIntPtr Budget(int maxBytes)
        {
            return new UIntPtr((uint)Math.Max(maxBytes, 0));
        }
    }

    /// <summary>
    /// The session token in an HTTP cookie, sealed: an adapter over the library's session carrier, whose policy
    /// (union merge of reports, the first key seals and all are accepted, anything that does not unseal is no
    /// token, the budget of the sealed text) is the same on every surface. Typical ASP.NET flow: in
    /// <c>BeginRequest</c>, <see cref="Read"/> the cookie; after a write, <see cref="Merge(string)"/> the response's
    /// <c>SessionToken</c>; in <c>EndRequest</c>, if <see cref="Changed"/>, write <see cref="CookieValue"/> back.
    /// </summary>
    /// <example><code>
    /// var cookie = new SessionCarrier(keys, userId);
    /// cookie.Read(Request.Cookies[SessionCarrier.DefaultName]?.Value);
    /// var options = new RequestOptions { SessionToken = cookie.ForRange(pkRangeId) };
    /// </code></example>
    public sealed class SessionCarrier : IDisposable
    {
        private readonly CarrierHandle handle;

        /// <summary>The default cookie name (<c>cosmos_token</c>, from the library; <c>cosmos_session</c> before, still to be
        /// read for one release: <see cref="CookiePolicy.Pick"/> of a <see cref="CookieKind.Token"/> policy does).</summary>
        public static string DefaultName
        {
            get
            {
                Native.EnsureLoaded();
                return Native.ReadString(NativeMethods.cst_carrier_get_cookie_name);
            }
        }

        /// <summary>Creates a helper for one request. <paramref name="keys"/>: the first seals, all are accepted.
        /// Throws <see cref="SessionTokenArgumentException"/> for no keys or a key shorter than 16 bytes.</summary>
        public SessionCarrier(IList<byte[]> keys, string context, int maxBytes = 0)
        {
            if (keys == null) throw new ArgumentNullException("keys");
            Native.EnsureLoaded();
            byte[] ctx = Native.Utf8(context ?? "", "context");
            using (var k = new Utf8Strings(keys))
            {
                Native.Ensure(NativeMethods.cst_carrier_new(k.Pointers, k.Lengths, k.Count, ctx, Native.Len(ctx),
                    SessionTokenSeal.Budget(maxBytes), out handle));
            }
        }

        private CarrierHandle Handle
        {
            get
            {
                if (handle.IsClosed) throw new ObjectDisposedException("SessionCarrier");
                return handle;
            }
        }

        /// <summary>The carried token (null when absent, forged, tampered or foreign).</summary>
        public SessionToken Token
        {
            get
            {
                TokenHandle result;
                return SessionToken.FromOptional(NativeMethods.cst_carrier_get_token(Handle, out result), result);
            }
        }

        /// <summary>True when <see cref="Merge(string)"/> changed the token since <see cref="Read"/>.</summary>
        public bool Changed
        {
            get
            {
                byte changed;
                Native.Ensure(NativeMethods.cst_carrier_get_changed(Handle, out changed));
                return changed != 0;
            }
        }

        /// <summary>Reads the incoming cookie value (null or empty: no token). Untrusted input never throws.</summary>
        public void Read(string cookieValue)
        {
            // A value with no UTF-8 form (a lone surrogate) is no token, like any other unreadable cookie.
            byte[] value = Native.TryUtf8(cookieValue) ?? new byte[0];
            byte accepted;
            Native.Ensure(NativeMethods.cst_carrier_read(Handle, value, Native.Len(value), out accepted));
        }

        /// <summary>Merges a write's token (e.g. <c>ResourceResponse.SessionToken</c>) into the carried one; a null or
        /// empty value (no header) changes nothing. Throws <see cref="SessionTokenFormatException"/> for a malformed one.</summary>
        public void Merge(string responseSessionToken)
        {
            byte[] value = Native.Utf8(responseSessionToken ?? "", "responseSessionToken");
            byte reported;
            Native.Ensure(NativeMethods.cst_carrier_report(Handle, value, Native.Len(value), out reported));
        }

        /// <summary>Merges a parsed token into the carried one.</summary>
        public void Merge(SessionToken written)
        {
            if (written == null) throw new ArgumentNullException("written");
            Native.Ensure(NativeMethods.cst_carrier_report_token(Handle, written.Handle));
        }

        /// <summary>The token to send for one partition key range (null: send none).</summary>
        public string ForRange(string pkRangeId, params string[] parents)
        {
            byte[] range = Native.Utf8(pkRangeId, "pkRangeId");
            using (var p = new Utf8Strings(parents, "parents"))
            {
                TokenHandle result;
                int status = NativeMethods.cst_carrier_scope(Handle, range, Native.Len(range), p.Pointers, p.Lengths,
                    p.Count, out result);
                var scoped = SessionToken.FromOptional(status, result);
                return scoped == null ? null : scoped.ToString();
            }
        }

        /// <summary>The sealed cookie value to set on the response (null when there is no token). Throws
        /// <see cref="SessionTokenLimitException"/> over the budget (scope the token).</summary>
        public string CookieValue
        {
            get
            {
                string value;
                int status = Native.TryReadString((byte[] buf, UIntPtr cap, out UIntPtr len) =>
                    NativeMethods.cst_carrier_seal(Handle, buf, cap, out len), out value);
                if (status == NativeMethods.CST_ERR_NOT_FOUND) return null;
                Native.Ensure(status);
                return value;
            }
        }

        /// <summary>Releases the native carrier now.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }
    }

    /// <summary>The earlier name of <see cref="SessionCarrier"/> (the carrier is named <c>SessionCarrier</c> on every
    /// surface); kept for one release.</summary>
    [Obsolete("renamed SessionCarrier")]
    public sealed class SessionTokenCookie : IDisposable
    {
        private readonly SessionCarrier inner;

        /// <summary>See <see cref="SessionCarrier.DefaultName"/>.</summary>
        public static string DefaultName { get { return SessionCarrier.DefaultName; } }

        /// <summary>See <see cref="SessionCarrier"/>'s constructor.</summary>
        public SessionTokenCookie(IList<byte[]> keys, string context, int maxBytes = 0)
        {
            inner = new SessionCarrier(keys, context, maxBytes);
        }

        /// <summary>See <see cref="SessionCarrier.Token"/>.</summary>
        public SessionToken Token { get { return inner.Token; } }

        /// <summary>See <see cref="SessionCarrier.Changed"/>.</summary>
        public bool Changed { get { return inner.Changed; } }

        /// <summary>See <see cref="SessionCarrier.Read"/>.</summary>
        public void Read(string cookieValue) { inner.Read(cookieValue); }

        /// <summary>See <see cref="SessionCarrier.Merge(string)"/>.</summary>
        public void Merge(string responseSessionToken) { inner.Merge(responseSessionToken); }

        /// <summary>See <see cref="SessionCarrier.Merge(SessionToken)"/>.</summary>
        public void Merge(SessionToken written) { inner.Merge(written); }

        /// <summary>See <see cref="SessionCarrier.ForRange"/>.</summary>
        public string ForRange(string pkRangeId, params string[] parents) { return inner.ForRange(pkRangeId, parents); }

        /// <summary>See <see cref="SessionCarrier.CookieValue"/>.</summary>
        public string CookieValue { get { return inner.CookieValue; } }

        /// <summary>See <see cref="SessionCarrier.Dispose"/>.</summary>
        public void Dispose() { inner.Dispose(); }
    }
}
