using System.Security.Cryptography;
using System.Text;

namespace Adapters.Hub.Tests.Stubs;

/// <summary>A file the stub Hub serves, with the hashes the real Hub would report.</summary>
internal sealed class StubFile(string path, byte[] content, bool lfs)
{
    public string Path { get; } = path;
    public byte[] Content { get; } = content;
    public bool Lfs { get; } = lfs;
    public string GitSha1 { get; } = GitBlobSha1(content);
    public string Sha256 { get; } = Convert.ToHexStringLower(SHA256.HashData(content));
    public string Etag => EtagOverride ?? (Lfs ? Sha256 : GitSha1);

    /// <summary>An etag that is not a content hash (some proxies and Hub clones send those).</summary>
    public string? EtagOverride { get; set; }

    /// <summary>The Xet file hash the Hub announces (<c>X-Xet-Hash</c>, with a <c>rel="xet-auth"</c> link); null for none.</summary>
    public string? XetHash { get; set; }

    /// <summary>A size the Hub announces instead of the real one (a lying or broken server).</summary>
    public long? AnnouncedSize { get; set; }

    public static string GitBlobSha1(byte[] content)
    {
        var header = Encoding.ASCII.GetBytes($"blob {content.Length}\0");
        return Convert.ToHexStringLower(SHA1.HashData([.. header, .. content]));
    }
}

/// <summary>A repository of the stub Hub: one commit (plus older ones in <see cref="Snapshots"/>), branch <c>main</c> and optional tags.</summary>
internal sealed class StubRepo(string id, RepoType type, string commit)
{
    public string Id { get; } = id;
    public RepoType Type { get; } = type;
    public string Commit { get; } = commit;
    public bool Gated { get; set; }
    public SortedDictionary<string, StubFile> Files { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, string> Branches { get; } = new(StringComparer.Ordinal) { ["main"] = commit };

    /// <summary>Files of other commits, by commit id.</summary>
    public Dictionary<string, SortedDictionary<string, StubFile>> Snapshots { get; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, StubFile> FilesAt(string commit) => commit != Commit && Snapshots.TryGetValue(commit, out var files) ? files : Files;

    public string? Resolve(string revision) => revision == Commit || Snapshots.ContainsKey(revision) ? revision : Branches.GetValueOrDefault(revision);
}
