using Adapters.Registry.Auth;
using Adapters.Registry.Storage;

namespace Adapters.Registry.Accounts;

/// <summary>
/// The Hub's permission rules for one repository: a public repository is readable by everyone; the namespace's
/// user may do anything; an organisation's members read its repositories and, with the write or admin role, write
/// them; a grant gives a user, or an organisation's members (up to their role), read or write on one repository.
/// A caller with no access to a private repository must not learn that it exists (404, as the Hub answers).
/// </summary>
internal static class RepoAccess
{
    /// <summary>
    /// The most <paramref name="caller"/> may do with the repository by who they are, before the token's scope; null
    /// when it is private and theirs in no way. <paramref name="grants"/> is only asked when ownership does not decide.
    /// </summary>
    public static AccessLevel? Of(Caller? caller, RepoKey key, bool isPrivate, Func<IReadOnlyList<RepoGrant>> grants)
    {
        if (caller is { AllRepositories: true }) return AccessLevel.Write;
        AccessLevel? best = isPrivate ? null : AccessLevel.Read;
        if (caller is null) return best;
        if (key.Namespace is { } owner)
        {
            if (string.Equals(owner, caller.Account, StringComparison.OrdinalIgnoreCase)) return AccessLevel.Write;
            if (caller.Organizations.TryGetValue(owner, out var role)) best = Max(best, LevelOf(role));
        }
        if (best == AccessLevel.Write) return best;
        foreach (var grant in grants())
        {
            if (string.Equals(grant.Principal, caller.Account, StringComparison.OrdinalIgnoreCase)) best = Max(best, grant.Access);
            else if (caller.Organizations.TryGetValue(grant.Principal, out var role)) best = Max(best, (AccessLevel)Math.Min((int)grant.Access, (int)LevelOf(role)));
        }
        return best;
    }

    /// <summary>Whether <paramref name="caller"/> may create repositories under <paramref name="owner"/> (their own name, or an organisation where they write).</summary>
    public static bool MayCreateIn(Caller caller, string? owner) =>
        caller.AllRepositories
        || (owner is not null && (string.Equals(owner, caller.Account, StringComparison.OrdinalIgnoreCase)
            || (caller.Organizations.TryGetValue(owner, out var role) && role >= OrganizationRole.Write)));

    /// <summary>Whether <paramref name="caller"/> may delete the repository: its owner or an admin of its organisation (a grant never allows it).</summary>
    public static bool MayDelete(Caller caller, RepoKey key) =>
        caller.AllRepositories
        || (key.Namespace is { } owner && (string.Equals(owner, caller.Account, StringComparison.OrdinalIgnoreCase)
            || (caller.Organizations.TryGetValue(owner, out var role) && role == OrganizationRole.Admin)));

    private static AccessLevel LevelOf(OrganizationRole role) => role >= OrganizationRole.Write ? AccessLevel.Write : AccessLevel.Read;

    private static AccessLevel? Max(AccessLevel? a, AccessLevel b) => a is { } x && x >= b ? x : b;
}

/// <summary>Read or write on one repository for a user or an organisation (see <see cref="RegistryAccounts.Grant"/>).</summary>
internal sealed record RepoGrant(string Principal, AccessLevel Access);
