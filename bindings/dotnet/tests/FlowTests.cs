using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using CosmosSessionToken;
using NUnit.Framework;

/// <summary>SessionFlowHandler in an HttpClient sending requests shaped like the SDKs' (headers per the REST
/// reference) to the Cosmos DB test server (scripts/test starts it and passes its port in CST_TEST_SERVER_PORT):
/// capture, learning from metadata reads, one segment per point read, a split, a snapshot hand-over, per-user flows
/// through SessionFlow.Current. The SDK assemblies themselves cannot be obtained here. The same tests run on CoreCLR 2.0
/// through tests/coreclr/FixtureRunner.cs, against the same server: each run uses databases of its own.</summary>
[TestFixture]
public class SessionFlowHandlerTests
{
    // The test server's port and admin calls: the hook tests' helpers.
    private static int Port()
    {
        return StoreHooksTests.Port();
    }

    private static void Shim(int port, string path, string json)
    {
        StoreHooksTests.Shim(port, path, json);
    }

    /// <summary>A database id no earlier run against the same server has used.</summary>
    private static string Unique(string prefix)
    {
        return prefix + Guid.NewGuid().ToString("N").Substring(0, 12);
    }

    /// <summary>Records the session token each request carried, after the flow set it.</summary>
    private sealed class Recorder : DelegatingHandler
    {
        internal readonly List<string> Tokens = new List<string>();

