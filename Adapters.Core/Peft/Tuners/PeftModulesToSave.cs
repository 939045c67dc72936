using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners;

/// <summary>
/// PEFT's <c>modules_to_save</c> for one adapter: each listed module gets a trainable copy
/// (<c>&lt;path&gt;.modules_to_save.&lt;adapter&gt;.weight</c> in memory, <c>&lt;path&gt;.weight</c> in files) that replaces
/// the original's output while the adapter is active; the original stays frozen.
/// </summary>
internal sealed class PeftModulesToSave(string adapter)
{
    /// <summary>PEFT's attribute name for the copies.</summary>
    public const string SlotName = "modules_to_save";

    private readonly List<(string Path, PeftBaseLayer Layer, PeftParameterHolder Copy, List<(string Member, Parameter Tensor)> Tensors)> _wrapped = [];

    public void Wrap(string path, nn.Module module, PeftAdapterState state)
    {
        var layer = PeftBaseLayer.Describe(path, module)
            ?? throw new AdapterConfigException($"modules_to_save: '{path}' is a {module.GetType().Name}; only Linear, Conv1D and Embedding modules can be copied and trained whole here.");
        var copy = new PeftParameterHolder();
        var tensors = new List<(string, Parameter)>();
        using (no_grad())
        {
            var weight = new Parameter(layer.Weight.detach().clone(), true);
            copy.Set("weight", weight);
            tensors.Add(("weight", weight));
            if (layer.Bias is { } b)
            {
                var bias = new Parameter(b.detach().clone(), true);
                copy.Set("bias", bias);
                tensors.Add(("bias", bias));
            }
        }
        var slot = module.named_children().FirstOrDefault(c => c.name == SlotName).module as PeftModulesToSaveSlot;
        if (slot is null)
        {
            slot = new PeftModulesToSaveSlot();
            module.register_module(SlotName, slot);
            layer.Module.register_forward_hook((_, input, output) => slot.Forward(layer, input, output, state)!);
        }
        slot.Add(adapter, copy, tensors);
        _wrapped.Add((path, layer, copy, tensors));
    }

    /// <summary>The paths of the modules copied for this adapter.</summary>
    public IEnumerable<string> Paths => _wrapped.Select(w => w.Path);

    public IEnumerable<(string Key, Parameter Tensor)> SavedTensors() =>
        _wrapped.SelectMany(w => w.Tensors.Select(t => ($"{w.Path}.{t.Member}", t.Tensor)));

    public void MarkTrainable()
    {
        foreach (var (_, _, _, tensors) in _wrapped)
        {
            foreach (var (_, t) in tensors) t.requires_grad = true;
        }
    }
}

/// <summary>The <c>modules_to_save</c> container on a wrapped module: one copy per adapter.</summary>
internal sealed class PeftModulesToSaveSlot : nn.Module
{
    private readonly Dictionary<string, Dictionary<string, Parameter>> _copies = new(StringComparer.Ordinal);

    public PeftModulesToSaveSlot() : base(PeftModulesToSave.SlotName) { }

    protected override void RegisterComponents() { }

    public void Add(string adapter, PeftParameterHolder copy, IEnumerable<(string Member, Parameter Tensor)> tensors)
    {
        register_module(adapter, copy);
        _copies[adapter] = tensors.ToDictionary(t => t.Member, t => t.Tensor, StringComparer.Ordinal);
    }

    public Tensor? Forward(PeftBaseLayer layer, Tensor input, Tensor output, PeftAdapterState state)
    {
        if (state.Disabled) return null;
        var adapter = state.Active.FirstOrDefault(_copies.ContainsKey);
        if (adapter is null) return null;
        var copy = _copies[adapter];
        if (layer.Kind == PeftLayerKind.Embedding) return copy["weight"].index_select(0, input.reshape(-1)).reshape([.. input.shape, copy["weight"].shape[1]]);
        var weight = layer.FanInFanOut ? copy["weight"].t() : copy["weight"];
        return nn.functional.linear(input, weight, copy.GetValueOrDefault("bias"));
    }
}
