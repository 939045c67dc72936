using System.Security.Cryptography;
using System.Text;

namespace Adapters.Registry.Storage;

/// <summary>The two content addresses of the Hub: git blob SHA-1 for regular files, SHA-256 for LFS objects.</summary>
internal static class ContentHashes
{
    public static string GitBlobSha1(ReadOnlySpan<byte> content)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        hash.AppendData(Encoding.ASCII.GetBytes($"blob {content.Length}\0"));
        hash.AppendData(content);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public static string Sha1(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA1.HashData(content));

    public static bool IsSha256(string? value) => value is { Length: 64 } && value.All(char.IsAsciiHexDigitLower);

    public static bool IsSha1(string? value) => value is { Length: 40 } && value.All(char.IsAsciiHexDigitLower);
}
