using System;
using System.IO;
using System.Linq;

/// <summary>
/// Runs every shared vector line (scripts/vectors_to_lines.py) through the .NET wrapper with the same code the NUnit
/// suite runs on Mono (<c>VectorTests.RunLine</c>), outside NUnit's runner, so the wrapper is also checked on CoreCLR
/// 2.0 (Debian ships no NUnit console for it). Prints one line per failure and "N passed, M failed"; exits 1 on any
/// failure. Usage: VectorRunner VECTORS.lines
/// </summary>
public static class VectorRunner
{
    public static int Main(string[] args)
    {
        string path = args.Length > 0 ? args[0] : "vectors.lines";
        int passed = 0, failed = 0;
        foreach (var line in File.ReadAllLines(path).Where(l => l.Trim().Length > 0))
        {
            try
            {
                VectorTests.RunLine(line.Split(' '));
                passed++;
            }
            catch (Exception e)
            {
                failed++;
                var f = line.Split(' ');
                Console.WriteLine("FAIL vector {0} {1}: {2}: {3}", f[0], f.Length > 1 ? f[1] : "", e.GetType().Name, e.Message);
            }
        }
        // The runtime it ran on, for the log and for scripts/test to check (both report mscorlib 4.0.0.0).
        Console.WriteLine("runtime: {0} ({1})", Type.GetType("Mono.Runtime") != null ? "Mono" : "CoreCLR",
            Path.GetDirectoryName(typeof(object).Assembly.Location));
        Console.WriteLine("{0} passed, {1} failed", passed, failed);
        return failed == 0 && passed > 0 ? 0 : 1;
    }
}
