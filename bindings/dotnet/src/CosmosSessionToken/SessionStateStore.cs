using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;

namespace CosmosSessionToken
{
    /// <summary>
    /// Options of a <see cref="SessionStateStore"/>. Every option is the native library's (its one option table: names,
    /// types, defaults and ranges, see docs/session-state.md): a property left null, or an option never
    /// <see cref="Set"/>, keeps the library's default, and a value out of range is refused by the library when the store
    /// opens (<see cref="SessionTokenArgumentException"/>, kind <c>invalid_option</c>, naming the option), the same as on
    /// every other surface. <see cref="Default"/> reads a default.
    /// </summary>
    public sealed class SessionStateOptions
    {
        private readonly List<KeyValuePair<string, string>> pairs = new List<KeyValuePair<string, string>>();

        /// <summary>Sets an option by its name in the library's table (<c>lock_ttl</c>, <c>preferred_regions</c> …) to its
        /// text form (seconds and fractions as invariant decimals, counts as whole numbers, flags <c>true</c>/<c>false</c>);
        /// checked when the store opens. Applied before the typed properties, which win.</summary>
        public SessionStateOptions Set(string name, string value)
        {
            if (name == null) throw new ArgumentNullException("name");
            if (value == null) throw new ArgumentNullException("value");
            pairs.Add(new KeyValuePair<string, string>(name, value));
            return this;
        }

        /// <summary>The library's default of the option <paramref name="name"/> as text (<c>Default("lock_ttl")</c> is
        /// <c>"30"</c>); <see cref="SessionTokenArgumentException"/> for an unknown name.</summary>
        public static string Default(string name)
        {
            Native.EnsureLoaded();
            using (var handle = NewHandle())
            {
                return GetOption(handle, name);
            }
        }

        /// <summary>The option <paramref name="name"/> as the store will see it (text, as the library reads it back): the
        /// last value set, or the library's default. <see cref="SessionTokenArgumentException"/> (<c>invalid_option</c>)
        /// for an unknown name or a value set that the library refuses.</summary>
        public string Get(string name)
        {
            Native.EnsureLoaded();
            using (var handle = ToNative())
            {
                return GetOption(handle, name);
            }
        }

        /// <summary>The library's option table as JSON: an array of <c>{"name", "type", "default", "range", "doc"}</c>.</summary>
        public static string TableJson()
        {
            Native.EnsureLoaded();
            return ReadTable();
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static string ReadTable()
        {
            return Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) =>
                NativeMethods.cst_state_option_table_get_json(buf, cap, out len));
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static StateOptionsHandle NewHandle()
        {
            StateOptionsHandle handle;
            Native.Ensure(NativeMethods.cst_state_options_new(out handle));
            return handle;
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static string GetOption(StateOptionsHandle handle, string name)
        {
            byte[] n = Native.Utf8(name, "name");
            return Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) =>
                NativeMethods.cst_state_options_get(handle, n, Native.Len(n), buf, cap, out len));
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static void SetOption(StateOptionsHandle handle, string name, string value)
        {
            byte[] n = Native.Utf8(name, "name");
            byte[] v = Native.Utf8(value, name);
            Native.Ensure(NativeMethods.cst_state_options_set(handle, n, Native.Len(n), v, Native.Len(v)));
        }

