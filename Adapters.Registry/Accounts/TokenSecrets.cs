using System.Security.Cryptography;
using System.Text;

namespace Adapters.Registry.Accounts;

/// <summary>
/// The secrets of account tokens: 256 random bits behind a recognisable prefix (so a leaked one is found by secret
/// scanners and told apart from <c>--token</c> values), stored only as their SHA-256. A hash suffices because the
/// secret has full entropy: no dictionary can reach it, so no slow password hash is needed.
/// </summary>
internal static class TokenSecrets
{
    /// <summary>Every account token starts with this.</summary>
    public const string Prefix = "adh_";

    public static string NewSecret() => Prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static string NewId() => "tok_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Whether <paramref name="presented"/> has the shape of an account token (anything else is not looked up).</summary>
    public static bool LooksLikeSecret(string presented) =>
        presented.Length == Prefix.Length + 64 && presented.StartsWith(Prefix, StringComparison.Ordinal) && presented.AsSpan(Prefix.Length).ContainsAnyExcept("0123456789abcdef") is false;
}
