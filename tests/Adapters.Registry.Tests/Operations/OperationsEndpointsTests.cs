using System.Net;
using System.Text.RegularExpressions;
using Adapters.Hub.Upload;
using Adapters.Registry.Tests.Mirror;

namespace Adapters.Registry.Tests.Operations;

/// <summary><c>/healthz</c>, <c>/metrics</c> and the request log as an operator sees them.</summary>
public sealed class OperationsEndpointsTests
{
    private const string Writer = "hf_operations_writer_secret";

    [Fact]
    public async Task Healthz_is_ok_while_metadata_and_blobs_work_and_503_naming_the_blob_store_when_it_cannot_write()
    {
        await using var host = await ServeTestHost.StartAsync();
        using var http = new HttpClient();
        var healthz = new Uri(host.Server.Endpoint, "/healthz");
        using (var ok = await http.GetAsync(healthz))
        {
            var body = await PythonWire.JsonOf(ok);
            Assert.Equal("ok", body.GetProperty("status").GetString());
            Assert.Equal("ok", body.GetProperty("metadata").GetString());
            Assert.Equal("ok", body.GetProperty("blobs").GetString());
        }

        // The upload folder replaced by a file: nothing can be written there any more.
        var temp = Path.Combine(host.Root, "tmp");
        Directory.Delete(temp, recursive: true);
        await File.WriteAllTextAsync(temp, "not a folder");
        using (var failing = await http.GetAsync(healthz))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failing.StatusCode);
            var body = System.Text.Json.JsonDocument.Parse(await failing.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("failing", body.GetProperty("status").GetString());
            Assert.Equal("ok", body.GetProperty("metadata").GetString());
            Assert.NotEqual("ok", body.GetProperty("blobs").GetString());
        }
        File.Delete(temp);
        Directory.CreateDirectory(temp);
    }

    [Fact]
    public async Task Metrics_count_requests_by_route_and_status_time_them_and_count_bytes_without_naming_repositories_or_tokens()
    {
        var log = new CapturingLogger();
        await using var host = await ServeTestHost.StartAsync(tokens: [$"write:{Writer}"], customize: o => o with { RequestLog = log });
        // Uploaded over LFS (not Xet), so the plain download below is served by the lfs-blobs route this test meters.
        var client = host.Client(Writer, useXet: false);
        await client.Repositories.CreateRepoAsync("ops/metered-adapter");
        var content = new byte[123_456];
        await client.Commits.CreateCommitAsync("ops/metered-adapter", [CommitOperation.AddBytes("weights.bin", content)], "Add weights");
        // A plain HTTP download (as curl or an older client makes it): the resolve redirect, then the blob route.
        using (var http = new HttpClient())
        {
            Assert.Equal(content, await http.GetByteArrayAsync(new Uri(host.Server.Endpoint, "/ops/metered-adapter/resolve/main/weights.bin")));
        }
        using var wire = new PythonWire(host.Server.Endpoint, Writer);
        using (var missing = await wire.GetAsync("/api/models/ops/no-such-adapter")) Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        using var response = await new HttpClient().GetAsync(new Uri(host.Server.Endpoint, "/metrics"));
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var text = await response.Content.ReadAsStringAsync();
        Assert.Matches("adapters_registry_requests_total\\{route=\"create-repo\",method=\"POST\",status=\"200\"\\} 1\n", text);
        Assert.Matches("adapters_registry_requests_total\\{route=\"repo-info\",method=\"GET\",status=\"404\"\\} 1\n", text);
        Assert.Matches("adapters_registry_requests_total\\{route=\"lfs-blobs\",method=\"GET\",status=\"200\"\\} 1\n", text);
        Assert.Matches("adapters_registry_request_duration_seconds_count\\{route=\"commit\"\\} 1\n", text);
        Assert.Matches("adapters_registry_request_duration_seconds_bucket\\{route=\"commit\",le=\"\\+Inf\"\\} 1\n", text);
        var served = long.Parse(Regex.Match(text, "adapters_registry_response_bytes_total\\{route=\"lfs-blobs\"\\} (\\d+)").Groups[1].Value);
        Assert.Equal(content.Length, served);
        Assert.DoesNotContain("metered-adapter", text, StringComparison.Ordinal);
        Assert.DoesNotContain("upstream", text, StringComparison.Ordinal);
        // The structured request log names paths but never the token, in its text or its fields.
        Assert.Contains(log.Lines, line => line.StartsWith("GET /api/models/ops/no-such-adapter 404 ", StringComparison.Ordinal));
        Assert.DoesNotContain(Writer, log.Everything, StringComparison.Ordinal);
    }
}
