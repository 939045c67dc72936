using System.CommandLine;
using Adapters.Core.Models;
using Adapters.Core.Quantization;

namespace Adapters.Hub.Cli.Commands;

/// <summary>The <c>--quantize nf4|fp4</c> option of <c>summary</c> and <c>generate</c>: a 4-bit base (QLoRA's setting).</summary>
internal static class QuantizeOption
{
    public static Option<string?> Create() => new("--quantize")
    {
        Description = "Quantize the base model's adaptable projections to 4 bits after loading: nf4 or fp4 (blocks of 64, double quantization), as bitsandbytes' load_in_4bit does.",
    };

    /// <summary>The options for the given value, or null when the option is absent.</summary>
    /// <exception cref="ArgumentException">The value is neither nf4 nor fp4.</exception>
    public static FourBitOptions? Parse(string? value)
    {
        if (value is null) return null;
        var type = FourBitTypes.Parse(value) ?? throw new ArgumentException($"--quantize \"{value}\" is not nf4 or fp4.");
        return new FourBitOptions(type);
    }

    /// <summary>One line on the model's 4-bit projections, or null when it has none.</summary>
    public static string? Describe(AdapterModel model)
    {
        var quantized = model.BaseLinears().Where(l => l.Linear.QuantState is not null).ToArray();
        if (quantized.Length == 0) return null;
        var state = quantized[0].Linear.QuantState!;
        var packed = quantized.Sum(l => l.Linear.weight.numel() + l.Linear.QuantState!.ByteSize);
        var dense = quantized.Sum(l => l.Linear.QuantState!.Count * 2);
        return $"4-bit base: {quantized.Length} projections in {state.Type.Name()} (blocksize {state.Blocksize}{(state.Nested is null ? "" : ", double quantization")}), {packed} bytes instead of {dense} in bf16 ({packed * 100.0 / dense:F1}%)";
    }
}
