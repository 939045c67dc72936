using Adapters.Hub.Text;

namespace Adapters.Core.Serialization;

/// <summary>
/// A tensor file (safetensors, torch pickle, shard index) is malformed, truncated, unsupported or unsafe.
/// The message names the file and the problem on one line.
/// </summary>
public class TensorFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="filePath"/> (null for in-memory data).</summary>
    public TensorFormatException(string? filePath, string problem, Exception? inner = null)
        : base(Compose(filePath, problem), inner)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file that failed, or null when the data came from memory.</summary>
    public string? FilePath { get; }

    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; }

    private static string Compose(string? filePath, string problem) =>
        filePath is null ? problem : $"{filePath}: {problem}";
}

/// <summary>
/// A torch pickle refers to a global (a class or function) outside the allow-list, as
/// <c>torch.load(weights_only=True)</c> would refuse it. Nothing was executed.
/// </summary>
public sealed class UnsafePickleException : TensorFormatException
{
    /// <summary>Creates the exception naming the forbidden <paramref name="global"/> (<c>module.name</c>).</summary>
    public UnsafePickleException(string? filePath, string global)
        : base(filePath, $"unsafe pickle: global {SafeText.Quote(global)} is not allowed (only plain tensors and containers are loaded; nothing was executed)")
    {
        Global = global;
    }

    /// <summary>The refused global as <c>module.name</c>.</summary>
    public string Global { get; }
}
