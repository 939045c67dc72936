using Adapters.Registry.Auth;

namespace Adapters.Registry.Accounts;

/// <summary>A stored token as <see cref="RegistryAccounts.ListTokens"/> shows it: everything but the secret.</summary>
/// <param name="Id">The token's public id.</param>
/// <param name="Account">The user it acts for.</param>
/// <param name="DisplayName">The name given when it was created.</param>
/// <param name="Scope">What it may do at most.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="RevokedAt">When it was revoked; null while it is valid.</param>
public sealed record TokenSummary(string Id, string Account, string DisplayName, AccessLevel Scope, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);
