// The DocumentClient flow of a session token carried between two web nodes behind a round-robin load balancer.
// The Cosmos DB calls are shown as comments (Microsoft.Azure.DocumentDB is not available on this
// build machine); the token handling around them is real and runs in scripts/test.
using System;
using System.Collections.Generic;
using CosmosSessionToken;

public static class WebFarm
{
    // Stands in for the browser's cookie jar.
    static readonly Dictionary<string, string> Cookies = new Dictionary<string, string>();
    const string CookieName = "cosmos-session";

    // Node A: a write. Merge the response's token into what the user already carried.
    static void NodeAWrite(string responseSessionToken)
    {
        // ResourceResponse<Document> response = await client.CreateDocumentAsync(collectionLink, doc);
        // string responseSessionToken = response.SessionToken;
        var written = SessionToken.Parse(responseSessionToken);
        string carried;
        var merged = Cookies.TryGetValue(CookieName, out carried)
            ? SessionToken.Parse(carried).Merge(written)
            : written;
        Cookies[CookieName] = merged.ToString();
    }

    // Node B: a read of a document in partition key range `rangeId` (parents: after a split).
    static string NodeBRead(string rangeId, params string[] parents)
    {
        string carried;
        if (!Cookies.TryGetValue(CookieName, out carried)) return null;
        var scoped = SessionToken.Parse(carried).Scope(rangeId, parents);
        // var options = new RequestOptions { SessionToken = scoped == null ? null : scoped.ToString() };
        // ResourceResponse<Document> read = await client.ReadDocumentAsync(docLink, options);
        return scoped == null ? null : scoped.ToString();
    }

    public static int Main()
    {
        NodeAWrite("0:1#100#1=20");
        NodeAWrite("1:-1#42");
        NodeAWrite("0:1#101#1=20");
        Console.WriteLine("cookie:            " + Cookies[CookieName]);
        Console.WriteLine("read range 1:      " + NodeBRead("1"));
        Console.WriteLine("read range 2 (split of 0): " + NodeBRead("2", "0"));

        // A fleet with SDK v1 (simple tokens) and v2+ (vector tokens) services:
        var v2 = SessionToken.Parse(Cookies[CookieName]);
        Console.WriteLine("for a v1 service:  " + v2.ToSimple());
        Console.WriteLine("from a v1 service: " + SessionToken.Parse("0:105,1:43").ToVector());

        bool ok = NodeBRead("1") == "1:-1#42" && NodeBRead("2", "0") == "2:1#101#1=20"
            && v2.ToSimple().ToString() == "0:101,1:42";
        Console.WriteLine(ok ? "1 passed, 0 failed" : "0 passed, 1 failed");
        return ok ? 0 : 1;
    }
}
