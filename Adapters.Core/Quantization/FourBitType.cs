namespace Adapters.Core.Quantization;

/// <summary>The 4-bit data types of bitsandbytes' <c>Linear4bit</c> (<c>bnb_4bit_quant_type</c>).</summary>
public enum FourBitType
{
    /// <summary>NormalFloat4: 16 levels at normal quantiles (QLoRA), serialised as <c>nf4</c>.</summary>
    Nf4,

    /// <summary>bitsandbytes' 4-bit float (sign, 2 exponent bits, 1 mantissa bit), serialised as <c>fp4</c>.</summary>
    Fp4,
}

/// <summary>The names bitsandbytes writes for <see cref="FourBitType"/>.</summary>
public static class FourBitTypes
{
    /// <summary><c>nf4</c> or <c>fp4</c>, as in <c>quant_state.bitsandbytes__nf4</c>.</summary>
    public static string Name(this FourBitType type) => type switch
    {
        FourBitType.Nf4 => "nf4",
        FourBitType.Fp4 => "fp4",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a 4-bit type"),
    };

    /// <summary>Parses <c>nf4</c> or <c>fp4</c> (case-insensitive); null for anything else.</summary>
    public static FourBitType? Parse(string? name) => name?.ToLowerInvariant() switch
    {
        "nf4" => FourBitType.Nf4,
        "fp4" => FourBitType.Fp4,
        _ => null,
    };
}
