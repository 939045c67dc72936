using System.Collections.Concurrent;

namespace Adapters.Registry.Mirror;

/// <summary>
/// Runs one operation per key at a time and lets every concurrent caller with that key await the same run:
/// N clients asking for one missing blob cause one upstream download. The entry is dropped when the run ends, so a
/// failed fetch is retried by the next request rather than cached as a failure.
/// </summary>
internal sealed class SingleFlight
{
    private readonly ConcurrentDictionary<string, Lazy<Task>> _running = new(StringComparer.Ordinal);

    public async Task RunAsync(string key, Func<Task> operation)
    {
        var flight = new Lazy<Task>(() => RunAndForgetAsync(key, operation));
        var shared = _running.GetOrAdd(key, flight);
        await shared.Value.ConfigureAwait(false);
    }

    private async Task RunAndForgetAsync(string key, Func<Task> operation)
    {
        try
        {
            // Yield first, so the entry is in the dictionary before the operation can finish and remove it.
            await Task.Yield();
            await operation().ConfigureAwait(false);
        }
        finally
        {
            _running.TryRemove(key, out _);
        }
    }
}
