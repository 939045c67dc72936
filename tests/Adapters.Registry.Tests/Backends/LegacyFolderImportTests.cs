using System.Text;
using System.Text.Json;
using Adapters.Hub;
using Adapters.Registry.Storage;
using Adapters.Registry.Storage.Metadata;

namespace Adapters.Registry.Tests.Backends;

/// <summary>
/// A root written before the metadata moved into a database (repo.json, commits/, refs/ and discussions/ under
/// <c>repos/</c>) is imported on start: its branches, tags, files and discussions are served as before, and the
/// old folder is kept aside as <c>repos.imported/</c> so a restart does not import it twice.
/// </summary>
public sealed class LegacyFolderImportTests
{
    [Fact]
    public async Task A_folder_layout_registry_is_served_after_the_upgrade_and_imported_once()
    {
        await using var host = await ServeTestHost.StartAsync();
        await host.Server.DisposeAsync();
        File.Delete(Path.Combine(host.Root, "registry.db"));

        // The layout the registry wrote before: one repository with a file, a tag and a discussion.
        var content = Encoding.UTF8.GetBytes("written by the folder layout\n");
        var oid = ContentHashes.GitBlobSha1(content);
        var blob = Path.Combine(host.Root, "objects", "git", oid[..2], oid[2..4], oid);
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        await File.WriteAllBytesAsync(blob, content);
        var commitId = new string('c', 40);
        var folder = Path.Combine(host.Root, "repos", "models", "me--old");
        Write(Path.Combine(folder, "repo.json"), new RepoMetadata { ObjectId = "0123456789abcdef01234567", Id = "me/old", CreatedAt = DateTimeOffset.UnixEpoch });
        Write(Path.Combine(folder, "commits", commitId + ".json"), new CommitRecord
        {
            Id = commitId,
            Title = "from the folder days",
            Date = DateTimeOffset.UnixEpoch,
            Files = new SortedDictionary<string, FileRecord>(StringComparer.Ordinal) { ["notes.txt"] = new FileRecord(oid, content.Length, Lfs: false, commitId) },
        });
        Directory.CreateDirectory(Path.Combine(folder, "refs"));
        await File.WriteAllTextAsync(Path.Combine(folder, "refs", "main"), commitId);
        await File.WriteAllTextAsync(Path.Combine(folder, "refs", Uri.EscapeDataString("refs/tags/v1")), commitId + "\n");
        Write(Path.Combine(folder, "discussions", "1.json"), new DiscussionRecord { Number = 1, Title = "Kept?", Author = "local", Status = DiscussionStatus.Open, CreatedAt = DateTimeOffset.UnixEpoch });

        await host.RestartAsync();
        var client = host.Client();
        var info = await client.Repositories.ModelInfoAsync("me/old");
        Assert.Equal(commitId, info.Sha);
        Assert.Equal(content, await File.ReadAllBytesAsync(await client.Files.DownloadFileAsync("me/old", "notes.txt", revision: "v1")));
        Assert.False(Directory.Exists(Path.Combine(host.Root, "repos")));
        Assert.True(File.Exists(Path.Combine(host.Root, LegacyFolderImport.ImportedFolder, "models", "me--old", "repo.json")));

        // Work goes on in the database, and a second start finds nothing left to import.
        await client.Commits.CreateCommitAsync("me/old", [Adapters.Hub.Upload.CommitOperation.AddBytes("more.txt", "more"u8.ToArray())], "After the upgrade");
        await host.RestartAsync();
        var again = await host.Client().Repositories.ModelInfoAsync("me/old");
        Assert.Equal(["more.txt", "notes.txt"], again.Siblings.Select(s => s.RelativeFileName).Where(n => n.EndsWith(".txt", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    private static void Write<T>(string path, T record)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(record));
    }
}
