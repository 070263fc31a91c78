using System;
using System.Runtime.InteropServices;
using System.Text;

namespace CosmosSessionToken
{
    /// <summary>An Entra ID access token and when it expires (what a <see cref="SessionStateOptions.TokenSource"/> returns).</summary>
    public sealed class SessionStateAccessToken
    {
        /// <summary>A token valid until <paramref name="expiresOn"/>.</summary>
        public SessionStateAccessToken(string token, DateTimeOffset expiresOn)
        {
            if (token == null) throw new ArgumentNullException("token");
            Token = token;
            ExpiresOn = expiresOn;
        }

        /// <summary>The bearer token.</summary>
        public string Token { get; private set; }

        /// <summary>When it expires.</summary>
        public DateTimeOffset ExpiresOn { get; private set; }

        /// <summary>Leaves the token out.</summary>
        public override string ToString()
        {
            return "SessionStateAccessToken(<redacted>, expires " + ExpiresOn.ToString("o") + ")";
        }
    }

    /// <summary>One request of a store to Cosmos DB, as a <see cref="SessionStateOptions.Observer"/> sees it. Nothing in it is
    /// secret (no key, token or session id).</summary>
    public sealed class SessionStateRequestEvent
    {
        internal SessionStateRequestEvent(StateRequestEvent e)
        {
            Method = Span(e.Method, e.MethodLen);
            ResourceType = Span(e.ResourceType, e.ResourceTypeLen);
            Region = Span(e.Region, e.RegionLen);
            Status = (int)e.Status;
            SubStatus = (int)e.SubStatus;
            RequestCharge = e.RequestCharge;
            Duration = TimeSpan.FromMilliseconds(e.DurationMs);
            Attempt = (int)e.Attempt;
            Retry = Span(e.Retry, e.RetryLen);
            Error = Span(e.Error, e.ErrorLen);
        }

        private static string Span(IntPtr ptr, UIntPtr len)
        {
            if (ptr == IntPtr.Zero) return null;
            var bytes = new byte[(int)len.ToUInt64()];
            Marshal.Copy(ptr, bytes, 0, bytes.Length);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>GET, POST or PATCH.</summary>
        public string Method { get; private set; }
        /// <summary>docs, dbs or colls.</summary>
        public string ResourceType { get; private set; }
        /// <summary>The region's name.</summary>
        public string Region { get; private set; }
        /// <summary>HTTP status (0: the connection failed).</summary>
        public int Status { get; private set; }
        /// <summary>x-ms-substatus (0 when absent).</summary>
        public int SubStatus { get; private set; }
        /// <summary>Request units charged.</summary>
        public double RequestCharge { get; private set; }
        /// <summary>How long the request took.</summary>
        public TimeSpan Duration { get; private set; }
        /// <summary>Retries of the operation before this request.</summary>
        public int Attempt { get; private set; }
        /// <summary>Why the request is sent again (throttled, read_session_unavailable, write_forbidden, transient,
        /// unauthorized), or null.</summary>
        public string Retry { get; private set; }
        /// <summary>The error code of a request without an answer (store_unavailable), or null.</summary>
        public string Error { get; private set; }

        /// <summary>One line for a trace.</summary>
        public override string ToString()
        {
            return "cosmos request " + Method + " " + ResourceType + " region=" + Region + " status=" + Status + " substatus=" + SubStatus
                + " charge=" + RequestCharge.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)
                + " duration_ms=" + Duration.TotalMilliseconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)
                + " attempt=" + Attempt + " retry=" + (Retry ?? "-") + " error=" + (Error ?? "-");
        }
    }

    /// <summary>The native callbacks of one store and the managed delegates behind them, kept alive by its handle for as
    /// long as the native store may call them.</summary>
    internal sealed class StateHooks
    {
        internal const int MaxAccessTokenBytes = 16384;

        private readonly Func<string, SessionStateAccessToken> tokenSource;
        private readonly Action<SessionStateRequestEvent> observer;
        private readonly GetTokenFn getTokenThunk;
        private readonly ObserveFn observeThunk;

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int GetTokenFn(IntPtr user, IntPtr scope, UIntPtr scopeLen, IntPtr token, out UIntPtr tokenLen, out double expiresOn);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void ObserveFn(IntPtr user, IntPtr e);

        internal StateHooks(Func<string, SessionStateAccessToken> tokenSource, Action<SessionStateRequestEvent> observer)
        {
            this.tokenSource = tokenSource;
            this.observer = observer;
            getTokenThunk = GetToken;
            observeThunk = Observe;
        }

        internal StateHooksNative Native()
        {
            return new StateHooksNative
            {
                GetToken = tokenSource == null ? IntPtr.Zero : Marshal.GetFunctionPointerForDelegate(getTokenThunk),
                Observe = observer == null ? IntPtr.Zero : Marshal.GetFunctionPointerForDelegate(observeThunk),
                UserData = IntPtr.Zero,
            };
        }

        // No exception may cross into the native library: a failing source is a non-zero status (the operation fails
        // with store_rejected), a failing observer is ignored.
        private int GetToken(IntPtr user, IntPtr scope, UIntPtr scopeLen, IntPtr token, out UIntPtr tokenLen, out double expiresOn)
        {
            tokenLen = UIntPtr.Zero;
            expiresOn = 0;
            try
            {
                var scopeBytes = new byte[(int)scopeLen.ToUInt64()];
                Marshal.Copy(scope, scopeBytes, 0, scopeBytes.Length);
                var got = tokenSource(Encoding.UTF8.GetString(scopeBytes));
                if (got == null) return 2;
                byte[] bytes = Encoding.UTF8.GetBytes(got.Token);
                if (bytes.Length > MaxAccessTokenBytes) return 3;
                Marshal.Copy(bytes, 0, token, bytes.Length);
                tokenLen = new UIntPtr((uint)bytes.Length);
                expiresOn = (got.ExpiresOn - new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero)).TotalSeconds;
                return 0;
            }
            catch (Exception)
            {
                return 1;
            }
        }

        private void Observe(IntPtr user, IntPtr e)
        {
            try
            {
                observer(new SessionStateRequestEvent((StateRequestEvent)Marshal.PtrToStructure(e, typeof(StateRequestEvent))));
            }
            catch (Exception)
            {
                // A failing observer must not fail the store call.
            }
        }
    }

    /// <summary>cst_state_hooks.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct StateHooksNative
    {
        public IntPtr GetToken;
        public IntPtr Observe;
        public IntPtr UserData;
    }

    /// <summary>cst_state_request_event.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct StateRequestEvent
    {
        public IntPtr Method;
        public UIntPtr MethodLen;
        public IntPtr ResourceType;
        public UIntPtr ResourceTypeLen;
        public IntPtr Region;
        public UIntPtr RegionLen;
        public uint Status;
        public uint SubStatus;
        public double RequestCharge;
        public double DurationMs;
        public uint Attempt;
        public IntPtr Retry;
        public UIntPtr RetryLen;
        public IntPtr Error;
        public UIntPtr ErrorLen;
    }
}
