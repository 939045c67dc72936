namespace Adapters.Core.Composition;

/// <summary>
/// An adapter setup that cannot be built or run: a forbidden nesting, a setup nested too deeply, split sizes that do
/// not add up to the input, a block a method does not support, or setup text that does not parse.
/// </summary>
public sealed class AdapterCompositionException : Exception
{
    /// <summary>Creates the exception with a message that names the block and what was expected.</summary>
    public AdapterCompositionException(string message) : base(message) { }

    /// <summary>Creates the exception with an inner cause.</summary>
    public AdapterCompositionException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with a generic message.</summary>
    public AdapterCompositionException() : base("Invalid adapter composition.") { }
}
