using System;
using System.Collections.Generic;
using System.Configuration;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Web;
using System.Web.Script.Serialization;
using System.Web.SessionState;
using CosmosSessionToken;
using CosmosSessionToken.AspNet;

namespace SessionFarm
{
    /// <summary>
    /// flow.axd — application data read back across the farm's nodes through FlowCookieModule. One HttpClient per node
    /// (process) built on <c>SessionFlowHandler</c> without a flow, so every request goes through the flow the module
    /// made current for the user (<c>SessionFlow.Current</c>); requests shaped like the SDKs' in gateway mode (headers per
    /// the REST reference): the account read, the container and pkranges reads at the node's first request, writes to
    /// the write region, reads to the preferred read region ("East US", lagging) with the SDKs' retry at the write region
    /// on 404/1002.
    ///   flow.axd?op=write&amp;u=USER&amp;i=N   upserts item USER-N (value N) in partition USER; answers the write's token
    ///   flow.axd?op=read&amp;u=USER&amp;i=N    reads it back: its value, or null when the read was stale (404)
    ///   flow.axd?op=stats                 this node's FlowCookies.Stats and NodeStats
    /// <c>&amp;flow=off</c>: the same requests through a plain HttpClient (the control: no flow); <c>&amp;flush=1</c>: the
    /// response's headers are flushed before its body.
    /// Every answer is JSON and names the node (its process id, also in X-Node).
    /// </summary>
    public class FlowHandler : IHttpHandler, IReadOnlySessionState
    {
        private const string Items = "dbs/flowfarm/colls/items";
        private static readonly HttpClient Flowing = new HttpClient(new SessionFlowHandler(new HttpClientHandler()));
        private static readonly HttpClient Plain = new HttpClient(new HttpClientHandler());
        private static readonly JavaScriptSerializer Json = new JavaScriptSerializer();
        private static readonly object Gate = new object();
        private static string writeRegion, readRegion;
        private static bool learned;

        public bool IsReusable { get { return true; } }

        private static HttpResponseMessage Send(HttpClient http, HttpMethod method, string url, string body, string pk, bool upsert = false)
        {
            for (int attempt = 1; ; attempt++)
            {
                var request = new HttpRequestMessage(method, url);
                request.Headers.TryAddWithoutValidation("x-ms-version", "2020-07-15");
                if (pk != null) request.Headers.TryAddWithoutValidation("x-ms-documentdb-partitionkey", "[\"" + pk + "\"]");
                if (upsert) request.Headers.TryAddWithoutValidation("x-ms-documentdb-is-upsert", "True");
                if (body != null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                try
                {
                    return http.SendAsync(request).Result;
                }
                catch (AggregateException e) when (attempt < 3 && e.InnerException is HttpRequestException)
                {
                    // A pooled keep-alive connection the server had just closed (seen under load on Mono): the SDKs
                    // retry such a transport failure too (these requests are idempotent: reads and upserts).
                }
            }
        }

        private static string Header(HttpResponseMessage r, string name)
        {
            IEnumerable<string> values;
            return r.Headers.TryGetValues(name, out values) ? values.FirstOrDefault() : null;
        }

        // What an SDK client does once per process: read the account (the regions' endpoints), then, before its first
        // request to the container, the container and its partition-key ranges (the flow learns from these reads).
        private static void Start(HttpClient http, bool flow)
        {
            lock (Gate)
            {
                if (writeRegion == null)
                {
                    string conn = ConfigurationManager.ConnectionStrings["cosmosSessionConnectionString"].ConnectionString;
                    string endpoint = conn.Split(';').First(p => p.StartsWith("AccountEndpoint=", StringComparison.Ordinal)).Substring(16);
                    using (var r = Send(http, HttpMethod.Get, endpoint, null, null))
                    {
                        var account = Json.Deserialize<Dictionary<string, object>>(r.Content.ReadAsStringAsync().Result);
                        Func<string, IEnumerable<Dictionary<string, object>>> locations =
                            k => ((System.Collections.ArrayList)account[k]).Cast<Dictionary<string, object>>();
                        writeRegion = (string)locations("writableLocations").First()["databaseAccountEndpoint"];
                        var east = locations("readableLocations").FirstOrDefault(l => (string)l["name"] == "East US");
                        readRegion = east == null ? writeRegion : (string)east["databaseAccountEndpoint"];
                    }
                }
                if (flow && !learned)
                {
                    Send(http, HttpMethod.Get, writeRegion + Items, null, null).Dispose();
                    Send(http, HttpMethod.Get, writeRegion + Items + "/pkranges", null, null).Dispose();
                    learned = true;
                }
            }
        }

        private static Dictionary<string, object> Fields(object value)
        {
            return value.GetType().GetFields().ToDictionary(f => f.Name, f => (object)Convert.ToInt64(f.GetValue(value)));
        }

        public void ProcessRequest(HttpContext context)
        {
            string node = Process.GetCurrentProcess().Id.ToString();
            string op = context.Request.QueryString["op"], user = context.Request.QueryString["u"], i = context.Request.QueryString["i"];
            bool flow = context.Request.QueryString["flow"] != "off";
            HttpClient http = flow ? Flowing : Plain;
            var answer = new Dictionary<string, object> { { "node", node } };
            if (op == "stats")
            {
                answer["cookies"] = Fields(FlowCookieModule.Cookies.Stats);
                answer["flow"] = Fields(FlowCookieModule.Cookies.NodeStats);
            }
            else
            {
                // The module made the user's flow current for this handler, the same one HttpContext.Items holds.
                answer["current"] = SessionFlow.Current != null && ReferenceEquals(SessionFlow.Current, FlowCookieModule.FlowOf(context));
                Start(http, flow);
                string id = user + "-" + i;
                if (op == "write")
                {
                    string body = Json.Serialize(new Dictionary<string, object> { { "id", id }, { "pk", user }, { "value", int.Parse(i) } });
                    using (var r = Send(http, HttpMethod.Post, writeRegion + Items + "/docs", body, user, upsert: true))
                    {
                        answer["status"] = (int)r.StatusCode;
                        answer["token"] = Header(r, "x-ms-session-token");
                    }
                }
                else
                {
                    var r = Send(http, HttpMethod.Get, readRegion + Items + "/docs/" + id, null, user);
                    answer["sent"] = r.RequestMessage.Headers.Contains("x-ms-session-token")
                        ? r.RequestMessage.Headers.GetValues("x-ms-session-token").First() : null;
                    if (r.StatusCode == HttpStatusCode.NotFound && Header(r, "x-ms-substatus") == "1002")
                    {
                        // The read region has not reached the token: the SDKs retry at the write region.
                        r.Dispose();
                        r = Send(http, HttpMethod.Get, writeRegion + Items + "/docs/" + id, null, user);
                        answer["retried"] = true;
                    }
                    using (r)
                    {
                        answer["status"] = (int)r.StatusCode;
                        answer["value"] = r.StatusCode == HttpStatusCode.OK
                            ? Json.Deserialize<Dictionary<string, object>>(r.Content.ReadAsStringAsync().Result)["value"] : null;
                    }
                }
            }
            context.Response.ContentType = "application/json";
            context.Response.AppendHeader("X-Node", node);
            // &flush=1: the headers go out before the handler ends (the module then writes the cookie at
            // PreSendRequestHeaders, not EndRequest).
            if (context.Request.QueryString["flush"] == "1") context.Response.Flush();
            context.Response.Write(Json.Serialize(answer));
        }
    }
}
