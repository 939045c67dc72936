using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Adapters.Hub.Cards;
using Adapters.Registry.Accounts;
using Adapters.Registry.Auth;
using Adapters.Registry.Storage;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Endpoints;

/// <summary>Repository information, listings, refs and administration (<c>/api/...</c>).</summary>
internal static class RepoEndpoints
{
    /// <summary><c>GET /api/{type}/{repo}[/revision/{rev}]</c>: the info object with <c>sha</c> and <c>siblings</c>.</summary>
    public static Task InfoAsync(HttpContext context, ServeServices services, RepoKey key, string revision)
    {
        services.RequireRead(context, key);
        var resolved = services.Store.Resolve(key, revision);
        var blobs = HttpIo.QueryFlag(context, "blobs");
        var info = Summary(services.Store, key, resolved.Repo, resolved.Commit);
        info["siblings"] = resolved.Commit.Files.Select(f =>
        {
            var sibling = new Dictionary<string, object?> { ["rfilename"] = f.Key };
            if (blobs)
            {
                sibling["size"] = f.Value.Size;
                sibling["blobId"] = f.Value.Lfs ? LfsPointer.GitOid(f.Value.Oid, f.Value.Size) : f.Value.Oid;
                if (f.Value.Lfs)
                {
                    sibling["lfs"] = new Dictionary<string, object?> { ["size"] = f.Value.Size, ["sha256"] = f.Value.Oid, ["pointerSize"] = LfsPointer.Size(f.Value.Oid, f.Value.Size) };
                }
            }
            return sibling;
        }).ToList();
        return HttpIo.WriteJsonAsync(context, info);
    }

    /// <summary><c>GET /api/{type}?author=&amp;search=&amp;limit=</c>: repositories of a type, paginated.</summary>
    public static Task ListAsync(HttpContext context, ServeServices services, RepoType type)
    {
        var caller = services.Auth.Identify(context);
        var author = HttpIo.Query(context, "author");
        var searches = context.Request.Query["search"].Where(s => !string.IsNullOrEmpty(s)).Select(s => s!).ToList();
        var full = HttpIo.QueryFlag(context, "full");
        var filters = context.Request.Query["filter"].Where(f => !string.IsNullOrEmpty(f)).Select(f => f!).ToList();
        var items = new List<Dictionary<string, object?>>();
        foreach (var (key, metadata) in services.Store.ListRepos(type))
        {
            if (!services.MaySee(caller, key, metadata)) continue;
            if (author is not null && !string.Equals(key.Namespace, author, StringComparison.OrdinalIgnoreCase)) continue;
            if (!searches.All(s => key.Id.Contains(s, StringComparison.OrdinalIgnoreCase))) continue;
            var head = services.Store.Resolve(key, RegistryStore.DefaultBranch);
            var item = Summary(services.Store, key, metadata, head.Commit);
            if (filters.Count > 0 && !filters.All(f => ((IReadOnlyList<string>)item["tags"]!).Contains(f, StringComparer.Ordinal))) continue;
            if (full) item["siblings"] = head.Commit.Files.Keys.Select(p => new Dictionary<string, object?> { ["rfilename"] = p }).ToList();
            items.Add(item);
        }
        return HttpIo.WriteJsonAsync(context, Pagination.Page(context, items, services.Options.PageSize));
    }

