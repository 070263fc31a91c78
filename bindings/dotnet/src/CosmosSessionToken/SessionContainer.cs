using System;
using System.Text;

namespace CosmosSessionToken
{
    /// <summary>
    /// Per-partition session tokens of many collections, for services that manage tokens themselves.
    /// Thread-safe: any number of threads may capture and resolve at once. Captures follow the SDKs'
    /// rule (2xx, 409, 412, 404 with sub-status other than 1002); a name that starts mapping to
    /// another resource id (container recreated) drops the old tokens; <see cref="Resolve"/> never
    /// returns the whole composite. <see cref="Snapshot"/>/<see cref="Restore"/> carry the state to
    /// another process. Disposing releases the native container early (the finalizer does otherwise).
    /// </summary>
    public sealed class SessionContainer : IDisposable
    {
        private readonly ContainerHandle handle;

        /// <summary>An empty container.</summary>
        public SessionContainer()
        {
            Native.EnsureLoaded();
            ContainerHandle h;
            Native.Ensure(NativeMethods.cst_container_new(out h));
            handle = h;
        }

        private ContainerHandle Handle
        {
            get
            {
                if (handle.IsClosed)
                {
                    throw new ObjectDisposedException("SessionContainer");
                }
                return handle;
            }
        }

        /// <summary>Records a response's token (e.g. <c>ResourceResponse.SessionToken</c>) when the capture rule
        /// allows it; returns whether it did. <paramref name="collectionName"/> is <c>dbs/{db}/colls/{coll}</c> (may be
        /// empty). A null or empty <paramref name="token"/> (the header was missing) and master requests
        /// (<paramref name="resourceType"/> <c>colls</c>, <c>dbs</c>, <c>pkranges</c>, ...) capture nothing.</summary>
        public bool Capture(string collectionName, string collectionRid, string token, int status, int subStatus,
            string resourceType = "docs")
        {
            byte[] name = Native.Utf8(collectionName ?? "", "collectionName");
            byte[] rid = Native.Utf8(collectionRid, "collectionRid");
            byte[] tok = Native.Utf8(token ?? "", "token");
            byte[] type = Native.Utf8(resourceType, "resourceType");
            byte captured;
            Native.Ensure(NativeMethods.cst_container_capture_response(
                Handle, type, Native.Len(type), name, Native.Len(name), rid, Native.Len(rid), tok, Native.Len(tok),
                status, subStatus, out captured));
            return captured != 0;
        }

        /// <summary>Forgets one range of a collection (e.g. one that routing says is gone after a split);
        /// returns whether it was stored.</summary>
        public bool ForgetRange(string collection, string rangeId)
        {
            byte[] coll = Native.Utf8(collection, "collection");
            byte[] range = Native.Utf8(rangeId, "rangeId");
            byte forgotten;
            Native.Ensure(NativeMethods.cst_container_forget_range(
                Handle, coll, Native.Len(coll), range, Native.Len(range), out forgotten));
            return forgotten != 0;
        }

        /// <summary>The token to send for one range of a collection (name or resource id): the exact range, else the
        /// merge of its known parents relabelled with <paramref name="rangeId"/>; null when nothing applies.</summary>
        public SessionToken Resolve(string collection, string rangeId, params string[] parents)
        {
            byte[] coll = Native.Utf8(collection, "collection");
            byte[] range = Native.Utf8(rangeId, "rangeId");
            TokenHandle result;
            int status;
            using (var p = new Utf8Strings(parents, "parents"))
            {
                status = NativeMethods.cst_container_resolve(
                    Handle, coll, Native.Len(coll), range, Native.Len(range), p.Pointers, p.Lengths, p.Count, out result);
            }
            return SessionToken.FromOptional(status, result);
        }

        /// <summary>The token to send for the item with partition key <paramref name="valueJson"/> (JSON) of a collection,
        /// given the container's routing map and its <c>partitionKey</c> definition (null: Hash V2): the range holding
        /// the item, through its parents; null when nothing applies.</summary>
        public SessionToken ResolveForPartitionKey(string collection, string valueJson, RoutingMap map, string definitionJson = null)
        {
            if (map == null) throw new ArgumentNullException("map");
            byte[] coll = Native.Utf8(collection, "collection");
            byte[] value = Native.Utf8(valueJson, "valueJson");
            byte[] def = definitionJson == null ? null : Native.Utf8(definitionJson, "definitionJson");
            TokenHandle result;
            int status = NativeMethods.cst_container_resolve_for_partition_key(Handle, coll, Native.Len(coll), value,
                Native.Len(value), def, def == null ? UIntPtr.Zero : Native.Len(def), map.Handle, out result);
            return SessionToken.FromOptional(status, result);
        }

        /// <summary>Every stored range of a collection as one composite token (null when none). Check its size
        /// before sending it: large composites make request headers too long.</summary>
        public SessionToken ResolveAll(string collection)
        {
            byte[] coll = Native.Utf8(collection, "collection");
            TokenHandle result;
            int status = NativeMethods.cst_container_resolve_all(Handle, coll, Native.Len(coll), out result);
            return SessionToken.FromOptional(status, result);
        }

        /// <summary>Forgets a collection's tokens (e.g. after deleting it); returns whether anything was stored.</summary>
        public bool Clear(string collection)
        {
            byte[] coll = Native.Utf8(collection, "collection");
            byte cleared;
            Native.Ensure(NativeMethods.cst_container_clear(Handle, coll, Native.Len(coll), out cleared));
            return cleared != 0;
        }

        /// <summary>The whole container as versioned JSON text, for another process or node.</summary>
        public string Snapshot()
        {
            ContainerHandle h = Handle;
            return Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) => NativeMethods.cst_container_snapshot(h, buf, cap, out len));
        }

        /// <summary>A new container holding a <see cref="Snapshot"/>. Throws <see cref="SessionTokenFormatException"/>
        /// for an invalid snapshot.</summary>
        public static SessionContainer Restore(string snapshot)
        {
            var c = new SessionContainer();
            c.Import(snapshot);
            return c;
        }

        /// <summary>Merges a <see cref="Snapshot"/> into this container (nothing changes if it is invalid).</summary>
        public void Import(string snapshot)
        {
            byte[] bytes = Native.Utf8(snapshot, "snapshot");
            Native.Ensure(NativeMethods.cst_container_restore(Handle, bytes, Native.Len(bytes)));
        }

        /// <summary>Releases the native container now; later calls throw <see cref="ObjectDisposedException"/>.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }
    }
}