        internal Recorder() : base(new HttpClientHandler()) { }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            IEnumerable<string> values;
            lock (Tokens) Tokens.Add(request.Headers.TryGetValues("x-ms-session-token", out values) ? values.First() : null);
            return base.SendAsync(request, ct);
        }
    }

    private static HttpResponseMessage Send(HttpClient http, HttpMethod method, string path, string body, string pk)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("x-ms-version", "2020-07-15");
        if (pk != null) request.Headers.TryAddWithoutValidation("x-ms-documentdb-partitionkey", "[\"" + pk + "\"]");
        if (body != null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return http.SendAsync(request).Result;
    }

    private static HttpClient Client(SessionFlowHandler handler, int port)
    {
        return new HttpClient(handler) { BaseAddress = new Uri("http://127.0.0.1:" + port + "/") };
    }

    private static void CreateContainer(HttpClient http, string db)
    {
        Send(http, HttpMethod.Post, "dbs", "{\"id\":\"" + db + "\"}", null).Dispose();
        var created = Send(http, HttpMethod.Post, "dbs/" + db + "/colls",
            "{\"id\":\"c\",\"partitionKey\":{\"paths\":[\"/pk\"],\"kind\":\"Hash\",\"version\":2}}", null);
        Assert.IsTrue(created.IsSuccessStatusCode, created.StatusCode.ToString());
        // The SDK's own metadata reads, which the flow learns from.
        Assert.IsTrue(Send(http, HttpMethod.Get, "dbs/" + db + "/colls/c", null, null).IsSuccessStatusCode);
        Assert.IsTrue(Send(http, HttpMethod.Get, "dbs/" + db + "/colls/c/pkranges", null, null).IsSuccessStatusCode);
    }

    [Test]
    public void CapturesScopesFollowsASplitAndHandsOverASnapshot()
    {
        int port = Port();
        string db = Unique("dotnetflow");
        Shim(port, "/_shim/partitions", "{\"db\":\"" + db + "\",\"coll\":\"c\",\"partitions\":4}");
        var recorder = new Recorder();
        using (var flow = new SessionFlow())
        using (var http = Client(new SessionFlowHandler(flow, recorder), port))
        {
            CreateContainer(http, db);
            Assert.AreEqual(1UL, flow.Stats.DefinitionsLearned);
            Assert.AreEqual(1UL, flow.Stats.MapsLearned);
            for (int i = 0; i < 20; i++)
            {
                var r = Send(http, HttpMethod.Post, "dbs/" + db + "/colls/c/docs", "{\"id\":\"i" + i + "\",\"pk\":\"k" + i + "\"}", "k" + i);
                Assert.IsTrue(r.IsSuccessStatusCode, r.StatusCode.ToString());
            }
            Assert.AreEqual(20UL, flow.Stats.Captured);
            recorder.Tokens.Clear();
            Assert.IsTrue(Send(http, HttpMethod.Get, "dbs/" + db + "/colls/c/docs/i3", null, "k3").IsSuccessStatusCode);
            Assert.AreEqual(1, SessionToken.Parse(recorder.Tokens.Single()).Segments.Count, recorder.Tokens.Single());
            string snapshot = flow.Snapshot();
            // Every range splits; a fresh client in another "process" (a restored flow) reads every write.
            for (int r = 0; r < 4; r++) Shim(port, "/_shim/partitions", "{\"db\":\"" + db + "\",\"coll\":\"c\",\"split\":\"" + r + "\"}");
            var second = new Recorder();
            using (var reader = SessionFlow.Restore(snapshot))
            using (var other = Client(new SessionFlowHandler(reader, second), port))
            {
                for (int i = 0; i < 20; i++)
                {
                    var got = Send(other, HttpMethod.Get, "dbs/" + db + "/colls/c/docs/i" + i, null, "k" + i);
                    Assert.AreEqual(HttpStatusCode.OK, got.StatusCode, "i" + i);
                }
                Assert.AreEqual(20, second.Tokens.Count);
                foreach (string t in second.Tokens)
                {
                    Assert.IsNotNull(t, "every read presented the writer's progress");
                    Assert.AreEqual(1, SessionToken.Parse(t).Segments.Count, t);
                }
                Assert.AreEqual(20UL, reader.Stats.Scoped);
            }
        }
    }

    [Test]
    public void OneClientServesEveryUserThroughTheCurrentFlow()
    {
        int port = Port();
        string db = Unique("dotnetusers");
        var recorder = new Recorder();
        using (var alice = new SessionFlow())
        using (var bob = new SessionFlow())
        using (var http = Client(new SessionFlowHandler(recorder), port))
        {
            using (alice.Activate())
            {
                CreateContainer(http, db);
                Send(http, HttpMethod.Post, "dbs/" + db + "/colls/c/docs", "{\"id\":\"a\",\"pk\":\"alice\"}", "alice").Dispose();
            }
            Assert.IsNull(SessionFlow.Current);
            using (bob.Activate())
            {
                Send(http, HttpMethod.Get, "dbs/" + db + "/colls/c/docs/a", null, "alice").Dispose();
            }
            // Each request went through the flow current for it, and only that one.
            Assert.AreEqual(5UL, alice.Stats.Requests, "alice's five requests");
            Assert.AreEqual(1UL, alice.Stats.Captured, "alice's write");
            Assert.AreEqual(1UL, bob.Stats.Requests, "bob's read");
            Assert.AreEqual(1UL, bob.Stats.Captured, "bob's read is captured in bob's flow");
            Send(http, HttpMethod.Get, "dbs/" + db + "/colls/c/docs/a", null, "alice").Dispose();
            Assert.AreEqual(6UL, alice.Stats.Requests + bob.Stats.Requests, "no flow current: nothing done");
        }
    }

    [Test]
    public void MalformedInputStepsAsideAndSnapshotsAreTyped()
    {
        using (var flow = new SessionFlow())
        {
            var headers = new[] { new KeyValuePair<string, string>("x-ms-session-token", "garbage") };
            Assert.IsNull(flow.TokenForRequest("GET", "/dbs/d/colls/c/docs/x", headers));
            flow.OnResponse("GET", "/dbs/d/colls/c", 200, null, Encoding.UTF8.GetBytes("{not json"));
            Assert.AreEqual(2UL, flow.Stats.SteppedAside);
            flow.Capture("dbs/d/colls/c", "rid", "0:1#5", 201, 0);
            Assert.AreEqual("0:1#5", flow.TokenFor("dbs/d/colls/c", "[\"k\"]"), "the composite, within its budget");
        }
        var e = Assert.Throws<SessionTokenFormatException>(() => SessionFlow.Restore("{}"));
        Assert.AreEqual("invalid_snapshot", e.Kind);
    }
}