    private static Dictionary<string, object?> Summary(RegistryStore store, RepoKey key, RepoMetadata metadata, CommitRecord commit)
    {
        var info = new Dictionary<string, object?>
        {
            ["_id"] = metadata.ObjectId,
            ["id"] = key.Id,
        };
        if (key.Type == RepoType.Model) info["modelId"] = key.Id;
        info["author"] = key.Namespace;
        info["sha"] = commit.Id;
        info["lastModified"] = HttpIo.Date(commit.Date);
        info["createdAt"] = HttpIo.Date(metadata.CreatedAt);
        info["private"] = metadata.Private;
        info["gated"] = false;
        info["disabled"] = false;
        info["downloads"] = 0;
        info["likes"] = 0;
        // Clients that could use Xet ask this first; saying no keeps them on the plain LFS protocol.
        info["xetEnabled"] = false;
        var card = ReadCard(store, commit);
        info["tags"] = card?.Metadata.Tags ?? [];
        if (card is not null && !card.Metadata.IsEmpty)
        {
            var cardData = new Dictionary<string, object?>();
            foreach (var field in card.Metadata.Keys)
            {
                if (card.Metadata.GetString(field) is { } text) cardData[field] = text;
                else if (card.Metadata.GetList(field) is { Count: > 0 } list) cardData[field] = list;
            }
            info["cardData"] = cardData;
            if (key.Type == RepoType.Model)
            {
                if (card.Metadata.GetString("library_name") is { } library) info["library_name"] = library;
                if (card.Metadata.GetString("pipeline_tag") is { } pipeline) info["pipeline_tag"] = pipeline;
            }
        }
        return info;
    }

    /// <summary>The README's front matter, when the commit has a readable one (a broken card is simply not summarized).</summary>
    private static ModelCard? ReadCard(RegistryStore store, CommitRecord commit)
    {
        if (!commit.Files.TryGetValue("README.md", out var readme) || readme.Lfs || readme.Size > 1 << 20) return null;
        try
        {
            return ModelCard.Parse(File.ReadAllText(store.Blobs.GitPath(readme.Oid), Encoding.UTF8));
        }
        catch (ModelCardException)
        {
            return null;
        }
    }

    /// <summary><c>GET /api/{type}/{repo}/tree/{rev}[/{path}]?recursive=&amp;expand=</c>.</summary>
    public static Task TreeAsync(HttpContext context, ServeServices services, RepoKey key, string revision, string path)
    {
        services.RequireRead(context, key);
        var resolved = services.Store.Resolve(key, revision);
        path = path.Trim('/');
        if (path.Length > 0 && !TreeEntries.IsFolder(resolved.Commit, path))
        {
            throw RegistryException.EntryNotFound(path, resolved.CommitId);
        }
        var expand = HttpIo.QueryFlag(context, "expand");
        var entries = TreeEntries.List(resolved.Commit, path, HttpIo.QueryFlag(context, "recursive"));
        var pageSize = expand ? Math.Min(services.Options.PageSize, 50) : services.Options.PageSize;
        var page = Pagination.Page(context, entries, pageSize);
        context.Response.Headers["X-Repo-Commit"] = resolved.CommitId;
        return HttpIo.WriteJsonAsync(context, page.Select(e => TreeEntries.ToJson(services.Store, key, resolved.Commit, e.Path, e.File, expand)).ToList());
    }

    /// <summary><c>POST /api/{type}/{repo}/paths-info/{rev}</c> with <c>paths</c> and <c>expand</c>, as JSON (JS) or a form (Python).</summary>
    public static async Task PathsInfoAsync(HttpContext context, ServeServices services, RepoKey key, string revision)
    {
        services.RequireRead(context, key);
        var resolved = services.Store.Resolve(key, revision);
        List<string> paths;
        bool expand;
        if (context.Request.HasFormContentType)
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            paths = form["paths"].Where(p => p is not null).Select(p => p!).ToList();
            expand = form["expand"].ToString() is "1" or "true" or "True";
        }
        else
        {
            var body = await HttpIo.ReadJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
            paths = body.TryGetProperty("paths", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray().Where(p => p.ValueKind == JsonValueKind.String).Select(p => p.GetString()!).ToList()
                : list.ValueKind == JsonValueKind.String ? [list.GetString()!] : [];
            expand = body.TryGetProperty("expand", out var e) && e.ValueKind == JsonValueKind.True;
        }
        var entries = new List<Dictionary<string, object?>>();
        foreach (var path in paths.Select(p => p.Trim('/')).Distinct(StringComparer.Ordinal))
        {
            if (resolved.Commit.Files.TryGetValue(path, out var file)) entries.Add(TreeEntries.ToJson(services.Store, key, resolved.Commit, path, file, expand));
            else if (path.Length > 0 && TreeEntries.IsFolder(resolved.Commit, path)) entries.Add(TreeEntries.ToJson(services.Store, key, resolved.Commit, path, null, expand));
        }
        await HttpIo.WriteJsonAsync(context, entries).ConfigureAwait(false);
    }

