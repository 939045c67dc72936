using Adapters.Hub.Text;
using Adapters.Hub.IO;
using System.Text;

namespace Adapters.Hub.Cache;

/// <summary>
/// The on-disk layout Python's <c>huggingface_hub</c> reads and writes:
/// <c>&lt;root&gt;/&lt;type&gt;s--&lt;org&gt;--&lt;name&gt;/{blobs/&lt;etag&gt;, refs/&lt;revision&gt;, snapshots/&lt;commit&gt;/&lt;path&gt;, .no_exist/&lt;commit&gt;/&lt;path&gt;}</c>
/// and <c>&lt;root&gt;/.locks/&lt;repo folder&gt;/&lt;etag&gt;.lock</c>.
/// </summary>
public sealed class HubCache
{
    /// <summary>The cache-directory tag signature defined by https://bford.info/cachedir/.</summary>
    public const string CacheDirTagSignature = "Signature: 8a477f597d28d172789f06886806bc55";

    /// <summary>Creates the layout over <paramref name="root"/> (which need not exist yet).</summary>
    public HubCache(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
    }

    /// <summary>The cache root folder.</summary>
    public string Root { get; }

    /// <summary>Whether <paramref name="revision"/> is a full 40-hex commit id (Python's <c>REGEX_COMMIT_HASH</c>).</summary>
    public static bool IsCommitHash(string? revision) => revision is { Length: 40 } && revision.All(IsLowerHex);

    /// <summary>Whether an etag names a SHA-256 (LFS) blob.</summary>
    public static bool IsSha256(string etag) => etag.Length == 64 && etag.All(IsLowerHex);

    /// <summary>Whether an etag names a git SHA-1 blob.</summary>
    public static bool IsSha1(string etag) => etag.Length == 40 && etag.All(IsLowerHex);

    private static bool IsLowerHex(char c) => c is (>= '0' and <= '9') or (>= 'a' and <= 'f');

    /// <summary>The folder of one repository.</summary>
    public string RepoFolder(string repoId, RepoType repoType) => Path.Combine(Root, RepoIds.FolderName(repoId, repoType));

    /// <summary>Where a blob named by its normalized etag lives.</summary>
    public static string BlobPath(string repoFolder, string etag) => Path.Combine(repoFolder, "blobs", ValidateEtag(etag));

    /// <summary>The snapshot entry of <paramref name="path"/> at <paramref name="commit"/>.</summary>
    public static string PointerPath(string repoFolder, string commit, string path) =>
        Path.Combine(repoFolder, "snapshots", ValidateCommit(commit), RepoPaths.Validate(path).Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The snapshot folder of <paramref name="commit"/>.</summary>
    public static string SnapshotFolder(string repoFolder, string commit) => Path.Combine(repoFolder, "snapshots", ValidateCommit(commit));

    /// <summary>The file holding the commit a branch or tag pointed to (<c>refs/pr/1</c> nests).</summary>
    public static string RefPath(string repoFolder, string revision) =>
        Path.Combine(repoFolder, "refs", RepoPaths.ValidateRevision(revision).Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The marker recording that <paramref name="path"/> does not exist at <paramref name="commit"/>.</summary>
    public static string NoExistPath(string repoFolder, string commit, string path) =>
        Path.Combine(repoFolder, ".no_exist", ValidateCommit(commit), RepoPaths.Validate(path).Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The cross-process lock guarding the download of one blob.</summary>
    public string LockPath(string repoFolder, string etag) => Path.Combine(Root, ".locks", Path.GetFileName(repoFolder), ValidateEtag(etag) + ".lock");

    /// <summary>The commit <paramref name="revision"/> resolves to locally: itself when it is a commit, else <c>refs/&lt;revision&gt;</c>.</summary>
    public static string? ResolveCommit(string repoFolder, string revision)
    {
        if (IsCommitHash(revision)) return revision;
        var refPath = RefPath(repoFolder, revision);
        if (!File.Exists(refPath)) return null;
        var commit = File.ReadAllText(refPath).Trim();
        return IsCommitHash(commit) ? commit : null;
    }

    /// <summary>
    /// Records that <paramref name="revision"/> points to <paramref name="commit"/>: written atomically,
    /// without a trailing newline, only when it changed and only for names that are not commits (as Python).
    /// </summary>
    public static void WriteRef(string repoFolder, string revision, string commit)
    {
        ValidateCommit(commit);
        if (revision == commit) return;
        var refPath = RefPath(repoFolder, revision);
        if (File.Exists(refPath) && File.ReadAllText(refPath) == commit) return;
        AtomicFile.WriteAllText(refPath, commit);
    }

    /// <summary>Creates the empty <c>.no_exist</c> marker of a file the Hub reported missing.</summary>
    public static void WriteNoExist(string repoFolder, string commit, string path)
    {
        var marker = NoExistPath(repoFolder, commit, path);
        Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
        using (File.Open(marker, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite)) { }
    }

    /// <summary>Writes <c>CACHEDIR.TAG</c> at the root (as Python 1.x does) so backup tools skip the cache.</summary>
    public void EnsureCacheDirTag()
    {
        var tag = Path.Combine(Root, "CACHEDIR.TAG");
        if (File.Exists(tag)) return;
        Directory.CreateDirectory(Root);
        try
        {
            File.WriteAllText(tag, CacheDirTagSignature + "\n# This file is a cache directory tag created by a Hugging Face Hub client.\n# For information about cache directory tags see https://bford.info/cachedir/\n", new UTF8Encoding(false));
        }
        catch (IOException)
        {
            // Another process wrote it at the same moment; its content is the same.
        }
    }

    /// <summary>
    /// Makes <paramref name="pointerPath"/> a relative symlink to <paramref name="blobPath"/>
    /// (<c>../../blobs/&lt;etag&gt;</c> plus one <c>../</c> per subfolder), or a copy when symlinks are off or
    /// refused. The entry appears atomically (created beside it, then renamed).
    /// </summary>
    /// <returns>True when a symlink was made, false when the blob was copied.</returns>
    public static bool LinkPointer(string blobPath, string pointerPath, bool useSymlinks)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(pointerPath))!;
        if (useSymlinks)
        {
            try
            {
                AtomicFile.WriteThroughPath(pointerPath, temp => File.CreateSymbolicLink(temp, Path.GetRelativePath(folder, blobPath)));
                return true;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
            {
                // Symlinks refused (Windows without developer mode, some network shares): copy instead, as Python does.
            }
        }
        AtomicFile.WriteThroughPath(pointerPath, temp => File.Copy(blobPath, temp));
        return false;
    }

    private static string ValidateCommit(string commit) => IsCommitHash(commit)
        ? commit
        : throw new ArgumentException($"'{commit}' is not a 40-character lowercase hex commit id.", nameof(commit));

    /// <summary>Whether a normalized etag can name a blob file: a SHA-1/SHA-256, or 1-128 ASCII letters, digits, '-' and '_'.</summary>
    public static bool IsUsableEtag(string etag) => IsSha1(etag) || IsSha256(etag) || (etag.Length is > 0 and <= 128 && etag.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));

    // An etag names a file in the cache, so one that is not a plain name is an unsafe answer from the server:
    // an integrity failure (exit 3 in the CLI), not a usage error.
    private static string ValidateEtag(string etag) => IsUsableEtag(etag)
        ? etag
        : throw new IntegrityException($"The etag {SafeText.Quote(etag)} is not a usable blob name (expected a hex SHA-1/SHA-256 etag).", "a hex SHA-1/SHA-256", etag);
}
