using System;
using System.Collections.Generic;

namespace CosmosSessionToken
{
    /// <summary>
    /// Sealed tokens: an HMAC-SHA256-signed, cookie-safe envelope (<c>cst1.&lt;token&gt;.&lt;mac&gt;</c>) for carrying a
    /// session token through untrusted hands (cookies, message properties). The context binds the envelope to its
    /// use (e.g. user id + container) so it cannot be replayed elsewhere; keys must be at least 16 bytes.
    /// </summary>
    public static class SessionTokenSeal
    {
        /// <summary>Default size budget of a sealed token (cookies hold about 4 KB).</summary>
        public const int DefaultMaxBytes = 4000;

        /// <summary>Seals <paramref name="token"/>. Throws <see cref="ArgumentException"/> for a weak key,
        /// <see cref="SessionTokenSealException"/> when over budget (scope the token first).</summary>
        public static string Seal(SessionToken token, byte[] key, string context = "", int maxBytes = DefaultMaxBytes)
        {
            if (token == null) throw new ArgumentNullException("token");
            if (key == null) throw new ArgumentNullException("key");
            Native.EnsureLoaded();
            byte[] tok = Native.Utf8(token.ToString(), "token");
            byte[] ctx = Native.Utf8(context ?? "", "context");
            return Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) => NativeMethods.cst_seal(
                tok, Native.Len(tok), key, Native.Len(key), ctx, Native.Len(ctx), new UIntPtr((uint)Math.Max(maxBytes, 1)), buf, cap, out len));
        }

        /// <summary>Checks a sealed token against any of <paramref name="keys"/> (the first seals; all are
        /// accepted, for rotation) and the context; returns the token. Throws <see cref="SessionTokenSealException"/>
        /// when it is tampered, signed with another key or for another context, malformed or too large.</summary>
        public static SessionToken Unseal(string sealedToken, IList<byte[]> keys, string context = "", int maxBytes = DefaultMaxBytes)
        {
            if (sealedToken == null) throw new ArgumentNullException("sealedToken");
            if (keys == null) throw new ArgumentNullException("keys");
            Native.EnsureLoaded();
            byte[] sealedBytes = Native.Utf8(sealedToken, "sealedToken");
            byte[] ctx = Native.Utf8(context ?? "", "context");
            string text;
            using (var k = new Utf8Strings(keys))
            {
                text = Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) => NativeMethods.cst_unseal(
                    sealedBytes, Native.Len(sealedBytes), k.Pointers, k.Lengths, k.Count, ctx, Native.Len(ctx),
                    new UIntPtr((uint)Math.Max(maxBytes, 1)), buf, cap, out len));
            }
            return SessionToken.Parse(text);
        }

        /// <summary>Like <see cref="Unseal"/> but false (and null) instead of an exception for a refused or
        /// malformed sealed token — what a web node does with an untrusted cookie.</summary>
        public static bool TryUnseal(string sealedToken, IList<byte[]> keys, string context, out SessionToken token)
        {
            token = null;
            if (sealedToken == null) return false;
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
        }
    }

    /// <summary>A sealed token was refused (bad signature, unknown version, malformed) or is over budget.</summary>
    [Serializable]
    public class SessionTokenSealException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public SessionTokenSealException(string message, string kind) : base(message)
        {
            Kind = kind;
        }

        /// <summary>Serialization constructor.</summary>
        protected SessionTokenSealException(System.Runtime.Serialization.SerializationInfo info, System.Runtime.Serialization.StreamingContext context)
            : base(info, context) { }

        /// <summary>Stable code: bad_signature, unknown_seal_version, malformed_seal, seal_too_large.</summary>
        public string Kind { get; private set; }
    }

    /// <summary>
    /// The session token in an HTTP cookie, sealed. Typical ASP.NET flow: in <c>BeginRequest</c>, read the cookie
    /// with <see cref="Read"/>; after a write, <see cref="Merge"/> the response's <c>SessionToken</c>; in
    /// <c>EndRequest</c>, write <see cref="CookieValue"/> back if it changed.
    /// </summary>
    public sealed class SessionTokenCookie
    {
        private readonly IList<byte[]> keys;
        private readonly string context;
        private readonly int maxBytes;

        /// <summary>The default cookie name.</summary>
        public const string DefaultName = "cosmos_session";

        /// <summary>Creates a helper for one request. <paramref name="keys"/>: the first seals, all are accepted.</summary>
        public SessionTokenCookie(IList<byte[]> keys, string context, int maxBytes = SessionTokenSeal.DefaultMaxBytes)
        {
            if (keys == null || keys.Count == 0) throw new ArgumentException("at least one key is needed", "keys");
            this.keys = keys;
            this.context = context ?? "";
            this.maxBytes = maxBytes;
        }

        /// <summary>The token carried by the request's cookie (null when absent, forged, tampered or foreign).</summary>
        public SessionToken Token { get; private set; }

        /// <summary>True when <see cref="Merge"/> changed the token since <see cref="Read"/>.</summary>
        public bool Changed { get; private set; }

        /// <summary>Reads the incoming cookie value (null or empty: no token). Untrusted input never throws.</summary>
        public void Read(string cookieValue)
        {
            SessionToken token;
            Token = SessionTokenSeal.TryUnseal(cookieValue, keys, context, out token) ? token : null;
            Changed = false;
        }

        /// <summary>Merges a write's token (e.g. <c>ResourceResponse.SessionToken</c>) into the carried one.</summary>
        public void Merge(string responseSessionToken)
        {
            var written = SessionToken.Parse(responseSessionToken);
            Token = Token == null ? written : Token.Merge(written, MergePolicy.UnionRegions);
            Changed = true;
        }

        /// <summary>The token to send for one partition key range (null: send none).</summary>
        public string ForRange(string pkRangeId, params string[] parents)
        {
            var scoped = Token == null ? null : Token.Scope(pkRangeId, parents);
            return scoped == null ? null : scoped.ToString();
        }

        /// <summary>The sealed cookie value to set on the response (null when there is no token).</summary>
        public string CookieValue
        {
            get { return Token == null ? null : SessionTokenSeal.Seal(Token, keys[0], context, maxBytes); }
        }
    }
}
