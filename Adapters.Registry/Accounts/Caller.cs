using Adapters.Registry.Auth;

namespace Adapters.Registry.Accounts;

/// <summary>
/// Who sent a request, as the authorizer identified them: an account token's user with their organisations, or a
/// <c>--token</c> of the registry's configuration (or the open registry), which may act on every repository.
/// </summary>
/// <param name="Account">The account name shown in whoami, commits and discussions.</param>
/// <param name="Level">The token's scope: the most it may do anywhere.</param>
/// <param name="DisplayName">The token's name (never its secret).</param>
/// <param name="AllRepositories">Whether the caller is not an account but a configured token (or the open registry), allowed everywhere its scope allows.</param>
internal sealed record Caller(string Account, AccessLevel Level, string DisplayName, bool AllRepositories)
{
    private static readonly Dictionary<string, OrganizationRole> s_none = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The user's full name, for whoami.</summary>
    public string? FullName { get; init; }

    /// <summary>The organisations the user belongs to and the role in each, by name (case-insensitive).</summary>
    public IReadOnlyDictionary<string, OrganizationRole> Organizations { get; init; } = s_none;

    /// <summary>A token given to <c>serve --token</c>.</summary>
    public static Caller Configured(AccessToken token) => new("local", token.Level, token.DisplayName, AllRepositories: true);
}
