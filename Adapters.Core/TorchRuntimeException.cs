namespace Adapters.Core;

/// <summary>Thrown when TorchSharp's native backend cannot be loaded.</summary>
public sealed class TorchRuntimeException : Exception
{
    /// <summary>Creates the exception with a message and the loader's error.</summary>
    public TorchRuntimeException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
