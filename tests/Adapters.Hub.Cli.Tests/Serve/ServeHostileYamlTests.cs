using System.Net;
using System.Text;
using Adapters.Hub.Upload;

namespace Adapters.Hub.Cli.Tests.Serve;

/// <summary>
/// YAML nested 50,000 deep (the shape of fixtures/hostile's validate-yaml-deep.json and README-deep.md, built
/// here) reaches the card parser through <c>validate-yaml</c> (no token needed) and through a committed README:
/// it is a 400 there and an unsummarized card elsewhere, and the registry stays up, also after a restart.
/// </summary>
public sealed class ServeHostileYamlTests
{
    private static readonly string s_deepCard = "---\nx: " + new string('[', 50_000) + new string(']', 50_000) + "\n---\n# card\n";

    [Fact]
    public async Task Deep_yaml_posted_to_validate_yaml_is_a_400_with_an_error_body_and_serve_stays_up()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: ["hf_writer_token"]);
        using var anonymous = new PythonWire(host.Server.Endpoint);
        for (var i = 0; i < 3; i++)
        {
            var answer = await PythonWire.ErrorOf(await anonymous.PostJsonAsync("/api/validate-yaml", new { content = s_deepCard, repoType = "model" }), 400);
            Assert.NotEmpty(answer.GetProperty("errors")[0].GetProperty("message").GetString()!);
        }
        // A valid card is still accepted.
        await PythonWire.JsonOf(await anonymous.PostJsonAsync("/api/validate-yaml", new { content = "---\nlicense: mit\n---\n", repoType = "model" }));
    }

    [Fact]
    public async Task A_committed_deep_readme_never_crashes_serve_and_the_repository_pulls_after_a_restart()
    {
        await using var host = await ServeTestHost.StartAsync();
        var client = host.Client();
        await client.Repositories.CreateRepoAsync("me/deep-card");
        var commit = await client.Commits.CreateCommitAsync("me/deep-card", [CommitOperation.AddBytes("README.md", Encoding.UTF8.GetBytes(s_deepCard))], "A hostile card");

        var info = await client.Repositories.ModelInfoAsync("me/deep-card");
        Assert.Equal(commit.CommitOid, info.Sha);
        Assert.Empty(info.Tags);
        using (var wire = new PythonWire(host.Server.Endpoint))
        using (var listing = await wire.GetAsync("/api/models?author=me&full=true"))
        {
            Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        }

        await host.RestartAsync();
        var snapshot = await host.Client().Files.SnapshotDownloadAsync("me/deep-card");
        Assert.Equal(commit.CommitOid, snapshot.CommitHash);
        Assert.Equal(s_deepCard, await File.ReadAllTextAsync(Path.Combine(snapshot.Path, "README.md")));
    }
}
