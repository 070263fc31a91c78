using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CosmosSessionToken
{
    /// <summary>
    /// An Azure Cosmos DB session token (the <c>x-ms-session-token</c> value, e.g. <c>0:1#100#1=20,1:-1#42</c>).
    /// Immutable and thread-safe. Equality is semantic: segment and region order are ignored and region
    /// sets are compared. Holds a native handle: the finalizer releases it, and <see cref="Dispose"/>
    /// releases it early.
    /// </summary>
    public sealed class SessionToken : IEquatable<SessionToken>, IDisposable
    {
        private readonly TokenHandle handle;
        private IReadOnlyList<SessionTokenSegment> segments;
        private string text;

        internal SessionToken(TokenHandle handle)
        {
            this.handle = handle;
        }

        internal TokenHandle Handle
        {
            get
            {
                if (handle.IsClosed)
                {
                    throw new ObjectDisposedException("SessionToken");
                }
                return handle;
            }
        }

        /// <summary>Parses a token (strictly unless <paramref name="lenient"/>). Throws <see cref="SessionTokenFormatException"/>.</summary>
        /// <example><code>var t = SessionToken.Parse(response.SessionToken);</code></example>
        public static SessionToken Parse(string s, bool lenient = false)
        {
            Native.EnsureLoaded();
            byte[] bytes = Native.Utf8(s, "s");
            TokenHandle h;
            int status = NativeMethods.cst_token_parse(bytes, Native.Len(bytes), lenient ? NativeMethods.CST_FLAG_LENIENT : 0u, out h);
            Native.Ensure(status);
            return new SessionToken(h);
        }

        /// <summary>Parses strictly; false (and null) instead of an exception when <paramref name="s"/> is not a valid token.</summary>
        public static bool TryParse(string s, out SessionToken token)
        {
            token = null;
            if (s == null)
            {
                return false;
            }
            Native.EnsureLoaded();
            byte[] bytes;
            try
            {
                bytes = Native.Utf8(s, "s");
            }
            catch (ArgumentException)
            {
                return false;
            }
            TokenHandle h;
            if (NativeMethods.cst_token_parse(bytes, Native.Len(bytes), 0u, out h) != NativeMethods.CST_OK)
            {
                h.Dispose();
                return false;
            }
            token = new SessionToken(h);
            return true;
        }

        /// <summary>The header value. A strictly valid token renders back exactly as it was parsed.</summary>
        public override string ToString()
        {
            string cached = text;
            if (cached != null)
            {
                return cached;
            }
            TokenHandle h = Handle;
            cached = Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) => NativeMethods.cst_token_to_string(h, buf, cap, out len));
            text = cached;
            return cached;
        }

        /// <summary>Every segment in simple form: <c>id:globalLsn</c>. Lossy: version and region progress are dropped.</summary>
        public SessionToken ToSimple() { return Convert(NativeMethods.CST_FORMAT_SIMPLE); }

        /// <summary>Every segment in vector form: simple <c>lsn</c> becomes <c>-2#lsn</c>.</summary>
        public SessionToken ToVector() { return Convert(NativeMethods.CST_FORMAT_VECTOR); }

        private SessionToken Convert(int format)
        {
            TokenHandle result;
            Native.Ensure(NativeMethods.cst_token_convert(Handle, format, out result));
            return new SessionToken(result);
        }

        /// <summary>The least token at least as new as both. Throws <see cref="SessionTokenMergeException"/> on a
        /// region-set mismatch unless <see cref="MergePolicy.UnionRegions"/>.</summary>
        public SessionToken Merge(SessionToken other, MergePolicy policy = MergePolicy.Default)
        {
            if (other == null)
            {
                throw new ArgumentNullException("other");
            }
            // The hot path without SafeHandle marshalling (measured: it costs more than the merge on
            // Mono): references are taken by hand, and the native call that creates the result runs
            // in a finally block, where a thread abort (ASP.NET's Response.End) waits, so the new
            // native token always reaches the handle that frees it.
            var refs = new HandleRefs(Handle, other.Handle);
            var result = new TokenHandle();
            int status = NativeMethods.CST_OK;
            RuntimeHelpers.PrepareConstrainedRegions();
            try
            {
                refs.Acquire();
            }
            finally
            {
                if (refs.Held)
                {
                    IntPtr raw;
                    status = NativeMethods.cst_token_merge_raw(refs.A, refs.B, (uint)policy, out raw);
                    result.Adopt(raw);
                }
                refs.Release();
            }
            if (status != NativeMethods.CST_OK)
            {
                result.Dispose();
                Native.Ensure(status);
            }
            return new SessionToken(result);
        }

        /// <summary>The header value of <c>Merge(other, policy)</c>, without creating a token (no native handle
        /// to create and release): for code that only sends the result on.</summary>
        /// <example><code>string header = stored.MergeToString(fromResponse);</code></example>
        public string MergeToString(SessionToken other, MergePolicy policy = MergePolicy.Default)
        {
            if (other == null)
            {
                throw new ArgumentNullException("other");
            }
            var refs = new HandleRefs(Handle, other.Handle);
            try
            {
                refs.Acquire();
                byte[] buf = MergeBuffer;
                UIntPtr len;
                int status = MergeToBuffer(refs, (uint)policy, buf, out len);
                if (status == NativeMethods.CST_ERR_BUFFER_TOO_SMALL)
                {
                    buf = new byte[checked((int)len.ToUInt64() + 1)];
                    status = MergeToBuffer(refs, (uint)policy, buf, out len);
                }
                Native.Ensure(status);
                return System.Text.Encoding.UTF8.GetString(buf, 0, checked((int)len.ToUInt64()));
            }
            finally
            {
                refs.Release();
            }
        }

        private static unsafe int MergeToBuffer(HandleRefs refs, uint flags, byte[] buf, out UIntPtr len)
        {
            fixed (byte* p = buf)
            {
                return NativeMethods.cst_token_merge_to_string(refs.A, refs.B, flags, p, new UIntPtr((uint)buf.Length), out len);
            }
        }

        /// <summary>One output buffer per thread for <see cref="MergeToString"/> (no allocation per call;
        /// a longer result uses a buffer of its own).</summary>
        [ThreadStatic] private static byte[] mergeBuffer;

        private static byte[] MergeBuffer { get { return mergeBuffer ?? (mergeBuffer = new byte[1024]); } }

        /// <summary>How <paramref name="a"/> relates to <paramref name="b"/>.</summary>
        public static SessionTokenOrder Compare(SessionToken a, SessionToken b)
        {
            if (a == null)
            {
                throw new ArgumentNullException("a");
            }
            if (b == null)
            {
                throw new ArgumentNullException("b");
            }
            int order;
            Native.Ensure(NativeMethods.cst_token_compare(a.Handle, b.Handle, out order));
            return (SessionTokenOrder)order;
        }

        /// <summary>True when this token is at least as new as <paramref name="other"/> everywhere.</summary>
        public bool IsAtLeastAsNewAs(SessionToken other)
        {
            SessionTokenOrder o = Compare(this, other);
            return o == SessionTokenOrder.Greater || o == SessionTokenOrder.Equal;
        }

        /// <summary>The token to send for one partition key range: the exact segment, else the merge of the
        /// present parents relabelled with <paramref name="rangeId"/> (after a split or a partition merge),
        /// else null.</summary>
        public SessionToken Scope(string rangeId, params string[] parents)
        {
            byte[] range = Native.Utf8(rangeId, "rangeId");
            TokenHandle result;
            int status;
            using (var p = new Utf8Strings(parents, "parents"))
            {
                status = NativeMethods.cst_token_scope(Handle, range, Native.Len(range), p.Pointers, p.Lengths, p.Count, out result);
            }
            return FromOptional(status, result);
        }

        /// <summary>
        /// The latest token covering <paramref name="targetFeedRange"/>, from (feed range, token) pairs collected by
        /// several clients or processes; null when no pair overlaps the target (a missing result, not an error).
        /// Feed ranges are <c>MIN-MAX</c> hex text (<c>""</c> = start, <c>FF</c> = end, e.g. <c>"AA-DD"</c>,
        /// <c>"-FF"</c>) or the SDK's JSON (<c>FeedRange.ToJsonString()</c>: <c>{"Range":{"min":"","max":"FF"}}</c>);
        /// tokens are parsed leniently. Splits (children that cover a parent and are newer) and merges (a newer
        /// enclosing range) are detected by the token order, and the result does not depend on the order of the
        /// pairs. Throws <see cref="SessionTokenArgumentException"/> for an invalid feed range,
        /// <see cref="SessionTokenFormatException"/> for a malformed token.
        /// </summary>
        public static SessionToken LatestForFeedRange(IEnumerable<KeyValuePair<string, string>> pairs, string targetFeedRange)
        {
            if (pairs == null)
            {
                throw new ArgumentNullException("pairs");
            }
            Native.EnsureLoaded();
            var list = new List<KeyValuePair<string, string>>(pairs);
            var ranges = new string[list.Count];
            var tokens = new string[list.Count];
            for (int i = 0; i < list.Count; i++)
            {
                ranges[i] = list[i].Key;
                tokens[i] = list[i].Value;
            }
            byte[] target = Native.Utf8(targetFeedRange, "targetFeedRange");
            using (var r = new Utf8Strings(ranges, "pairs"))
            using (var t = new Utf8Strings(tokens, "pairs"))
            {
                TokenHandle result;
                int status = NativeMethods.cst_token_find_latest_for_feed_range(
                    r.Pointers, r.Lengths, t.Pointers, t.Lengths, r.Count, target, Native.Len(target), out result);
                return FromOptional(status, result);
            }
        }

        /// <summary>Parses leniently and reports every normalisation as a <see cref="SessionTokenWarning"/>
        /// (stable <c>Code</c>, segment, byte offset, text). Throws <see cref="SessionTokenFormatException"/> for
        /// what even lenient parsing refuses.</summary>
        /// <example><code>
        /// var t = SessionToken.ParseLenient(" 0:1#007", out var warnings);   // warnings[1].Code == "leading_zero"
        /// </code></example>
        public static SessionToken ParseLenient(string s, out IReadOnlyList<SessionTokenWarning> warnings)
        {
            var token = Parse(s, lenient: true);
            UIntPtr count;
            Native.Ensure(NativeMethods.cst_token_get_warning_count(token.Handle, out count));
            var list = new List<SessionTokenWarning>();
            for (ulong i = 0; i < count.ToUInt64(); i++)
            {
                list.Add(ReadWarning(token.Handle, new UIntPtr(i)));
            }
            warnings = list;
            return token;
        }

        private static SessionTokenWarning ReadWarning(TokenHandle h, UIntPtr index)
        {
            var code = new byte[64];
            var message = new byte[512];
            UIntPtr codeLen, messageLen;
            long segment, offset;
            int status = NativeMethods.cst_token_get_warning(h, index, code, new UIntPtr((uint)code.Length), out codeLen,
                message, new UIntPtr((uint)message.Length), out messageLen, out segment, out offset);
            if (status == NativeMethods.CST_ERR_BUFFER_TOO_SMALL)
            {
                code = new byte[checked((int)codeLen.ToUInt64() + 1)];
                message = new byte[checked((int)messageLen.ToUInt64() + 1)];
                status = NativeMethods.cst_token_get_warning(h, index, code, new UIntPtr((uint)code.Length), out codeLen,
                    message, new UIntPtr((uint)message.Length), out messageLen, out segment, out offset);
            }
            Native.Ensure(status);
            return new SessionTokenWarning(
                System.Text.Encoding.UTF8.GetString(code, 0, (int)codeLen.ToUInt64()),
                System.Text.Encoding.UTF8.GetString(message, 0, (int)messageLen.ToUInt64()),
                segment < 0 ? (int?)null : (int)segment, offset);
        }

        /// <summary>The token to send for the item with partition key <paramref name="valueJson"/> (JSON, as for
        /// <see cref="PartitionKeys.EffectivePartitionKey"/>): the segment of the range holding it (or its parents'
        /// progress after a split or merge), or null. <paramref name="definitionJson"/> is the container's
        /// <c>partitionKey</c> property (null: Hash V2).</summary>
        public SessionToken ForPartitionKey(string valueJson, RoutingMap map, string definitionJson = null)
        {
            if (map == null) throw new ArgumentNullException("map");
            byte[] value = Native.Utf8(valueJson, "valueJson");
            byte[] def = definitionJson == null ? null : Native.Utf8(definitionJson, "definitionJson");
            TokenHandle result;
            int status = NativeMethods.cst_token_scope_to_partition_key(Handle, value, Native.Len(value), def,
                def == null ? UIntPtr.Zero : Native.Len(def), map.Handle, out result);
            return FromOptional(status, result);
        }

        /// <summary>Only the segments of the ranges <paramref name="feedRange"/> overlaps (<c>MIN-MAX</c> or the SDK's
        /// JSON), or null: the fix for 400/431 "request headers too long" on large containers.</summary>
        public SessionToken ForFeedRange(string feedRange, RoutingMap map)
        {
            if (map == null) throw new ArgumentNullException("map");
            byte[] fr = Native.Utf8(feedRange, "feedRange");
            TokenHandle result;
            int status = NativeMethods.cst_token_scope_to_feed_range(Handle, fr, Native.Len(fr), map.Handle, out result);
            return FromOptional(status, result);
        }

        /// <summary>Throws <see cref="SessionTokenLimitException"/> (kind <c>token_too_large</c>) when this token is longer
        /// than <paramref name="maxBytes"/>. A token is never cut: scope it with <see cref="ForPartitionKey"/> or
        /// <see cref="ForFeedRange"/> instead.</summary>
        public void CheckHeaderBudget(int maxBytes)
        {
            if (maxBytes < 0) throw new ArgumentOutOfRangeException("maxBytes");
            Native.Ensure(NativeMethods.cst_token_check_header_budget(Handle, new UIntPtr((uint)maxBytes)));
        }

        /// <summary>How this token relates to <paramref name="other"/>, and why: one line per piece of progress one lacks
        /// of the other (<c>"A lacks range 0: global LSN 90 &lt; 100 (10 behind)"</c>; A is this token).</summary>
        public SessionTokenOrder CompareExplained(SessionToken other, out string[] lacks)
        {
            if (other == null) throw new ArgumentNullException("other");
            int order = 0;
            string text = Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) =>
                NativeMethods.cst_token_compare_explain(Handle, other.Handle, out order, buf, cap, out len));
            lacks = text.Length == 0 ? new string[0] : text.Split('\n');
            return (SessionTokenOrder)order;
        }

        /// <summary>Wraps a handle from a call that may answer CST_ERR_NOT_FOUND (then null).</summary>
        internal static SessionToken FromOptional(int status, TokenHandle result)
        {
            if (status == NativeMethods.CST_ERR_NOT_FOUND)
            {
                result.Dispose();
                return null;
            }
            Native.Ensure(status);
            return new SessionToken(result);
        }

        /// <summary>The segments, in token order (read once from the native token, then cached).</summary>
        public IReadOnlyList<SessionTokenSegment> Segments
        {
            get
            {
                lock (handle) // private: nothing else locks it, and no extra object per token
                {
                    if (segments == null)
                    {
                        segments = ReadSegments();
                    }
                    return segments;
                }
            }
        }

        private IReadOnlyList<SessionTokenSegment> ReadSegments()
        {
            TokenHandle h = Handle;
            UIntPtr count;
            Native.Ensure(NativeMethods.cst_token_get_segment_count(h, out count));
            var list = new List<SessionTokenSegment>((int)count.ToUInt64());
            for (ulong i = 0; i < count.ToUInt64(); i++)
            {
                var index = new UIntPtr(i);
                string rangeId = Native.ReadString(
                    (byte[] buf, UIntPtr cap, out UIntPtr len) => NativeMethods.cst_token_get_segment_range_id(h, index, buf, cap, out len));
                int format;
                long version, globalLsn;
                UIntPtr regionCount;
                Native.Ensure(NativeMethods.cst_token_get_segment_info(h, index, out format, out version, out globalLsn, out regionCount));
                var regions = new List<RegionProgress>((int)regionCount.ToUInt64());
                for (ulong r = 0; r < regionCount.ToUInt64(); r++)
                {
                    uint id;
                    long lsn;
                    Native.Ensure(NativeMethods.cst_token_get_segment_region(h, index, new UIntPtr(r), out id, out lsn));
                    regions.Add(new RegionProgress(id, lsn));
                }
                bool simple = format == NativeMethods.CST_FORMAT_SIMPLE;
                string text = Native.ReadString(
                    (byte[] buf, UIntPtr cap, out UIntPtr len) => NativeMethods.cst_token_get_segment_text(h, index, buf, cap, out len));
                list.Add(new SessionTokenSegment(
                    rangeId, simple ? SessionTokenFormat.Simple : SessionTokenFormat.Vector,
                    simple ? (long?)null : version, globalLsn, regions.AsReadOnly(), text));
            }
            return list.AsReadOnly();
        }

        /// <summary>Semantic equality (<see cref="Compare"/> gives <see cref="SessionTokenOrder.Equal"/>).</summary>
        public bool Equals(SessionToken other)
        {
            if (ReferenceEquals(other, null))
            {
                return false;
            }
            return ReferenceEquals(this, other) || Compare(this, other) == SessionTokenOrder.Equal;
        }

        /// <inheritdoc/>
        public override bool Equals(object obj) { return Equals(obj as SessionToken); }

        /// <summary>A hash consistent with semantic equality.</summary>
        public override int GetHashCode()
        {
            ulong h;
            Native.Ensure(NativeMethods.cst_token_hash(Handle, out h));
            return (int)(h ^ (h >> 32));
        }

        /// <summary>Semantic equality.</summary>
        public static bool operator ==(SessionToken a, SessionToken b)
        {
            return ReferenceEquals(a, null) ? ReferenceEquals(b, null) : a.Equals(b);
        }

        /// <summary>Semantic inequality.</summary>
        public static bool operator !=(SessionToken a, SessionToken b) { return !(a == b); }

        /// <summary>Releases the native handle now; later calls throw <see cref="ObjectDisposedException"/>.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        /// <summary>Version of the loaded native library, e.g. "cosmos-session-token 0.1.0".</summary>
        public static string NativeVersion
        {
            get
            {
                Native.EnsureLoaded();
                return Native.Version();
            }
        }
    }
}
