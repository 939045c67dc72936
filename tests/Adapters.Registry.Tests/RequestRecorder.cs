using Microsoft.Extensions.Logging;

namespace Adapters.Registry.Tests;

/// <summary>
/// The registry's request log (<see cref="RegistryServerOptions.RequestLog"/>) kept in memory, so a test can tell
/// which routes a client really used (<c>METHOD /path STATUS time</c> per line).
/// </summary>
internal sealed class RequestRecorder : ILogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines) return [.. _lines];
        }
    }

    /// <summary>Lines starting with <paramref name="prefix"/> (e.g. <c>POST /xet-cas/v1/shards 200</c>).</summary>
    public IReadOnlyList<string> Matching(string prefix) => Lines.Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).ToList();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lines) _lines.Add(formatter(state, exception));
    }
}
