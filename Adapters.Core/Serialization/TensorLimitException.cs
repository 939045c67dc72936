using System.Globalization;

namespace Adapters.Core.Serialization;

/// <summary>
/// A tensor file is larger, deeper or more repetitive than a parser limit allows (see <see cref="Pickle.PickleLimits"/> and
/// <see cref="ZipLimits"/>). The file may be valid but hostile; it was refused before it could exhaust memory, time or
/// the stack. The message names the file, what exceeded the limit, and the limit's name and value.
/// </summary>
public sealed class TensorLimitException : TensorFormatException
{
    /// <summary>Creates the exception for <paramref name="filePath"/>: <paramref name="problem"/> exceeded <paramref name="limit"/>.</summary>
    /// <param name="filePath">The file that was refused, or null for in-memory data.</param>
    /// <param name="problem">What in the file exceeded the limit.</param>
    /// <param name="limit">The limit's qualified name, e.g. <c>PickleLimits.MaxMemoEntries</c>.</param>
    /// <param name="value">The limit's value.</param>
    public TensorLimitException(string? filePath, string problem, string limit, long value)
        : base(filePath, $"{problem} (limit {limit} = {value.ToString(CultureInfo.InvariantCulture)})")
    {
        Limit = limit;
        LimitValue = value;
    }

    /// <summary>The limit that was exceeded, e.g. <c>PickleLimits.MaxMemoEntries</c>.</summary>
    public string Limit { get; }

    /// <summary>The limit's value.</summary>
    public long LimitValue { get; }
}
