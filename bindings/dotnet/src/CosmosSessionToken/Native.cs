using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace CosmosSessionToken
{
    /// <summary>Loading checks, UTF-8 conversion, the output-buffer protocol and status-to-exception mapping.</summary>
    internal static class Native
    {
        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);
        private static readonly object LoadLock = new object();
        private static volatile bool loaded;

        /// <summary>Checks once that libcstoken loads and speaks the expected ABI; throws a clear error otherwise.</summary>
        internal static void EnsureLoaded()
        {
            if (loaded)
            {
                return;
            }
            lock (LoadLock)
            {
                if (loaded)
                {
                    return;
                }
                // ASP.NET shadow-copies assemblies away from bin/, where the native library is, and the runtime looks
                // next to the shadow copy. On Windows: load the DLL of the process's bitness from where it was deployed
                // (LoadLibraryEx; later P/Invokes bind to the loaded module). Elsewhere: put a copy next to the shadow
                // copy. The check runs in its own method because Mono resolves a P/Invoke when it compiles the calling
                // method, and caches a failure.
                if (IsWindows) PreloadWindows();
                else CopyNextToAssembly();
                CheckAbi();
                loaded = true;
            }
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static void CheckAbi()
        {
            uint abi;
            try
            {
                abi = NativeMethods.cst_library_get_abi_version();
            }
            catch (DllNotFoundException e)
            {
                throw new DllNotFoundException(MissingLibraryMessage(), e);
            }
            catch (EntryPointNotFoundException e)
            {
                throw new DllNotFoundException(
                    "The loaded native library 'cstoken' does not export cst_library_get_abi_version: it is not libcstoken. "
                    + MissingLibraryMessage(), e);
            }
            if (abi != NativeMethods.ExpectedAbiVersion)
            {
                throw new InvalidOperationException(string.Format(
                    "Native library libcstoken has ABI version {0}, but CosmosSessionToken {1} needs ABI version {2} " +
                    "(native library version: {3}). Deploy the libcstoken built from the same release as this assembly.",
                    abi, typeof(Native).Assembly.GetName().Version, NativeMethods.ExpectedAbiVersion, Version()));
            }
        }

        /// <summary>The error table of the loaded library: (kind, C status) rows.</summary>
        internal static List<KeyValuePair<string, int>> ErrorCodes()
        {
            EnsureLoaded();
            var rows = new List<KeyValuePair<string, int>>();
            ulong count = NativeMethods.cst_error_table_get_count().ToUInt64();
            for (ulong i = 0; i < count; i++)
            {
                int status = 0;
                UIntPtr index = new UIntPtr(i);
                string code = ReadString((byte[] buf, UIntPtr cap, out UIntPtr len) =>
                    NativeMethods.cst_error_table_get_row(index, buf, cap, out len, out status));
                rows.Add(new KeyValuePair<string, int>(code, status));
            }
            return rows;
        }

        private static bool IsWindows
        {
            get { return Environment.OSVersion.Platform == PlatformID.Win32NT; }
        }

        private static bool Is64BitProcess
        {
            get { return IntPtr.Size == 8; }
        }

        /// <summary>Every path the native library is looked for at (see <see cref="NativeLibraryPath"/>), from this
        /// assembly's location, its CodeBase (where ASP.NET shadow-copied it from) and the application base.</summary>
        internal static List<string> CandidatePaths()
        {
            var asm = typeof(Native).Assembly;
            string here = null, codeBaseDir = null;
            try { here = Path.GetDirectoryName(asm.Location); } catch (Exception) { }
            try
            {
                var codeBase = new Uri(asm.CodeBase);
                if (codeBase.IsFile) codeBaseDir = Path.GetDirectoryName(codeBase.LocalPath);
            }
            catch (Exception) { }
            return NativeLibraryPath.Candidates(IsWindows, Is64BitProcess, here, codeBaseDir, AppDomain.CurrentDomain.BaseDirectory);
        }

        private static string NativeFileName()
        {
            return NativeLibraryPath.FileName(IsWindows);
        }

        [DllImport("kernel32", CharSet = CharSet.Unicode, SetLastError = true, ExactSpelling = true)]
        private static extern IntPtr LoadLibraryExW(string path, IntPtr file, uint flags);

        /// <summary>LOAD_WITH_ALTERED_SEARCH_PATH: the DLL's own directory is searched for what it imports.</summary>
        private const uint LoadWithAlteredSearchPath = 0x00000008;

        /// <summary>Windows: loads the cstoken.dll of this process's bitness from the first candidate that exists, so
        /// the P/Invokes bind to it (an x86 DLL in an x64 process, or none at all, fails here with every path tried).</summary>
        private static void PreloadWindows()
        {
            var candidates = CandidatePaths();
            string path = NativeLibraryPath.Select(candidates, File.Exists);
            if (path == null || LoadLibraryExW(path, IntPtr.Zero, LoadWithAlteredSearchPath) == IntPtr.Zero)
            {
                throw new DllNotFoundException(NativeLibraryPath.NotFoundMessage(true, Is64BitProcess, candidates, File.Exists));
            }
        }

        /// <summary>Copies the native library from a candidate directory next to this assembly when it is not there
        /// (a shadow copy) or when the copy there differs from it (a shadow directory left by an earlier deployment:
        /// its stale library would load, pass the ABI check and then miss newer exports). False when there was
        /// nothing to copy or the copy failed.</summary>
        private static bool CopyNextToAssembly()
        {
            try
            {
                string here = Path.GetDirectoryName(typeof(Native).Assembly.Location);
                if (string.IsNullOrEmpty(here)) return false;
                string target = Path.Combine(here, NativeFileName());
                foreach (var source in CandidatePaths())
                {
                    if (source == target || !File.Exists(source)) continue;
                    if (File.Exists(target) && SameContent(source, target)) return false;
                    // Several worker processes may share one shadow directory: copy to a private name, then rename,
                    // so nobody ever loads a half-written file.
                    string temp = target + "." + Guid.NewGuid().ToString("N") + ".tmp";
                    File.Copy(source, temp);
                    try
                    {
                        if (File.Exists(target)) File.Delete(target); // stale; fails while another process has it loaded (Windows)
                        File.Move(temp, target);
                    }
                    catch (IOException)
                    {
                        File.Delete(temp); // another process put it there first, or the stale one is in use
                    }
                    catch (UnauthorizedAccessException)
                    {
                        File.Delete(temp);
                    }
                    return true;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
            return false;
        }

        /// <summary>True when both files hold the same bytes.</summary>
        private static bool SameContent(string a, string b)
        {
            if (new FileInfo(a).Length != new FileInfo(b).Length) return false;
            using (var x = File.OpenRead(a))
            using (var y = File.OpenRead(b))
            {
                var bx = new byte[81920];
                var by = new byte[81920];
                while (true)
                {
                    int n = x.Read(bx, 0, bx.Length);
                    if (n == 0) return true;
                    int got = 0;
                    while (got < n)
                    {
                        int m = y.Read(by, got, n - got);
                        if (m == 0) return false;
                        got += m;
                    }
                    for (int i = 0; i < n; i++)
                    {
                        if (bx[i] != by[i]) return false;
                    }
                }
            }
        }

        private static string MissingLibraryMessage()
        {
            return NativeLibraryPath.NotFoundMessage(IsWindows, Is64BitProcess, CandidatePaths(), File.Exists);
        }

        internal static string Version()
        {
            IntPtr p = NativeMethods.cst_library_get_version();
            if (p == IntPtr.Zero)
            {
                return "?";
            }
            int len = 0;
            while (Marshal.ReadByte(p, len) != 0)
            {
                len++;
            }
            byte[] bytes = new byte[len];
            Marshal.Copy(p, bytes, 0, len);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>The UTF-8 form of <paramref name="s"/>, or null when it has none (a lone surrogate): for untrusted
        /// input that must be refused quietly rather than with an exception.</summary>
        internal static byte[] TryUtf8(string s)
        {
            if (s == null) return null;
            try
            {
                return StrictUtf8.GetBytes(s);
            }
            catch (EncoderFallbackException)
            {
                return null;
            }
        }

        internal static byte[] Utf8(string s, string paramName)
        {
            if (s == null)
            {
                throw new ArgumentNullException(paramName);
            }
            try
            {
                return StrictUtf8.GetBytes(s);
            }
            catch (EncoderFallbackException e)
            {
                throw new ArgumentException("The string is not valid UTF-16 (lone surrogate), so it has no UTF-8 form.", paramName, e);
            }
        }

        internal static UIntPtr Len(byte[] bytes)
        {
            return new UIntPtr((uint)bytes.Length);
        }

        /// <summary>Calls a native function that fills (buf, cap, out_len), growing the buffer once if needed.</summary>
        internal delegate int BufferCall(byte[] buf, UIntPtr cap, out UIntPtr outLen);

        internal static string ReadString(BufferCall call)
        {
            string result;
            Ensure(TryReadString(call, out result));
            return result;
        }

        /// <summary>The buffer protocol without raising: the status, and the string when it is CST_OK.</summary>
        internal static int TryReadString(BufferCall call, out string result)
        {
            result = "";
            byte[] buf = new byte[256];
            UIntPtr needed;
            int status = call(buf, new UIntPtr((uint)buf.Length), out needed);
            if (status == NativeMethods.CST_ERR_BUFFER_TOO_SMALL)
            {
                buf = new byte[checked((int)needed.ToUInt64() + 1)];
                status = call(buf, new UIntPtr((uint)buf.Length), out needed);
            }
            if (status == NativeMethods.CST_OK)
            {
                result = Encoding.UTF8.GetString(buf, 0, checked((int)needed.ToUInt64()));
            }
            return status;
        }

        // Reading the last error must never raise (it runs while an error is being reported).
        private static string LastErrorString(bool kind)
        {
            string result;
            TryReadString(kind ? (BufferCall)NativeMethods.cst_last_error_get_code : NativeMethods.cst_last_error_get_message, out result);
            return result;
        }

        /// <summary>Maps a non-OK status to an exception carrying the native error details (same thread).</summary>
        internal static void Ensure(int status)
        {
            if (status == NativeMethods.CST_OK)
            {
                return;
            }
            string message = LastErrorString(false);
            string kind = LastErrorString(true);
            long segment, offset;
            if (NativeMethods.cst_last_error_get_position(out segment, out offset) != NativeMethods.CST_OK)
            {
                segment = -1;
                offset = -1;
            }
            ErrorTable.Factory factory;
            if (ErrorTable.ByStatus.TryGetValue(status, out factory))
            {
                throw factory(message, kind, segment, offset);
            }
            throw new CosmosSessionTokenException(string.Format("libcstoken returned status {0}: {1}", status, message), kind);
        }
    }
}
