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
    /// <summary>Creates an empty holder.</summary>
    public SharedParameters() : base(nameof(SharedParameters)) { }

    /// <summary>The parameter named <paramref name="name"/>, or null.</summary>
    /// <remarks>Looked up in the registry on every call: <c>Module.to(dtype/device)</c> replaces the registered tensors.</remarks>
    public Parameter? Get(string name) => _internal_params.TryGetValue(name, out var parameter) ? parameter : null;

    /// <summary>Registers a parameter under <paramref name="name"/>.</summary>
    public Parameter Add(string name, Tensor value, bool requiresGrad)
    {
        var parameter = new Parameter(value, requiresGrad);
        register_parameter(name, parameter);
        return parameter;
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }
}
