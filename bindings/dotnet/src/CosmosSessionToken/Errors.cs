using System;
using System.Collections.Generic;
using System.Runtime.Serialization;

namespace CosmosSessionToken
{
    /// <summary>
    /// Base class of every error of this library. <see cref="Kind"/> is the stable code of the library's error
    /// table (the same code C, Python and the CLI report, e.g. <c>not_a_number</c>, <c>region_mismatch</c>);
    /// the subclass is chosen by the code's category (the C status), never by message text.
    /// </summary>
    /// <example><code>
    /// try { SessionToken.Parse(header); }
    /// catch (CosmosSessionTokenException e) { log.Warn(e.Kind + ": " + e.Message); }
    /// </code></example>
    [Serializable]
    public class CosmosSessionTokenException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public CosmosSessionTokenException(string message, string kind) : base(message)
        {
            Kind = kind;
        }

        /// <summary>Serialization constructor.</summary>
        protected CosmosSessionTokenException(SerializationInfo info, StreamingContext context) : base(info, context)
        {
            Kind = info.GetString("Kind");
        }

        /// <summary>The stable code of the error table (named <c>code</c> on every surface).</summary>
        public string Code { get { return Kind; } }

        /// <summary>The stable code of the error table: the earlier name of <see cref="Code"/>.</summary>
        public string Kind { get; private set; }

        /// <inheritdoc/>
        public override void GetObjectData(SerializationInfo info, StreamingContext context)
        {
            base.GetObjectData(info, context);
            info.AddValue("Kind", Kind);
        }
    }

    /// <summary>A token or snapshot did not follow its grammar (categories malformed, invalid_utf8). The message
    /// names the segment, field, offending text and byte offset.</summary>
    [Serializable]
    public class SessionTokenFormatException : CosmosSessionTokenException
    {
        /// <summary>Creates the exception.</summary>
        public SessionTokenFormatException(string message, string kind, long segment, long offset) : base(message, kind)
        {
            Segment = segment < 0 ? (int?)null : (int)segment;
            Offset = offset < 0 ? (long?)null : offset;
        }

        /// <summary>Serialization constructor.</summary>
        protected SessionTokenFormatException(SerializationInfo info, StreamingContext context) : base(info, context) { }

        /// <summary>0-based index of the failing segment, when known.</summary>
        public int? Segment { get; private set; }

        /// <summary>Byte offset (in the UTF-8 input) of the offending text, when known.</summary>
        public long? Offset { get; private set; }
    }

    /// <summary>Tokens could not be merged: same version, different region sets, and the policy says error
    /// (category incompatible, kind <c>region_mismatch</c>).</summary>
    [Serializable]
    public class SessionTokenMergeException : CosmosSessionTokenException
    {
        /// <summary>Creates the exception.</summary>
        public SessionTokenMergeException(string message, string kind) : base(message, kind) { }

        /// <summary>Serialization constructor.</summary>
        protected SessionTokenMergeException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>An input broke a size limit: token size, segments, regions, range-id length, seal budget
    /// (category limit_exceeded).</summary>
    [Serializable]
    public class SessionTokenLimitException : CosmosSessionTokenException
    {
        /// <summary>Creates the exception.</summary>
        public SessionTokenLimitException(string message, string kind) : base(message, kind) { }

        /// <summary>Serialization constructor.</summary>
        protected SessionTokenLimitException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>A sealed token was refused: bad signature, unknown version, malformed envelope (category rejected).</summary>
    [Serializable]
    public class SessionTokenSealException : CosmosSessionTokenException
    {
        /// <summary>Creates the exception.</summary>
        public SessionTokenSealException(string message, string kind) : base(message, kind) { }

        /// <summary>Serialization constructor.</summary>
        protected SessionTokenSealException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>An argument was out of range: a weak or missing key, an invalid feed range, an unknown resource
    /// type, unknown flags (category invalid_argument).</summary>
    [Serializable]
    public class SessionTokenArgumentException : CosmosSessionTokenException
    {
        /// <summary>Creates the exception.</summary>
        public SessionTokenArgumentException(string message, string kind) : base(message, kind) { }

        /// <summary>Serialization constructor.</summary>
        protected SessionTokenArgumentException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>An internal error of the native library (a caught panic: a bug). The library stays usable.</summary>
    [Serializable]
    public class SessionTokenInternalException : CosmosSessionTokenException
    {
        /// <summary>Creates the exception.</summary>
        public SessionTokenInternalException(string message, string kind) : base(message, kind) { }

        /// <summary>Serialization constructor.</summary>
        protected SessionTokenInternalException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Session state: the caller's lock was taken over (it had expired) and nothing was written
    /// (category lock_lost, kind <c>lock_lost</c>).</summary>
    [Serializable]
    public class SessionStateLockLostException : CosmosSessionTokenException
    {
        /// <summary>Creates the exception.</summary>
        public SessionStateLockLostException(string message, string kind) : base(message, kind) { }

        /// <summary>Serialization constructor.</summary>
        protected SessionStateLockLostException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Session state: the store failed — unreachable, throttled past the retries, refused the request,
    /// or returned content that cannot be decoded (category store).</summary>
    [Serializable]
    public class SessionStateStoreException : CosmosSessionTokenException
    {
        /// <summary>Creates the exception.</summary>
        public SessionStateStoreException(string message, string kind) : base(message, kind) { }

        /// <summary>Serialization constructor.</summary>
        protected SessionStateStoreException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>The category (C status) → exception table. Keyed by status, never by message or kind text; the
    /// tests check it against the library's error table and the shared error vectors.</summary>
    internal static class ErrorTable
    {
        internal delegate Exception Factory(string message, string kind, long segment, long offset);

        internal static readonly Dictionary<int, Factory> ByStatus = new Dictionary<int, Factory>
        {
            { NativeMethods.CST_ERR_NULL_ARGUMENT, (m, k, s, o) => new ArgumentNullException(null, m) },
            { NativeMethods.CST_ERR_INVALID_UTF8, (m, k, s, o) => new SessionTokenFormatException(m, k, s, o) },
            { NativeMethods.CST_ERR_MALFORMED, (m, k, s, o) => new SessionTokenFormatException(m, k, s, o) },
            { NativeMethods.CST_ERR_INCOMPATIBLE, (m, k, s, o) => new SessionTokenMergeException(m, k) },
            { NativeMethods.CST_ERR_BUFFER_TOO_SMALL, (m, k, s, o) => new SessionTokenArgumentException(m, k) },
            { NativeMethods.CST_ERR_NOT_FOUND, (m, k, s, o) => new SessionTokenArgumentException(m, k) },
            { NativeMethods.CST_ERR_INVALID_ARGUMENT, (m, k, s, o) => new SessionTokenArgumentException(m, k) },
            { NativeMethods.CST_ERR_LIMIT_EXCEEDED, (m, k, s, o) => new SessionTokenLimitException(m, k) },
            { NativeMethods.CST_ERR_PANIC, (m, k, s, o) => new SessionTokenInternalException("Internal error in native library libcstoken: " + m, k) },
            { NativeMethods.CST_ERR_REJECTED, (m, k, s, o) => new SessionTokenSealException(m, k) },
            { NativeMethods.CST_ERR_LOCK_LOST, (m, k, s, o) => new SessionStateLockLostException(m, k) },
            { NativeMethods.CST_ERR_STORE, (m, k, s, o) => new SessionStateStoreException(m, k) },
        };
    }
}
