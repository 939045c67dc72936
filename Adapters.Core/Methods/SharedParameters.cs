using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Methods;

/// <summary>
/// The parameters one adapter shares across layers (Python's <c>base_model.shared_parameters[name]</c>): the
/// Compacter <c>phm_rule</c>, or VeRA's frozen <c>lora_A</c>/<c>lora_B</c>.
/// </summary>
public sealed class SharedParameters : nn.Module
{
    private readonly Dictionary<string, Parameter> _byName = new(StringComparer.Ordinal);

    /// <summary>Creates an empty holder.</summary>
    public SharedParameters() : base(nameof(SharedParameters)) { }

    /// <summary>The parameter named <paramref name="name"/>, or null.</summary>
    public Parameter? Get(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Registers a parameter under <paramref name="name"/>.</summary>
    public Parameter Add(string name, Tensor value, bool requiresGrad)
    {
        var parameter = new Parameter(value, requiresGrad);
        register_parameter(name, parameter);
        _byName[name] = parameter;
        return parameter;
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }
}
