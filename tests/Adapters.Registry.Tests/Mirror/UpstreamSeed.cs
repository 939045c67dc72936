using System.Security.Cryptography;
using System.Text;
using Adapters.Hub;
using Adapters.Hub.Upload;

namespace Adapters.Registry.Tests.Mirror;

/// <summary>
/// A repository pushed to the upstream: a card, a config changed by a second commit, and two LFS files; the first
/// commit is tagged <c>v1</c>.
/// </summary>
internal sealed record UpstreamSeed(string Repo, string FirstCommit, string SecondCommit, IReadOnlyDictionary<string, byte[]> Files, byte[] FirstConfig)
{
    public const string Card = "---\nlibrary_name: adapters\ntags:\n- adapter-transformers\n- mirror-test\n---\n# An adapter kept upstream\n";

    public static async Task<UpstreamSeed> PushAsync(HubClient upstream, string repo, bool isPrivate = false, int largeBytes = 3 * 1024 * 1024)
    {
        await upstream.Repositories.CreateRepoAsync(repo, isPrivate: isPrivate);
        var firstConfig = Encoding.UTF8.GetBytes("{\"adapter\": \"v1\"}\n");
        var files = new Dictionary<string, byte[]>
        {
            ["README.md"] = Encoding.UTF8.GetBytes(Card),
            ["config.json"] = firstConfig,
            ["weights/adapter.safetensors"] = RandomNumberGenerator.GetBytes(largeBytes),
            ["weights/head.bin"] = RandomNumberGenerator.GetBytes(300_000),
        };
        var first = await upstream.Commits.CreateCommitAsync(repo, files.Select(f => CommitOperation.AddBytes(f.Key, f.Value)).ToList(), "Seed the adapter");
        await upstream.Repositories.CreateTagAsync(repo, "v1", first.CommitOid);
        files["config.json"] = Encoding.UTF8.GetBytes("{\"adapter\": \"v2\"}\n");
        var second = await upstream.Commits.CreateCommitAsync(repo, [CommitOperation.AddBytes("config.json", files["config.json"])], "Update the config");
        return new UpstreamSeed(repo, first.CommitOid, second.CommitOid, files, firstConfig);
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
