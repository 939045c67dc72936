using System.Text;
using System.Text.Json;
using Adapters.Registry.Auth;
using Adapters.Registry.Storage;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Endpoints;

/// <summary>The write path: <c>preupload</c> (which files go through LFS) and the NDJSON <c>commit</c>.</summary>
internal static class CommitEndpoints
{
    /// <summary>Lines accepted in one commit (the Hub documents 25,000 LFS files per commit).</summary>
    public const int MaxCommitLines = 100_000;

    private static readonly JsonDocumentOptions s_lineOptions = new() { MaxDepth = 16 };

    /// <summary>
    /// <c>POST /api/{type}/{repo}/preupload/{rev}</c>: LFS for files at least <see cref="RegistryServerOptions.LfsThreshold"/>
    /// bytes, for names the repository's <c>.gitattributes</c> sends to LFS, and for binary samples (a NUL
    /// byte); regular otherwise, and always for empty files. Each answer carries the current <c>oid</c>
    /// of the path so clients can skip unchanged files.
    /// </summary>
    public static async Task PreuploadAsync(HttpContext context, ServeServices services, RepoKey key, string revision)
    {
        services.RequireWrite(context, key);
        var body = await HttpIo.ReadJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
        var head = services.Store.Resolve(key, revision);
        var lfsPatterns = LfsPatterns(services.Store, head.Commit);
        if (!body.TryGetProperty("files", out var files) || files.ValueKind != JsonValueKind.Array)
        {
            throw RegistryException.BadRequest("The preupload request needs a 'files' array of {path, sample, size}.");
        }
        var answers = new List<Dictionary<string, object?>>();
        foreach (var file in files.EnumerateArray())
        {
            var path = RepoFilePaths.Validate(HttpIo.String(file, "path"), "files[].path");
            var size = file.TryGetProperty("size", out var s) && s.TryGetInt64(out var n) ? n : 0;
            var sample = HttpIo.String(file, "sample") ?? "";
            var isLfs = size > 0 && (size >= services.Options.LfsThreshold || MatchesAny(path, lfsPatterns) || IsBinary(sample));
            var answer = new Dictionary<string, object?> { ["path"] = path, ["uploadMode"] = isLfs ? "lfs" : "regular", ["shouldIgnore"] = false };
            if (head.Commit.Files.TryGetValue(path, out var existing) && existing.Lfs == isLfs) answer["oid"] = existing.Oid;
            answers.Add(answer);
        }
        await HttpIo.WriteJsonAsync(context, new { files = answers, commitOid = head.CommitId }).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>POST /api/{type}/{repo}/commit/{rev}[?create_pr=1]</c>, <c>application/x-ndjson</c>: a header line,
    /// then <c>file</c> (inline base64 or utf-8), <c>lfsFile</c> (an uploaded object), <c>deletedFile</c> and
    /// <c>deletedFolder</c> lines. The token is checked before the body is read; the body is read one line at
    /// a time, each line capped (<see cref="RegistryServerOptions.MaxCommitLineBytes"/>) and the whole body too,
    /// and inline files are stored as blobs while reading. The commit itself is applied under the
    /// repository's lock, and 412 answers a stale <c>parentCommit</c>.
    /// </summary>
    public static async Task CommitAsync(HttpContext context, ServeServices services, RepoKey key, string revision)
    {
        var token = services.RequireWrite(context, key);
        HttpIo.LimitBody(context, services.Options.MaxCommitBodyBytes);
        string? summary = null;
        var description = "";
        string? parentCommit = null;
        var changes = new List<FileChange>();
        var reader = new NdjsonLineReader(context.Request.Body, services.Options.MaxCommitLineBytes, "the commit");
        var lineNumber = 0;
        while (await reader.ReadLineAsync(context.RequestAborted).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            if (lineNumber > MaxCommitLines) throw RegistryException.BadRequest($"A commit may have at most {MaxCommitLines} lines.");
            if (line.Span.Trim(" \t"u8).IsEmpty) continue;
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line, s_lineOptions);
            }
            catch (JsonException ex)
            {
                throw RegistryException.BadRequest($"Line {lineNumber} of the commit is not JSON: {ex.Message}");
            }
            using (document)
            {
                var item = document.RootElement;
                var keyName = HttpIo.String(item, "key");
                if (!item.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Object)
                {
                    throw RegistryException.BadRequest($"Line {lineNumber} of the commit has no 'value' object.");
                }
                switch (keyName)
                {
                    case "header":
                        summary = HttpIo.String(value, "summary");
                        description = HttpIo.String(value, "description") ?? "";
                        parentCommit = HttpIo.String(value, "parentCommit");
                        break;
                    case "file":
                        changes.Add(InlineFile(services.Store, value, lineNumber));
                        break;
                    case "lfsFile":
                        changes.Add(LfsFile(services.Store, key, value, lineNumber));
                        break;
                    case "deletedFile":
                        changes.Add(new FileChange.DeleteFile(RepoFilePaths.Validate(HttpIo.String(value, "path"), $"line {lineNumber} path")));
                        break;
                    case "deletedFolder":
                        changes.Add(new FileChange.DeleteFolder(RepoFilePaths.Validate(HttpIo.String(value, "path")?.TrimEnd('/'), $"line {lineNumber} path")));
                        break;
                    default:
                        throw RegistryException.BadRequest($"Line {lineNumber} of the commit has key '{keyName}'; expected header, file, lfsFile, deletedFile or deletedFolder.");
                }
            }
        }
        if (string.IsNullOrWhiteSpace(summary))
        {
            throw RegistryException.BadRequest("The commit needs a header line with a non-empty 'summary'.");
        }
        var createPr = HttpIo.QueryFlag(context, "create_pr");
        var request = new CommitRequest(summary, description, parentCommit, changes) { Author = services.AccountOf(token) };
        var outcome = await services.Store.CommitAsync(key, revision, request, createPr, context.RequestAborted).ConfigureAwait(false);
        var repoUrl = $"{HttpIo.BaseUrl(context)}/{key.Type.UrlPrefix()}{key.Id}";
        var response = new Dictionary<string, object?>
        {
            ["success"] = true,
            ["commitOid"] = outcome.CommitId,
            ["commitUrl"] = $"{repoUrl}/commit/{outcome.CommitId}",
            ["hookOutput"] = "",
        };
        if (outcome.PullRequestNumber is { } number) response["pullRequestUrl"] = $"{repoUrl}/discussions/{number}";
        await HttpIo.WriteJsonAsync(context, response).ConfigureAwait(false);
    }

    private static FileChange InlineFile(RegistryStore store, JsonElement value, int lineNumber)
    {
        var path = RepoFilePaths.Validate(HttpIo.String(value, "path"), $"line {lineNumber} path");
        var hasContent = value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String;
        byte[] bytes;
        switch (HttpIo.String(value, "encoding") ?? "utf-8")
        {
            case "base64":
                // Decoded straight from the line's UTF-8, without a UTF-16 copy of a file-sized string.
                if (!hasContent) bytes = [];
                else if (!content.TryGetBytesFromBase64(out bytes!)) throw RegistryException.BadRequest($"The content of '{path}' (line {lineNumber}) is not valid base64.");
                break;
            case "utf-8":
                bytes = hasContent ? Encoding.UTF8.GetBytes(content.GetString()!) : [];
                break;
            case var other:
                throw RegistryException.BadRequest($"'{path}' (line {lineNumber}) has encoding '{other}'; expected base64 or utf-8.");
        }
        return new FileChange.Put(path, new FileRecord(store.Blobs.PutGitBlob(bytes), bytes.Length, Lfs: false));
    }

    /// <summary>An <c>lfsFile</c> line may only name an object that was uploaded and verified; otherwise the commit is refused.</summary>
    private static FileChange LfsFile(RegistryStore store, RepoKey key, JsonElement value, int lineNumber)
    {
        var path = RepoFilePaths.Validate(HttpIo.String(value, "path"), $"line {lineNumber} path");
        var algo = HttpIo.String(value, "algo") ?? "sha256";
        var oid = HttpIo.String(value, "oid")?.ToLowerInvariant();
        if (algo is not ("sha256" or "sha_256") || !ContentHashes.IsSha256(oid))
        {
            throw RegistryException.BadRequest($"'{path}' (line {lineNumber}) must name its LFS object by a sha256 oid of 64 hex digits.");
        }
        // An object uploaded through Xet for this repository has no LFS blob: the file points at its reconstruction.
        var xet = store.Blobs.LfsSize(oid!) is null ? store.Xet.FindFileForRepo(oid!, key) : null;
        var stored = xet?.Size ?? store.Blobs.LfsSize(oid!)
            ?? throw RegistryException.BadRequest($"Your push was rejected because the LFS object {oid} for '{path}' was never uploaded (or its upload did not complete).");
        if (value.TryGetProperty("size", out var sizeElement) && sizeElement.TryGetInt64(out var size) && size != stored)
        {
            throw RegistryException.BadRequest($"'{path}' declares {size} bytes but LFS object {oid} has {stored}.");
        }
        return new FileChange.Put(path, new FileRecord(oid!, stored, Lfs: true, XetHash: xet?.FileHash));
    }

    private static List<string> LfsPatterns(RegistryStore store, CommitRecord head)
    {
        if (!head.Files.TryGetValue(".gitattributes", out var attributes) || attributes.Lfs || attributes.Size > 1 << 20)
        {
            return RegistryStore.LfsSuffixes.Select(s => "*" + s).ToList();
        }
        return File.ReadAllLines(store.Blobs.GitPath(attributes.Oid), Encoding.UTF8)
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#') && l.Contains("filter=lfs", StringComparison.Ordinal))
            .Select(l => l.Split(' ', 2)[0])
            .ToList();
    }

    /// <summary>The gitattributes patterns in use on the Hub: <c>*.ext</c>, a bare name, or a path.</summary>
    private static bool MatchesAny(string path, IEnumerable<string> patterns)
    {
        var name = path[(path.LastIndexOf('/') + 1)..];
        foreach (var pattern in patterns)
        {
            if (pattern.StartsWith('*') && !pattern[1..].Contains('*', StringComparison.Ordinal))
            {
                if (name.EndsWith(pattern[1..], StringComparison.Ordinal)) return true;
            }
            else if (pattern == name || pattern == path)
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsBinary(string base64Sample)
    {
        try
        {
            return Convert.FromBase64String(base64Sample).Contains((byte)0);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
