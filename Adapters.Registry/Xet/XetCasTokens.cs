using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Adapters.Registry.Auth;
using Adapters.Registry.Storage;

namespace Adapters.Registry.Xet;

/// <summary>
/// The short-lived CAS tokens the <c>xet-read-token</c>/<c>xet-write-token</c> routes hand out, signed like presigned
/// blob URLs (HMAC-SHA256 with the registry's shared signing key, under a prefix of its own so a URL signature can
/// never pass as a token): <c>xet1.&lt;base64url of type, id, level, expiry&gt;.&lt;hex mac&gt;</c>. A replica sharing
/// the metadata accepts what another issued; nobody else can mint one.
/// </summary>
internal sealed class XetCasTokens(byte[] key)
{
    private const string Prefix = "xet1.";

    private readonly byte[] _key = key.Length >= 32 ? key : throw new ArgumentException($"A token signing key needs at least 32 bytes; got {key.Length}.", nameof(key));

    /// <summary>How long a token lives; clients refresh it through the token route shortly before it expires.</summary>
    public TimeSpan Lifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>A token for <paramref name="repo"/> at <paramref name="level"/>, and when it expires.</summary>
    public (string Token, DateTimeOffset Expires) Issue(RepoKey repo, AccessLevel level)
    {
        var expires = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.Add(Lifetime).ToUnixTimeSeconds());
        var claims = string.Join('\n', repo.Type.ApiSegment(), repo.Id, level == AccessLevel.Write ? "write" : "read",
            expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        var body = Base64UrlEncode(Encoding.UTF8.GetBytes(claims));
        return (Prefix + body + "." + Mac(body), expires);
    }

    /// <summary>The grant of a token this registry issued and that has not expired; null for anything else.</summary>
    public XetCasGrant? Verify(string? token)
    {
        if (token is null || !token.StartsWith(Prefix, StringComparison.Ordinal) || token.Length > 1024) return null;
        var rest = token[Prefix.Length..];
        var dot = rest.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0) return null;
        var body = rest[..dot];
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Mac(body)), Encoding.ASCII.GetBytes(rest[(dot + 1)..]))) return null;
        string[] claims;
        try
        {
            claims = Encoding.UTF8.GetString(Base64UrlDecode(body)).Split('\n');
        }
        catch (FormatException)
        {
            return null;
        }
        if (claims.Length != 4 || !long.TryParse(claims[3], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return null;
        var expires = DateTimeOffset.FromUnixTimeSeconds(seconds);
        if (expires < DateTimeOffset.UtcNow) return null;
        var level = claims[2] == "write" ? AccessLevel.Write : AccessLevel.Read;
        return new XetCasGrant(new RepoKey(RepoTypeExtensions.Parse(claims[0]), claims[1]), level, expires);
    }

    private string Mac(string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes("xet-cas-token\n" + body)));

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] Base64UrlDecode(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - padded.Length % 4) % 4);
        return Convert.FromBase64String(padded);
    }
}
