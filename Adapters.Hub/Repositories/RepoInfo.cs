using System.Text.Json;
using System.Text.Json.Serialization;

namespace Adapters.Hub.Repositories;

/// <summary>The fields every repository type shares in <c>GET /api/{models|datasets|spaces}/{repo}</c>.</summary>
public class RepoInfo
{
    /// <summary>The repository id (<c>org/name</c>).</summary>
    [JsonPropertyName("id")] public string Id { get; init; } = "";

    /// <summary>The commit the requested revision points to.</summary>
    [JsonPropertyName("sha")] public string? Sha { get; init; }

    /// <summary>The owner.</summary>
    [JsonPropertyName("author")] public string? Author { get; init; }

    /// <summary>Whether the repository is private.</summary>
    [JsonPropertyName("private")] public bool? Private { get; init; }

    /// <summary>Gating: null when not gated, else <c>auto</c> or <c>manual</c>.</summary>
    [JsonPropertyName("gated")][JsonConverter(typeof(GatedConverter))] public string? Gated { get; init; }

    /// <summary>Whether the repository is disabled.</summary>
    [JsonPropertyName("disabled")] public bool? Disabled { get; init; }

    /// <summary>Downloads over the last 30 days.</summary>
    [JsonPropertyName("downloads")] public long? Downloads { get; init; }

    /// <summary>Likes.</summary>
    [JsonPropertyName("likes")] public long? Likes { get; init; }

    /// <summary>Tags.</summary>
    [JsonPropertyName("tags")] public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Last change.</summary>
    [JsonPropertyName("lastModified")] public DateTimeOffset? LastModified { get; init; }

    /// <summary>Creation time.</summary>
    [JsonPropertyName("createdAt")] public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>Files of the revision (<c>siblings</c>); sizes and hashes only when requested with <c>blobs=true</c>.</summary>
    [JsonPropertyName("siblings")] public IReadOnlyList<RepoSibling> Siblings { get; init; } = [];

    /// <summary>The model card's YAML metadata as JSON, when present.</summary>
    [JsonPropertyName("cardData")] public JsonElement? CardData { get; init; }

    /// <summary>Fields this type does not model, kept as JSON.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? AdditionalProperties { get; init; }
}

/// <summary>A model repository's information (<c>GET /api/models/{repo}</c>).</summary>
public sealed class ModelInfo : RepoInfo
{
    /// <summary>The task (e.g. <c>text-classification</c>).</summary>
    [JsonPropertyName("pipeline_tag")] public string? PipelineTag { get; init; }

    /// <summary>The library (e.g. <c>transformers</c>, <c>adapter-transformers</c>).</summary>
    [JsonPropertyName("library_name")] public string? LibraryName { get; init; }
}

/// <summary>One file of <see cref="RepoInfo.Siblings"/>.</summary>
public sealed class RepoSibling
{
    /// <summary>Path inside the repository.</summary>
    [JsonPropertyName("rfilename")] public string RelativeFileName { get; init; } = "";

    /// <summary>Size in bytes (with <c>blobs=true</c>).</summary>
    [JsonPropertyName("size")] public long? Size { get; init; }

    /// <summary>Git blob id (with <c>blobs=true</c>).</summary>
    [JsonPropertyName("blobId")] public string? BlobId { get; init; }

    /// <summary>LFS details (with <c>blobs=true</c>); siblings name the hash <c>sha256</c>.</summary>
    [JsonPropertyName("lfs")] public SiblingLfs? Lfs { get; init; }
}

/// <summary>LFS details of a sibling.</summary>
public sealed class SiblingLfs
{
    /// <summary>SHA-256 of the content.</summary>
    [JsonPropertyName("sha256")] public string Sha256 { get; init; } = "";

    /// <summary>Content size.</summary>
    [JsonPropertyName("size")] public long Size { get; init; }

    /// <summary>Size of the pointer file in git.</summary>
    [JsonPropertyName("pointerSize")] public long? PointerSize { get; init; }
}

/// <summary>Reads <c>gated</c>, which is <c>false</c> or a string.</summary>
internal sealed class GatedConverter : JsonConverter<string?>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.True => "true",
        _ => null,
    };

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options)
    {
        if (value is null) writer.WriteBooleanValue(false);
        else writer.WriteStringValue(value);
    }
}
