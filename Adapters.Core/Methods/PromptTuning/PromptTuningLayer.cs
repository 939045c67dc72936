using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.PromptTuning;

/// <summary>
/// The model-level holder of prompts (Python's <c>PromptTuningLayer</c>, <c>&lt;base&gt;.prompt_tuning</c>, keys
/// <c>prompt_tunings.&lt;adapter&gt;.prompt_embedding.weight</c>). Only the first adapter of the active setup runs, as in
/// Python.
/// </summary>
public sealed class PromptTuningLayer : nn.Module
{
    private readonly ActiveAdapterSetup _setup;

    /// <summary>Creates the holder for a model whose active adapters are <paramref name="setup"/>.</summary>
    public PromptTuningLayer(ActiveAdapterSetup setup) : base(nameof(PromptTuningLayer))
    {
        _setup = setup ?? throw new ArgumentNullException(nameof(setup));
        register_module("prompt_tunings", PromptTunings);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The prompts by adapter name.</summary>
    public AdapterModuleDict PromptTunings { get; } = new();

    /// <summary>
    /// Applies the first active adapter's prompt to the embedding output. Returns the new hidden states and how many
    /// attended positions to put in front of the attention mask (0 when no prompt ran).
    /// </summary>
    public (Tensor Hidden, int PromptLength) Forward(Tensor embedded)
    {
        ArgumentNullException.ThrowIfNull(embedded);
        if (_setup.Names.Count == 0) return (embedded, 0);
        var prompt = PromptTunings.Get<PromptTuningModule>(_setup.Names[0]);
        return prompt is null ? (embedded, 0) : (prompt.Forward(embedded), prompt.Config.PromptLength);
    }
}