    /// <summary><c>POST /api/repos/create</c> with <c>{name, organization, type, private|visibility, files?}</c>.</summary>
    public static async Task CreateAsync(HttpContext context, ServeServices services)
    {
        var caller = services.Auth.Require(context, AccessLevel.Write);
        HttpIo.LimitBody(context, services.Options.MaxContentJsonBodyBytes);
        var body = await HttpIo.ReadJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
        var key = KeyFromBody(body);
        if (caller is not null && !services.Auth.IsOpen && !RepoAccess.MayCreateIn(caller, key.Namespace))
        {
            throw new RegistryException(403, null, $"{caller.Account} cannot create repositories under '{key.Namespace ?? key.Id}': only under their own name or an organization where they have the write role.");
        }
        var url = $"{HttpIo.BaseUrl(context)}/{key.Type.UrlPrefix()}{key.Id}";
        var isPrivate = HttpIo.String(body, "visibility") is "private" or "protected"
            || (body.TryGetProperty("private", out var p) && p.ValueKind == JsonValueKind.True);
        var files = new List<(string Path, byte[] Content)>();
        if (body.TryGetProperty("files", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var file in list.EnumerateArray())
            {
                var path = RepoFilePaths.Validate(HttpIo.String(file, "path"), "files[].path");
                var content = HttpIo.String(file, "content") ?? "";
                files.Add((path, HttpIo.String(file, "encoding") == "base64" ? Base64(content, path) : Encoding.UTF8.GetBytes(content)));
            }
        }
        RepoMetadata metadata;
        try
        {
            metadata = await services.Store.CreateRepoAsync(key, isPrivate, files, context.RequestAborted).ConfigureAwait(false);
        }
        catch (RegistryException exists) when (exists.StatusCode == StatusCodes.Status409Conflict)
        {
            // Python's create_repo(exist_ok=True) returns the 409 body's url: without it, it fails with a KeyError.
            throw new RegistryException(exists.StatusCode, exists.ErrorCode, exists.Message) { BodyFields = new Dictionary<string, object?> { ["url"] = url } };
        }
        await HttpIo.WriteJsonAsync(context, new { url, name = key.Id, id = metadata.ObjectId }).ConfigureAwait(false);
    }

    /// <summary><c>DELETE /api/repos/delete</c> with <c>{name, organization, type}</c>; answers <c>OK</c>.</summary>
    public static async Task DeleteAsync(HttpContext context, ServeServices services)
    {
        var caller = services.Auth.Require(context, AccessLevel.Write);
        var key = KeyFromBody(await HttpIo.ReadJsonAsync(context, context.RequestAborted).ConfigureAwait(false));
        if (caller is { AllRepositories: false } account && !services.Auth.IsOpen)
        {
            // A repository the caller cannot see stays a 404; one they can see but do not own is a 403.
            services.RequireRead(context, key);
            if (!RepoAccess.MayDelete(account, key))
            {
                throw new RegistryException(403, null, $"{account.Account} cannot delete {key}: only its owner or an admin of its organization can.");
            }
        }
        await services.Store.DeleteRepoAsync(key, context.RequestAborted).ConfigureAwait(false);
        await HttpIo.WriteTextAsync(context, "OK").ConfigureAwait(false);
    }

