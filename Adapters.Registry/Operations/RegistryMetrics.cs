using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Adapters.Registry.Mirror;

namespace Adapters.Registry.Operations;

/// <summary>
/// Request metrics in the Prometheus text format (version 0.0.4) for <c>GET /metrics</c>: requests by route, method
/// and status, a duration histogram by route, response bytes by route, and in mirror mode the upstream fetches.
/// Labels are route names and status codes only (bounded sets); no path, repository id, query or token appears.
/// </summary>
internal sealed class RegistryMetrics(Func<UpstreamMirror?> mirror)
{
    /// <summary>Upper bounds of the duration buckets, in seconds.</summary>
    private static readonly double[] s_buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly ConcurrentDictionary<(string Route, string Method, int Status), Counter> _requests = new();
    private readonly ConcurrentDictionary<string, Histogram> _durations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Counter> _bytes = new(StringComparer.Ordinal);

    /// <summary>Counts one finished request.</summary>
    public void Record(string route, string method, int status, TimeSpan elapsed, long bytesSent)
    {
        // Methods are a fixed set in practice; anything else is folded so a client cannot invent labels.
        method = method.ToUpperInvariant() is var m && m is "GET" or "HEAD" or "POST" or "PUT" or "DELETE" or "PATCH" or "OPTIONS" ? m : "OTHER";
        Interlocked.Increment(ref _requests.GetOrAdd((route, method, status), _ => new Counter()).Value);
        _durations.GetOrAdd(route, _ => new Histogram()).Observe(elapsed.TotalSeconds);
        if (bytesSent > 0) Interlocked.Add(ref _bytes.GetOrAdd(route, _ => new Counter()).Value, bytesSent);
    }

    /// <summary>The exposition text.</summary>
    public string Render()
    {
        var text = new StringBuilder();
        text.Append("# HELP adapters_registry_requests_total Requests served, by route, method and status.\n");
        text.Append("# TYPE adapters_registry_requests_total counter\n");
        foreach (var ((route, method, status), counter) in _requests.OrderBy(r => r.Key.Route, StringComparer.Ordinal).ThenBy(r => r.Key.Method, StringComparer.Ordinal).ThenBy(r => r.Key.Status))
        {
            text.Append(CultureInfo.InvariantCulture, $"adapters_registry_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {Interlocked.Read(ref counter.Value)}\n");
        }
        text.Append("# HELP adapters_registry_request_duration_seconds Time from request to response end, by route.\n");
        text.Append("# TYPE adapters_registry_request_duration_seconds histogram\n");
        foreach (var (route, histogram) in _durations.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            histogram.Render(text, "adapters_registry_request_duration_seconds", route);
        }
        text.Append("# HELP adapters_registry_response_bytes_total Response body bytes sent, by route.\n");
        text.Append("# TYPE adapters_registry_response_bytes_total counter\n");
        foreach (var (route, counter) in _bytes.OrderBy(b => b.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"adapters_registry_response_bytes_total{{route=\"{route}\"}} {Interlocked.Read(ref counter.Value)}\n");
        }
        if (mirror() is { } upstream)
        {
            text.Append("# HELP adapters_registry_upstream_fetches_total Requests the mirror sent upstream, by kind (blob downloads, revision resolutions).\n");
            text.Append("# TYPE adapters_registry_upstream_fetches_total counter\n");
            text.Append(CultureInfo.InvariantCulture, $"adapters_registry_upstream_fetches_total{{kind=\"blob\"}} {upstream.BlobFetches}\n");
            text.Append(CultureInfo.InvariantCulture, $"adapters_registry_upstream_fetches_total{{kind=\"revision\"}} {upstream.RevisionFetches}\n");
            text.Append("# HELP adapters_registry_upstream_bytes_total Blob bytes the mirror downloaded from upstream.\n");
            text.Append("# TYPE adapters_registry_upstream_bytes_total counter\n");
            text.Append(CultureInfo.InvariantCulture, $"adapters_registry_upstream_bytes_total {upstream.BytesFetched}\n");
            text.Append("# HELP adapters_registry_upstream_failures_total Upstream requests that failed or whose content did not verify.\n");
            text.Append("# TYPE adapters_registry_upstream_failures_total counter\n");
            text.Append(CultureInfo.InvariantCulture, $"adapters_registry_upstream_failures_total {upstream.Failures}\n");
        }
        return text.ToString();
    }

    private sealed class Counter
    {
        public long Value;
    }

    private sealed class Histogram
    {
        private readonly long[] _counts = new long[s_buckets.Length];
        private long _count;
        private long _sumMicroseconds;

        public void Observe(double seconds)
        {
            for (var i = 0; i < s_buckets.Length; i++)
            {
                if (seconds <= s_buckets[i]) Interlocked.Increment(ref _counts[i]);
            }
            Interlocked.Increment(ref _count);
            Interlocked.Add(ref _sumMicroseconds, (long)(seconds * 1e6));
        }

        public void Render(StringBuilder text, string name, string route)
        {
            for (var i = 0; i < s_buckets.Length; i++)
            {
                text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{route=\"{route}\",le=\"{s_buckets[i]}\"}} {Interlocked.Read(ref _counts[i])}\n");
            }
            var count = Interlocked.Read(ref _count);
            text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}\n");
            text.Append(CultureInfo.InvariantCulture, $"{name}_sum{{route=\"{route}\"}} {Interlocked.Read(ref _sumMicroseconds) / 1e6}\n");
            text.Append(CultureInfo.InvariantCulture, $"{name}_count{{route=\"{route}\"}} {count}\n");
        }
    }
}
