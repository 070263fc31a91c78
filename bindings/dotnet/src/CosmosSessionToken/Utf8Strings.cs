using System;
using System.Runtime.InteropServices;

namespace CosmosSessionToken
{
    /// <summary>An array of strings as the C ABI takes it: pinned UTF-8 bytes addressed by a pointer
    /// array and a length array (const char *const *ids, const size_t *lens, size_t n).</summary>
    internal sealed class Utf8Strings : IDisposable
    {
        private GCHandle bytesPin, pointersPin, lengthsPin;

        internal Utf8Strings(string[] values, string paramName) : this(Encode(values, paramName)) { }

        private static byte[][] Encode(string[] values, string paramName)
        {
            values = values ?? new string[0];
            var encoded = new byte[values.Length][];
            for (int i = 0; i < values.Length; i++)
            {
                encoded[i] = Native.Utf8(values[i], paramName);
            }
            return encoded;
        }

        /// <summary>Byte strings (keys) as pointer + length arrays.</summary>
        internal Utf8Strings(System.Collections.Generic.IList<byte[]> encoded)
        {
            int total = 0;
            for (int i = 0; i < encoded.Count; i++)
            {
                if (encoded[i] == null) throw new ArgumentNullException("keys", "a key is null");
                total += encoded[i].Length;
            }
            int count = encoded.Count;
            var bytes = new byte[Math.Max(total, 1)];
            var pointers = new IntPtr[Math.Max(count, 1)];
            var lengths = new UIntPtr[Math.Max(count, 1)];
            bytesPin = GCHandle.Alloc(bytes, GCHandleType.Pinned);
            pointersPin = GCHandle.Alloc(pointers, GCHandleType.Pinned);
            lengthsPin = GCHandle.Alloc(lengths, GCHandleType.Pinned);
            IntPtr basePtr = bytesPin.AddrOfPinnedObject();
            int at = 0;
            for (int i = 0; i < count; i++)
            {
                Buffer.BlockCopy(encoded[i], 0, bytes, at, encoded[i].Length);
                pointers[i] = new IntPtr(basePtr.ToInt64() + at);
                lengths[i] = new UIntPtr((uint)encoded[i].Length);
                at += encoded[i].Length;
            }
            Count = new UIntPtr((uint)count);
        }

        internal IntPtr Pointers { get { return pointersPin.AddrOfPinnedObject(); } }

        internal IntPtr Lengths { get { return lengthsPin.AddrOfPinnedObject(); } }

        internal UIntPtr Count { get; private set; }

        public void Dispose()
        {
            if (bytesPin.IsAllocated) bytesPin.Free();
            if (pointersPin.IsAllocated) pointersPin.Free();
            if (lengthsPin.IsAllocated) lengthsPin.Free();
        }
    }
}