    /// <summary><c>GET /api/whoami-v2</c>: the token's account, in the Hub's shape.</summary>
    public static Task WhoAmIAsync(HttpContext context, ServeServices services)
    {
        var caller = services.Auth.Identify(context)
            ?? throw new RegistryException(401, null, "Invalid user token. Send 'Authorization: Bearer <token>'.");
        var name = services.AccountOf(caller);
        var fullName = services.Auth.IsOpen ? "Anonymous (open registry)" : caller.FullName ?? "adapters-hub serve user";
        return HttpIo.WriteJsonAsync(context, new Dictionary<string, object?>
        {
            ["type"] = "user",
            ["id"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..24],
            ["name"] = name,
            ["fullname"] = fullName,
            ["email"] = null,
            ["emailVerified"] = false,
            ["isPro"] = false,
            ["canPay"] = false,
            ["avatarUrl"] = "",
            ["periodEnd"] = null,
            ["orgs"] = caller.Organizations.OrderBy(o => o.Key, StringComparer.OrdinalIgnoreCase).Select(o => new Dictionary<string, object?>
            {
                ["type"] = "org",
                ["id"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(o.Key)))[..24],
                ["name"] = o.Key,
                ["fullname"] = o.Key,
                ["roleInOrg"] = o.Value.ToString().ToLowerInvariant(),
            }).ToList(),
            ["auth"] = new Dictionary<string, object?>
            {
                ["type"] = "access_token",
                ["accessToken"] = new Dictionary<string, object?>
                {
                    ["displayName"] = caller.DisplayName,
                    ["role"] = caller.Level == AccessLevel.Write ? "write" : "read",
                },
            },
        });
    }

    /// <summary>
    /// <c>POST /api/validate-yaml</c> with <c>{content, repoType}</c>: checks a README's front matter with the card
    /// parser, whose depth and alias limits make hostile YAML a 400 like any other invalid card. No token is
    /// needed (as on the Hub), so the body is capped before it is read.
    /// </summary>
    public static async Task ValidateYamlAsync(HttpContext context, ServeServices services)
    {
        services.Auth.Identify(context);
        HttpIo.LimitBody(context, services.Options.MaxContentJsonBodyBytes);
        // Anyone may call this: a few bodies at a time, so a flood of large posts cannot add up in memory.
        await services.ContentParsing.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        try
        {
            await ValidateYamlCoreAsync(context).ConfigureAwait(false);
        }
        finally
        {
            services.ContentParsing.Release();
        }
    }

    private static async Task ValidateYamlCoreAsync(HttpContext context)
    {
        var body = await HttpIo.ReadJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
        try
        {
            ModelCard.Parse(HttpIo.String(body, "content") ?? "");
            await HttpIo.WriteJsonAsync(context, new { errors = Array.Empty<object>(), warnings = Array.Empty<object>() }).ConfigureAwait(false);
        }
        catch (ModelCardException ex)
        {
            await HttpIo.WriteJsonAsync(context, new { errors = new[] { new { message = ex.Message } }, warnings = Array.Empty<object>() }, 400).ConfigureAwait(false);
        }
    }

    private static RepoKey KeyFromBody(JsonElement body)
    {
        var name = HttpIo.String(body, "name") ?? throw RegistryException.BadRequest("The request needs a 'name'.");
        var organization = HttpIo.String(body, "organization");
        var typeText = HttpIo.String(body, "type") ?? "model";
        RepoType type;
        try
        {
            type = RepoTypeExtensions.Parse(typeText);
        }
        catch (ArgumentException ex)
        {
            throw RegistryException.BadRequest(ex.Message);
        }
        // Older clients put the whole id in 'name'.
        var id = organization is { Length: > 0 } && !name.Contains('/', StringComparison.Ordinal) ? $"{organization}/{name}" : name;
        return RepoKey.Parse(type, id);
    }

    private static byte[] Base64(string content, string path)
    {
        try
        {
            return Convert.FromBase64String(content);
        }
        catch (FormatException)
        {
            throw RegistryException.BadRequest($"The content of '{path}' is not valid base64.");
        }
    }
}
