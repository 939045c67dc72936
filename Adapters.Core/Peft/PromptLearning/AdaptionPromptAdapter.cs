using System.Globalization;
using Adapters.Core.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.PromptLearning;

/// <summary>
/// A Llama-Adapter (PEFT's adaption prompt): one <see cref="AdaptionPromptLayer"/> for each of the last
/// <c>adapter_layers</c> attention layers, under <c>layers.&lt;index&gt;</c>.
/// </summary>
public sealed class AdaptionPromptAdapter : nn.Module
{
    private readonly AdapterModuleDict _layers = new();

    /// <summary>Creates prompts for <paramref name="layerIndices"/> of width <paramref name="hidden"/>.</summary>
    public AdaptionPromptAdapter(PeftPromptLearningConfig config, IEnumerable<int> layerIndices, int hidden, Device? device, ScalarType? dtype)
        : base(nameof(AdaptionPromptAdapter))
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(layerIndices);
        Config = config;
        foreach (var index in layerIndices)
            _layers.Add(index.ToString(CultureInfo.InvariantCulture), new AdaptionPromptLayer(config.AdapterLen, hidden, device, dtype));
        register_module("layers", _layers);
    }

    /// <summary>Children are registered explicitly.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The config.</summary>
    public PeftPromptLearningConfig Config { get; }

    /// <summary>The adapted layer indices, in model order.</summary>
    public IEnumerable<int> LayerIndices => _layers.Names.Select(n => int.Parse(n, CultureInfo.InvariantCulture));

    /// <summary>Layer <paramref name="layerIndex"/>'s prompt, or null when that layer is not adapted.</summary>
    public AdaptionPromptLayer? ForLayer(int layerIndex)
    {
        var key = layerIndex.ToString(CultureInfo.InvariantCulture);
        return _layers.Contains(key) ? _layers.Get<AdaptionPromptLayer>(key) : null;
    }
}