        /// <summary>The native options of these settings (the caller disposes them).</summary>
        internal StateOptionsHandle ToNative()
        {
            var handle = NewHandle();
            try
            {
                foreach (var pair in Pairs()) SetOption(handle, pair.Key, pair.Value);
                return handle;
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        /// <summary>What is set, as the library's (name, text) pairs, in the order they apply.</summary>
        public IEnumerable<KeyValuePair<string, string>> Pairs()
        {
            var all = new List<KeyValuePair<string, string>>(pairs);
            Add(all, "database", Database);
            Add(all, "container", Container);
            Add(all, "consistency", Consistency);
            Add(all, "lock_ttl", Seconds(LockTtl));
            Add(all, "timeout", Seconds(Timeout));
            Add(all, "compression", Flag(Compression));
            Add(all, "request_timeout", Seconds(RequestTimeout));
            Add(all, "max_retries", MaxRetries.HasValue ? MaxRetries.Value.ToString(CultureInfo.InvariantCulture) : null);
            Add(all, "renew_fraction", RenewFraction.HasValue ? RenewFraction.Value.ToString("R", CultureInfo.InvariantCulture) : null);
            Add(all, "operation_timeout", Seconds(OperationTimeout));
            Add(all, "preferred_regions", PreferredRegions);
            Add(all, "allow_multi_write", Flag(AllowMultiWrite));
            Add(all, "create_if_missing", Flag(CreateIfMissing));
            Add(all, "authentication", Authentication);
            Add(all, "managed_identity_client_id", ManagedIdentityClientId);
            return all;
        }

        private static void Add(List<KeyValuePair<string, string>> all, string name, string value)
        {
            if (value != null) all.Add(new KeyValuePair<string, string>(name, value));
        }

        private static string Seconds(TimeSpan? value)
        {
            return value.HasValue ? value.Value.TotalSeconds.ToString("R", CultureInfo.InvariantCulture) : null;
        }

        private static string Flag(bool? value)
        {
            return value.HasValue ? (value.Value ? "true" : "false") : null;
        }

        /// <summary>Database id (<c>database</c>; created by the first write when missing, see <see cref="CreateIfMissing"/>).</summary>
        public string Database { get; set; }

        /// <summary>Container id (<c>container</c>; created like the database).</summary>
        public string Container { get; set; }

        /// <summary>Consistency level asked for (<c>consistency</c>): Strong, BoundedStaleness, Session, ConsistentPrefix,
        /// Eventual, or AccountDefault to send no consistency header (the account's own applies).</summary>
        public string Consistency { get; set; }

        /// <summary>How long a lock lives before another request may take it over (<c>lock_ttl</c>).</summary>
        public TimeSpan? LockTtl { get; set; }

        /// <summary>Default session timeout (<c>timeout</c>).</summary>
        public TimeSpan? Timeout { get; set; }

        /// <summary>Gzip new content (<c>compression</c>; items record their own flag).</summary>
        public bool? Compression { get; set; }

        /// <summary>Timeout of one HTTP request to Cosmos DB (<c>request_timeout</c>).</summary>
        public TimeSpan? RequestTimeout { get; set; }

        /// <summary>Retries of a throttled or failed request (<c>max_retries</c>).</summary>
        public int? MaxRetries { get; set; }

        /// <summary>Fraction of the timeout after which a read renews the session (<c>renew_fraction</c>).</summary>
        public double? RenewFraction { get; set; }

        /// <summary>Most time one operation takes in all, retries and region changes included (<c>operation_timeout</c>).</summary>
        public TimeSpan? OperationTimeout { get; set; }

        /// <summary>Regions reads prefer, comma-separated ("East US, West US") (<c>preferred_regions</c>).</summary>
        public string PreferredRegions { get; set; }

        /// <summary>Run on an account with several write regions (<c>allow_multi_write</c>; refused by default: conditional
        /// writes are only checked per region there).</summary>
        public bool? AllowMultiWrite { get; set; }

        /// <summary>The first write creates a missing database and container (<c>create_if_missing</c>; key sign-in only).</summary>
        public bool? CreateIfMissing { get; set; }

        /// <summary>How to sign in (<c>authentication</c>): Key, ManagedIdentity or ClientSecret (Entra ID; the connection
        /// string then has AccountEndpoint only).</summary>
        public string Authentication { get; set; }

        /// <summary>A user-assigned managed identity's client id (<c>managed_identity_client_id</c>, with
        /// <c>Authentication = "ManagedIdentity"</c>).</summary>
        public string ManagedIdentityClientId { get; set; }

        /// <summary>Entra ID tokens for a scope, e.g. from Azure.Identity (the connection string then has AccountEndpoint
        /// only). Called before the cached token expires and once after a 401, on a thread the library starts for the fetch
        /// (one at a time; an operation waits for it at most until its timeout); an exception fails the operation with
        /// store_rejected (its message is not shown). It must not call back into the same store.</summary>
        public Func<string, SessionStateAccessToken> TokenSource { get; set; }

        /// <summary>Called with every request to Cosmos DB (after its answer) on the calling thread; exceptions are ignored.
        /// The ASP.NET provider traces these events.</summary>
        public Action<SessionStateRequestEvent> Observer { get; set; }
    }

    /// <summary>A snapshot of a <see cref="SessionStateStore"/>'s counters (<see cref="SessionStateStore.Stats"/>).</summary>
    public sealed class SessionStateStats
    {
        internal SessionStateStats(StateStats s)
        {
            Requests = (long)s.Requests;
            Retries = (long)s.Retries;
            Throttled = (long)s.Throttled;
            ReadSessionUnavailable = (long)s.ReadSessionUnavailable;
            WriteForbidden = (long)s.WriteForbidden;
            RegionFailovers = (long)s.RegionFailovers;
            Transient = (long)s.Transient;
            Unauthorized = (long)s.Unauthorized;
            AccountReads = (long)s.AccountReads;
            ContainersCreated = (long)s.ContainersCreated;
            RequestCharge = s.RequestCharge;
            LockWaits = (long)s.LockWaits;
            LockTakeovers = (long)s.LockTakeovers;
            FenceFailures = (long)s.FenceFailures;
        }

        /// <summary>HTTP requests sent, retries and account reads included.</summary>
        public long Requests { get; private set; }
        /// <summary>Retries, any cause.</summary>
        public long Retries { get; private set; }
        /// <summary>Answers 429 or 449.</summary>
        public long Throttled { get; private set; }
        /// <summary>Answers 404/1002 (a region had not reached the presented session token).</summary>
        public long ReadSessionUnavailable { get; private set; }
        /// <summary>Answers 403/3 (a write sent to a region that no longer takes writes).</summary>
        public long WriteForbidden { get; private set; }
        /// <summary>Requests moved to another region after a failure.</summary>
        public long RegionFailovers { get; private set; }
        /// <summary>Answers 408, 410, 503 and failed connections.</summary>
        public long Transient { get; private set; }
        /// <summary>Answers 401 with Entra ID (a token refetched).</summary>
        public long Unauthorized { get; private set; }
        /// <summary>Reads of the account's description.</summary>
        public long AccountReads { get; private set; }
        /// <summary>Databases or containers created.</summary>
        public long ContainersCreated { get; private set; }
        /// <summary>Request units charged.</summary>
        public double RequestCharge { get; private set; }
        /// <summary>Exclusive reads that found the session locked by another request.</summary>
        public long LockWaits { get; private set; }
        /// <summary>Locks acquired over an expired lock.</summary>
        public long LockTakeovers { get; private set; }
        /// <summary>Writes, releases or removals refused because the lock was no longer held.</summary>
        public long FenceFailures { get; private set; }
    }

    /// <summary>What a read returned: the content bytes and whether the session is still uninitialized.</summary>
    public sealed class SessionStateEntry
    {
        internal SessionStateEntry(byte[] data, bool uninitialized)
        {
            Data = data;
            Uninitialized = uninitialized;
        }

        /// <summary>The bytes of the last write (empty for an uninitialized session).</summary>
        public byte[] Data { get; private set; }

        /// <summary>Created by <see cref="SessionStateStore.CreateUninitialized"/> and not written yet.</summary>
        public bool Uninitialized { get; private set; }
    }

    /// <summary>The answer of <see cref="SessionStateStore.GetExclusive"/>.</summary>
    public sealed class SessionStateExclusive
    {
        internal SessionStateExclusive(SessionStateEntry entry, bool locked, long lockId, TimeSpan lockAge)
        {
            Entry = entry;
            Locked = locked;
            LockId = lockId;
            LockAge = lockAge;
        }

        /// <summary>The content, when the lock was acquired (null: no live session — the caller may create it).</summary>
        public SessionStateEntry Entry { get; private set; }

        /// <summary>Another request holds a live lock: nothing was acquired.</summary>
        public bool Locked { get; private set; }

        /// <summary>The acquired lock id, or the holder's when <see cref="Locked"/>.</summary>
        public long LockId { get; private set; }

        /// <summary>The holder's true lock age when <see cref="Locked"/>.</summary>
        public TimeSpan LockAge { get; private set; }
    }

    /// <summary>
    /// Session state kept in Cosmos DB by the library's engine: locks with fenced writes (a lost lock is reported,
    /// nothing written), logical expiry with cheap sliding renewal, per-item compression and token flow. Thread-safe:
    /// share one per process. Every decision is the native engine's; this class only translates.
    /// </summary>
    /// <example><code>
    /// var store = SessionStateStore.Open(connectionString, new SessionStateOptions { Database = "web" });
    /// var ex = store.GetExclusive(sessionId);
    /// if (!ex.Locked) store.SetAndRelease(sessionId, bytes, ex.LockId, ex.Entry == null, null);
    /// </code></example>
    public sealed class SessionStateStore : IDisposable
    {
        private readonly StateHandle handle;

        private SessionStateStore(StateHandle handle)
        {
            this.handle = handle;
        }

        /// <summary>A store on Cosmos DB (<c>AccountEndpoint=…;AccountKey=…;</c>). Nothing is sent until the first call.
        /// Errors never contain the account key.</summary>
        public static SessionStateStore Open(string connectionString, SessionStateOptions options)
        {
            Native.EnsureLoaded();
            byte[] cs = Native.Utf8(connectionString, "connectionString");
            if (options != null && (options.TokenSource != null || options.Observer != null))
            {
                return OpenWithHooks(cs, options);
            }
            return WithOptions(options, (StateOptionsHandle o, out StateHandle h) => NativeMethods.cst_state_open(cs, Native.Len(cs), o, out h));
        }

        // A method of its own: Mono resolves a P/Invoke when it compiles the method that calls it.
        private static SessionStateStore OpenWithHooks(byte[] cs, SessionStateOptions options)
        {
            var hooks = new StateHooks(options.TokenSource, options.Observer);
            var native = hooks.Native();
            var store = WithOptions(options, (StateOptionsHandle o, out StateHandle h) =>
                NativeMethods.cst_state_open_with_hooks(cs, Native.Len(cs), o, ref native, out h));
            store.handle.Hooks = hooks;
            return store;
        }

        /// <summary>A store kept in this process's memory (tests, single-process hosts).</summary>
        public static SessionStateStore OpenInMemory(SessionStateOptions options)
        {
            Native.EnsureLoaded();
            return WithOptions(options, (StateOptionsHandle o, out StateHandle h) => NativeMethods.cst_state_open_memory(o, out h));
        }

        private delegate int OpenCall(StateOptionsHandle options, out StateHandle handle);

        private static SessionStateStore WithOptions(SessionStateOptions options, OpenCall open)
        {
            using (var native = (options ?? new SessionStateOptions()).ToNative())
            {
                StateHandle h;
                Native.Ensure(open(native, out h));
                return new SessionStateStore(h);
            }
        }

        internal StateHandle Handle
        {
            get
            {
                if (handle.IsClosed) throw new ObjectDisposedException("SessionStateStore");
                return handle;
            }
        }

        private static byte[] Sid(string sid)
        {
            return Native.Utf8(sid, "sid");
        }

        private static SessionStateEntry Read(StateResultHandle result, out StateEntry entry)
        {
            Native.Ensure(NativeMethods.cst_state_result_get_entry(result, out entry));
            if (entry.Found == 0) return null;
            IntPtr data;
            UIntPtr len;
            Native.Ensure(NativeMethods.cst_state_result_get_data(result, out data, out len));
            var bytes = new byte[checked((int)len.ToUInt64())];
            if (bytes.Length > 0) Marshal.Copy(data, bytes, 0, bytes.Length);
            return new SessionStateEntry(bytes, entry.Uninitialized != 0);
        }

        /// <summary>Read-only access: the committed content, or null when there is no live session. Never takes or
        /// waits for the lock. One round trip (plus a conditional renewal when due).</summary>
        public SessionStateEntry Get(string sid)
        {
            byte[] id = Sid(sid);
            StateResultHandle result;
            int status = NativeMethods.cst_state_get(Handle, id, Native.Len(id), out result);
            using (result)
            {
                if (status == NativeMethods.CST_ERR_NOT_FOUND) return null;
                Native.Ensure(status);
                StateEntry entry;
                return Read(result, out entry);
            }
        }

        /// <summary>Acquires the session's lock and returns its content, or reports the holder's lock (id, true age).</summary>
        public SessionStateExclusive GetExclusive(string sid)
        {
            byte[] id = Sid(sid);
            StateResultHandle result;
            Native.Ensure(NativeMethods.cst_state_get_exclusive(Handle, id, Native.Len(id), out result));
            using (result)
            {
                StateEntry entry;
                var content = Read(result, out entry);
                return new SessionStateExclusive(content, entry.Locked != 0, (long)entry.LockId, TimeSpan.FromSeconds(entry.LockAge));
            }
        }

        /// <summary>Writes and releases the lock as one fenced operation. Throws
        /// <see cref="SessionStateLockLostException"/> (nothing written) when the lock was taken over;
        /// <paramref name="newItem"/>: the caller created the session. <paramref name="timeout"/> null: the default.</summary>
        public void SetAndRelease(string sid, byte[] data, long lockId, bool newItem, TimeSpan? timeout)
        {
            if (data == null) throw new ArgumentNullException("data");
            byte[] id = Sid(sid);
            Native.Ensure(NativeMethods.cst_state_set_and_release(Handle, id, Native.Len(id), data, Native.Len(data),
                (ulong)lockId, (byte)(newItem ? 1 : 0), timeout.HasValue ? timeout.Value.TotalSeconds : 0));
        }

        /// <summary>Releases the lock without writing; a foreign or zero lock id is a no-op (false).</summary>
        public bool Release(string sid, long lockId)
        {
            byte[] id = Sid(sid);
            byte released;
            Native.Ensure(NativeMethods.cst_state_release(Handle, id, Native.Len(id), (ulong)lockId, out released));
            return released != 0;
        }

        /// <summary>Creates an empty, uninitialized session unless a live one exists (cookieless sessions).</summary>
        public void CreateUninitialized(string sid, TimeSpan? timeout)
        {
            byte[] id = Sid(sid);
            Native.Ensure(NativeMethods.cst_state_create_uninitialized(Handle, id, Native.Len(id), timeout.HasValue ? timeout.Value.TotalSeconds : 0));
        }

        /// <summary>Removes the session under its lock and releases it. A lock id that does not hold the lock (a
        /// foreign id, 0, a lock taken over) removes nothing, keeps the holder's lock and returns false, as a release does.</summary>
        public bool Remove(string sid, long lockId)
        {
            byte[] id = Sid(sid);
            byte removed;
            Native.Ensure(NativeMethods.cst_state_remove(Handle, id, Native.Len(id), (ulong)lockId, out removed));
            return removed != 0;
        }

        /// <summary>Removes the session without holding its lock: waits up to <paramref name="wait"/> while another
        /// request holds it, then removes it under the lock. Returns whether a live session was removed; throws
        /// <see cref="SessionStateStoreException"/> (kind lock_wait_timeout) past the wait.</summary>
        public bool Delete(string sid, TimeSpan wait)
        {
            byte[] id = Sid(sid);
            byte removed;
            Native.Ensure(NativeMethods.cst_state_delete(Handle, id, Native.Len(id), wait.TotalSeconds, out removed));
            return removed != 0;
        }

        /// <summary>True when <paramref name="sid"/> is a session id the store accepts (non-empty, at most 80 bytes, no
        /// control character or lone surrogate). Adapters treat an invalid id from a cookie as "no session".</summary>
        public static bool IsValidSessionId(string sid)
        {
            Native.EnsureLoaded();
            byte[] id = Native.TryUtf8(sid);
            return id != null && CheckSessionId(id);
        }

        // In a method of its own, bound after EnsureLoaded ran (see WebSessionPolicy.Derive).
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static bool CheckSessionId(byte[] id)
        {
            return NativeMethods.cst_session_id_check(id, Native.Len(id)) == NativeMethods.CST_OK;
        }

        /// <summary>How errors and traces name a session without its id (a bearer credential): "session #" and the
        /// first 12 hex digits of the SHA-256 of the id.</summary>
        public static string Fingerprint(string sid)
        {
            Native.EnsureLoaded();
            byte[] id = Native.TryUtf8(sid ?? "") ?? new byte[0];
            return Native.ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) =>
                NativeMethods.cst_session_id_get_fingerprint(id, Native.Len(id), buf, cap, out len));
        }

