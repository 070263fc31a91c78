using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace CosmosSessionToken
{
    /// <summary>
    /// Sends every request of an <c>HttpClient</c> through a <see cref="SessionFlow"/>: for gateway mode,
    /// <c>new DocumentClient(endpoint, key, new SessionFlowHandler(flow, new HttpClientHandler()), policy)</c> or v3's
    /// <c>CosmosClientOptions.HttpClientFactory = () =&gt; new HttpClient(new SessionFlowHandler(flow, new HttpClientHandler()))</c>.
    /// Built without a flow, it uses <see cref="SessionFlow.Current"/> (one client for every user of a web app;
    /// nothing is done for a request made while no flow is current). The handler never fails a request of its own:
    /// a flow that cannot read what the wire carries steps aside and counts it.
    /// </summary>
    public sealed class SessionFlowHandler : DelegatingHandler
    {
        private readonly SessionFlow fixedFlow;

        /// <summary>Every request through <paramref name="flow"/>.</summary>
        public SessionFlowHandler(SessionFlow flow, HttpMessageHandler inner) : base(inner)
        {
            if (flow == null) throw new ArgumentNullException("flow");
            fixedFlow = flow;
        }

        /// <summary>Every request through the flow current at that moment (<see cref="SessionFlow.Activate"/>).</summary>
        public SessionFlowHandler(HttpMessageHandler inner) : base(inner) { }

        // The headers the flow reads, from the core (cst_flow_header_get_name): looking up these few
        // is much cheaper than enumerating every header (HttpHeaders parses on enumeration).
        private static readonly string[] RequestHeaders = HeaderNames(false);
        private static readonly string[] ResponseHeaders = HeaderNames(true);

        private static string[] HeaderNames(bool response)
        {
            var names = new List<string>();
            for (int i = 0; ; i++)
            {
                IntPtr p = NativeMethods.cst_flow_header_get_name(response, (UIntPtr)i);
                if (p == IntPtr.Zero) return names.ToArray();
                names.Add(System.Runtime.InteropServices.Marshal.PtrToStringAnsi(p)); // ASCII header names
            }
        }

        private static void Collect(System.Net.Http.Headers.HttpHeaders headers, string name,
            List<KeyValuePair<string, string>> into)
        {
            IEnumerable<string> values;
            if (headers == null || !headers.TryGetValues(name, out values)) return;
            foreach (var v in values) into.Add(new KeyValuePair<string, string>(name, v));
        }

        private static List<KeyValuePair<string, string>> HeadersOf(HttpRequestMessage request)
        {
            var list = new List<KeyValuePair<string, string>>(2);
            foreach (var name in RequestHeaders)
            {
                Collect(request.Headers, name, list);
                if (request.Content != null) Collect(request.Content.Headers, name, list);
            }
            return list;
        }

        private static List<KeyValuePair<string, string>> HeadersOf(HttpResponseMessage response)
        {
            var list = new List<KeyValuePair<string, string>>(3);
            foreach (var name in ResponseHeaders) Collect(response.Headers, name, list);
            return list;
        }

        /// <summary>Sets the request's session token from the flow, sends it, and gives the flow the response.</summary>
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request,
            CancellationToken cancellationToken)
        {
            SessionFlow flow = fixedFlow ?? SessionFlow.Current;
            if (flow == null || request.RequestUri == null)
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            string method = request.Method.Method;
            string path = request.RequestUri.IsAbsoluteUri ? request.RequestUri.AbsolutePath : request.RequestUri.OriginalString;
            string token = flow.TokenForRequest(method, path, HeadersOf(request));
            if (token != null)
            {
                request.Headers.Remove("x-ms-session-token");
                request.Headers.TryAddWithoutValidation("x-ms-session-token", token);
            }
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            byte[] body = null;
            if (response.Content != null && flow.WantsBody(method, path))
            {
                // Buffered, so the SDK reads the same body afterwards.
                await response.Content.LoadIntoBufferAsync().ConfigureAwait(false);
                body = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            }
            flow.OnResponse(method, path, (int)response.StatusCode, HeadersOf(response), body);
            return response;
        }
    }
}
