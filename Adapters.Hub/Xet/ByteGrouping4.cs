namespace Adapters.Hub.Xet;

/// <summary>
/// The byte-grouping transform of <see cref="XetCompressionScheme.ByteGrouping4Lz4"/>: byte i of the input goes to
/// group i mod 4, the four groups are concatenated in order. Floating-point tensors compress much better this way
/// because their exponent bytes line up.
/// </summary>
public static class ByteGrouping4
{
    /// <summary>Regroups <paramref name="data"/> into four position classes.</summary>
    public static byte[] Split(ReadOnlySpan<byte> data)
    {
        var result = new byte[data.Length];
        var offsets = GroupOffsets(data.Length);
        for (var i = 0; i < data.Length; i++)
            result[offsets[i & 3] + (i >> 2)] = data[i];
        return result;
    }

    /// <summary>Undoes <see cref="Split"/>.</summary>
    public static byte[] Join(ReadOnlySpan<byte> grouped)
    {
        var result = new byte[grouped.Length];
        var offsets = GroupOffsets(grouped.Length);
        for (var i = 0; i < grouped.Length; i++)
            result[i] = grouped[offsets[i & 3] + (i >> 2)];
        return result;
    }

    /// <summary>Where each group starts: group k holds length/4 bytes plus one when k is below length mod 4.</summary>
    private static int[] GroupOffsets(int length)
    {
        var quarter = length / 4;
        var remainder = length % 4;
        var offsets = new int[4];
        for (var k = 1; k < 4; k++)
            offsets[k] = offsets[k - 1] + quarter + (k - 1 < remainder ? 1 : 0);
        return offsets;
    }
}
