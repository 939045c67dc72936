using Adapters.Hub.Tests.Stubs;
using Microsoft.Extensions.Logging;

namespace Adapters.Hub.Tests.Http;

public sealed class HubLoggingTests : IDisposable
{
    private const string RepoId = "ada/logged";
    private readonly HubStub _stub = new();
    private readonly string _cache = Directory.CreateTempSubdirectory("adapters-hub-logging-").FullName;
    private readonly ListLoggerProvider _logs = new();

    public void Dispose()
    {
        _stub.Dispose();
        Directory.Delete(_cache, recursive: true);
    }

    private HubClient Client()
    {
        var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));
        return new HubClient(new HubClientOptions
        {
            Endpoint = _stub.Endpoint,
            CacheDirectory = _cache,
            Token = TestHub.Token,
            LoggerFactory = factory,
            Retry = new HubRetryOptions { BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero },
        });
    }

    [Fact]
    public async Task Requests_retries_verification_and_cache_hits_are_logged_without_the_token()
    {
        _stub.AddFile(RepoId, "weights.bin", TestHub.RandomBytes(4096, 1), lfs: true);
        _stub.FailHub("/resolve/", new StubFault(502));
        using var client = Client();

        await client.Files.DownloadFileAsync(RepoId, "weights.bin");
        await client.Files.DownloadFileAsync(RepoId, "weights.bin");

        var lines = _logs.Lines;
        Assert.Contains(lines, l => l.StartsWith("Warning Adapters.Hub: Retry 1/5 of HEAD ", StringComparison.Ordinal) && l.EndsWith("after status 502", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Debug Adapters.Hub: HEAD ", StringComparison.Ordinal) && l.Contains("/ada/logged/resolve/main/weights.bin -> 302 in ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Information Adapters.Hub: Verified 'weights.bin' of ada/logged: 4096 bytes, sha256 ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Debug Adapters.Hub: Cache hit: 'weights.bin' of ada/logged at " + HubStub.CommitA, StringComparison.Ordinal));
        Assert.All(lines, l => Assert.DoesNotContain(TestHub.Token, l, StringComparison.Ordinal));
    }

    private sealed class ListLoggerProvider : ILoggerProvider
    {
        private readonly List<string> _lines = [];

        public IReadOnlyList<string> Lines
        {
            get { lock (_lines) return [.. _lines]; }
        }

        public ILogger CreateLogger(string categoryName) => new ListLogger(this, categoryName);

        public void Dispose() { }

        private sealed class ListLogger(ListLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner._lines) owner._lines.Add($"{logLevel} {category}: {formatter(state, exception)}");
            }
        }
    }
}
