using System.Net;
using System.Text;
using Adapters.Hub;
using Adapters.Hub.Upload;
using Adapters.Registry.Auth;

namespace Adapters.Registry.Tests.Mirror;

/// <summary>Mirror mode's rules: the revision TTL, allow/deny patterns, offline mode, and the upstream token staying secret.</summary>
public sealed class MirrorBehaviourTests
{
    [Fact]
    public async Task A_branch_is_re_resolved_upstream_only_after_the_ttl_while_commit_ids_are_fetched_once_and_kept()
    {
        var clock = new ManualClock();
        await using var pair = await MirrorPair.StartAsync(mirror: m => m with { RevisionTtl = TimeSpan.FromMinutes(5), Clock = clock });
        var upstream = pair.UpstreamClient();
        var seed = await UpstreamSeed.PushAsync(upstream, "team/moving");
        var mirror = pair.Mirror.Client();
        Assert.Equal(seed.SecondCommit, (await mirror.Repositories.RepoInfoAsync("team/moving")).Sha);

        // A ref listing brings upstream's branches and tags along, the tag never asked for included.
        await upstream.Repositories.CreateBranchAsync("team/moving", "dev", seed.FirstCommit);
        var refs = await mirror.Repositories.ListRefsAsync("team/moving");
        Assert.Equal(seed.FirstCommit, refs.Tags.Single(t => t.Name == "v1").TargetCommit);
        Assert.Equal(seed.FirstCommit, refs.Branches.Single(b => b.Name == "dev").TargetCommit);
        Assert.Equal(seed.SecondCommit, refs.Branches.Single(b => b.Name == "main").TargetCommit);

        var third = await upstream.Commits.CreateCommitAsync("team/moving", [CommitOperation.AddBytes("notes.txt", "third"u8.ToArray())], "Third");
        clock.Advance(TimeSpan.FromMinutes(4));
        // Within the TTL main stays where it was resolved; the new commit is reachable by its id at once.
        Assert.Equal(seed.SecondCommit, (await mirror.Repositories.RepoInfoAsync("team/moving")).Sha);
        Assert.Equal("third"u8.ToArray(), await File.ReadAllBytesAsync(await mirror.Files.DownloadFileAsync("team/moving", "notes.txt", revision: third.CommitOid)));
        Assert.Equal(1, pair.UpstreamLog.CountRequests("GET", "/api/models/team/moving/revision/main"));

        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(third.CommitOid, (await mirror.Repositories.RepoInfoAsync("team/moving")).Sha);
        Assert.Equal(2, pair.UpstreamLog.CountRequests("GET", "/api/models/team/moving/revision/main"));
        // A commit id never goes upstream twice.
        await pair.Mirror.Client().Repositories.RepoInfoAsync("team/moving", revision: third.CommitOid);
        Assert.Equal(1, pair.UpstreamLog.CountRequests("GET", $"/api/models/team/moving/revision/{third.CommitOid}"));

        // Upstream gone after the TTL: the last resolution is served and marked stale.
        clock.Advance(TimeSpan.FromMinutes(6));
        await pair.StopUpstreamAsync();
        using var wire = new PythonWire(pair.Mirror.Server.Endpoint);
        using var stale = await wire.GetAsync("/api/models/team/moving");
        Assert.Equal(third.CommitOid, (await PythonWire.JsonOf(stale)).GetProperty("sha").GetString());
        Assert.Equal("1", stale.Headers.GetValues("X-Mirror-Stale").Single());
    }

