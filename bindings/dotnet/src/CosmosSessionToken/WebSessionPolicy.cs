using System;
using System.Collections.Generic;

namespace CosmosSessionToken
{
    /// <summary>
    /// The web-session policy of the native core, for framework adapters (the ASP.NET provider): how the token
    /// cookie's keys come from a framework secret and its rotation list, what its seal is bound to, and which
    /// attributes it is set with. The same rules as the Python adapters (Django, Flask, WSGI): one implementation.
    /// <see cref="CookiePolicy"/> puts them together for one cookie (its name, keys, binding, budget and attributes).
    /// </summary>
    /// <example>
    /// <code>
    /// byte[][] keys = WebSessionPolicy.DeriveCookieKeys(new[] { secret, previousSecret });
    /// string context = WebSessionPolicy.TokenCookieContext("aspnet", "web/SessionStore", sessionId);
    /// string header = WebSessionPolicy.TokenCookieHeader("my_cookie", sealedValue, null, true);
    /// </code>
    /// </example>
    public static class WebSessionPolicy
    {
        /// <summary>One seal key per secret (the first seals, all unseal): HMAC-SHA256 of a fixed label keyed
        /// with the secret. Throws <see cref="SessionTokenArgumentException"/> (kind weak_key) for a secret shorter than
        /// 16 bytes, so a weak configuration fails at start-up, not at the first request.</summary>
        public static byte[][] DeriveCookieKeys(IList<byte[]> secrets)
        {
            if (secrets == null) throw new ArgumentNullException("secrets");
            Native.EnsureLoaded();
            int size = KeyBytes();
            var output = new byte[Math.Max(size * secrets.Count, 1)];
            Derive(secrets, output);
            var keys = new byte[secrets.Count][];
            for (int i = 0; i < keys.Length; i++)
            {
                keys[i] = new byte[size];
                Buffer.BlockCopy(output, size * i, keys[i], 0, size);
            }
            return keys;
        }

        // The size of one derived key, the core's (HMAC-SHA256: 32 bytes).
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static int KeyBytes()
        {
            return (int)NativeMethods.cst_library_get_cookie_key_bytes().ToUInt32();
        }

        // The P/Invoke sits in a method of its own: Mono binds a method's P/Invokes when it compiles the method, so
        // one in DeriveCookieKeys itself would be bound before EnsureLoaded put the library next to a shadow copy.
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static void Derive(IList<byte[]> secrets, byte[] output)
        {
            using (var s = new Utf8Strings(secrets))
            {
                Native.Ensure(NativeMethods.cst_cookie_derive_keys(s.Pointers, s.Lengths, s.Count, output,
                    new UIntPtr((uint)output.Length)));
            }
        }

        /// <summary>The seal context of one session's token cookie: the framework, the application (its session
        /// store) and the session id, so an envelope moved to another session unseals to nothing.</summary>
        public static string TokenCookieContext(string framework, string app, string sessionId)
        {
            Native.EnsureLoaded();
            byte[] f = Native.Utf8(framework, "framework"), a = Native.Utf8(app, "app"), s = Native.Utf8(sessionId, "sessionId");
            return Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) => NativeMethods.cst_cookie_compute_context(
                f, Native.Len(f), a, Native.Len(a), s, Native.Len(s), buf, cap, out len));
        }

        /// <summary>The <c>Set-Cookie</c> value of a token cookie: <c>Path=/; HttpOnly; SameSite=Lax</c> and, unless
        /// <paramref name="secure"/> is false (plain-HTTP development only), <c>Secure</c>.</summary>
        public static string TokenCookieHeader(string name, string value, long? maxAgeSeconds, bool secure)
        {
            Native.EnsureLoaded();
            byte[] n = Native.Utf8(name, "name"), v = Native.Utf8(value, "value");
            long maxAge = maxAgeSeconds.HasValue ? Math.Max(0, maxAgeSeconds.Value) : -1;
            return Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) => NativeMethods.cst_cookie_compute_header(
                n, Native.Len(n), v, Native.Len(v), maxAge, secure, buf, cap, out len));
        }
    }
}
