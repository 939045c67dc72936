using System.Text.Json.Nodes;
using static Adapters.Core.Configuration.ConfigValues;

namespace Adapters.Core.Configuration;

/// <summary>
/// MTL-LoRA (Python's <c>MTLLoRAConfig</c>, alias and architecture <c>"mtl_lora"</c>, adapters 1.2; Yang et al. 2024):
/// LoRA with <see cref="NUpProjection"/> up-projections mixed by learned weights and a task-specific r×r matrix between
/// A and B. One adapter per task, run together with a <see cref="Composition.MultiTask"/> block; it is a multi-task
/// config (Python's <c>MultiTaskConfig</c>). Every <see cref="LoRAConfig"/> field applies, with LoRA's defaults.
/// </summary>
public sealed record MTLLoRAConfig : LoRAConfig
{
    /// <inheritdoc />
    public override string? Architecture => "mtl_lora";

    /// <summary><c>n_up_projection</c>: how many up-projections <c>lora_B</c> holds (shape (n, out, r)).</summary>
    public int NUpProjection { get; init; } = 1;

    /// <summary>
    /// <c>task_specific_matrix_type</c>: <c>"singular_values"</c> (a learned diagonal, <c>task_specific.values</c> of
    /// shape (r)) or <c>"linear"</c> (a learned r×r matrix).
    /// </summary>
    public string TaskSpecificMatrixType { get; init; } = "singular_values";

    /// <summary><c>weights_sharpness</c>: the up-projections are mixed with softmax-like weights <c>exp(w / sharpness)</c>.</summary>
    public double WeightsSharpness { get; init; } = 0.05;

    private static readonly IReadOnlyList<ConfigField<MTLLoRAConfig>> s_fields =
    [
        .. Fields.Select(f => new ConfigField<MTLLoRAConfig>(f.Name, c => f.Get(c), (c, v) => (MTLLoRAConfig)f.Set(c, v))),
        new("n_up_projection", c => Int(c.NUpProjection), (c, v) => c with { NUpProjection = ReadInt(v, "n_up_projection") }),
        new("task_specific_matrix_type", c => String(c.TaskSpecificMatrixType),
            (c, v) => c with { TaskSpecificMatrixType = ReadString(v, "task_specific_matrix_type") }),
        new("weights_sharpness", c => Float(c.WeightsSharpness), (c, v) => c with { WeightsSharpness = ReadFloat(v, "weights_sharpness") }),
    ];

    /// <inheritdoc />
    public override JsonObject ToJson() => ConfigField<MTLLoRAConfig>.Write(this, s_fields, Architecture);

    /// <inheritdoc />
    public override AdapterConfig Replace(JsonObject changes) => ConfigField<MTLLoRAConfig>.Apply(this, changes, s_fields, keepUnknown: false);

    /// <summary>Builds an <see cref="MTLLoRAConfig"/> from a JSON dict (Python's <c>MTLLoRAConfig.from_dict</c>).</summary>
    public static new MTLLoRAConfig FromDictionary(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return ConfigField<MTLLoRAConfig>.Apply(new MTLLoRAConfig(), json, s_fields, keepUnknown: true);
    }
}
