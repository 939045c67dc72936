using System.Buffers.Binary;
using System.Globalization;
using Adapters.Hub.Text;

namespace Adapters.Hub.Xet;

/// <summary>
/// A 32-byte Xet hash (chunk, xorb, file or verification hash). Its text form is the one the protocol puts in URLs,
/// shards and Merkle node input: the 32 bytes read as four little-endian 64-bit words, each written as 16 lowercase
/// hex digits — so the string is not the plain byte-order hex of the digest.
/// </summary>
public readonly struct XetHash : IEquatable<XetHash>
{
    /// <summary>Length of a hash in bytes.</summary>
    public const int Size = 32;

    private readonly ulong _w0, _w1, _w2, _w3;

    private XetHash(ulong w0, ulong w1, ulong w2, ulong w3) => (_w0, _w1, _w2, _w3) = (w0, w1, w2, w3);

    /// <summary>The all-zero hash, which the protocol uses for "no chunks".</summary>
    public static XetHash Zero => default;

    /// <summary>The hash whose bytes are <paramref name="bytes"/> (exactly 32).</summary>
    public static XetHash FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            throw new ArgumentException($"A Xet hash is {Size} bytes; got {bytes.Length}.", nameof(bytes));
        return new XetHash(
            BinaryPrimitives.ReadUInt64LittleEndian(bytes),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]));
    }

    /// <summary>Writes the 32 bytes of the hash to <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Size)
            throw new ArgumentException($"Need {Size} bytes to write a Xet hash.", nameof(destination));
        BinaryPrimitives.WriteUInt64LittleEndian(destination, _w0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], _w1);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], _w2);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], _w3);
    }

    /// <summary>The 32 bytes of the hash.</summary>
    public byte[] ToByteArray()
    {
        var bytes = new byte[Size];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>The first 64-bit word; shard lookup tables and the global-dedupe rule key on it.</summary>
    internal ulong FirstWord => _w0;

    /// <summary>The last 64-bit word; the Merkle aggregation cuts groups where it is divisible by 4.</summary>
    internal ulong LastWord => _w3;

    /// <summary>The protocol's 64-character text form (see the type's remarks).</summary>
    public override string ToString() => string.Create(64, this, static (span, hash) =>
    {
        hash._w0.TryFormat(span, out _, "x16", CultureInfo.InvariantCulture);
        hash._w1.TryFormat(span[16..], out _, "x16", CultureInfo.InvariantCulture);
        hash._w2.TryFormat(span[32..], out _, "x16", CultureInfo.InvariantCulture);
        hash._w3.TryFormat(span[48..], out _, "x16", CultureInfo.InvariantCulture);
    });

    /// <summary>Parses the protocol's text form; throws <see cref="XetFormatException"/> naming the input otherwise.</summary>
    public static XetHash Parse(string? text) =>
        TryParse(text, out var hash)
            ? hash
            : throw new XetFormatException($"{SafeText.Quote(text)} is not a Xet hash: expected 64 hex digits.");

    /// <summary>Parses the protocol's text form (64 hex digits, either case).</summary>
    public static bool TryParse(string? text, out XetHash hash)
    {
        hash = default;
        if (text is null || text.Length != 64) return false;
        Span<ulong> words = stackalloc ulong[4];
        for (var i = 0; i < 4; i++)
        {
            if (!ulong.TryParse(text.AsSpan(i * 16, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out words[i]))
                return false;
        }
        hash = new XetHash(words[0], words[1], words[2], words[3]);
        return true;
    }

    /// <inheritdoc />
    public bool Equals(XetHash other) => _w0 == other._w0 && _w1 == other._w1 && _w2 == other._w2 && _w3 == other._w3;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is XetHash other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_w0, _w3);

    /// <summary>Equality of the 32 bytes.</summary>
    public static bool operator ==(XetHash left, XetHash right) => left.Equals(right);

    /// <summary>Inequality of the 32 bytes.</summary>
    public static bool operator !=(XetHash left, XetHash right) => !left.Equals(right);
}
