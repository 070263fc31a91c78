using System;
using System.Runtime.InteropServices;

namespace CosmosSessionToken
{
    /// <summary>How a container hashes its partition key.</summary>
    public enum PartitionKeyKind
    {
        /// <summary>One path, hashed (version 1 or 2).</summary>
        Hash = 0,
        /// <summary>Hierarchical: 1 to 3 paths, each hashed (version 2).</summary>
        MultiHash = 1,
    }

    /// <summary>Effective partition keys: where the service places a partition key value (upper-case hex, as the
    /// <c>minInclusive</c>/<c>maxExclusive</c> bounds of <c>pkranges</c>).</summary>
    /// <example><code>
    /// string epk = PartitionKeys.EffectivePartitionKey("\"user-42\"");            // Hash V2
    /// string v1 = PartitionKeys.EffectivePartitionKey("\"user-42\"", PartitionKeyKind.Hash, 1);
    /// </code></example>
    public static class PartitionKeys
    {
        /// <summary>The effective partition key of <paramref name="valueJson"/> (the key as JSON: <c>"\"user-42\""</c>,
        /// <c>42</c>, <c>true</c>, <c>null</c>, <c>{}</c> for undefined, or a list of components for a hierarchical key).
        /// <paramref name="levels"/>: a MultiHash definition's number of paths (0: the number of components).</summary>
        public static string EffectivePartitionKey(string valueJson, PartitionKeyKind kind = PartitionKeyKind.Hash, int version = 2, int levels = 0)
        {
            Native.EnsureLoaded();
            byte[] value = Native.Utf8(valueJson, "valueJson");
            if (version < 0 || levels < 0) throw new ArgumentOutOfRangeException(version < 0 ? "version" : "levels");
            return Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) =>
                NativeMethods.cst_partition_key_compute_effective(value, Native.Len(value), (uint)kind, (uint)version, (uint)levels, buf, cap, out len));
        }
    }

    /// <summary>A container's partition-key ranges (the body of <c>GET dbs/{db}/colls/{coll}/pkranges</c>), checked to
    /// cover <c>""</c>..<c>FF</c> without gaps or overlaps. Immutable; usable from any thread.</summary>
    public sealed class RoutingMap : IDisposable
    {
        private readonly RoutingMapHandle handle;

        private RoutingMap(RoutingMapHandle handle)
        {
            this.handle = handle;
        }

        /// <summary>Parses the ranges: <c>{"PartitionKeyRanges":[{"id","minInclusive","maxExclusive","parents"}]}</c> or a
        /// bare list of those objects. A gap or overlap is a <see cref="SessionTokenFormatException"/> saying where.</summary>
        public static RoutingMap Parse(string json)
        {
            Native.EnsureLoaded();
            byte[] text = Native.Utf8(json, "json");
            RoutingMapHandle h;
            Native.Ensure(NativeMethods.cst_routing_map_parse(text, Native.Len(text), out h));
            return new RoutingMap(h);
        }

        /// <summary>The number of ranges.</summary>
        public int Count
        {
            get
            {
                UIntPtr n;
                Native.Ensure(NativeMethods.cst_routing_map_get_range_count(Handle, out n));
                return (int)n.ToUInt64();
            }
        }

        internal RoutingMapHandle Handle
        {
            get
            {
                if (handle.IsClosed) throw new ObjectDisposedException("RoutingMap");
                return handle;
            }
        }

        /// <summary>Releases the native map now.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }
    }

    /// <summary>Owns a native cst_routing_map.</summary>
    internal sealed class RoutingMapHandle : SafeHandle
    {
        public RoutingMapHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.cst_routing_map_free(handle);
            return true;
        }
    }
}
