using System.Text;
using System.Text.Json.Nodes;
using Adapters.Hub.Legacy;
using Adapters.Hub.Legacy.Migration;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Adapters.Hub.Tests.Legacy;

public sealed class MigrationRunnerTests : IDisposable
{
    private readonly WireMockServer _server = WireMockServer.Start();
    private readonly HttpClient _http = new();

    public void Dispose()
    {
        _http.Dispose();
        _server.Dispose();
    }

    private void Serve(TestRegistryBuilder builder)
    {
        foreach (var (path, bytes) in builder.Zips)
        {
            _server.Given(Request.Create().WithPath(path).UsingGet())
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/zip").WithBody(bytes));
        }
    }

    private MigrationRunner Runner(TestRegistryBuilder builder, IMigrationPublisher publisher, string? stateFile, int concurrency = 2) =>
        new(LegacyRegistry.OpenFolder(builder.Root), new HttpLegacyArchiveFetcher(_http), publisher, new MigrationRunnerOptions
        {
            StateFile = stateFile,
            MaxConcurrency = concurrency,
            WorkDirectory = LegacyFixtures.NewTempFolder(),
            RetryDelay = TimeSpan.FromMilliseconds(10),
        });

    [Fact]
    public async Task Migrates_good_entries_reports_bad_ones_and_a_rerun_skips_everything_done()
    {
        var url = _server.Url!;
        var builder = new TestRegistryBuilder();
        builder.AddEntry(url, "test", "bert-base-uncased_sentiment_sst-2_good", "text_task", "sentiment", "sst-2", "1",
            ("1", TestRegistryBuilder.LegacyZip("sst-2", withHead: true), false),
            ("wd", TestRegistryBuilder.LegacyZip("sst-2-wd"), false));
        builder.AddEntry(url, "test", "bad-checksum", "text_task", "sentiment", "sst-2", "1", ("1", TestRegistryBuilder.LegacyZip("b"), true));
        builder.AddEntry(url, "test", "zip-slip", "text_task", "sentiment", "sst-2", "1",
            ("1", TestRegistryBuilder.LegacyZip("s", extra: [("../../escape.txt", "gotcha"u8.ToArray())]), false));
        builder.AddEntry(url, "test", "gone", "text_task", "sentiment", "sst-2", "1", ("1", TestRegistryBuilder.LegacyZip("g"), false));
        builder.Zips.Remove("/zips/test/gone_1.zip");
        Serve(builder);
        var plan = await new MigrationPlanner(LegacyRegistry.OpenFolder(builder.Root)).PlanAsync();
        var publisher = new InMemoryMigrationPublisher();
        var stateFile = Path.Combine(LegacyFixtures.NewTempFolder(), "state.json");

        var report = await Runner(builder, publisher, stateFile).RunAsync(plan);

        Assert.Equal(["1", "wd"], report.Migrated.Select(o => o.Version));
        Assert.All(report.Migrated, o => Assert.Equal("AdapterHub/bert-base-uncased_sentiment_sst-2_good", o.TargetRepo));
        Assert.Equal(3, publisher.Commits.Count);
        var failures = report.Failed.ToDictionary(o => o.LegacyId, o => o.Reason!);
        Assert.Equal(3, failures.Count);
        Assert.Contains("checksum mismatch: expected sha256 0000", failures["@test/bad-checksum"], StringComparison.Ordinal);
        Assert.Contains("outside the extraction folder", failures["@test/zip-slip"], StringComparison.Ordinal);
        Assert.Contains("404", failures["@test/gone"], StringComparison.Ordinal);

        var main = publisher.Files("AdapterHub/bert-base-uncased_sentiment_sst-2_good", "main")!;
        Assert.Equal(["README.md", "adapter_config.json", "head_config.json", "pytorch_adapter.bin", "pytorch_model_head.bin"], main.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(main["adapter_config.json"], publisher.Files("AdapterHub/bert-base-uncased_sentiment_sst-2_good", "1")!["adapter_config.json"]);
        var config = JsonNode.Parse(main["adapter_config.json"])!;
        Assert.Equal("gelu_new", config["config"]!["non_linearity"]!.GetValue<string>());
        Assert.Equal("adapters.1.2.0", config["version"]!.GetValue<string>());
        Assert.Equal("weights of sst-2", Encoding.ASCII.GetString(main["pytorch_adapter.bin"]));
        Assert.Contains("`@test/bert-base-uncased_sentiment_sst-2_good`", Encoding.UTF8.GetString(main["README.md"]), StringComparison.Ordinal);
        Assert.Equal("weights of sst-2-wd", Encoding.ASCII.GetString(publisher.Files("AdapterHub/bert-base-uncased_sentiment_sst-2_good", "wd")!["pytorch_adapter.bin"]));
        Assert.Null(publisher.Files("AdapterHub/bert-base-uncased_sentiment_sst-2_good", "2"));
        Assert.Contains("\"status\": \"failed\"", File.ReadAllText(stateFile), StringComparison.Ordinal);

        // Same state file: finished versions are skipped without a download; failures are retried and fail again.
        var requestsBefore = _server.LogEntries.Count;
        var rerun = await Runner(builder, publisher, stateFile).RunAsync(plan);
        Assert.Equal(2, rerun.Skipped.Count);
        Assert.All(rerun.Skipped, o => Assert.Contains("state file", o.Reason, StringComparison.Ordinal));
        Assert.Equal(3, rerun.Failed.Count);
        Assert.Equal(3, publisher.Commits.Count);
        Assert.Equal(requestsBefore + 3, _server.LogEntries.Count);

        // No state file at all: the files already on every branch are recognised and nothing is pushed.
        var fresh = await Runner(builder, publisher, stateFile: null).RunAsync(plan.Where(p => p.LegacyId.EndsWith("good", StringComparison.Ordinal)).ToList());
        Assert.Equal(2, fresh.Skipped.Count);
        Assert.All(fresh.Skipped, o => Assert.Equal("already present with the same files", o.Reason));
        Assert.Equal(3, publisher.Commits.Count);
    }

    [Fact]
    public async Task A_killed_run_resumes_from_the_state_file_without_pushing_anything_twice()
    {
        var url = _server.Url!;
        var builder = new TestRegistryBuilder();
        foreach (var name in new[] { "a", "b", "c" })
        {
            builder.AddEntry(url, "test", $"entry-{name}", "text_task", "sentiment", "sst-2", "1", ("1", TestRegistryBuilder.LegacyZip(name), false));
        }
        Serve(builder);
        var plan = await new MigrationPlanner(LegacyRegistry.OpenFolder(builder.Root)).PlanAsync();
        var stateFile = Path.Combine(LegacyFixtures.NewTempFolder(), "state.json");
        using var kill = new CancellationTokenSource();
        var publisher = new InMemoryMigrationPublisher { AfterCommit = count => { if (count == 3) kill.Cancel(); } };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Runner(builder, publisher, stateFile, concurrency: 1).RunAsync(plan, kill.Token));

        Assert.Equal(3, publisher.Commits.Count);
        var state = File.ReadAllText(stateFile);
        Assert.Contains("AdapterHub/entry-a@1", state, StringComparison.Ordinal);
        Assert.DoesNotContain("AdapterHub/entry-c@1", state, StringComparison.Ordinal);

        publisher.AfterCommit = null;
        var resumed = await Runner(builder, publisher, stateFile, concurrency: 1).RunAsync(plan);

        Assert.Empty(resumed.Failed);
        Assert.Equal(["@test/entry-b", "@test/entry-c"], resumed.Migrated.Select(o => o.LegacyId));
        Assert.Equal("@test/entry-a", Assert.Single(resumed.Skipped).LegacyId);
        Assert.Equal(6, publisher.Commits.Count);
        Assert.Equal(6, publisher.Commits.Distinct().Count());
    }

