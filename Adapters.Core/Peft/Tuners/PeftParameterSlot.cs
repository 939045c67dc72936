using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners;

/// <summary>
/// One named family of tuner tensors on a wrapped layer, holding one tensor per adapter, e.g. PEFT's
/// <c>lora_A</c> (<c>lora_A.&lt;adapter&gt;.weight</c> in memory, <c>lora_A.weight</c> in files) or <c>hada_w1_a</c>
/// (<c>hada_w1_a.&lt;adapter&gt;</c> in memory, <c>hada_w1_a</c> in files). Registered on the wrapped module under
/// <see cref="Name"/>, so the model's own <c>named_parameters()</c> shows PEFT's in-memory keys.
/// </summary>
public sealed class PeftParameterSlot : nn.Module
{
    /// <summary>Creates the slot; <paramref name="member"/> is the parameter name below the adapter ("weight", "bias") or null for a bare tensor.</summary>
    public PeftParameterSlot(string name, string? member = null, bool persistent = true, bool trainable = true, string? fileKey = null) : base(name)
    {
        _fileKey = fileKey;
        Trainable = trainable;
        Name = name;
        Member = member;
        Persistent = persistent;
    }

    /// <summary>Children are registered explicitly under PEFT's names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>PEFT's attribute name, e.g. "lora_A".</summary>
    public string Name { get; }

    /// <summary>The member below the adapter name ("weight"), or null for a bare parameter.</summary>
    public string? Member { get; }

    /// <summary>Whether training updates this slot (VeRA's projections and AdaLoRA's <c>ranknum</c> are frozen).</summary>
    public bool Trainable { get; }

    /// <summary>Whether PEFT saves this slot (AdaLoRA's <c>ranknum</c> is not saved).</summary>
    public bool Persistent { get; }

    private readonly Dictionary<string, Parameter> _values = new(StringComparer.Ordinal);

    /// <summary>The key suffix in PEFT files (no adapter name): "lora_A.weight" or "hada_w1_a".</summary>
    public string FileKey => _fileKey ?? (Member is null ? Name : $"{Name}.{Member}");

    private readonly string? _fileKey;

    /// <summary>The adapters that have a tensor here.</summary>
    public IReadOnlyCollection<string> Adapters => _values.Keys;

    /// <summary>The tensor of <paramref name="adapter"/>.</summary>
    public Parameter this[string adapter] => _values[adapter];

    /// <summary>Whether <paramref name="adapter"/> has a tensor here.</summary>
    public bool Has(string adapter) => _values.ContainsKey(adapter);

    /// <summary>Adds <paramref name="value"/> as <paramref name="adapter"/>'s tensor.</summary>
    public Parameter Add(string adapter, Tensor value)
    {
        var parameter = new Parameter(value, Trainable);
        _values[adapter] = parameter;
        if (Member is null)
        {
            register_parameter(adapter, parameter);
        }
        else
        {
            var holder = new PeftParameterHolder();
            holder.Set(Member, parameter);
            register_module(adapter, holder);
        }
        return parameter;
    }

    /// <summary>Removes <paramref name="adapter"/>'s tensor.</summary>
    public void Remove(string adapter)
    {
        if (!_values.Remove(adapter, out var parameter)) return;
        if (Member is null) _internal_params.Remove(adapter);
        else _internal_submodules.Remove(adapter);
        parameter.Dispose();
    }
}

/// <summary>The module PEFT has per adapter inside a <c>ModuleDict</c> slot (<c>lora_A.default</c>), holding its <c>weight</c>.</summary>
public sealed class PeftParameterHolder : nn.Module
{
    /// <summary>Creates an empty holder.</summary>
    public PeftParameterHolder() : base(nameof(PeftParameterHolder)) { }

    /// <summary>Children are registered explicitly.</summary>
    protected override void RegisterComponents() { }

    /// <summary>Registers <paramref name="value"/> as <paramref name="member"/>.</summary>
    public void Set(string member, Parameter value) => register_parameter(member, value);
}
