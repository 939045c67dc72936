using System.Text.Json.Serialization;

namespace Adapters.Registry.Storage;

/// <summary>What the registry knows about a repository besides its commits (<c>repo.json</c>).</summary>
internal sealed record RepoMetadata
{
    [JsonPropertyName("objectId")] public string ObjectId { get; init; } = "";

    [JsonPropertyName("id")] public string Id { get; init; } = "";

    [JsonPropertyName("type")] public string Type { get; init; } = "model";

    [JsonPropertyName("private")] public bool Private { get; init; }

    [JsonPropertyName("createdAt")] public DateTimeOffset CreatedAt { get; init; }
}
