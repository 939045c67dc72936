using System.Diagnostics;
using System.Text.RegularExpressions;
using Adapters.Testing;

namespace Adapters.Registry.Tests.Backends;

/// <summary>
/// An S3-compatible server for the test run: <c>s3rver</c> (pinned by tests/s3/package-lock.json, installed with
/// <c>npm ci</c> when <c>.ci/run</c> has not done it) on a free loopback port over a temporary folder, with one
/// bucket. Each registry gets its own key prefix in it. When the server cannot start, the fixture throws and every
/// test that needs it fails; nothing is skipped.
/// </summary>
public sealed partial class S3Server : IAsyncLifetime
{
    /// <summary>The credentials s3rver checks signatures against.</summary>
    public const string AccessKey = "S3RVER";

    public const string SecretKey = "S3RVER";

    public const string Bucket = "registry-blobs";

    private static string PackageFolder => Path.Combine(TestPaths.RepoRoot, "tests", "s3");

    private Process? _process;
    private DirectoryInfo? _folder;

    public Uri ServiceUrl { get; private set; } = null!;

    /// <summary>Options for one registry: the shared bucket under a key prefix of its own.</summary>
    public S3BlobStorageOptions NewRegistryStorage(long partSize = 5L * 1024 * 1024) => new()
    {
        ServiceUrl = ServiceUrl,
        Bucket = Bucket,
        KeyPrefix = "registry-" + Guid.NewGuid().ToString("N") + "/",
        AccessKey = AccessKey,
        SecretKey = SecretKey,
        PartSize = partSize,
    };

    public async Task InitializeAsync()
    {
        var entry = Path.Combine(PackageFolder, "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(entry)) await NpmCiAsync();
        _folder = Directory.CreateTempSubdirectory("adapters-registry-s3-");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { entry, "-d", _folder.FullName, "-a", "127.0.0.1", "-p", "0", "--silent", "--configure-bucket", Bucket }) start.ArgumentList.Add(argument);
        _process = Process.Start(start) ?? throw new InvalidOperationException("node could not be started; Node.js 18+ is needed for the registry's S3 tests.");
        var stderr = _process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (await _process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (Listening().Match(line) is { Success: true } match)
            {
                ServiceUrl = new Uri($"http://127.0.0.1:{match.Groups[1].Value}/");
                _ = _process.StandardOutput.ReadToEndAsync(CancellationToken.None);
                return;
            }
        }
        throw new InvalidOperationException($"s3rver exited without listening: {await stderr}");
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
        _folder?.Delete(recursive: true);
    }

    private static async Task NpmCiAsync()
    {
        var start = new ProcessStartInfo("npm", ["ci", "--prefix", PackageFolder, "--no-audit", "--no-fund"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var npm = Process.Start(start) ?? throw new InvalidOperationException("npm could not be started; Node.js 18+ with npm is needed for the registry's S3 tests.");
        var stderr = npm.StandardError.ReadToEndAsync();
        await npm.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await npm.WaitForExitAsync(timeout.Token);
        if (npm.ExitCode != 0) throw new InvalidOperationException($"npm ci --prefix tests/s3 failed: {await stderr}");
    }

    [GeneratedRegex(@"S3rver listening on [^:]+:(\d+)")]
    private static partial Regex Listening();
}
