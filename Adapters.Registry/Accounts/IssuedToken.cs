using Adapters.Registry.Auth;

namespace Adapters.Registry.Accounts;

/// <summary>
/// A token just created by <see cref="RegistryAccounts.CreateToken"/>: the only moment its secret exists outside
/// the client, because the registry keeps its SHA-256 alone.
/// </summary>
/// <param name="Id">The token's public id (<c>tok_...</c>), for listing and revoking.</param>
/// <param name="Secret">What the client sends as <c>Authorization: Bearer</c>; shown once, never stored.</param>
/// <param name="Account">The user the token acts for.</param>
/// <param name="Scope">What the token may do at most.</param>
public sealed record IssuedToken(string Id, string Secret, string Account, AccessLevel Scope)
{
    /// <summary>The id, account and scope, without the secret (safe for logs).</summary>
    public override string ToString() => $"{Id} ({Account}, {Scope.ToString().ToLowerInvariant()})";
}
