namespace Adapters.Registry.Auth;

/// <summary>
/// A token the registry accepts, from <c>--token [read:|write:]VALUE</c>: <c>read:hf_abc</c> may only read,
/// <c>write:hf_xyz</c> (or a bare <c>hf_xyz</c>) may also write.
/// </summary>
/// <param name="Value">The secret a client sends as <c>Authorization: Bearer VALUE</c>.</param>
/// <param name="Level">What the token may do.</param>
/// <param name="DisplayName">The name the registry uses for the token's holder (commit authors, logs); never the secret.</param>
public sealed record AccessToken(string Value, AccessLevel Level, string DisplayName)
{
    /// <summary>Parses <c>[read:|write:]VALUE</c>; <paramref name="index"/> (0-based) names the token <c>token-N</c>.</summary>
    /// <exception cref="ArgumentException">The scope is neither read nor write, or the value is empty or has spaces.</exception>
    public static AccessToken Parse(string spec, int index)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        var level = AccessLevel.Write;
        var value = spec;
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            level = spec[..colon].ToLowerInvariant() switch
            {
                "read" => AccessLevel.Read,
                "write" => AccessLevel.Write,
                _ => throw new ArgumentException($"--token '{Redact(spec)}': the scope before ':' must be 'read' or 'write'."),
            };
            value = spec[(colon + 1)..];
        }
        if (value.Length == 0 || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new ArgumentException($"--token '{Redact(spec)}': the token must be a non-empty value without spaces.");
        }
        return new AccessToken(value, level, $"token-{index + 1}");
    }

    /// <summary>The token with all but its first characters hidden, for messages and logs.</summary>
    public static string Redact(string token) => token.Length <= 6 ? "***" : token[..6] + "***";

    /// <summary>The scope and the redacted value, e.g. <c>write:hf_xyz***</c>.</summary>
    public override string ToString() => $"{Level.ToString().ToLowerInvariant()}:{Redact(Value)}";
}
