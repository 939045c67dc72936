using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Conversion;

/// <summary>
/// Checks a converted module tree: every floating parameter and buffer, and every floating tensor a module keeps in a
/// field (where a stale, disposed or unconverted tensor would hide), has the target dtype and device.
/// </summary>
internal static class ModuleTensors
{
    /// <summary>
    /// Asserts the whole tree; with <paramref name="keepsFloat32OrthogonalWhenHalf"/> an orthogonal ReFT projection
    /// created for a half-precision model may stay float32, as Python creates it (torch's orthogonal map has no
    /// half-precision kernels).
    /// </summary>
    public static void AssertAll(nn.Module root, ScalarType dtype, DeviceType device, bool keepsFloat32OrthogonalWhenHalf = false)
    {
        var halfOrthogonal = keepsFloat32OrthogonalWhenHalf && dtype is ScalarType.BFloat16 or ScalarType.Float16;
        bool Exempt(string name, Tensor t) => halfOrthogonal && t.dtype == ScalarType.Float32 && name.Contains("projection.parametrizations.", StringComparison.Ordinal);
        var problems = new List<string>();
        foreach (var (name, parameter) in root.named_parameters())
        {
            if (!Exempt(name, parameter)) Check(name, parameter, dtype, device, problems);
        }
        foreach (var (name, buffer) in root.named_buffers())
        {
            if (!Exempt(name, buffer)) Check(name, buffer, dtype, device, problems);
        }
        foreach (var (path, module) in root.named_modules().Prepend(("", root)))
        {
            for (var type = module.GetType(); type is not null && type != typeof(object); type = type.BaseType)
            {
                foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
                {
                    if (!typeof(Tensor).IsAssignableFrom(field.FieldType)) continue;
                    if (field.GetValue(module) is Tensor tensor) Check($"{module.GetType().Name} '{path}' field {field.Name}", tensor, dtype, device, problems);
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)));
    }

    private static void Check(string name, Tensor tensor, ScalarType dtype, DeviceType device, List<string> problems)
    {
        if (tensor.IsInvalid)
        {
            problems.Add($"{name}: disposed");
            return;
        }
        if (tensor.device_type != device) problems.Add($"{name}: on {tensor.device_type}");
        if (tensor.is_floating_point() && tensor.dtype != dtype) problems.Add($"{name}: {tensor.dtype}");
    }
}
