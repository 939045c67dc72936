using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Adapters.Registry.Storage.Metadata;

/// <summary>
/// Registries written before the metadata moved into a database kept it in files under <c>repos/</c>:
/// <code>
/// repos/&lt;type&gt;/&lt;ns--name&gt;/repo.json, commits/&lt;id&gt;.json, refs/&lt;escaped ref&gt;, discussions/&lt;num&gt;.json
/// </code>
/// On start each such repository is copied into the metadata store in one transaction, then the folder is
/// renamed to <c>repos.imported/</c> (kept, not deleted, so an older registry can still be pointed at a copy).
/// Blobs already live where the store reads them (<c>objects/</c>), so nothing else moves.
/// </summary>
internal static class LegacyFolderImport
{
    /// <summary>The folder name the imported layout is moved to.</summary>
    public const string ImportedFolder = "repos.imported";

    /// <summary>Imports <c>repos/</c> under <paramref name="root"/> when it is there; returns how many repositories were added.</summary>
    public static int ImportIfPresent(string root, IRegistryMetadata metadata)
    {
        var repos = Path.Combine(root, "repos");
        if (!Directory.Exists(repos)) return 0;
        var imported = 0;
        foreach (var type in Enum.GetValues<RepoType>())
        {
            var typeFolder = Path.Combine(repos, type.ApiSegment());
            if (!Directory.Exists(typeFolder)) continue;
            foreach (var folder in Directory.EnumerateDirectories(typeFolder).Order(StringComparer.Ordinal))
            {
                var metadataPath = Path.Combine(folder, "repo.json");
                // A folder without repo.json was never a complete repository (creation built it aside first).
                if (!File.Exists(metadataPath)) continue;
                var repo = Read<RepoMetadata>(metadataPath);
                var key = RepoKey.Parse(type, repo.Id);
                var commits = Files(folder, "commits", "*.json").Select(Read<CommitRecord>).ToList();
                var refs = Files(folder, "refs", "*")
                    .Where(path => !Path.GetFileName(path).StartsWith('.'))
                    .ToDictionary(path => Uri.UnescapeDataString(Path.GetFileName(path)), path => File.ReadAllText(path, Encoding.ASCII).Trim(), StringComparer.Ordinal);
                var discussions = Files(folder, "discussions", "*.json")
                    .Where(path => int.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out _))
                    .Select(Read<DiscussionRecord>)
                    .ToList();
                if (metadata.TryImportRepo(key, repo, commits, refs, discussions)) imported++;
            }
        }
        var target = Path.Combine(root, ImportedFolder);
        if (Directory.Exists(target)) target += "-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        Directory.Move(repos, target);
        return imported;
    }

    private static IEnumerable<string> Files(string repoFolder, string child, string pattern)
    {
        var folder = Path.Combine(repoFolder, child);
        return Directory.Exists(folder) ? Directory.EnumerateFiles(folder, pattern) : [];
    }

    private static T Read<T>(string path) =>
        JsonSerializer.Deserialize<T>(File.ReadAllBytes(path))
        ?? throw new InvalidDataException($"{path} is not a {typeof(T).Name} of the registry's folder layout.");
}
