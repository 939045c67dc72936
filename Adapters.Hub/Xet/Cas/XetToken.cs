namespace Adapters.Hub.Xet.Cas;

/// <summary>A short-lived CAS access token, as the Hub's <c>xet-read-token</c> / <c>xet-write-token</c> endpoints hand it out.</summary>
/// <param name="AccessToken">The bearer token for the CAS; never sent to the Hub.</param>
/// <param name="CasUrl">The CAS server's base URL.</param>
/// <param name="ExpiresAt">When the token stops working.</param>
public sealed record XetToken(string AccessToken, Uri CasUrl, DateTimeOffset ExpiresAt)
{
    /// <summary>How long before <see cref="ExpiresAt"/> a token is no longer handed out (a request may take that long).</summary>
    public static TimeSpan SafetyMargin { get; } = TimeSpan.FromSeconds(60);

    /// <summary>Whether the token is still good for a request that starts at <paramref name="now"/>.</summary>
    public bool IsFreshAt(DateTimeOffset now) => ExpiresAt - SafetyMargin > now;

    /// <summary>Redacts the secret.</summary>
    public override string ToString() => $"XetToken {{ CasUrl = {CasUrl}, ExpiresAt = {ExpiresAt:O} }}";
}
