using System;
using System.Collections.Generic;

namespace CosmosSessionToken
{
    /// <summary>How one token relates to another (values match CST_ORDER_* of the C ABI).</summary>
    public enum SessionTokenOrder
    {
        /// <summary>Strictly older: the other token is needed to read its writes.</summary>
        Less = 0,
        /// <summary>The same progress everywhere.</summary>
        Equal = 1,
        /// <summary>Strictly newer.</summary>
        Greater = 2,
        /// <summary>Each is ahead somewhere.</summary>
        Concurrent = 3,
    }

    /// <summary>The two value formats: simple (SDK v1, <c>globalLsn</c>) and vector (SDK v2+).</summary>
    public enum SessionTokenFormat
    {
        /// <summary><c>globalLsn</c> — Microsoft.Azure.DocumentDB 1.x.</summary>
        Simple = 0,
        /// <summary><c>version#globalLsn[#regionId=localLsn]*</c> — Microsoft.Azure.DocumentDB 2.x and later.</summary>
        Vector = 1,
    }

    /// <summary>How to merge. <see cref="Default"/>: region mismatch is an error, false-progress protection on
    /// (what the .NET, Java and Python SDKs do). Values match the CST_FLAG_* bits of the C ABI.</summary>
    [Flags]
    public enum MergePolicy
    {
        /// <summary>Same version with different region sets is an error; on a version change the higher
        /// version's global LSN wins (false-progress protection).</summary>
        Default = 0,
        /// <summary>Same version with different region sets: take the union of the regions.</summary>
        UnionRegions = 2,
        /// <summary>On a version change keep the max global LSN (turns false-progress protection off).</summary>
        LegacyMaxGlobalLsn = 4,
    }

    /// <summary>Progress of one satellite region: <c>regionId=localLsn</c>.</summary>
    public struct RegionProgress : IEquatable<RegionProgress>
    {
        /// <summary>Creates a region entry.</summary>
        public RegionProgress(uint id, long localLsn)
        {
            Id = id;
            LocalLsn = localLsn;
        }

        /// <summary>Service-assigned region id.</summary>
        public uint Id { get; private set; }

        /// <summary>Local LSN; -1 means no progress yet.</summary>
        public long LocalLsn { get; private set; }

        /// <summary>True when <see cref="LocalLsn"/> is -1.</summary>
        public bool IsNoProgress { get { return LocalLsn == -1; } }

        /// <inheritdoc/>
        public bool Equals(RegionProgress other) { return Id == other.Id && LocalLsn == other.LocalLsn; }

        /// <inheritdoc/>
        public override bool Equals(object obj) { return obj is RegionProgress && Equals((RegionProgress)obj); }

        /// <inheritdoc/>
        public override int GetHashCode() { return (int)Id * 397 ^ LocalLsn.GetHashCode(); }

        /// <summary><c>id=lsn</c>.</summary>
        public override string ToString() { return Id + "=" + LocalLsn; }
    }

    /// <summary>One <c>rangeId:value</c> segment of a token: the progress of one partition key range.</summary>
    public sealed class SessionTokenSegment
    {
        private readonly string text;

        internal SessionTokenSegment(string rangeId, SessionTokenFormat format, long? version, long globalLsn,
            IReadOnlyList<RegionProgress> regions, string text)
        {
            RangeId = rangeId;
            Format = format;
            Version = version;
            GlobalLsn = globalLsn;
            Regions = regions;
            this.text = text;
        }

        /// <summary>The partition key range id.</summary>
        public string RangeId { get; private set; }

        /// <summary>Simple or vector.</summary>
        public SessionTokenFormat Format { get; private set; }

        /// <summary>The configuration version; null for a simple value.</summary>
        public long? Version { get; private set; }

        /// <summary>Progress of the write (hub) region.</summary>
        public long GlobalLsn { get; private set; }

        /// <summary>Satellite-region progress, in token order (empty for a simple value).</summary>
        public IReadOnlyList<RegionProgress> Regions { get; private set; }

        /// <summary>The segment as header text, e.g. <c>0:1#100#1=20</c> (rendered by the native library).</summary>
        public override string ToString()
        {
            return text;
        }
    }

    /// <summary>One normalisation made by a lenient parse (<see cref="SessionToken.ParseLenient"/>).</summary>
    public sealed class SessionTokenWarning
    {
        internal SessionTokenWarning(string code, string message, int? segment, long offset)
        {
            Code = code;
            Message = message;
            Segment = segment;
            Offset = offset;
        }

        /// <summary>The stable warning code, e.g. <c>trimmed_whitespace</c>, <c>leading_zero</c>.</summary>
        public string Code { get; private set; }

        /// <summary>What was normalised, in words.</summary>
        public string Message { get; private set; }

        /// <summary>0-based index of the segment, or null when the warning is about the whole input.</summary>
        public int? Segment { get; private set; }

        /// <summary>Byte offset (in the UTF-8 input) of the normalised text.</summary>
        public long Offset { get; private set; }

        /// <summary>The message.</summary>
        public override string ToString() { return Message; }
    }
}
