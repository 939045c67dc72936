using Adapters.Registry.Tests;
using Adapters.Core.Serialization;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Adapters.Hub.Cli.Commands;
using Adapters.Hub.Legacy;
using Adapters.Testing;

namespace Adapters.Hub.Cli.Tests;

public sealed class MigrateCommandTests
{
    private static readonly string s_registry = TestPaths.Fixture("legacy-hub");

    [Fact]
    public async Task Dry_run_json_prints_the_plan_for_every_entry()
    {
        var (exitCode, output, error) = await ResolveCommandTests.RunAsync("migrate", "--registry", s_registry, "--dry-run", "--json");

        Assert.True(exitCode == 0, error);
        using var document = JsonDocument.Parse(output);
        var root = document.RootElement;
        Assert.Equal(291, root.GetProperty("entries").GetInt32());
        Assert.Equal(501, root.GetProperty("versions").GetInt32());
        var sst2 = root.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("legacyId").GetString() == "@ukp/bert-base-uncased_sentiment_sst-2_pfeiffer");
        Assert.Equal("AdapterHub/bert-base-uncased_sentiment_sst-2_pfeiffer", sst2.GetProperty("targetRepo").GetString());
        Assert.Equal("bert-base-uncased", sst2.GetProperty("modelName").GetString());
        Assert.Equal("9076f36a74755ac4", sst2.GetProperty("configId").GetString());
        var version = Assert.Single(sst2.GetProperty("versions").EnumerateArray());
        Assert.Equal("1", version.GetProperty("version").GetString());
        Assert.Equal(["main", "1"], version.GetProperty("branches").EnumerateArray().Select(b => b.GetString()));
        Assert.StartsWith("fcf8d1a3", version.GetProperty("sha1").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dry_run_text_honours_org_and_only()
    {
        var (exitCode, output, error) = await ResolveCommandTests.RunAsync("migrate", "--registry", s_registry, "--dry-run", "--org", "MyOrg", "--only", "ukp/bert-base-multilingual-cased-en-wiki_pfeiffer");

        Assert.True(exitCode == 0, error);
        Assert.Equal(
            "@ukp/bert-base-multilingual-cased-en-wiki_pfeiffer (bert-base-multilingual-cased, en/wiki, d345095bcb01e325) -> MyOrg/bert-base-multilingual-cased-en-wiki_pfeiffer [nd -> main, nd; wd -> wd]\n1 entries, 2 versions.\n",
            output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task A_run_stages_the_migrated_repo_writes_the_state_and_a_rerun_skips_it()
    {
        var zip = LegacyZip();
        using var listener = StartServer(zip, out var zipUrl);
        var registry = SingleEntryRegistry(zip, zipUrl);
        var output = Path.Combine(registry, "out");
        var state = Path.Combine(registry, "state.json");

        var (exitCode, stdout, error) = await ResolveCommandTests.RunAsync("migrate", "--registry", registry, "--output", output, "--state", state, "--json");
        var (againCode, againOut, _) = await ResolveCommandTests.RunAsync("migrate", "--registry", registry, "--output", output, "--state", state);

        Assert.True(exitCode == 0, error);
        using var report = JsonDocument.Parse(stdout);
        Assert.Equal("@cli/bert-base-uncased_sentiment_sst-2_cli", Assert.Single(report.RootElement.GetProperty("migrated").EnumerateArray()).GetProperty("legacyId").GetString());
        foreach (var branch in new[] { "main", "1" })
        {
            var folder = Path.Combine(output, "AdapterHub", "bert-base-uncased_sentiment_sst-2_cli", branch);
            Assert.Contains("\"version\": \"adapters.1.2.0\"", File.ReadAllText(Path.Combine(folder, "adapter_config.json")), StringComparison.Ordinal);
            Assert.Equal(LegacyWeights, File.ReadAllBytes(Path.Combine(folder, "pytorch_adapter.bin")));
            using (var converted = TensorFiles.Load(Path.Combine(folder, "adapter.safetensors")))
            using (var original = TensorFiles.Load(Path.Combine(folder, "pytorch_adapter.bin")))
            {
                Assert.Equal(original.Keys.Order(StringComparer.Ordinal), converted.Keys.Order(StringComparer.Ordinal));
            }
            Assert.Contains("adapterhub:sentiment/sst-2", File.ReadAllText(Path.Combine(folder, "README.md")), StringComparison.Ordinal);
        }
        Assert.Equal(0, againCode);
        Assert.Contains("skipped  @cli/bert-base-uncased_sentiment_sst-2_cli@1", againOut, StringComparison.Ordinal);
        Assert.Contains("0 migrated, 1 skipped, 0 failed.", againOut, StringComparison.Ordinal);
    }

    /// <summary>A registry with one legacy entry, <c>@cli/bert-base-uncased_sentiment_sst-2_cli</c> version 1, whose zip is at <paramref name="zipUrl"/>.</summary>
    private static string SingleEntryRegistry(byte[] zip, string zipUrl)
    {
        var registry = Path.Combine(Path.GetTempPath(), "adapters-migrate-cli", Guid.NewGuid().ToString("N"));
        foreach (var file in new[] { "scripts/schemas/adapter.schema.json", "scripts/schemas/subtask.schema.json", "dist/v2/architectures.json" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(registry, file))!);
            File.Copy(Path.Combine(s_registry, file), Path.Combine(registry, file));
        }
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(zip));
        Write(registry, "adapters/cli/bert-base-uncased_sentiment_sst-2_cli.yaml",
            $"type: text_task\ntask: sentiment\nsubtask: sst-2\nmodel_type: bert\nmodel_name: bert-base-uncased\nauthor: CLI Test\nconfig:\n  using: pfeiffer\ndefault_version: '1'\nfiles:\n- version: '1'\n  url: {zipUrl}\n  sha256: {sha256}\n");
        Write(registry, "dist/v2/adapters/cli/bert-base-uncased_sentiment_sst-2_cli.json",
            $$$"""{"config_id": "9076f36a74755ac4", "default_version": "1", "files": {"1": {"sha256": "{{{sha256}}}", "url": "{{{zipUrl}}}"}}, "info": {"adapter_config": {}, "model_name": "bert-base-uncased", "subtask": "sst-2", "task": "sentiment"}}""");
        return registry;
    }

    [Fact]
    public async Task A_run_without_output_pushes_to_a_hub_and_a_rerun_skips_it()
    {
        const string token = "hf_migrator";
        var zip = LegacyZip();
        using var listener = StartServer(zip, out var zipUrl);
        var registry = SingleEntryRegistry(zip, zipUrl);
        await using var hub = await ServeTestHost.StartAsync(tokens: [$"write:{token}"]);
        var endpoint = hub.Server.Endpoint.ToString().TrimEnd('/');
        var state = Path.Combine(registry, "state.json");
        string[] args = ["migrate", "--registry", registry, "--endpoint", endpoint, "--token", token, "--state", state];

        var (exitCode, output, error) = await ResolveCommandTests.RunAsync(args);
        File.Delete(state);
        var (againCode, againOut, againError) = await ResolveCommandTests.RunAsync(args);

        Assert.True(exitCode == 0, error + output);
        Assert.True(againCode == 0, againError);
        Assert.Contains("0 migrated, 1 skipped, 0 failed.", againOut, StringComparison.Ordinal);
        using var client = hub.Client(token);
        const string repo = "AdapterHub/bert-base-uncased_sentiment_sst-2_cli";
        var refs = await client.Repositories.ListRefsAsync(repo);
        Assert.Equal(["1", "main"], refs.Branches.Select(b => b.Name).Order(StringComparer.Ordinal));
        foreach (var branch in new[] { "main", "1" })
        {
            var snapshot = await client.Files.SnapshotDownloadAsync(repo, branch);
            Assert.Equal(LegacyWeights, File.ReadAllBytes(Path.Combine(snapshot.Path, "pytorch_adapter.bin")));
            Assert.True(File.Exists(Path.Combine(snapshot.Path, "adapter.safetensors")));
            Assert.Contains("\"version\": \"adapters.1.2.0\"", File.ReadAllText(Path.Combine(snapshot.Path, "adapter_config.json")), StringComparison.Ordinal);
            Assert.Contains("adapterhub:sentiment/sst-2", File.ReadAllText(Path.Combine(snapshot.Path, "README.md")), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Github_registry_specs_are_parsed()
    {
        var registry = ResolveRegistryArgument.Open("github:someone/Fork@0123456789abcdef0123456789abcdef01234567", _ => null);
        var pinned = ResolveRegistryArgument.Open("github", _ => null);

        Assert.Equal("github:someone/Fork@0123456789abcdef0123456789abcdef01234567", registry.Source.Description);
        Assert.Equal($"github:adapter-hub/Hub@{GitHubRegistryOptions.PinnedReference}", pinned.Source.Description);
        Assert.Throws<ArgumentException>(() => ResolveRegistryArgument.Open("github:nobody", _ => null));
    }

    private static void Write(string root, string relative, string text)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    [Fact]
    public async Task A_hostile_zip_fails_the_run_with_the_integrity_code_and_its_entry_name_escaped()
    {
        using var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = archive.CreateEntry("../\u001b[2J\u001b]0;pwned\u0007/adapter_config.json").Open();
            entry.Write("{}"u8);
        }
        var zip = buffer.ToArray();
        using var listener = StartServer(zip, out var zipUrl);
        var registry = SingleEntryRegistry(zip, zipUrl);

        var (exitCode, stdout, error) = await ResolveCommandTests.RunAsync("migrate", "--registry", registry, "--output", Path.Combine(registry, "out"));

        Assert.Equal(ExitCodes.Integrity, exitCode);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.DoesNotContain('\u001b', stdout + error);
        Assert.DoesNotContain('\u0007', stdout + error);
        Assert.Contains("\\e[2J\\e]0;pwned\\x07", stdout, StringComparison.Ordinal);
        Assert.Contains("0 migrated, 0 skipped, 1 failed.", stdout, StringComparison.Ordinal);
    }

    // A real torch pickle written by Python (protocol 2 legacy format), so the weight conversion has work to do.
    private static readonly byte[] LegacyWeights = File.ReadAllBytes(TestPaths.Fixture("tensors", "generated", "legacy_p2.pt"));

    private static byte[] LegacyZip()
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var config = zip.CreateEntry("adapter_config.json").Open())
            {
                config.Write("""{"config": {"mh_adapter": false, "output_adapter": true, "reduction_factor": 16, "non_linearity": "relu", "original_ln_before": true}, "name": "sst-2", "type": "text_task"}"""u8);
            }
            using var weights = zip.CreateEntry("pytorch_adapter.bin").Open();
            weights.Write(LegacyWeights);
        }
        return buffer.ToArray();
    }

    private static HttpListener StartServer(byte[] body, out string url)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        url = $"http://127.0.0.1:{port}/legacy/cli.zip";
        _ = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                context.Response.StatusCode = context.Request.Url!.AbsolutePath == "/legacy/cli.zip" ? 200 : 404;
                if (context.Response.StatusCode == 200) await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        });
        return listener;
    }
}