        /// <summary>Extends the session's life when the renewal is due; returns whether it wrote.</summary>
        public bool ResetTimeout(string sid)
        {
            byte[] id = Sid(sid);
            byte renewed;
            Native.Ensure(NativeMethods.cst_state_reset_timeout(Handle, id, Native.Len(id), out renewed));
            return renewed != 0;
        }

        /// <summary>The Cosmos DB session token gathered for the session (carry it to another node), or null.</summary>
        public SessionToken Token(string sid)
        {
            byte[] id = Sid(sid);
            TokenHandle result;
            return SessionToken.FromOptional(NativeMethods.cst_state_get_token(Handle, id, Native.Len(id), out result), result);
        }

        /// <summary>Presents a token carried from another node: later reads see at least what it saw.</summary>
        public void PresentToken(string sid, SessionToken token)
        {
            if (token == null) throw new ArgumentNullException("token");
            byte[] id = Sid(sid);
            Native.Ensure(NativeMethods.cst_state_present_token(Handle, id, Native.Len(id), token.Handle));
        }

        /// <summary>The lock id a forced unlock released, or null when none was held (an operator's tool).</summary>
        public long? ForceUnlock(string sid)
        {
            byte[] id = Sid(sid);
            ulong unlocked;
            Native.Ensure(NativeMethods.cst_state_force_unlock(Handle, id, Native.Len(id), out unlocked));
            return unlocked == 0 ? (long?)null : (long)unlocked;
        }

        /// <summary>Whether a live session exists and whether it is locked (an operator's view).</summary>
        public bool Describe(string sid, out bool locked, out TimeSpan expiresIn)
        {
            byte[] id = Sid(sid);
            StateSessionInfo info;
            Native.Ensure(NativeMethods.cst_state_show(Handle, id, Native.Len(id), out info));
            locked = info.Locked != 0;
            expiresIn = TimeSpan.FromSeconds(info.ExpiresIn);
            return info.Exists != 0;
        }

        /// <summary>What this store has done so far: requests, retries by cause, request charge, lock events.</summary>
        public SessionStateStats Stats
        {
            get
            {
                StateStats s;
                Native.Ensure(NativeMethods.cst_state_get_stats(Handle, out s));
                return new SessionStateStats(s);
            }
        }

        /// <summary>Releases the native store now.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }
    }
}
