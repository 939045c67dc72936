using Adapters.Core.Configuration;
using Adapters.Core.Methods.Invertible;
using Adapters.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.Bottleneck;

/// <summary>
/// Bottleneck adapters (sequential, parallel, Compacter's PHM layers) at the sites after attention and after the
/// feed-forward block, plus the config's invertible adapter on the embeddings (<c>invertible_adapters</c>).
/// </summary>
internal sealed class BottleneckMethod()
    : AdapterMethod<BnConfig>("Bottleneck", ["_adapters.", ".adapters."], ["adapters", InvertibleContainer, "attention_adapters", "output_adapters"])
{
    /// <summary>Python's name of the model-level container of invertible adapters.</summary>
    public const string InvertibleContainer = "invertible_adapters";

    /// <inheritdoc />
    public override IEnumerable<(string Name, nn.Module Container)> CreateContainers(AdapterModel model) =>
        [(InvertibleContainer, new AdapterModuleDict())];

    /// <inheritdoc />
    public override IReadOnlyList<(string Old, string New)> LegacyKeyRenames { get; } =
    [
        ("attention_text_task_adapters", "adapters"),
        ("attention_text_lang_adapters", "adapters"),
        ("layer_text_task_adapters", "adapters"),
        ("layer_text_lang_adapters", "adapters"),
        ("invertible_lang_adapters", InvertibleContainer),
    ];

    /// <inheritdoc />
    protected override void Add(AdapterModel model, string name, BnConfig bn)
    {
        var (device, dtype) = model.ParameterDeviceAndType();
        var hidden = model.Interface.HiddenSize;
        SharedParameters? shared = null;
        if (bn.PhmLayer && (bn.SharedPhmRule || bn.SharedWPhm))
        {
            shared = model.SharedParametersFor(name);
            PhmLayer.CreateShared(shared, bn, hidden, SharedBottleneckSize(model, bn), device, dtype);
        }
        foreach (var layer in model.Interface.Layers)
        {
            if (bn.LeaveOut.Contains(layer.Index)) continue;
            if (bn.MhAdapter && layer.AttentionAdapters is { } attention)
                attention.Adapters.Add(name, new BottleneckAdapter(bn, hidden, layer.Index, shared, device, dtype));
            if (bn.OutputAdapter && layer.OutputAdapters is { } output)
                output.Adapters.Add(name, new BottleneckAdapter(bn, hidden, layer.Index, shared, device, dtype));
        }
        if (bn.InvAdapter is { } kind)
        {
            var factor = bn.InvAdapterReductionFactor?.Value ?? 2;
            Invertibles(model).Add(name, kind switch
            {
                "nice" => new NiceCouplingBlock(hidden, factor, bn.NonLinearity, device, dtype),
                "glow" => (InvertibleAdapter)new GlowCouplingBlock(hidden, factor, bn.NonLinearity, device, dtype),
                _ => throw new AdapterConfigException($"Unknown inv_adapter \"{kind}\"; expected \"nice\" or \"glow\"."),
            });
        }
    }

    /// <inheritdoc />
    public override void Remove(AdapterModel model, string name)
    {
        foreach (var site in model.Interface.BottleneckSites()) site.Adapters.Remove(name);
        model.MethodContainer<AdapterModuleDict>(InvertibleContainer)?.Remove(name);
    }

    /// <summary>The first active adapter's invertible adapter, or null when it has none.</summary>
    public static InvertibleAdapter? ActiveInvertible(AdapterModel model) =>
        model.Setup.Names.Count == 0 ? null : model.MethodContainer<AdapterModuleDict>(InvertibleContainer)?.Get<InvertibleAdapter>(model.Setup.Names[0]);

    private static AdapterModuleDict Invertibles(AdapterModel model) =>
        model.MethodContainer<AdapterModuleDict>(InvertibleContainer)
        ?? throw new AdapterConfigException($"{model.ModelClassName} did not register its adapter containers, so it cannot hold invertible adapters.");

    /// <summary>
    /// The bottleneck width shared W is built for. Python sizes it from the plain <c>reduction_factor</c>, so a
    /// per-layer mapping that changes the width cannot share one W.
    /// </summary>
    private static int SharedBottleneckSize(AdapterModel model, BnConfig config)
    {
        if (!config.SharedWPhm) return 0;
        var hidden = model.Interface.HiddenSize;
        var sizes = model.Interface.Layers.Select(l => config.ReductionFactor.BottleneckSize(hidden, l.Index)).Distinct().ToArray();
        if (sizes.Length != 1)
            throw new AdapterConfigException("shared_W_phm=True needs one reduction_factor for every layer; a per-layer mapping gives bottleneck sizes "
                + string.Join(", ", sizes) + ".");
        return sizes[0];
    }
}
