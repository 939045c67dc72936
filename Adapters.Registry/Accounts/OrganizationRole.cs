namespace Adapters.Registry.Accounts;

/// <summary>What a member may do in an organisation's repositories (the Hub's org roles).</summary>
public enum OrganizationRole
{
    /// <summary>Reads the organisation's repositories, private ones included.</summary>
    Read = 1,

    /// <summary>Also creates repositories under the organisation and commits to them.</summary>
    Write = 2,

    /// <summary>Also deletes the organisation's repositories.</summary>
    Admin = 3,
}
