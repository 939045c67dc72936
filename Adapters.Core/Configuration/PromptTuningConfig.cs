using System.Text.Json.Nodes;
using static Adapters.Core.Configuration.ConfigValues;

namespace Adapters.Core.Configuration;

/// <summary>
/// Prompt tuning (Python's <c>PromptTuningConfig</c>, architecture <c>"prompt_tuning"</c>, alias <c>"prompt_tuning"</c>):
/// <see cref="PromptLength"/> trainable embeddings inserted after the embedding layer.
/// </summary>
public record PromptTuningConfig : AdapterConfig
{
    /// <summary>
    /// The bound of the <c>random_uniform</c> init. In Python this is an unannotated class attribute, so it is neither
    /// a constructor argument nor written to JSON; it is a constant here for the same reason.
    /// </summary>
    public const double RandomUniformScale = 0.5;

    /// <inheritdoc />
    public override string? Architecture => "prompt_tuning";

    /// <summary><c>prompt_length</c>: number of prompt positions.</summary>
    public int PromptLength { get; init; } = 10;
    /// <summary><c>prompt_init</c>: <c>"random_uniform"</c> or <c>"from_string"</c>.</summary>
    public string PromptInit { get; init; } = "random_uniform";
    /// <summary><c>prompt_init_text</c>: the text whose token embeddings initialise the prompt (<c>from_string</c>).</summary>
    public string? PromptInitText { get; init; }
    /// <summary><c>combine</c>: <c>"prefix"</c> (<c>[P; X]</c>) or <c>"prefix_after_bos"</c> (<c>[X0; P; X1:]</c>).</summary>
    public string Combine { get; init; } = "prefix";
    /// <summary><c>init_weights_seed</c>.</summary>
    public int? InitWeightsSeed { get; init; }

    internal static readonly IReadOnlyList<ConfigField<PromptTuningConfig>> Fields =
    [
        new("prompt_length", c => Int(c.PromptLength), (c, v) => c with { PromptLength = ReadInt(v, "prompt_length") }),
        new("prompt_init", c => String(c.PromptInit), (c, v) => c with { PromptInit = ReadString(v, "prompt_init") }),
        new("prompt_init_text", c => String(c.PromptInitText), (c, v) => c with { PromptInitText = ReadOptionalString(v, "prompt_init_text") }),
        new("combine", c => String(c.Combine), (c, v) => c with { Combine = ReadString(v, "combine") }),
        new("init_weights_seed", c => OptionalInt(c.InitWeightsSeed), (c, v) => c with { InitWeightsSeed = ReadOptionalInt(v, "init_weights_seed") }),
    ];

    /// <inheritdoc />
    public override JsonObject ToJson() => ConfigField<PromptTuningConfig>.Write(this, Fields, Architecture);

    /// <inheritdoc />
    public override AdapterConfig Replace(JsonObject changes) => ConfigField<PromptTuningConfig>.Apply(this, changes, Fields, keepUnknown: false);

    /// <summary>Builds a <see cref="PromptTuningConfig"/> from a JSON dict (Python's <c>from_dict</c>).</summary>
    public static PromptTuningConfig FromDictionary(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return ConfigField<PromptTuningConfig>.Apply(new PromptTuningConfig(), json, Fields, keepUnknown: true);
    }
}
