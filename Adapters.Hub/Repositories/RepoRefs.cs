using System.Text.Json.Serialization;

namespace Adapters.Hub.Repositories;

/// <summary>The refs of a repository, as <c>GET /api/{type}/{repo}/refs</c> lists them.</summary>
public sealed class RepoRefs
{
    /// <summary>Branches.</summary>
    [JsonPropertyName("branches")] public IReadOnlyList<GitRef> Branches { get; init; } = [];

    /// <summary>Tags.</summary>
    [JsonPropertyName("tags")] public IReadOnlyList<GitRef> Tags { get; init; } = [];

    /// <summary>Conversion refs the Hub keeps (e.g. parquet exports of datasets).</summary>
    [JsonPropertyName("converts")] public IReadOnlyList<GitRef> Converts { get; init; } = [];

    /// <summary>Pull requests, when asked for.</summary>
    [JsonPropertyName("pullRequests")] public IReadOnlyList<GitRef> PullRequests { get; init; } = [];
}

/// <summary>One branch, tag or pull-request ref.</summary>
public sealed class GitRef
{
    /// <summary>Short name (e.g. <c>main</c>).</summary>
    [JsonPropertyName("name")] public string Name { get; init; } = "";

    /// <summary>Full ref (e.g. <c>refs/heads/main</c>).</summary>
    [JsonPropertyName("ref")] public string Ref { get; init; } = "";

    /// <summary>The commit the ref points to.</summary>
    [JsonPropertyName("targetCommit")] public string TargetCommit { get; init; } = "";
}
