using System.Text.Json.Serialization;

namespace Adapters.Hub.Repositories;

/// <summary>The account behind a token (<c>GET /api/whoami-v2</c>).</summary>
public sealed class WhoAmI
{
    /// <summary><c>user</c>, <c>org</c> or <c>app</c>.</summary>
    [JsonPropertyName("type")] public string Type { get; init; } = "";

    /// <summary>The account name (the namespace repos are created in).</summary>
    [JsonPropertyName("name")] public string Name { get; init; } = "";

    /// <summary>The display name.</summary>
    [JsonPropertyName("fullname")] public string? FullName { get; init; }

    /// <summary>Organizations the account belongs to.</summary>
    [JsonPropertyName("orgs")] public IReadOnlyList<WhoAmIOrganization> Organizations { get; init; } = [];

    /// <summary>How the request was authenticated.</summary>
    [JsonPropertyName("auth")] public WhoAmIAuth? Auth { get; init; }
}

/// <summary>An organization in <see cref="WhoAmI"/>.</summary>
public sealed class WhoAmIOrganization
{
    /// <summary>The organization's name.</summary>
    [JsonPropertyName("name")] public string Name { get; init; } = "";
}

/// <summary>The authentication part of <see cref="WhoAmI"/>.</summary>
public sealed class WhoAmIAuth
{
    /// <summary>The token kind, e.g. <c>access_token</c>.</summary>
    [JsonPropertyName("type")] public string? Type { get; init; }

    /// <summary>The access token's name and role (never the token itself).</summary>
    [JsonPropertyName("accessToken")] public WhoAmIToken? AccessToken { get; init; }
}

/// <summary>The token description in <see cref="WhoAmIAuth"/>.</summary>
public sealed class WhoAmIToken
{
    /// <summary>The name the user gave the token.</summary>
    [JsonPropertyName("displayName")] public string? DisplayName { get; init; }

    /// <summary><c>read</c>, <c>write</c>, <c>contributor</c> or <c>admin</c>.</summary>
    [JsonPropertyName("role")] public string? Role { get; init; }
}
