using System.Text.Json;
using System.Text.Json.Serialization;

namespace Adapters.Hub;

/// <summary>
/// The kinds of Hub repository this client reads. In JSON it is written as Python's <c>repo_type</c>
/// (<c>"model"</c>, <c>"dataset"</c>, <c>"space"</c>), never as a number.
/// </summary>
[JsonConverter(typeof(RepoTypeJsonConverter))]
public enum RepoType
{
    /// <summary>A model repository (no URL prefix, API segment <c>models</c>).</summary>
    Model,
    /// <summary>A dataset repository (URL prefix <c>datasets/</c>).</summary>
    Dataset,
    /// <summary>A Space repository (URL prefix <c>spaces/</c>).</summary>
    Space,
}

/// <summary>The URL and cache spellings of <see cref="RepoType"/>, as Python's <c>huggingface_hub</c> uses them.</summary>
public static class RepoTypeExtensions
{
    /// <summary>The plural used in API routes: <c>models</c>, <c>datasets</c>, <c>spaces</c>.</summary>
    public static string ApiSegment(this RepoType repoType) => repoType switch
    {
        RepoType.Model => "models",
        RepoType.Dataset => "datasets",
        RepoType.Space => "spaces",
        _ => throw new ArgumentOutOfRangeException(nameof(repoType), repoType, "Unknown repository type."),
    };

    /// <summary>The prefix of non-API routes such as <c>/resolve/</c>: empty for models, else <c>datasets/</c> or <c>spaces/</c>.</summary>
    public static string UrlPrefix(this RepoType repoType) => repoType == RepoType.Model ? "" : repoType.ApiSegment() + "/";

    /// <summary>The singular name (<c>model</c>, <c>dataset</c>, <c>space</c>).</summary>
    public static string Singular(this RepoType repoType) => repoType.ApiSegment()[..^1];

    /// <summary>Parses <c>model</c>/<c>dataset</c>/<c>space</c> (singular or plural, any case).</summary>
    public static RepoType Parse(string value) => value.ToLowerInvariant() switch
    {
        "model" or "models" => RepoType.Model,
        "dataset" or "datasets" => RepoType.Dataset,
        "space" or "spaces" => RepoType.Space,
        _ => throw new ArgumentException($"Unknown repository type '{value}'; expected model, dataset or space.", nameof(value)),
    };
}

/// <summary>Reads and writes <see cref="RepoType"/> as its singular name, the spelling Python uses in JSON.</summary>
public sealed class RepoTypeJsonConverter : JsonConverter<RepoType>
{
    /// <inheritdoc />
    public override RepoType Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException($"A repository type must be a string such as \"model\"; got {reader.TokenType}.");
        try
        {
            return RepoTypeExtensions.Parse(reader.GetString()!);
        }
        catch (ArgumentException ex)
        {
            throw new JsonException(ex.Message, ex);
        }
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, RepoType value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.Singular());
    }
}
