using TorchSharp;
using TorchSharp.Modules;

namespace Adapters.Core.Conversion;

/// <summary>
/// The setter behind a module's public <c>weight</c>/<c>bias</c>-style properties. TorchSharp's <c>Module.to</c> assigns
/// the converted tensor to a public property named like the parameter (and fails when that property has no setter),
/// so every such property must accept the new tensor, register it under the parameter name and free the old one,
/// as TorchSharp's own <c>Linear.weight</c> does.
/// </summary>
internal static class ParameterReplacement
{
    /// <summary>
    /// Registers <paramref name="value"/> through <paramref name="register"/> in place of <paramref name="current"/>,
    /// disposes <paramref name="current"/> and returns the tensor to store.
    /// </summary>
    /// <exception cref="ArgumentException">The shape differs from the current parameter's.</exception>
    /// <exception cref="InvalidOperationException">The module has no such parameter (e.g. a layer without bias).</exception>
    public static Parameter Replace(string owner, string name, Parameter? current, Parameter value, Action<Parameter> register)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (current is null) throw new InvalidOperationException($"{owner} has no parameter \"{name}\" to replace.");
        if (ReferenceEquals(current, value)) return current;
        if (!current.shape.SequenceEqual(value.shape))
            throw new ArgumentException(
                $"{owner}.{name} has shape [{string.Join(", ", current.shape)}]; a replacement of shape [{string.Join(", ", value.shape)}] does not fit.", nameof(value));
        var stored = (Parameter)value.DetachFromDisposeScope();
        register(stored);
        current.Dispose();
        return stored;
    }
}