    [Fact]
    public async Task Denied_or_not_allowed_ids_are_answered_as_missing_repositories_without_asking_upstream()
    {
        await using var pair = await MirrorPair.StartAsync(mirror: m => m with { Allow = ["team/**", "solo-*/*"], Deny = ["team/secret-*"] });
        var upstream = pair.UpstreamClient();
        foreach (var repo in new[] { "team/open", "team/secret-weights", "other/thing", "solo-a/x" }) await upstream.Repositories.CreateRepoAsync(repo);
        using var wire = new PythonWire(pair.Mirror.Server.Endpoint);

        using (var allowed = await wire.GetAsync("/api/models/team/open")) await PythonWire.JsonOf(allowed);
        using (var allowed = await wire.GetAsync("/api/models/solo-a/x")) await PythonWire.JsonOf(allowed);
        foreach (var denied in new[] { "team/secret-weights", "other/thing" })
        {
            using var response = await wire.GetAsync($"/api/models/{denied}");
            await PythonWire.ErrorOf(response, 404);
            Assert.Equal("RepoNotFound", PythonWire.ErrorCode(response));
            using var file = await wire.SendAsync(HttpMethod.Head, $"/{denied}/resolve/main/.gitattributes");
            Assert.Equal("RepoNotFound", PythonWire.ErrorCode(file));
            Assert.Equal(0, pair.UpstreamLog.CountRequestsUnder("GET", $"/api/models/{denied}"));
        }
        // Our client reports a denied repository as missing.
        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => pair.Mirror.Client().Repositories.RepoInfoAsync("team/secret-weights"));
    }

    [Fact]
    public async Task An_offline_mirror_serves_what_it_cached_and_nothing_else_without_reaching_upstream()
    {
        var scratch = Directory.CreateTempSubdirectory("adapters-offline-mirror-");
        try
        {
            var root = Path.Combine(scratch.FullName, "mirror");
            UpstreamSeed seed;
            Uri upstreamEndpoint;
            await using (var pair = await MirrorPair.StartAsync())
            {
                seed = await UpstreamSeed.PushAsync(pair.UpstreamClient(), "team/cached");
                await UpstreamSeed.PushAsync(pair.UpstreamClient(), "team/never-asked");
                upstreamEndpoint = pair.Upstream.Endpoint;
                // Warm a cache of its own: main's config and card (fetched with the commit), not the weights.
                await using var warm = await RegistryServer.StartAsync(new RegistryServerOptions
                {
                    RootDirectory = root,
                    Port = 0,
                    Mirror = new UpstreamMirrorOptions { Upstream = pair.Upstream.Endpoint, UpstreamToken = MirrorPair.MirrorSecret },
                });
                using var warmWire = new PythonWire(warm.Endpoint);
                using (var config = await warmWire.GetAsync("/team/cached/resolve/main/config.json")) Assert.Equal(HttpStatusCode.OK, config.StatusCode);
            }

            // Upstream is gone; the offline mirror must not need it.
            await using var offline = await RegistryServer.StartAsync(new RegistryServerOptions
            {
                RootDirectory = root,
                Port = 0,
                Mirror = new UpstreamMirrorOptions { Upstream = upstreamEndpoint, Offline = true, RevisionTtl = TimeSpan.Zero },
            });
            using var wire = new PythonWire(offline.Endpoint);
            using (var info = await wire.GetAsync("/api/models/team/cached")) Assert.Equal(seed.SecondCommit, (await PythonWire.JsonOf(info)).GetProperty("sha").GetString());
            using (var config = await wire.GetAsync("/team/cached/resolve/main/config.json"))
            {
                Assert.Equal(seed.Files["config.json"], await config.Content.ReadAsByteArrayAsync());
            }
            using (var weights = await wire.GetAsync("/team/cached/resolve/main/weights/adapter.safetensors"))
            {
                await PythonWire.ErrorOf(weights, 404);
                Assert.Equal("EntryNotFound", PythonWire.ErrorCode(weights));
            }
            using (var tag = await wire.GetAsync("/api/models/team/cached/revision/v1")) Assert.Equal("RevisionNotFound", PythonWire.ErrorCode(tag));
            using (var never = await wire.GetAsync("/api/models/team/never-asked")) Assert.Equal("RepoNotFound", PythonWire.ErrorCode(never));
            using var health = await wire.GetAsync("/healthz");
            Assert.Equal("offline", (await PythonWire.JsonOf(health)).GetProperty("mirror").GetString());
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task On_a_mirror_with_tokens_only_callers_with_a_token_make_it_fetch_anonymous_callers_read_the_cache()
    {
        const string Reader = "hf_mirror_team_reader";
        await using var pair = await MirrorPair.StartAsync(mirrorStore: o => o with { Tokens = [AccessToken.Parse($"read:{Reader}", 0)] });
        var seed = await UpstreamSeed.PushAsync(pair.UpstreamClient(), "team/public-adapter");
        using var anonymous = new PythonWire(pair.Mirror.Server.Endpoint);
        using (var before = await anonymous.GetAsync("/api/models/team/public-adapter"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, before.StatusCode);
            Assert.Equal("RepoNotFound", PythonWire.ErrorCode(before));
        }
        Assert.Equal(0, pair.UpstreamLog.CountRequestsUnder("GET", "/api/models/team/public-adapter"));

        using var reader = new PythonWire(pair.Mirror.Server.Endpoint, Reader);
        using (var fetched = await reader.GetAsync("/api/models/team/public-adapter")) Assert.Equal(seed.SecondCommit, (await PythonWire.JsonOf(fetched)).GetProperty("sha").GetString());
        // Cached and public: now anonymous callers read it, without another upstream request.
        using (var after = await anonymous.GetAsync("/team/public-adapter/resolve/main/README.md"))
        {
            Assert.Equal(UpstreamSeed.Card, await after.Content.ReadAsStringAsync());
        }
        Assert.Equal(1, pair.UpstreamLog.CountRequestsUnder("GET", "/api/models/team/public-adapter"));
    }

    [Fact]
    public async Task The_upstream_token_opens_private_upstream_repos_and_never_appears_in_answers_logs_or_metrics()
    {
        await using var pair = await MirrorPair.StartAsync();
        var seed = await UpstreamSeed.PushAsync(pair.UpstreamClient(), "team/private-adapter", isPrivate: true);
        using var wire = new PythonWire(pair.Mirror.Server.Endpoint);
        var said = new StringBuilder();
        async Task<HttpResponseMessage> Record(Task<HttpResponseMessage> request)
        {
            var response = await request;
            said.Append(response.StatusCode).Append('\n').Append(response.Headers).Append(response.Content.Headers).Append(await response.Content.ReadAsStringAsync()).Append('\n');
            return response;
        }

        // Upstream refuses the repository without the mirror's token; the mirror, holding it, serves it.
        using (var anonymous = await new PythonWire(pair.Upstream.Endpoint).GetAsync("/api/models/team/private-adapter")) Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using (var info = await Record(wire.GetAsync("/api/models/team/private-adapter"))) Assert.Equal(seed.SecondCommit, (await PythonWire.JsonOf(info)).GetProperty("sha").GetString());
        using (var file = await Record(wire.GetAsync("/team/private-adapter/resolve/main/config.json"))) Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        using (var lfs = await Record(wire.SendAsync(HttpMethod.Head, "/team/private-adapter/resolve/v1/weights/head.bin"))) Assert.Equal(HttpStatusCode.Found, lfs.StatusCode);
        using (var missing = await Record(wire.GetAsync("/team/private-adapter/resolve/main/missing.txt"))) Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using (var tree = await Record(wire.GetAsync("/api/models/team/private-adapter/tree/main?recursive=true"))) Assert.Equal(HttpStatusCode.OK, tree.StatusCode);
        using (var metrics = await Record(wire.GetAsync("/metrics"))) Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        // An upstream failure's message reaches the client: it must not carry the token either.
        await pair.StopUpstreamAsync();
        using (var down = await Record(wire.GetAsync("/api/models/team/other-adapter"))) Assert.Equal(HttpStatusCode.BadGateway, down.StatusCode);

        Assert.DoesNotContain(MirrorPair.MirrorSecret, said.ToString(), StringComparison.Ordinal);
        Assert.NotEmpty(pair.MirrorLog.Lines);
        Assert.Contains(pair.MirrorLog.Lines, line => line.StartsWith("mirror fetched team/private-adapter/", StringComparison.Ordinal));
        Assert.DoesNotContain(MirrorPair.MirrorSecret, pair.MirrorLog.Everything, StringComparison.Ordinal);
        Assert.DoesNotContain(MirrorPair.MirrorSecret, new UpstreamMirrorOptions { Upstream = pair.Upstream.Endpoint, UpstreamToken = MirrorPair.MirrorSecret }.ToString(), StringComparison.Ordinal);
    }
}
