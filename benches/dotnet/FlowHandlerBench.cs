// The SessionFlowHandler's overhead per request: the same point reads (a partition key, a warm routing map) through
// HttpClient(new SessionFlowHandler(flow, inner)) and HttpClient(inner), interleaved request by request (so load that
// comes and goes on a shared machine falls on both alike), on whichever runtime runs it (Mono or CoreCLR 2.0).
//   server:    inner = new HttpClientHandler(), against the Cosmos DB test server on 127.0.0.1:PORT (a container of 4
//              ranges, 256 items written through the flow first, then point reads of them);
//   server, token only: the plain client against one that sets the token the flow would send, without the flow
//              (the test server's own cost of reading a token, which the server difference holds too);
//   in-memory: inner = a handler that answers at once with a canned response (no network: the handler's own cost),
//              on a container of 1,000 ranges whose definition and map the flow learned, as in the Python benchmark.
// Prints one JSON object per part: p50/p90 microseconds per request for each client, the difference of the p50s and
// the median of the paired differences (flow request minus the plain request next to it).
//   usage: FlowHandlerBench PORT [SERVER_READS] [MEMORY_READS]   (PORT 0: the in-memory part alone)
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using CosmosSessionToken;

public static class FlowHandlerBench
{
    private static string Runtime()
    {
        return Type.GetType("Mono.Runtime") != null ? "Mono" : "CoreCLR";
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string body, string pk)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("x-ms-version", "2020-07-15");
        if (pk != null) request.Headers.TryAddWithoutValidation("x-ms-documentdb-partitionkey", "[\"" + pk + "\"]");
        if (body != null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return request;
    }

    private static HttpStatusCode Send(HttpClient http, HttpMethod method, string path, string body, string pk)
    {
        using (var response = http.SendAsync(Request(method, path, body, pk)).Result) return response.StatusCode;
    }

    private static double Quantile(double[] sorted, double q)
    {
        return sorted[(int)Math.Round(q * (sorted.Length - 1))];
    }

    /// <summary>Reads item <c>i % items</c> through both clients, alternating which goes first; microseconds each.</summary>
    private static string Measure(string part, HttpClient plain, HttpClient flowed, string collection, int items, int warmup,
        int reads, Func<HttpStatusCode, bool> ok)
    {
        var a = new double[reads];
        var b = new double[reads];
        double usPerTick = 1e6 / Stopwatch.Frequency;
        int bad = 0;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        for (int i = -warmup; i < reads; i++)
        {
            int k = ((i % items) + items) % items;
            string path = collection + "/docs/item" + k, pk = "user-" + k;
            for (int turn = 0; turn < 2; turn++)
            {
                bool flowTurn = (turn == 0) == ((i & 1) == 0);
                var request = Request(HttpMethod.Get, path, null, pk);
                long t0 = Stopwatch.GetTimestamp();
                using (var response = (flowTurn ? flowed : plain).SendAsync(request).Result)
                {
                    long t1 = Stopwatch.GetTimestamp();
                    if (!ok(response.StatusCode)) bad++;
                    if (i >= 0) (flowTurn ? b : a)[i] = (t1 - t0) * usPerTick;
                }
            }
        }
        if (bad > 0) throw new Exception(part + ": " + bad + " reads failed");
        var diff = b.Zip(a, (x, y) => x - y).OrderBy(x => x).ToArray();
        Array.Sort(a);
        Array.Sort(b);
        return string.Format(System.Globalization.CultureInfo.InvariantCulture,
            "\"plain_p50_us\":{0:F1},\"plain_p90_us\":{1:F1},\"flow_p50_us\":{2:F1},\"flow_p90_us\":{3:F1}," +
            "\"p50_difference_us\":{4:F1},\"paired_difference_p50_us\":{5:F1},\"paired_difference_p90_us\":{6:F1}",
            Quantile(a, 0.5), Quantile(a, 0.9), Quantile(b, 0.5), Quantile(b, 0.9), Quantile(b, 0.5) - Quantile(a, 0.5),
            Quantile(diff, 0.5), Quantile(diff, 0.9));
    }

