using Adapters.Core.Methods.LoRA;
using Adapters.Core.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Quantization;

/// <summary>
/// Reads and writes the 4-bit weights of bitsandbytes-serialised checkpoints (see <see cref="BitsAndBytesFormat"/>).
/// A 4-bit weight that lands on an <see cref="IFourBitLinear"/> stays packed, bytes and state as stored; one that
/// lands on another layer (a plain <c>Linear</c>, e.g. a pooler) is dequantized into its dense weight.
/// </summary>
internal static class FourBitCheckpoint
{
    /// <summary>What <see cref="Load"/> took from the file.</summary>
    /// <param name="FileKeys">File keys consumed (packed weights and their state keys); the dense loader must skip them.</param>
    /// <param name="ModelKeys">Model tensor keys filled from them.</param>
    public sealed record Result(HashSet<string> FileKeys, HashSet<string> ModelKeys);

    /// <summary>Whether <paramref name="file"/> holds any bitsandbytes 4-bit weight.</summary>
    public static bool HasFourBitWeights(TensorFile file) =>
        file.Tensors.Any(t => t.Name.Contains("." + BitsAndBytesFormat.QuantStateKeyPrefix, StringComparison.Ordinal));

    /// <summary>
    /// Loads every 4-bit weight of <paramref name="file"/> into <paramref name="root"/>; <paramref name="modelKeyOf"/>
    /// maps a file key to the model's tensor key (or null when the model has none).
    /// </summary>
    /// <exception cref="QuantizationException">A weight's state is malformed or its shape does not fit.</exception>
    public static Result Load(nn.Module root, TensorFile file, string path, Func<string, string?> modelKeyOf)
    {
        var result = new Result(new HashSet<string>(StringComparer.Ordinal), new HashSet<string>(StringComparer.Ordinal));
        if (!HasFourBitWeights(file)) return result;
        var modules = root.named_modules().ToDictionary(m => m.name, m => m.module, StringComparer.Ordinal);
        var tensors = root.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter, StringComparer.Ordinal);
        using var _ = no_grad();
        foreach (var spec in file.Tensors.Where(t => t.Name.Contains("." + BitsAndBytesFormat.QuantStateKeyPrefix, StringComparison.Ordinal)).ToArray())
        {
            var weightKey = BitsAndBytesFormat.WeightKeyOf(spec.Name)!;
            if (!file.Contains(weightKey)) throw new QuantizationException($"{path}: \"{spec.Name}\" has no packed weight \"{weightKey}\".");
            var modelKey = modelKeyOf(weightKey);
            if (modelKey is null || !tensors.TryGetValue(modelKey, out var target)) continue;
            using var packed = file.LoadTensor(weightKey);
            if (packed.dtype != ScalarType.Byte)
                throw new QuantizationException($"{path}: 4-bit weight \"{weightKey}\" is {packed.dtype}; bitsandbytes stores it as uint8.");
            var state = BitsAndBytesFormat.ReadState(weightKey, packed.numel(), k => file.Contains(k) ? file.LoadTensor(k) : null, path, target.device);
            var modulePath = modelKey.EndsWith(".weight", StringComparison.Ordinal) ? modelKey[..^".weight".Length] : null;
            if (modulePath is not null && modules.TryGetValue(modulePath, out var module) && module is IFourBitLinear linear)
            {
                var computeDtype = linear.bias?.dtype ?? (linear.QuantState is null ? linear.weight.dtype : linear.ComputeDtype);
                linear.UseQuantizedWeight(packed, state, computeDtype);
            }
            else
            {
                using (state)
                {
                    if (target.numel() != state.Count)
                        throw new QuantizationException($"{path}: 4-bit weight \"{weightKey}\" of shape [{string.Join(", ", state.Shape)}] does not fit \"{modelKey}\" of shape [{string.Join(", ", target.shape)}].");
                    using var dense = FourBitQuantizer.Dequantize(packed, state, target.dtype);
                    target.copy_(dense.view(target.shape));
                }
            }
            result.ModelKeys.Add(modelKey);
            result.FileKeys.Add(weightKey);
            foreach (var key in file.Tensors.Select(t => t.Name).Where(k => BitsAndBytesFormat.WeightKeyOf(k) == weightKey)) result.FileKeys.Add(key);
        }
        return result;
    }

    /// <summary>
    /// The layers of <paramref name="root"/> built in a <see cref="FourBitLoadScope"/> whose weight still waits for
    /// its stored tensor, keyed by their weight's state-dict key relative to <paramref name="root"/>.
    /// </summary>
    public static Dictionary<string, IDeferredFourBitLinear> DeferredWeights(nn.Module root) =>
        root.named_modules().Where(m => m.module is IDeferredFourBitLinear { AwaitsFourBitWeight: true })
            .ToDictionary(m => m.name.Length == 0 ? "weight" : m.name + ".weight", m => (IDeferredFourBitLinear)m.module, StringComparer.Ordinal);

    /// <summary>
    /// The state tensors to write beside each 4-bit weight of <paramref name="root"/>, keyed as the model's tensor
    /// keys are after <paramref name="fileKeyOf"/> (the packed <c>weight</c> itself is part of the state dict already).
    /// </summary>
    public static IEnumerable<KeyValuePair<string, Tensor>> StateTensors(nn.Module root, Func<string, string> fileKeyOf)
    {
        foreach (var (path, module) in root.named_modules())
        {
            if (module is not IFourBitLinear { QuantState: { } state }) continue;
            var weightKey = fileKeyOf(path.Length == 0 ? "weight" : path + ".weight");
            foreach (var entry in BitsAndBytesFormat.StateTensors(weightKey, state)) yield return entry;
        }
    }
}
