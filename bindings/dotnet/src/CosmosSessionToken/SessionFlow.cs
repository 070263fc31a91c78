using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;

namespace CosmosSessionToken
{
    /// <summary>What a <see cref="SessionFlow"/> has done (cst_flow_stats).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SessionFlowStats
    {
        /// <summary>Requests seen.</summary>
        public ulong Requests;
        /// <summary>Requests sent a token scoped to the ranges they go to.</summary>
        public ulong Scoped;
        /// <summary>Requests sent the collection's composite (no routing knowledge, within 1 KiB).</summary>
        public ulong Composite;
        /// <summary>Requests whose header was left as the SDK set it.</summary>
        public ulong Left;
        /// <summary>Requests and responses stepped aside for (malformed input from the wire).</summary>
        public ulong SteppedAside;
        /// <summary>Responses whose token was captured.</summary>
        public ulong Captured;
        /// <summary>Partition-key definitions learned from <c>GET …/colls/{coll}</c>.</summary>
        public ulong DefinitionsLearned;
        /// <summary>Routing maps learned from <c>GET …/pkranges</c>.</summary>
        public ulong MapsLearned;
        /// <summary>Routing maps forgotten after a 410.</summary>
        public ulong MapsForgotten;
    }

    /// <summary>
    /// Read-your-writes carried by an SDK's HTTP traffic (the core's <c>SessionFlow</c>): after each response it
    /// captures the session token by the SDKs' rules and learns each container's partition-key definition and
    /// routing map from the SDK's own metadata reads; before each request to data it sends the merge of the SDK's
    /// token and its own progress, scoped to the range the request goes to. Hook it into an SDK's HTTP pipeline with
    /// <see cref="SessionFlowHandler"/>; carry it to another process with <see cref="Snapshot"/> /
    /// <see cref="Restore"/>. Thread-safe. Disposing releases the native flow early (the finalizer does otherwise).
    /// </summary>
    public sealed class SessionFlow : IDisposable
    {
        private static readonly AsyncLocal<SessionFlow> current = new AsyncLocal<SessionFlow>();
        private readonly FlowHandle handle;

        /// <summary>An empty flow.</summary>
        public SessionFlow()
        {
            Native.EnsureLoaded();
            FlowHandle h;
            Native.Ensure(NativeMethods.cst_flow_new(out h));
            handle = h;
        }

        internal SessionFlow(FlowHandle h)
        {
            handle = h;
        }

        /// <summary>A flow from <see cref="Snapshot"/> text; anything else throws the library's typed exceptions
        /// (kinds <c>invalid_snapshot</c>, <c>snapshot_too_large</c>).</summary>
        public static SessionFlow Restore(string snapshot)
        {
            Native.EnsureLoaded();
            byte[] text = Native.Utf8(snapshot, "snapshot");
            FlowHandle h;
            Native.Ensure(NativeMethods.cst_flow_restore(text, Native.Len(text), out h));
            return new SessionFlow(h);
        }

        /// <summary>The flow of the current asynchronous context (set by <see cref="Activate"/>), or null: what a
        /// <see cref="SessionFlowHandler"/> built without a flow uses, so one <c>HttpClient</c> serves every user.</summary>
        public static SessionFlow Current
        {
            get { return current.Value; }
        }

        /// <summary>Makes this flow <see cref="Current"/> until the returned object is disposed (an ASP.NET request:
        /// activate the user's flow at its start).</summary>
        public IDisposable Activate()
        {
            var previous = current.Value;
            current.Value = this;
            return new Restorer(previous);
        }

        private sealed class Restorer : IDisposable
        {
            private readonly SessionFlow previous;

            internal Restorer(SessionFlow previous)
            {
                this.previous = previous;
            }

            public void Dispose()
            {
                current.Value = previous;
            }
        }

        private FlowHandle Handle
        {
            get
            {
                if (handle.IsClosed) throw new ObjectDisposedException("SessionFlow");
                return handle;
            }
        }

