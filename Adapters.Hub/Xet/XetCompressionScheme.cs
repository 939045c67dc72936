namespace Adapters.Hub.Xet;

/// <summary>How one chunk's bytes are stored in a xorb (the byte after the compressed length in its header).</summary>
public enum XetCompressionScheme : byte
{
    /// <summary>Stored as is.</summary>
    None = 0,

    /// <summary>An LZ4 frame (the LZ4 frame format, magic 0x184D2204, not a bare LZ4 block).</summary>
    Lz4 = 1,

    /// <summary>Bytes regrouped by position modulo 4 (see <see cref="ByteGrouping4"/>), then an LZ4 frame.</summary>
    ByteGrouping4Lz4 = 2,
}
