namespace Adapters.Hub.Cli.Commands;

/// <summary>A write was refused and no token was given: the user must pass one (exit code 4).</summary>
internal sealed class MissingTokenException(string message, Exception innerException) : Exception(message, innerException);
