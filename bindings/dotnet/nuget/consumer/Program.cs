using System;
using CosmosSessionToken;

/// <summary>A consumer that sees only what `nuget install CosmosSessionToken` installed: a token round trip, the
/// session-state engine in memory, and the ASP.NET provider type loading.</summary>
public static class Program
{
    public static int Main()
    {
        var merged = SessionToken.Parse("0:1#100#1=20,1:-1#42").Merge(SessionToken.Parse("0:1#101#1=20"));
        if (merged.ToString() != "0:1#101#1=20,1:-1#42") return Fail("merge gave " + merged);
        using (var store = SessionStateStore.OpenInMemory(null))
        {
            var ex = store.GetExclusive("s");
            store.SetAndRelease("s", new byte[] { 42 }, ex.LockId, true, null);
            if (store.Get("s").Data[0] != 42) return Fail("state round trip");
        }
        var provider = Type.GetType("CosmosSessionToken.AspNet.CosmosDbSessionStateProvider, CosmosSessionToken.AspNet");
        if (provider == null || provider.BaseType == null || provider.BaseType.Name != "SessionStateStoreProviderBase")
            return Fail("the ASP.NET provider type did not load");
        Console.WriteLine("consumer ok: " + SessionToken.NativeVersion);
        return 0;
    }

    private static int Fail(string what)
    {
        Console.WriteLine("consumer FAILED: " + what);
        return 1;
    }
}
