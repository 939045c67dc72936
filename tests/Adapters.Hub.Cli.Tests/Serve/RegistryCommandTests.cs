using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Adapters.Registry;

namespace Adapters.Hub.Cli.Tests.Serve;

/// <summary>
/// <c>adapters-hub registry ...</c> administers the accounts of a registry's root while a registry serves it:
/// a user, an organisation, a membership and a token created on the command line are what the running
/// registry answers whoami with, a grant opens a private repository, and a revoked token is refused.
/// </summary>
public sealed class RegistryCommandTests : IDisposable
{
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("adapters-registry-cli-");

    public void Dispose() => _scratch.Delete(recursive: true);

    private static async Task<string> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        Assert.True(exitCode == 0, $"adapters-hub {string.Join(' ', args)} exited {exitCode}: {error}");
        return output.ToString();
    }

    [Fact]
    public async Task Accounts_created_on_the_command_line_are_what_the_running_registry_answers_with()
    {
        var root = Path.Combine(_scratch.FullName, "registry");
        await using var server = await RegistryServer.StartAsync(new RegistryServerOptions { RootDirectory = root, Port = 0 });

        await RunAsync("registry", "create-user", "alice", "--fullname", "Alice L.", "--root", root);
        await RunAsync("registry", "create-user", "bob", "--root", root);
        await RunAsync("registry", "create-org", "lab", "--root", root);
        await RunAsync("registry", "add-member", "lab", "alice", "--role", "write", "--root", root);
        var created = (await RunAsync("registry", "create-token", "alice", "--name", "laptop", "--scope", "write", "--root", root)).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var aliceSecret = created[^1];
        Assert.StartsWith("adh_", aliceSecret, StringComparison.Ordinal);
        var bobLines = (await RunAsync("registry", "create-token", "bob", "--name", "ci", "--root", root)).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var bobSecret = bobLines[^1];
        var bobId = bobLines[0].Split(' ')[1];

        using var alice = Http(server, aliceSecret);
        using var me = JsonDocument.Parse(await alice.GetStringAsync("api/whoami-v2"));
        Assert.Equal("alice", me.RootElement.GetProperty("name").GetString());
        Assert.Equal("Alice L.", me.RootElement.GetProperty("fullname").GetString());
        Assert.Equal("lab", me.RootElement.GetProperty("orgs")[0].GetProperty("name").GetString());
        using (var create = await alice.PostAsync("api/repos/create", Json("{\"name\":\"secret\",\"organization\":\"lab\",\"private\":true}")))
        {
            Assert.Equal(HttpStatusCode.OK, create.StatusCode);
        }

        using var bob = Http(server, bobSecret);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync("api/models/lab/secret")).StatusCode);
        await RunAsync("registry", "grant", "lab/secret", "bob", "--access", "read", "--root", root);
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync("api/models/lab/secret")).StatusCode);

        var listing = await RunAsync("registry", "list-tokens", "--root", root);
        Assert.Contains(bobId, listing, StringComparison.Ordinal);
        Assert.DoesNotContain(bobSecret, listing, StringComparison.Ordinal);
        await RunAsync("registry", "revoke-token", bobId, "--root", root);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bob.GetAsync("api/models/lab/secret")).StatusCode);
    }

    [Fact]
    public async Task A_missing_registry_or_account_is_a_clear_error()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var missing = Path.Combine(_scratch.FullName, "nowhere");
        Assert.NotEqual(0, await CliApplication.RunAsync(["registry", "create-user", "x", "--root", missing], output, error, CancellationToken.None));
        Assert.Contains("nowhere", error.ToString(), StringComparison.Ordinal);

        var root = _scratch.CreateSubdirectory("registry").FullName;
        using var error2 = new StringWriter();
        Assert.NotEqual(0, await CliApplication.RunAsync(["registry", "create-token", "ghost", "--name", "t", "--root", root], output, error2, CancellationToken.None));
        Assert.Contains("no user of that name", error2.ToString(), StringComparison.Ordinal);
    }

    private static HttpClient Http(RegistryServer server, string token)
    {
        var http = new HttpClient { BaseAddress = server.Endpoint };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
