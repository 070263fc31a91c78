using System;
using System.Linq;
using System.Reflection;

namespace MiniTest
{
    /// <summary>Marks a test method (same name as NUnit's, so the tests also compile against NUnit).</summary>
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class TestAttribute : Attribute { }

    public sealed class AssertionException : Exception
    {
        public AssertionException(string message) : base(message) { }
    }

    public static class Assert
    {
        public static void True(bool condition, string message = "expected true")
        {
            if (!condition) throw new AssertionException(message);
        }

        public static void Equal<T>(T expected, T actual, string context = "")
        {
            if (!Equals(expected, actual))
                throw new AssertionException(string.Format("{0}expected <{1}>, got <{2}>", context == "" ? "" : context + ": ", expected, actual));
        }

        public static TException Throws<TException>(Action action, string context = "") where TException : Exception
        {
            try
            {
                action();
            }
            catch (TException e)
            {
                return e;
            }
            catch (Exception e)
            {
                throw new AssertionException(string.Format("{0}expected {1}, got {2}: {3}", context, typeof(TException).Name, e.GetType().Name, e.Message));
            }
            throw new AssertionException(string.Format("{0}expected {1}, nothing was thrown", context, typeof(TException).Name));
        }
    }

    /// <summary>Runs every [Test] method, plus sub-cases recorded through Record; prints "N passed, M failed".</summary>
    public static class Runner
    {
        private static int passed, failed;

        public static void Record(string name, Exception error)
        {
            if (error == null)
            {
                passed++;
                return;
            }
            failed++;
            Console.WriteLine("FAIL " + name + ": " + error.Message);
        }

        public static int Main(string[] args)
        {
            var tests = Assembly.GetExecutingAssembly().GetTypes()
                .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
                .Where(m => m.GetCustomAttributes(typeof(TestAttribute), false).Length > 0)
                .OrderBy(m => m.DeclaringType.Name + "." + m.Name)
                .ToList();
            foreach (var m in tests)
            {
                Exception error = null;
                try
                {
                    m.Invoke(null, null);
                }
                catch (TargetInvocationException e)
                {
                    error = e.InnerException;
                }
                Record(m.DeclaringType.Name + "." + m.Name, error);
            }
            if (passed + failed == 0)
            {
                Console.WriteLine("FAIL: no tests ran");
                failed = 1;
            }
            Console.WriteLine(passed + " passed, " + failed + " failed");
            return failed == 0 ? 0 : 1;
        }
    }
}
