using System.Text.Json.Serialization;

namespace Adapters.Hub.Upload;

internal sealed record CommitResponse(
    [property: JsonPropertyName("success")] bool Success,
    [property: JsonPropertyName("commitOid")] string? CommitOid,
    [property: JsonPropertyName("commitUrl")] string? CommitUrl,
    [property: JsonPropertyName("pullRequestUrl")] string? PullRequestUrl);
