using System.Globalization;
using Adapters.Hub.Http;
using Microsoft.Extensions.Logging;

namespace Adapters.Hub.Cli.Logging;

/// <summary>
/// Writes log lines (<c>dbug: Adapters.Hub: GET https://... -> 200 in 12 ms</c>) to the verb's error writer.
/// The console logger package writes to <see cref="Console"/> from a background queue; this one writes
/// synchronously to the injected writer, so lines keep their order with the verb's own messages and
/// in-process tests can read them. Every line passes through <see cref="SecretRedactor"/>.
/// </summary>
internal sealed class TextWriterLoggerProvider(TextWriter writer, LogLevel minimumLevel, IReadOnlyCollection<string> secrets) : ILoggerProvider
{
    private readonly Lock _gate = new();

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new WriterLogger(this, categoryName);

    /// <inheritdoc />
    public void Dispose() { }

    private void Write(LogLevel level, string category, string message, Exception? exception)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"{Abbreviation(level)}: {category}: {message}");
        if (exception is not null) line += $" ({exception.GetType().Name}: {exception.Message.ReplaceLineEndings(" ")})";
        line = SecretRedactor.Redact(line, secrets);
        lock (_gate) writer.WriteLine(line);
    }

    private static string Abbreviation(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        _ => "crit",
    };

    private sealed class WriterLogger(TextWriterLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= owner.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            owner.Write(logLevel, category, formatter(state, exception), exception);
        }
    }

    private LogLevel MinimumLevel => minimumLevel;
}