    private static void Server(int port, int reads)
    {
        const int items = 256;
        string db = "benchflow" + Guid.NewGuid().ToString("N").Substring(0, 12), coll = "dbs/" + db + "/colls/c";
        using (var web = new WebClient())
        {
            web.Headers[HttpRequestHeader.ContentType] = "application/json";
            web.UploadString("http://127.0.0.1:" + port + "/_shim/partitions", "{\"db\":\"" + db + "\",\"coll\":\"c\",\"partitions\":4}");
        }
        var baseAddress = new Uri("http://127.0.0.1:" + port + "/");
        using (var flow = new SessionFlow())
        using (var flowed = new HttpClient(new SessionFlowHandler(flow, new HttpClientHandler())) { BaseAddress = baseAddress })
        using (var plain = new HttpClient(new HttpClientHandler()) { BaseAddress = baseAddress })
        {
            Send(flowed, HttpMethod.Post, "dbs", "{\"id\":\"" + db + "\"}", null);
            Send(flowed, HttpMethod.Post, "dbs/" + db + "/colls", "{\"id\":\"c\",\"partitionKey\":{\"paths\":[\"/pk\"],\"kind\":\"Hash\",\"version\":2}}", null);
            Send(flowed, HttpMethod.Get, coll, null, null);
            Send(flowed, HttpMethod.Get, coll + "/pkranges", null, null);
            for (int k = 0; k < items; k++)
            {
                var status = Send(flowed, HttpMethod.Post, coll + "/docs", "{\"id\":\"item" + k + "\",\"pk\":\"user-" + k + "\"}", "user-" + k);
                if (status != HttpStatusCode.Created) throw new Exception("write item" + k + ": " + status);
            }
            if (flow.Stats.MapsLearned != 1 || flow.Stats.Captured != items) throw new Exception("the flow did not learn the map or capture the writes");
            ulong scopedBefore = flow.Stats.Scoped;
            string result = Measure("server", plain, flowed, coll, items, 500, reads, s => s == HttpStatusCode.OK);
            ulong scoped = flow.Stats.Scoped - scopedBefore;
            Console.WriteLine("{{\"runtime\":\"{0}\",\"part\":\"server\",\"ranges\":4,\"reads\":{1},{2},\"scoped\":{3}}}",
                Runtime(), reads, result, scoped);
            // The server's share: the same reads with the token the flow sends for each key, set by a handler that
            // only looks it up, against the plain client.
            var tokens = new Dictionary<string, string>();
            for (int k = 0; k < items; k++) tokens["/" + coll + "/docs/item" + k] = flow.TokenFor(coll, "[\"user-" + k + "\"]");
            using (var fixedToken = new HttpClient(new FixedToken(tokens, new HttpClientHandler())) { BaseAddress = baseAddress })
            {
                result = Measure("server, token only", plain, fixedToken, coll, items, 500, reads, s => s == HttpStatusCode.OK);
                Console.WriteLine("{{\"runtime\":\"{0}\",\"part\":\"server, token only\",\"ranges\":4,\"reads\":{1},{2}}}",
                    Runtime(), reads, result);
            }
        }
    }

    /// <summary>Sets a precomputed session token by request path: what the flow sends, without the flow.</summary>
    private sealed class FixedToken : DelegatingHandler
    {
        private readonly Dictionary<string, string> tokens;

        internal FixedToken(Dictionary<string, string> tokens, HttpMessageHandler inner) : base(inner)
        {
            this.tokens = tokens;
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            request.Headers.TryAddWithoutValidation("x-ms-session-token", tokens[request.RequestUri.AbsolutePath]);
            return base.SendAsync(request, ct);
        }
    }

