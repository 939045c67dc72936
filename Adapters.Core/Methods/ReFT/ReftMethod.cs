using Adapters.Core.Configuration;
using Adapters.Core.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.ReFT;

/// <summary>ReFT (LoReFT, NoReFT, DiReFT): one intervention per selected layer in its <see cref="ReftLayer"/> (<c>refts.NAME</c>).</summary>
internal sealed class ReftMethod() : AdapterMethod<ReftConfig>("ReFT", [".refts."], ["refts"])
{
    /// <inheritdoc />
    protected override void Add(AdapterModel model, string name, ReftConfig reft)
    {
        reft.Validate();
        if (!reft.OutputReft) throw new AdapterConfigException("ReFT output_reft=False selects no location; Python only intervenes on layer outputs.");
        var layers = model.Interface.Layers.Where(l => l.Reft is not null && reft.AppliesTo(l.Index)).Select(l => l.Reft!).ToArray();
        if (layers.Length == 0)
        {
            throw new AdapterConfigException(model.Interface.Layers.Any(l => l.Reft is not null)
                ? $"ReFT layers [{string.Join(", ", reft.Layers ?? [])}] select no layer of {model.ModelClassName}."
                : $"{model.ModelClassName} does not support ReFT (no layer exposes a ReFT hook in its AdapterLayerInterface).");
        }
        var (device, dtype) = model.ParameterDeviceAndType();
        if (reft.Dtype is { } dtypeName) dtype = AdapterDtype.Parse(dtypeName);
        foreach (var layer in layers)
        {
            if (reft.InitWeightsSeed is { } seed && seed != 0) manual_seed(seed);
            layer.Refts.Add(name, new ReftModule(reft, model.Interface.HiddenSize, device, dtype));
        }
    }

    /// <inheritdoc />
    public override void Remove(AdapterModel model, string name)
    {
        foreach (var layer in model.Interface.Layers) layer.Reft?.Refts.Remove(name);
    }
}
