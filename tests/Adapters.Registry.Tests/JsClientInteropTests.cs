using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Adapters.Hub;
using Adapters.Hub.Upload;
using Adapters.Hub.Xet;
using Adapters.Registry.Tests.Backends;
using Adapters.Testing;

namespace Adapters.Registry.Tests;

/// <summary>
/// The official JS client (<c>@huggingface/hub</c> 2.17.x, installed by <c>npm ci</c> in tests/interop, which
/// <c>.ci/run</c> does first) against <c>serve</c>: it pushes and our client pulls, our client pushes and it downloads.
/// The JS client offers Xet and serve takes it: its LFS files go up as xorbs and shards and come back through
/// reconstructions, while our client (no Xet) still reads them as plain bytes from <c>/resolve</c>.
/// </summary>
public abstract class JsClientInteropTests(RegistryBackend backend) : BackendSuite(backend)
{
    private const string WriteToken = "hf_interop_writer";

    internal static string InteropFolder => Path.Combine(TestPaths.RepoRoot, "tests", "interop");

    /// <summary>
    /// <c>dotnet test</c> alone must pass on a fresh clone, so the pinned JS client is installed from the
    /// lock file when <c>.ci/run</c> has not done it already.
    /// </summary>
    internal static async Task InstallJsClientAsync()
    {
        var start = new ProcessStartInfo("npm", ["ci", "--prefix", InteropFolder, "--no-audit", "--no-fund"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var npm = Process.Start(start) ?? throw new InvalidOperationException("npm could not be started; Node.js 18+ with npm is needed for the interop test.");
        var stderr = npm.StandardError.ReadToEndAsync();
        await npm.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await npm.WaitForExitAsync(timeout.Token);
        Assert.True(npm.ExitCode == 0, $"npm ci --prefix tests/interop failed: {await stderr}");
    }

    [Fact]
    public async Task The_official_js_client_and_ours_read_each_others_pushes_byte_for_byte()
    {
        var package = Path.Combine(InteropFolder, "node_modules", "@huggingface", "hub", "package.json");
        if (!File.Exists(package)) await InstallJsClientAsync();
        Assert.True(File.Exists(package), $"{package} is missing after 'npm ci --prefix tests/interop'.");
        Assert.StartsWith("2.17.", JsonDocument.Parse(await File.ReadAllTextAsync(package)).RootElement.GetProperty("version").GetString());

        // 8 MiB parts: files our client pushes over 8 MiB take the multipart path; the JS client's LFS files go through Xet.
        var requests = new RequestRecorder();
        await using var host = await StartHostAsync(tokens: [$"write:{WriteToken}"], lfsChunkSize: 8L * 1024 * 1024, customize: o => o with { RequestLog = requests });
        var endpoint = host.Endpoint.ToString().TrimEnd('/');
        var input = host.Scratch.CreateSubdirectory("js-input");
        var files = new Dictionary<string, byte[]>
        {
            ["config.json"] = "{\"adapter\": \"from-js\"}\n"u8.ToArray(),
            ["weights/big.bin"] = RandomNumberGenerator.GetBytes(12 * 1024 * 1024 + 12345),
            ["weights/small.safetensors"] = RandomNumberGenerator.GetBytes(3000),
        };
        foreach (var (path, bytes) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(input.FullName, path))!);
            await File.WriteAllBytesAsync(Path.Combine(input.FullName, path), bytes);
        }

        // JS: createRepo, uploadFiles, listFiles, modelInfo, downloadFile (compared inside the script).
        var pushed = JsonDocument.Parse(await RunNodeAsync("push", endpoint, WriteToken, "js/pushed", input.FullName)).RootElement;
        var commit = pushed.GetProperty("commit").GetString();
        Assert.Matches("^[0-9a-f]{40}$", commit);
        Assert.Equal(commit, pushed.GetProperty("info").GetProperty("sha").GetString());
        var listed = pushed.GetProperty("listed").EnumerateArray().ToDictionary(e => e.GetProperty("path").GetString()!);
        Assert.Equal([".gitattributes", "config.json", "weights", "weights/big.bin", "weights/small.safetensors"], listed.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Sha256(files["weights/big.bin"]), listed["weights/big.bin"].GetProperty("lfs").GetProperty("oid").GetString());
        Assert.Equal(Sha256(files["weights/small.safetensors"]), listed["weights/small.safetensors"].GetProperty("lfs").GetProperty("oid").GetString());
        Assert.False(listed["config.json"].TryGetProperty("lfs", out _));
        Assert.False(listed["config.json"].TryGetProperty("xetHash", out _));
        Assert.Equal(files.Keys.Order(StringComparer.Ordinal), pushed.GetProperty("downloads").EnumerateArray().Select(d => d.GetProperty("path").GetString()!));

        // Through Xet both ways: the JS client posted xorbs and a shard and never an LFS object, and downloaded
        // through reconstructions. The tree lists each LFS file's Xet hash; rebuilding the file through the v1
        // reconstruction API (which the JS client does not use) gives its bytes, and our Merkle tree over the
        // chunks it decoded gives the listed hash.
        foreach (var path in new[] { "weights/big.bin", "weights/small.safetensors" })
        {
            var xetHash = listed[path].GetProperty("xetHash").GetString()!;
            var (bytes, chunks) = await XetServeTests.ReconstructAsync(host, "js/pushed", xetHash, WriteToken);
            Assert.Equal(files[path], bytes);
            Assert.Equal(xetHash, XetHashing.FileHash(chunks).ToString());
        }
        await WaitForRequestAsync(requests, "GET /js/pushed/resolve/main/weights/small.safetensors ");
        Assert.NotEmpty(requests.Matching("POST /xet-cas/v1/xorbs/default/"));
        Assert.All(requests.Matching("POST /xet-cas/v1/"), line => Assert.Contains(" 200 ", line));
        Assert.NotEmpty(requests.Matching("POST /xet-cas/v1/shards 200 "));
        Assert.Empty(requests.Matching("PUT /lfs-uploads/"));
        Assert.NotEmpty(requests.Matching("GET /xet-cas/v2/reconstructions/"));
        Assert.NotEmpty(requests.Matching("GET /xet-cas/xorbs/"));
        Assert.Empty(requests.Matching("GET /lfs-blobs/"));

        // Ours pulls what the JS client pushed, through Xet (the v1 reconstruction API; the JS client asks v2).
        var ours = host.Client(WriteToken);
        var snapshot = await ours.Files.SnapshotDownloadAsync("js/pushed");
        Assert.Equal(commit, snapshot.CommitHash);
        foreach (var (path, bytes) in files)
        {
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(snapshot.Path, path)));
        }
        await WaitForRequestAsync(requests, "GET /xet-cas/v1/reconstructions/");
        Assert.NotEmpty(requests.Matching("GET /xet-cas/v1/reconstructions/"));

        // A client without Xet (ours with it switched off, like Python with HF_HUB_DISABLE_XET) gets the same
        // bytes from /resolve, rebuilt from the xorbs behind the redirect.
        var plain = await host.Client(WriteToken, useXet: false).Files.SnapshotDownloadAsync("js/pushed");
        foreach (var (path, bytes) in files)
        {
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(plain.Path, path)));
        }
        await WaitForRequestAsync(requests, "GET /lfs-blobs/");
        Assert.NotEmpty(requests.Matching("GET /lfs-blobs/"));

        // The JS client downloads what ours pushed, both through Xet.
        var shardsBefore = requests.Matching("POST /xet-cas/v1/shards 200 ").Count;
        var jsReconstructionsBefore = requests.Matching("GET /xet-cas/v2/reconstructions/").Count;
        var adapter = TestPaths.Fixture("python-written", "AnHu2410__MD_crosslingual", "adapter");
        var ourCommit = await ours.PushAdapterFolderAsync(adapter, "dotnet/pushed");
        await ours.Commits.CreateCommitAsync("dotnet/pushed", [CommitOperation.AddBytes("weights/large.bin", files["weights/big.bin"])], "Add a large file");
        await WaitForRequestAsync(requests, "POST /api/models/dotnet/pushed/commit/main ");
        Assert.True(requests.Matching("POST /xet-cas/v1/shards 200 ").Count > shardsBefore);
        Assert.Empty(requests.Matching("PUT /lfs-uploads/"));
        var ourTree = await ours.Repositories.ListRepoTreeAsync("dotnet/pushed", recursive: true).ToListAsync();
        var large = ourTree.Single(f => f.Path == "weights/large.bin");
        using (var content = new MemoryStream(files["weights/big.bin"]))
        {
            Assert.Equal(XetHashing.FileHash(await XetChunker.HashChunksAsync(content)).ToString(), large.XetHash);
        }
        var names = Directory.EnumerateFiles(adapter).Select(Path.GetFileName).Select(n => n!).Append("weights/large.bin").ToArray();
        var output = host.Scratch.CreateSubdirectory("js-output");
        var downloaded = JsonDocument.Parse(await RunNodeAsync(["download", endpoint, WriteToken, "dotnet/pushed", output.FullName, .. names])).RootElement;
        await WaitForRequestAsync(requests, "GET /dotnet/pushed/resolve/main/weights/large.bin ");
        Assert.True(requests.Matching("GET /xet-cas/v2/reconstructions/").Count > jsReconstructionsBefore);
        Assert.Equal(names.Length, downloaded.GetProperty("downloads").GetArrayLength());
        foreach (var name in names.SkipLast(1))
        {
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(adapter, name)), await File.ReadAllBytesAsync(Path.Combine(output.FullName, name)));
        }
        Assert.Equal(files["weights/big.bin"], await File.ReadAllBytesAsync(Path.Combine(output.FullName, "weights", "large.bin")));
        Assert.Matches("^[0-9a-f]{40}$", ourCommit.CommitOid);
    }

    internal static Task<string> RunNodeAsync(params string[] arguments) => RunNodeCoreAsync(arguments);

    private static async Task<string> RunNodeCoreAsync(IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = InteropFolder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("js-client.mjs");
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node could not be started; is Node.js 18+ on PATH?");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"node js-client.mjs {arguments[0]} did not finish in 3 minutes: {await stderr}");
        }
        Assert.True(process.ExitCode == 0, $"node js-client.mjs {arguments[0]} failed ({process.ExitCode}): {await stderr}");
        return await stdout;
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>serve logs a request once its handler returns, which may be just after the client read the answer.</summary>
    private static async Task WaitForRequestAsync(RequestRecorder requests, string prefix)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (requests.Matching(prefix).Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
    }
}
