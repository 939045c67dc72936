using Adapters.Core.Configuration;
using Adapters.Core.Methods.Union;
using Adapters.Core.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.Fusion;

/// <summary>
/// AdapterFusion's modules: one <see cref="AdapterFusionLayer"/> per bottleneck site that all fused adapters use, kept
/// in the site's <c>adapter_fusion_layer</c> container under the fusion's name. <see cref="AdapterModel"/> keeps the
/// fusion configs and the public API; this creates, removes, unfreezes and regularises the layers.
/// </summary>
internal static class AdapterFusionMethod
{
    /// <summary>The site container of AdapterFusion layers, keyed by fusion name (<c>adapter_fusion_layer.a,b.</c>).</summary>
    public const string Container = "adapter_fusion_layer";

    /// <summary>Creates fusion <paramref name="name"/>'s layers over <paramref name="adapterNames"/>.</summary>
    /// <exception cref="ArgumentException">A fused adapter is not a bottleneck adapter.</exception>
    public static void Add(AdapterModel model, string name, AdapterFusionConfig config, IReadOnlyList<string> adapterNames)
    {
        var bottlenecks = adapterNames.Select(a => BottleneckConfigOf(model, a)).ToArray();
        var (device, dtype) = model.ParameterDeviceAndType();
        var dropout = config.DropoutProb is { } p && p != 0 ? p : (model as ITextEncoder)?.Config.AttentionProbsDropoutProb ?? 0.0;
        var attention = bottlenecks.All(c => c.MhAdapter);
        var output = bottlenecks.All(c => c.OutputAdapter);
        foreach (var layer in model.Interface.Layers)
        {
            if (attention && layer.AttentionAdapters is { } attentionSite)
                attentionSite.FusionLayers.Add(name, new AdapterFusionLayer(config, model.Interface.HiddenSize, dropout, device, dtype));
            if (output && layer.OutputAdapters is { } outputSite)
                outputSite.FusionLayers.Add(name, new AdapterFusionLayer(config, model.Interface.HiddenSize, dropout, device, dtype));
        }
    }

    /// <summary>Checks that every fused adapter is a bottleneck adapter before anything is changed.</summary>
    /// <exception cref="ArgumentException">One is not.</exception>
    public static void Validate(AdapterModel model, IReadOnlyList<string> adapterNames)
    {
        foreach (var adapter in adapterNames) BottleneckConfigOf(model, adapter);
    }

    /// <summary>Removes fusion <paramref name="name"/>'s layers.</summary>
    public static void Remove(AdapterModel model, string name)
    {
        foreach (var site in model.Interface.BottleneckSites()) site.FusionLayers.Remove(name);
    }

    /// <summary>Unfreezes the layers of the fusions named <paramref name="fusions"/>.</summary>
    public static void Unfreeze(AdapterModel model, IReadOnlyCollection<string> fusions)
    {
        foreach (var site in model.Interface.BottleneckSites())
            foreach (var name in fusions)
                if (site.FusionLayers.Get<AdapterFusionLayer>(name) is { } layer)
                    foreach (var parameter in layer.parameters()) parameter.requires_grad = true;
    }

    /// <summary>Python's <c>get_fusion_regularization_loss</c>: <c>0.01·Σ‖I − V‖²_F</c> over trainable value matrices, or null.</summary>
    public static Tensor? RegularizationLoss(AdapterModel model)
    {
        Tensor? loss = null;
        foreach (var site in model.Interface.BottleneckSites())
        {
            foreach (var name in site.FusionLayers.Names)
            {
                var value = site.FusionLayers.Get<AdapterFusionLayer>(name)!.ValueProjection;
                if (value is null || !value.weight.requires_grad) continue;
                using var target = eye(value.weight.shape[0], dtype: value.weight.dtype, device: value.weight.device);
                var term = (target - value.weight).pow(2).sum() * 0.01;
                loss = loss is null ? term : loss + term;
            }
        }
        return loss;
    }

    private static BnConfig BottleneckConfigOf(AdapterModel model, string adapter) =>
        ConfigMembers.Of(model.GetAdapterConfig(adapter)).OfType<BnConfig>().FirstOrDefault()
        ?? throw new ArgumentException($"Adapter \"{adapter}\" is not a bottleneck adapter; AdapterFusion fuses bottleneck adapters only.", nameof(adapter));
}
