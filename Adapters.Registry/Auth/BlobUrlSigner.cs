using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Adapters.Registry.Auth;

/// <summary>
/// Presigned URLs, as a CDN or object store hands out: the LFS download redirect and the upload URLs
/// carry an expiry and an HMAC, so clients that (correctly) send no <c>Authorization</c> to them are let
/// in, and nobody can forge one without <paramref name="key"/> (see <c>RegistryStore.UrlSigningKey</c>).
/// </summary>
internal sealed class BlobUrlSigner(byte[] key)
{
    private readonly byte[] _key = key.Length >= 32 ? key : throw new ArgumentException($"A URL signing key needs at least 32 bytes; got {key.Length}.", nameof(key));

    public TimeSpan Lifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The <c>expires=...&amp;signature=...</c> query part for <paramref name="subject"/>.</summary>
    public string Sign(string subject)
    {
        var (expires, signature) = SignParts(subject);
        return $"expires={expires}&signature={signature}";
    }

    /// <summary>The expiry (Unix seconds) and the signature for <paramref name="subject"/>, for ids that carry them in another form.</summary>
    public (string Expires, string Signature) SignParts(string subject)
    {
        var expires = DateTimeOffset.UtcNow.Add(Lifetime).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return (expires, Mac(subject, expires));
    }

    public bool Verify(string subject, string? expires, string? signature)
    {
        if (expires is null || signature is null) return false;
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return false;
        if (DateTimeOffset.FromUnixTimeSeconds(seconds) < DateTimeOffset.UtcNow) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Mac(subject, expires)), Encoding.ASCII.GetBytes(signature));
    }

    private string Mac(string subject, string expires) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(subject + "\n" + expires)));
}
