using System.Net;
using System.Text;
using Adapters.Hub.Upload;
using Adapters.Registry.Tests;

namespace Adapters.Hub.Cli.Tests.Serve;

/// <summary>
/// YAML nested 50,000 deep (the shape of fixtures/hostile's validate-yaml-deep.json and README-deep.md, built
/// here) reaches the card parser through <c>validate-yaml</c> (no token needed) and through a committed README:
/// it is a 400 there and an unsummarized card elsewhere, and the registry stays up, also after a restart. The
/// registry runs as a child process, so a regression shows as a failed test rather than a lost test run.
/// </summary>
public sealed class ServeHostileYamlTests : IDisposable
{
    private static readonly string s_deepCard = "---\nx: " + new string('[', 50_000) + new string(']', 50_000) + "\n---\n# card\n";
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("adapters-serve-yaml-");

    public void Dispose() => _scratch.Delete(recursive: true);

    [Fact]
    public async Task Deep_yaml_posted_to_validate_yaml_is_a_400_with_an_error_body_and_serve_stays_up()
    {
        await using var serve = await ServeProcess.StartAsync(Path.Combine(_scratch.FullName, "registry"), "--token", "hf_writer_token");
        using var anonymous = new PythonWire(serve.Endpoint);
        for (var i = 0; i < 3; i++)
        {
            var answer = await PythonWire.ErrorOf(await anonymous.PostJsonAsync("/api/validate-yaml", new { content = s_deepCard, repoType = "model" }), 400);
            Assert.NotEmpty(answer.GetProperty("errors")[0].GetProperty("message").GetString()!);
        }
        // A valid card is still accepted, by the same process.
        await PythonWire.JsonOf(await anonymous.PostJsonAsync("/api/validate-yaml", new { content = "---\nlicense: mit\n---\n", repoType = "model" }));
        Assert.True(serve.IsRunning);
    }

    [Fact]
    public async Task A_committed_deep_readme_never_crashes_serve_and_the_repository_pulls_after_a_restart()
    {
        var root = Path.Combine(_scratch.FullName, "registry");
        string commitOid;
        await using (var serve = await ServeProcess.StartAsync(root))
        {
            using var client = Client(serve.Endpoint);
            await client.Repositories.CreateRepoAsync("me/deep-card");
            commitOid = (await client.Commits.CreateCommitAsync("me/deep-card", [CommitOperation.AddBytes("README.md", Encoding.UTF8.GetBytes(s_deepCard))], "A hostile card")).CommitOid;

            var info = await client.Repositories.ModelInfoAsync("me/deep-card");
            Assert.Equal(commitOid, info.Sha);
            Assert.Empty(info.Tags);
            using var wire = new PythonWire(serve.Endpoint);
            using var listing = await wire.GetAsync("/api/models?author=me&full=true");
            Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
            Assert.True(serve.IsRunning);
            await serve.KillAsync();
        }

        await using var restarted = await ServeProcess.StartAsync(root);
        using var after = Client(restarted.Endpoint);
        var snapshot = await after.Files.SnapshotDownloadAsync("me/deep-card");
        Assert.Equal(commitOid, snapshot.CommitHash);
        Assert.Equal(s_deepCard, await File.ReadAllTextAsync(Path.Combine(snapshot.Path, "README.md")));
        Assert.True(restarted.IsRunning);
    }

    private HubClient Client(Uri endpoint) => new(new HubClientOptions
    {
        Endpoint = endpoint,
        CacheDirectory = _scratch.CreateSubdirectory("cache-" + Guid.NewGuid().ToString("N")).FullName,
        Retry = new HubRetryOptions { MaxRetries = 0 },
    });
}
