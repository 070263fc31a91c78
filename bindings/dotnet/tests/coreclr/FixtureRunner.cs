using System;
using System.IO;
using System.Linq;
using System.Reflection;

/// <summary>
/// Runs the [Test] methods of NUnit fixtures outside NUnit's runner (Debian ships no NUnit console for CoreCLR 2.0),
/// so the same test code the NUnit suite runs on Mono also runs on CoreCLR: each fixture is created once, its [SetUp]
/// and [TearDown] methods run around each test. Any exception is a failure, an ignored test (Assert.Ignore) too.
/// Prints "ok NAME" or "FAIL NAME: …" per test, the runtime, and "N passed, M failed"; exits 1 on any failure.
/// Usage: FixtureRunner ASSEMBLY.dll FIXTURE [FIXTURE ...]
/// </summary>
public static class FixtureRunner
{
    private static bool Has(MethodInfo m, string attribute)
    {
        return m.GetCustomAttributes(true).Any(a => a.GetType().FullName == "NUnit.Framework." + attribute);
    }

    private static void Each(object fixture, string attribute)
    {
        foreach (var m in fixture.GetType().GetMethods().Where(m => Has(m, attribute))) m.Invoke(fixture, null);
    }

    public static int Main(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: FixtureRunner ASSEMBLY.dll FIXTURE [FIXTURE ...]");
            return 2;
        }
        var assembly = Assembly.LoadFrom(Path.GetFullPath(args[0]));
        int passed = 0, failed = 0;
        foreach (string name in args.Skip(1))
        {
            Type type = assembly.GetType(name);
            var tests = type == null ? new MethodInfo[0] : type.GetMethods().Where(m => Has(m, "TestAttribute")).ToArray();
            if (tests.Length == 0)
            {
                failed++;
                Console.WriteLine("FAIL {0}: no such fixture, or no tests in it", name);
                continue;
            }
            object fixture = Activator.CreateInstance(type);
            foreach (var test in tests.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                try
                {
                    Each(fixture, "SetUpAttribute");
                    try { test.Invoke(fixture, null); }
                    finally { Each(fixture, "TearDownAttribute"); }
                    passed++;
                    Console.WriteLine("ok {0}.{1}", name, test.Name);
                }
                catch (Exception e)
                {
                    failed++;
                    Exception inner = e is TargetInvocationException && e.InnerException != null ? e.InnerException : e;
                    Console.WriteLine("FAIL {0}.{1}: {2}: {3}", name, test.Name, inner.GetType().Name, inner.Message.Trim());
                }
            }
        }
        // The runtime it ran on, for the log and for scripts/test to check (both report mscorlib 4.0.0.0).
        Console.WriteLine("runtime: {0} ({1})", Type.GetType("Mono.Runtime") != null ? "Mono" : "CoreCLR",
            Path.GetDirectoryName(typeof(object).Assembly.Location));
        Console.WriteLine("{0} passed, {1} failed", passed, failed);
        return failed == 0 && passed > 0 ? 0 : 1;
    }
}
