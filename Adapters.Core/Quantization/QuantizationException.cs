namespace Adapters.Core.Quantization;

/// <summary>
/// A quantized weight or its stored state is invalid: a bitsandbytes key is missing or malformed, sizes disagree,
/// or an operation (such as merging) cannot run on a 4-bit weight. The message names the key and what was expected.
/// </summary>
public sealed class QuantizationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QuantizationException(string message, Exception? inner = null) : base(message, inner) { }
}
