using System.Globalization;

namespace Adapters.Bench.Xet;

/// <summary><c>xet chunk-hash</c>, <c>xet dedupe</c> and <c>xet download</c>: the Xet figures of issue 21.</summary>
internal static class XetMode
{
    public const string Mode = "xet";

    public static async Task<int> RunAsync(string[] args)
    {
        switch (args)
        {
            case [XetChunkHashMode.Mode, .. var rest]:
                return XetChunkHashMode.Run(rest);
            case [XetDedupeMode.Mode, .. var rest]:
                return await XetDedupeMode.RunAsync(rest).ConfigureAwait(false);
            case [XetDownloadMode.Mode, .. var rest]:
                return await XetDownloadMode.RunAsync(rest).ConfigureAwait(false);
            default:
                Console.Error.WriteLine("usage: xet chunk-hash [--mib N] | xet dedupe [--mib N] [--serve] | xet download [--mib N] [--rounds R]");
                return 2;
        }
    }

    public static int IntOption(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>Deterministic pseudo-random bytes (xorshift64*), fast enough for a GiB.</summary>
    public static byte[] RandomData(long length, ulong seed)
    {
        var data = GC.AllocateUninitializedArray<byte>(checked((int)length));
        var state = seed * 0x9E3779B97F4A7C15UL | 1;
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(data.AsSpan(0, data.Length / 8 * 8));
        for (var i = 0; i < words.Length; i++)
        {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            words[i] = state * 0x2545F4914F6CDD1DUL;
        }
        for (var i = words.Length * 8; i < data.Length; i++) data[i] = (byte)i;
        return data;
    }
}
