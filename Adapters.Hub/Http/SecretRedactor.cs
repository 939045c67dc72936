using System.Text.RegularExpressions;

namespace Adapters.Hub.Http;

/// <summary>
/// Masks credentials in text that may reach a log or a console: <c>Authorization</c> header values,
/// Hugging Face tokens (<c>hf_</c> followed by 20 or more letters and digits), credential-carrying query
/// values (<c>?token=</c>, <c>access_token</c>, signed-URL signatures) and any secret the caller names.
/// </summary>
public static partial class SecretRedactor
{
    /// <summary>What every masked value is replaced with.</summary>
    public const string Mask = "***";

    /// <summary>Returns <paramref name="text"/> with every credential masked.</summary>
    /// <param name="text">A log message, exception message or URL.</param>
    /// <param name="knownSecrets">Exact values to mask too (e.g. the token in use, which may not look like <c>hf_...</c>).</param>
    public static string Redact(string? text, IEnumerable<string?>? knownSecrets = null)
    {
        if (string.IsNullOrEmpty(text)) return text ?? string.Empty;
        if (knownSecrets is not null)
        {
            // Longest first, so a secret that contains another is masked whole.
            foreach (var secret in knownSecrets.Where(s => s is { Length: >= 4 }).Distinct().OrderByDescending(s => s!.Length))
            {
                text = text.Replace(secret!, Mask, StringComparison.Ordinal);
            }
        }
        text = AuthorizationPattern().Replace(text, m => m.Groups["prefix"].Value + Mask);
        text = CredentialQueryPattern().Replace(text, m => m.Groups["key"].Value + Mask);
        return HubTokenPattern().Replace(text, "hf_" + Mask);
    }

    /// <summary>The URL as text with credential-carrying query values masked (null stays empty).</summary>
    public static string Redact(Uri? uri) => uri is null ? string.Empty : Redact(uri.ToString());

    [GeneratedRegex(@"(?<prefix>\b(?:Bearer|Basic)\s+)(?!\*\*\*)[^\s,;""']+")]
    private static partial Regex AuthorizationPattern();

    [GeneratedRegex(@"(?<key>[?&;](?:token|access_token|api_key|apikey|signature|sig|X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential)=)(?!\*\*\*)[^&#\s""']+", RegexOptions.IgnoreCase)]
    private static partial Regex CredentialQueryPattern();

    [GeneratedRegex(@"\bhf_[A-Za-z0-9]{20,}")]
    private static partial Regex HubTokenPattern();
}