    [Fact]
    public async Task A_folder_publisher_stages_each_branch_and_a_weight_converter_adds_safetensors()
    {
        var url = _server.Url!;
        var builder = new TestRegistryBuilder();
        builder.AddEntry(url, "test", "staged", "text_task", "sentiment", "sst-2", "1", ("1", TestRegistryBuilder.LegacyZip("staged", withHead: true), false));
        Serve(builder);
        var plan = await new MigrationPlanner(LegacyRegistry.OpenFolder(builder.Root)).PlanAsync("Staging");
        var output = LegacyFixtures.NewTempFolder();
        var runner = new MigrationRunner(LegacyRegistry.OpenFolder(builder.Root), new HttpLegacyArchiveFetcher(_http), new FolderMigrationPublisher(output), new MigrationRunnerOptions
        {
            WorkDirectory = LegacyFixtures.NewTempFolder(),
            WeightConverter = new CopyingConverter(),
        });

        var report = await runner.RunAsync(plan);
        var again = await runner.RunAsync(plan);

        Assert.Single(report.Migrated);
        Assert.Equal("already present with the same files", Assert.Single(again.Skipped).Reason);
        foreach (var branch in new[] { "main", "1" })
        {
            var folder = Path.Combine(output, "Staging", "staged", branch);
            Assert.Equal("converted:weights of staged", File.ReadAllText(Path.Combine(folder, "adapter.safetensors")));
            Assert.Equal("converted:head of staged", File.ReadAllText(Path.Combine(folder, "model_head.safetensors")));
            Assert.True(File.Exists(Path.Combine(folder, "README.md")));
        }
    }

    private sealed class CopyingConverter : IAdapterWeightConverter
    {
        public async Task ConvertAsync(string pickleFile, string safetensorsFile, CancellationToken cancellationToken = default) =>
            await File.WriteAllTextAsync(safetensorsFile, "converted:" + await File.ReadAllTextAsync(pickleFile, cancellationToken), cancellationToken);
    }
}
