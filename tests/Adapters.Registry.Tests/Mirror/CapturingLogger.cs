using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Adapters.Registry.Tests.Mirror;

/// <summary>Keeps every log entry as its formatted line plus its structured fields, so tests can count requests and search for secrets in both.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<(string Line, string Fields)> _entries = new();

    public IReadOnlyList<string> Lines => _entries.Select(e => e.Line).ToList();

    /// <summary>Every line and every structured field value, for searching.</summary>
    public string Everything => string.Join('\n', _entries.Select(e => e.Line + "\t" + e.Fields));

    /// <summary>Request lines (<c>METHOD /path STATUS ms</c>) whose method and path are exactly these.</summary>
    public int CountRequests(string method, string path) =>
        _entries.Count(e => e.Line.StartsWith($"{method} {path} ", StringComparison.Ordinal));

    /// <summary>Request lines whose path starts with <paramref name="prefix"/>.</summary>
    public int CountRequestsUnder(string method, string prefix) =>
        _entries.Count(e => e.Line.StartsWith($"{method} {prefix}", StringComparison.Ordinal));

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var fields = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(' ', pairs.Select(p => $"{p.Key}={p.Value}")) : "";
        _entries.Enqueue((formatter(state, exception) + (exception is null ? "" : " " + exception), fields));
    }
}
