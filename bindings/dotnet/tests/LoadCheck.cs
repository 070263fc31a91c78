using System;
using CosmosSessionToken;

/// <summary>
/// Load failures must say what was looked for and where.
///   LoadCheck.exe missing       — run where the assembly is but libcstoken is not
///   LoadCheck.exe abi-mismatch  — run next to a libcstoken that reports another ABI version
/// </summary>
public static class LoadCheck
{
    public static int Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "missing";
        try
        {
            SessionToken.Parse("0:1#5");
            Console.WriteLine("FAIL: parsing worked although the native library is " + mode);
            return 1;
        }
        catch (DllNotFoundException e)
        {
            bool clear = mode == "missing" && e.Message.Contains("Could not load the native library 'cstoken'")
                && e.Message.Contains("Tried: ") && e.Message.Contains(System.IO.Path.Combine(AppDomain.CurrentDomain.BaseDirectory, "libcstoken.so"))
                && e.Message.Contains("(absent)");
            return Report(clear, e);
        }
        catch (InvalidOperationException e)
        {
            // The expected version is the header's, passed by scripts/test (parsed from ffi/src/status.rs),
            // so this check never goes stale when the ABI version changes.
            string expected = args.Length > 1 ? args[1] : "?";
            bool clear = mode == "abi-mismatch" && e.Message.Contains("ABI version 99")
                && e.Message.Contains("needs ABI version " + expected);
            return Report(clear, e);
        }
    }

    static int Report(bool clear, Exception e)
    {
        Console.WriteLine(clear ? "1 passed, 0 failed" : "FAIL: unexpected or unclear " + e.GetType().Name + ": " + e.Message);
        return clear ? 0 : 1;
    }
}
