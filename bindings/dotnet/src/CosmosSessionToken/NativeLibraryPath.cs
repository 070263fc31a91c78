using System;
using System.Collections.Generic;
using System.IO;

namespace CosmosSessionToken
{
    /// <summary>
    /// Where the native library is looked for, as a pure function of the facts (operating system, process bitness,
    /// the directories) so every combination is unit-tested on any machine. On Windows the wrapper loads the file it
    /// returns with <c>LoadLibraryEx</c> before its first P/Invoke: the package's build targets copy
    /// <c>x64\cstoken.dll</c> and <c>x86\cstoken.dll</c> next to the application (the two cannot share one name), and
    /// ASP.NET may run the assembly from a shadow copy, so the directory it was copied from (its CodeBase) is searched
    /// too. Elsewhere (Mono on Linux) the loader finds <c>libcstoken.so</c> itself, after the wrapper copied it next to
    /// a shadow-copied assembly.
    /// </summary>
    internal static class NativeLibraryPath
    {
        /// <summary>The file name of the native library on an OS.</summary>
        internal static string FileName(bool windows)
        {
            return windows ? "cstoken.dll" : "libcstoken.so";
        }

        /// <summary>Every path tried, in order: for each directory (the assembly's, its CodeBase's, the application
        /// base and its bin), on Windows first the bitness subdirectory (<c>x64</c> or <c>x86</c>), then the directory
        /// itself. Duplicates and empty directories are left out.</summary>
        internal static List<string> Candidates(bool windows, bool is64BitProcess, string assemblyDirectory,
            string codeBaseDirectory, string baseDirectory)
        {
            var dirs = new List<string>();
            foreach (var d in new[] { assemblyDirectory, codeBaseDirectory, baseDirectory,
                                      string.IsNullOrEmpty(baseDirectory) ? null : Path.Combine(baseDirectory, "bin") })
            {
                if (!string.IsNullOrEmpty(d) && !dirs.Contains(d)) dirs.Add(d);
            }
            var paths = new List<string>();
            string file = FileName(windows);
            foreach (var d in dirs)
            {
                if (windows) paths.Add(Path.Combine(Path.Combine(d, is64BitProcess ? "x64" : "x86"), file));
                paths.Add(Path.Combine(d, file));
            }
            return paths;
        }

        /// <summary>The first candidate that exists, or null.</summary>
        internal static string Select(IList<string> candidates, Func<string, bool> exists)
        {
            foreach (var path in candidates)
            {
                if (exists(path)) return path;
            }
            return null;
        }

        /// <summary>The message of a library that was not found: every path tried and whether it exists (present but
        /// refused means another architecture or a corrupt file).</summary>
        internal static string NotFoundMessage(bool windows, bool is64BitProcess, IList<string> candidates,
            Func<string, bool> exists)
        {
            var tried = new List<string>();
            foreach (var path in candidates)
            {
                tried.Add(path + (exists(path) ? " (present, but it did not load: check its architecture and ABI)" : " (absent)"));
            }
            return string.Format(
                "Could not load the native library 'cstoken' ({0}) for a {1}-bit process. Tried: {2}; then the system's library search " +
                "path ({3}). The NuGet package's build targets copy it next to the application ({4}); " +
                "or build it with 'cargo build --release -p cosmos-session-token-ffi'.",
                FileName(windows), is64BitProcess ? 64 : 32, string.Join("; ", tried),
                windows ? "PATH" : "LD_LIBRARY_PATH, the dllmap of CosmosSessionToken.dll.config",
                windows ? "bin\\x64\\cstoken.dll and bin\\x86\\cstoken.dll" : "libcstoken.so");
        }
    }
}