    /// <summary>Answers at once: the collection, its 1,000 ranges, a composite token for a write, and a one-range
    /// token for every read; records the session token each read presented.</summary>
    private sealed class Canned : HttpMessageHandler
    {
        internal const int Ranges = 1000;
        private int lsn = 2000;
        internal readonly List<int> SentBytes = new List<int>();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            string path = request.RequestUri.AbsolutePath;
            var response = new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = request };
            if (path.EndsWith("/pkranges"))
            {
                var sb = new StringBuilder("{\"PartitionKeyRanges\":[");
                int step = 0xFEFFFF / Ranges;
                Func<int, string> bound = i => i == 0 ? "" : i == Ranges ? "FF" : (i * step).ToString("X6");
                for (int i = 0; i < Ranges; i++)
                {
                    sb.Append(i == 0 ? "" : ",").Append("{\"id\":\"").Append(i).Append("\",\"minInclusive\":\"").Append(bound(i))
                        .Append("\",\"maxExclusive\":\"").Append(bound(i + 1)).Append("\",\"parents\":[]}");
                }
                response.Content = new StringContent(sb.Append("]}").ToString(), Encoding.UTF8, "application/json");
            }
            else if (path.EndsWith("/colls/c"))
            {
                response.Content = new StringContent("{\"id\":\"c\",\"partitionKey\":{\"paths\":[\"/pk\"],\"kind\":\"Hash\",\"version\":2}}",
                    Encoding.UTF8, "application/json");
            }
            else
            {
                string token;
                if (request.Method == HttpMethod.Post)
                {
                    response.StatusCode = HttpStatusCode.Created;
                    token = string.Join(",", Enumerable.Range(0, Ranges).Select(i => i + ":0#" + (1000 + i) + "#0=" + (1000 + i)));
                }
                else
                {
                    int n = Interlocked.Increment(ref lsn);
                    token = (n % Ranges) + ":0#" + n + "#0=" + n;
                    IEnumerable<string> sent;
                    if (request.Headers.TryGetValues("x-ms-session-token", out sent)) SentBytes.Add(sent.First().Length);
                }
                response.Headers.TryAddWithoutValidation("x-ms-session-token", token);
                response.Headers.TryAddWithoutValidation("x-ms-content-path", "rid");
                response.Content = new StringContent("{\"id\":\"item\",\"pk\":\"user\"}", Encoding.UTF8, "application/json");
            }
            return Task.FromResult(response);
        }
    }

    private static void InMemory(int reads)
    {
        const int items = 20000;
        string coll = "dbs/d/colls/c";
        var baseAddress = new Uri("http://127.0.0.1:8081/");
        var canned = new Canned();
        using (var flow = new SessionFlow())
        using (var flowed = new HttpClient(new SessionFlowHandler(flow, canned), false) { BaseAddress = baseAddress })
        using (var plain = new HttpClient(canned, false) { BaseAddress = baseAddress })
        {
            Send(flowed, HttpMethod.Get, coll, null, null);
            Send(flowed, HttpMethod.Get, coll + "/pkranges", null, null);
            Send(flowed, HttpMethod.Post, coll + "/docs", "{\"id\":\"w\",\"pk\":\"w\"}", "w");
            if (flow.Stats.MapsLearned != 1 || flow.Stats.Captured != 1) throw new Exception("the flow did not learn the map or capture the write");
            ulong scopedBefore = flow.Stats.Scoped;
            string result = Measure("in-memory", plain, flowed, coll, items, 10000, reads, s => s == HttpStatusCode.OK);
            ulong scoped = flow.Stats.Scoped - scopedBefore;
            var sent = canned.SentBytes.OrderBy(x => x).ToArray();
            int composite = string.Join(",", Enumerable.Range(0, Canned.Ranges).Select(i => i + ":0#" + (1000 + i) + "#0=" + (1000 + i))).Length;
            Console.WriteLine("{{\"runtime\":\"{0}\",\"part\":\"in-memory\",\"ranges\":{1},\"reads\":{2},{3},\"scoped\":{4}," +
                "\"sent_header_bytes_p50\":{5},\"composite_header_bytes\":{6}}}",
                Runtime(), Canned.Ranges, reads, result, scoped, sent[sent.Length / 2], composite);
        }
    }

    public static int Main(string[] args)
    {
        int port = args.Length > 0 ? int.Parse(args[0]) : 0;
        int serverReads = args.Length > 1 ? int.Parse(args[1]) : 5000;
        int memoryReads = args.Length > 2 ? int.Parse(args[2]) : 100000;
        InMemory(memoryReads);
        if (port != 0) Server(port, serverReads);
        return 0;
    }
}