        /// <summary>The flow as compact, versioned JSON text (its progress and each container's partitioning).</summary>
        public string Snapshot()
        {
            FlowHandle h = Handle;
            return Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) => NativeMethods.cst_flow_snapshot(h, buf, cap, out len));
        }

        /// <summary>Merges another flow's snapshot into this one (progress is merged, never lost).</summary>
        public void MergeSnapshot(string snapshot)
        {
            byte[] text = Native.Utf8(snapshot, "snapshot");
            Native.Ensure(NativeMethods.cst_flow_merge_snapshot(Handle, text, Native.Len(text)));
        }

        /// <summary>What the flow has done so far.</summary>
        public SessionFlowStats Stats
        {
            get
            {
                SessionFlowStats s;
                Native.Ensure(NativeMethods.cst_flow_get_stats(Handle, out s));
                return s;
            }
        }

        /// <summary>The token to send with a request (its method, URL path and headers), or null to leave the
        /// request's <c>x-ms-session-token</c> as it is. Malformed input never throws: the flow steps aside.</summary>
        public string TokenForRequest(string method, string path, IEnumerable<KeyValuePair<string, string>> headers)
        {
            byte[] m = Native.Utf8(method, "method");
            byte[] p = Native.Utf8(path, "path");
            using (var block = new HeaderBlock(headers))
            {
                TokenHandle token;
                int status = NativeMethods.cst_flow_run_before_request(Handle, m, Native.Len(m), p, Native.Len(p),
                    block.Headers, block.Count, out token);
                if (status == NativeMethods.CST_ERR_NOT_FOUND)
                {
                    token.Dispose();
                    return null;
                }
                Native.Ensure(status);
                using (var t = new SessionToken(token))
                {
                    return t.ToString();
                }
            }
        }

        /// <summary>Whether <see cref="OnResponse"/> reads this request's response body (account, collection and
        /// partition-key-range reads): a handler buffers the body only then.</summary>
        public bool WantsBody(string method, string path)
        {
            byte[] m = Native.Utf8(method, "method");
            byte[] p = Native.Utf8(path, "path");
            byte wants;
            Native.Ensure(NativeMethods.cst_flow_get_wants_body(Handle, m, Native.Len(m), p, Native.Len(p), out wants));
            return wants != 0;
        }

        /// <summary>Takes a response: its status, headers and (when <see cref="WantsBody"/> said so) its body.
        /// Malformed input from the wire is counted in <see cref="Stats"/>, never thrown.</summary>
        public void OnResponse(string method, string path, int status, IEnumerable<KeyValuePair<string, string>> headers,
            byte[] body)
        {
            byte[] m = Native.Utf8(method, "method");
            byte[] p = Native.Utf8(path, "path");
            using (var block = new HeaderBlock(headers))
            {
                Native.Ensure(NativeMethods.cst_flow_run_after_response(Handle, m, Native.Len(m), p, Native.Len(p), status,
                    block.Headers, block.Count, body, body == null ? UIntPtr.Zero : Native.Len(body)));
            }
        }

        /// <summary>For direct mode (no HTTP pipeline to hook): the token to pass as <c>RequestOptions.SessionToken</c>
        /// for a point operation on <paramref name="collectionLink"/> (<c>dbs/{db}/colls/{coll}</c>) with the partition
        /// key as JSON (<c>["user-42"]</c>); null when the flow has nothing for it.</summary>
        public string TokenFor(string collectionLink, string partitionKeyJson)
        {
            var headers = new[] { new KeyValuePair<string, string>("x-ms-documentdb-partitionkey", partitionKeyJson) };
            return TokenForRequest("GET", collectionLink + "/docs/_", headers);
        }

        /// <summary>For direct mode: records a response's <c>SessionToken</c> (and status) for
        /// <paramref name="collectionLink"/>, by the SDKs' capture rules.</summary>
        public void Capture(string collectionLink, string collectionRid, string token, int status, int subStatus)
        {
            var headers = new List<KeyValuePair<string, string>>
            {
                new KeyValuePair<string, string>("x-ms-session-token", token ?? ""),
                new KeyValuePair<string, string>("x-ms-substatus", subStatus.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new KeyValuePair<string, string>("x-ms-content-path", collectionRid ?? ""),
            };
            OnResponse("GET", collectionLink + "/docs/_", status, headers, null);
        }

        /// <summary>Releases the native flow.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        /// <summary>Pinned UTF-8 names and values of headers, as the C ABI's cst_header array.</summary>
        private sealed class HeaderBlock : IDisposable
        {
            private readonly List<GCHandle> pins = new List<GCHandle>();
            internal readonly NativeHeader[] Headers;
            internal readonly UIntPtr Count;

            internal HeaderBlock(IEnumerable<KeyValuePair<string, string>> headers)
            {
                var list = new List<NativeHeader>();
                if (headers != null)
                {
                    foreach (var h in headers)
                    {
                        if (h.Key == null || h.Value == null) continue;
                        list.Add(new NativeHeader
                        {
                            Name = Pin(h.Key, out UIntPtr nameLen),
                            NameLen = nameLen,
                            Value = Pin(h.Value, out UIntPtr valueLen),
                            ValueLen = valueLen,
                        });
                    }
                }
                Headers = list.Count == 0 ? null : list.ToArray();
                Count = new UIntPtr((uint)list.Count);
            }

            private IntPtr Pin(string s, out UIntPtr len)
            {
                byte[] bytes = System.Text.Encoding.UTF8.GetBytes(s);
                len = new UIntPtr((uint)bytes.Length);
                var pin = GCHandle.Alloc(bytes, GCHandleType.Pinned);
                pins.Add(pin);
                return pin.AddrOfPinnedObject();
            }

            public void Dispose()
            {
                foreach (var p in pins) p.Free();
                pins.Clear();
            }
        }
    }
}
