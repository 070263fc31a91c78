// SessionToken.Merge and MergeToString through the .NET wrapper (Mono), on parsed tokens; prints
// "name ns_per_op".
using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using CosmosSessionToken;

public static class MergeBench
{
    [DllImport("cstoken", EntryPoint = "cst_library_get_abi_version")]
    private static extern uint AbiVersion();

    /// <summary>The least a leak-free managed owner of a native resource costs to create and dispose.</summary>
    private sealed class Finalizable : IDisposable
    {
        ~Finalizable() { }

        public void Dispose() { GC.SuppressFinalize(this); }
    }

    /// <summary>Nanoseconds per call: the best of 5 rounds of a million calls.</summary>
    private static double Best(Action op)
    {
        const int iters = 1000000;
        double best = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < iters; i++)
            {
                op();
            }
            best = Math.Min(best, sw.Elapsed.TotalMilliseconds * 1e6 / iters);
        }
        return best;
    }

    public static int Main(string[] args)
    {
        var a = SessionToken.Parse(args.Length > 1 ? args[0] : "0:1#1000000#1=500001#2=500002#3=500003");
        var b = SessionToken.Parse(args.Length > 1 ? args[1] : "0:1#1000005#1=500006#2=500007#3=500008");
        Console.WriteLine("dotnet_merge {0:F1}", Best(() => { using (a.Merge(b)) { } }));
        Console.WriteLine("dotnet_merge_to_string {0:F1}", Best(() => a.MergeToString(b)));
        // The floor under both: one P/Invoke transition, and one object with a finalizer.
        Console.WriteLine("mono_pinvoke_call {0:F1}", Best(() => AbiVersion()));
        Console.WriteLine("mono_finalizable_object {0:F1}", Best(() => new Finalizable().Dispose()));
        return 0;
    }
}
