using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

namespace Adapters.Hub.Tests.Stubs;

/// <summary>An error the stub Hub answers instead of the normal response.</summary>
/// <remarks>A <see cref="Delay"/> holds the answer back; with <see cref="Status"/> 0 the normal answer follows the delay.</remarks>
internal sealed record StubFault(int Status, string? RetryAfter = null, string? ErrorCode = null, string? Message = null)
{
    public TimeSpan Delay { get; init; }
}

/// <summary>
/// A WireMock.Net server that behaves like the Hub (resolve HEAD/GET with the real headers, repo info,
/// paginated tree and model listings, X-Error-Code errors) plus a second host, a raw "CDN" that LFS
/// downloads are redirected to and that can break bodies off on demand.
/// </summary>
internal sealed class HubStub : IDisposable
{
    public const string CommitA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
    public const string CommitB = "b1b2c3d4e5f60718293a4b5c6d7e8f9012345678";

    private readonly Dictionary<string, StubRepo> _repos = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<StubFault>> _hubFaults = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Func<RawResponse, RawResponse>>> _cdnFaults = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _cdnBlobs = new(StringComparer.Ordinal);
    private int _requestId;

    public HubStub()
    {
        Hub = WireMockServer.Start();
        Hub.Given(Request.Create().UsingAnyMethod()).AtPriority(1000).RespondWith(Response.Create().WithCallback(Route));
        Cdn = new RawHttpServer(ServeCdn);
    }

    public WireMockServer Hub { get; }
    public RawHttpServer Cdn { get; }
    public Uri Endpoint => new(Hub.Url!);
    public int TreePageSize { get; set; } = 1000;
    public List<object> Models { get; } = [];

    /// <summary>Called with "METHOD /path" after each Hub request is answered (to change the repository between requests).</summary>
    public Action<string>? Answered { get; set; }

    /// <summary>"METHOD /path" of every request as it arrives (the WireMock log only lists answered ones).</summary>
    public ConcurrentQueue<string> Arrivals { get; } = new();

    /// <summary>Every request the Hub host received (method, path and query, headers).</summary>
    public IEnumerable<IRequestMessage> HubRequests => Hub.LogEntries.Select(e => e.RequestMessage);

    public StubRepo Repo(string id, RepoType type = RepoType.Model, string commit = CommitA)
    {
        var key = $"{type.ApiSegment()}/{id}";
        lock (_repos)
        {
            if (!_repos.TryGetValue(key, out var repo)) _repos[key] = repo = new StubRepo(id, type, commit);
            return repo;
        }
    }

    public StubFile AddFile(string repoId, string path, byte[] content, bool lfs = false, RepoType type = RepoType.Model)
    {
        var file = new StubFile(path, content, lfs);
        Repo(repoId, type).Files[path] = file;
        if (lfs) _cdnBlobs[file.Sha256] = content;
        return file;
    }

    public StubFile AddFile(string repoId, string path, string content, bool lfs = false) => AddFile(repoId, path, Encoding.UTF8.GetBytes(content), lfs);

    /// <summary>The next requests whose path contains <paramref name="pathPart"/> get these answers, in order.</summary>
    public void FailHub(string pathPart, params StubFault[] faults)
    {
        var queue = _hubFaults.GetOrAdd(pathPart, _ => new ConcurrentQueue<StubFault>());
        foreach (var fault in faults) queue.Enqueue(fault);
    }

    /// <summary>The next CDN downloads of the blob are transformed by these functions, in order.</summary>
    public void FailCdn(string sha256, params Func<RawResponse, RawResponse>[] faults)
    {
        var queue = _cdnFaults.GetOrAdd(sha256, _ => new ConcurrentQueue<Func<RawResponse, RawResponse>>());
        foreach (var fault in faults) queue.Enqueue(fault);
    }

    public int CdnRequestCount(string sha256) => Cdn.Requests.Count(r => r.Target.Contains(sha256, StringComparison.Ordinal));

    private IResponseMessage Route(IRequestMessage request)
    {
        var path = Uri.UnescapeDataString(request.AbsolutePath);
        Arrivals.Enqueue($"{request.Method} {path}");
        foreach (var (part, queue) in _hubFaults)
        {
            if (path.Contains(part, StringComparison.Ordinal) && queue.TryDequeue(out var fault))
            {
                if (fault.Delay > TimeSpan.Zero) Thread.Sleep(fault.Delay);
                if (fault.Status == 0) break;
                return Error(fault.Status, fault.ErrorCode, fault.Message, fault.RetryAfter is null ? null : new() { ["Retry-After"] = fault.RetryAfter });
            }
        }
        var response = path.StartsWith("/api/", StringComparison.Ordinal) ? RouteApi(request, path) : RouteResolve(request, new Uri(request.Url).AbsolutePath);
        Answered?.Invoke($"{request.Method} {path}");
        return response;
    }

    private IResponseMessage RouteResolve(IRequestMessage request, string path)
    {
        var marker = path.IndexOf("/resolve/", StringComparison.Ordinal);
        if (marker < 0) return Error(404, null, "Not found");
        var repoPart = path[1..marker];
        var type = RepoType.Model;
        if (repoPart.StartsWith("datasets/", StringComparison.Ordinal)) { type = RepoType.Dataset; repoPart = repoPart["datasets/".Length..]; }
        else if (repoPart.StartsWith("spaces/", StringComparison.Ordinal)) { type = RepoType.Space; repoPart = repoPart["spaces/".Length..]; }
        var rest = path[(marker + "/resolve/".Length)..];
        var slash = rest.IndexOf('/');
        var revision = Uri.UnescapeDataString(rest[..slash]);
        var filePath = Uri.UnescapeDataString(rest[(slash + 1)..]);

        if (!_repos.TryGetValue($"{type.ApiSegment()}/{repoPart}", out var repo)) return Error(401, "RepoNotFound", "Repository not found");
        if (repo.Gated) return Error(403, "GatedRepo", "Access to model is restricted and you are not in the authorized list.");
        var commit = repo.Resolve(revision);
        if (commit is null) return Error(404, "RevisionNotFound", "Invalid rev id: " + revision);
        if (!repo.FilesAt(commit).TryGetValue(filePath, out var file))
        {
            return Error(404, "EntryNotFound", "Entry not found", new() { ["X-Repo-Commit"] = commit });
        }

        var headers = new Dictionary<string, string> { ["X-Repo-Commit"] = commit, ["Accept-Ranges"] = "bytes" };
        var announced = file.AnnouncedSize ?? file.Content.Length;
        if (file.Lfs)
        {
            headers["X-Linked-Etag"] = $"\"{file.Etag}\"";
            headers["X-Linked-Size"] = announced.ToString(CultureInfo.InvariantCulture);
            headers["ETag"] = $"\"{file.GitSha1}\"";
            headers["Location"] = new Uri(Cdn.BaseUri, $"lfs/{file.Sha256}?X-Amz-Signature=stub").ToString();
            if (file.XetHash is not null)
            {
                headers["X-Xet-Hash"] = file.XetHash;
                headers["Link"] = $"<{Endpoint}api/{type.ApiSegment()}/{repoPart}/xet-read-token/{commit}>; rel=\"xet-auth\"";
            }
            return Message(302, headers, []);
        }
        headers["ETag"] = $"\"{file.Etag}\"";
        return request.Method == "HEAD"
            ? Message(200, headers, [], contentLength: announced)
            : Message(200, headers, file.Content);
    }

    private IResponseMessage RouteApi(IRequestMessage request, string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments is ["api", "models"]) return Paginate(request, Models.Cast<object>().ToList(), "api/models");
        if (segments.Length < 4) return Error(404, null, "Not found");
        var type = RepoTypeExtensions.Parse(segments[1]);
        var repoId = $"{segments[2]}/{segments[3]}";
        if (!_repos.TryGetValue($"{type.ApiSegment()}/{repoId}", out var repo)) return Error(401, "RepoNotFound", "Repository not found");
        var revision = "main";
        if (segments.Length >= 6 && segments[4] is "revision" or "tree" or "paths-info") revision = segments[5];
        var commit = repo.Resolve(revision);
        if (commit is null) return Error(404, "RevisionNotFound", "Invalid rev id: " + revision);

        if (segments.Length == 4 || segments[4] == "revision")
        {
            return Json(200, new
            {
                _id = "64b0c0ffee",
                id = repo.Id,
                author = repo.Id.Split('/')[0],
                sha = commit,
                @private = false,
                gated = repo.Gated ? "manual" : (object)false,
                downloads = 42,
                likes = 3,
                library_name = "adapter-transformers",
                pipeline_tag = "text-classification",
                tags = new[] { "adapter-transformers", "bert" },
                lastModified = "2024-05-01T12:00:00.000Z",
                siblings = repo.Files.Keys.Select(p => new { rfilename = p }),
            });
        }
        if (segments[4] == "paths-info" && request.Method == "POST")
        {
            var wanted = (request.Body ?? "").Split('&').Where(p => p.StartsWith("paths=", StringComparison.Ordinal)).Select(p => Uri.UnescapeDataString(p[6..].Replace('+', ' '))).ToHashSet(StringComparer.Ordinal);
            return Json(200, repo.FilesAt(commit).Values.Where(f => wanted.Contains(f.Path)).Select(TreeEntry).ToList());
        }
        if (segments[4] == "tree")
        {
            var entries = repo.FilesAt(commit).Values.Select(f => (object)new
            {
                type = "file",
                oid = f.GitSha1,
                size = f.Content.Length,
                path = f.Path,
                lfs = f.Lfs ? new { oid = f.Sha256, size = f.Content.Length, pointerSize = 134 } : null,
            }).ToList();
            return Paginate(request, entries, path.TrimStart('/'));
        }
        return Error(404, null, "Not found");
    }

    private static object TreeEntry(StubFile f) => new
    {
        type = "file",
        oid = f.GitSha1,
        size = f.Content.Length,
        path = f.Path,
        lfs = f.Lfs ? new { oid = f.Sha256, size = f.Content.Length, pointerSize = 134 } : null,
    };

    private IResponseMessage Paginate(IRequestMessage request, List<object> items, string relativePath)
    {
        var cursor = request.Query is { } q && q.TryGetValue("cursor", out var c) ? int.Parse(c[0], CultureInfo.InvariantCulture) : 0;
        var page = items.Skip(cursor).Take(TreePageSize).ToList();
        var headers = new Dictionary<string, string>();
        if (cursor + TreePageSize < items.Count)
        {
            var query = string.Join('&', (request.Query ?? new Dictionary<string, WireMockList<string>>())
                .Where(kv => kv.Key != "cursor")
                .SelectMany(kv => kv.Value.Select(v => $"{kv.Key}={Uri.EscapeDataString(v)}"))
                .Append($"cursor={cursor + TreePageSize}"));
            headers["Link"] = $"<{Endpoint}{relativePath}?{query}>; rel=\"next\"";
        }
        return Json(200, page, headers);
    }

    private RawResponse ServeCdn(RawRequest request)
    {
        var sha = request.Target.Split('?')[0].Split('/').Last();
        if (!_cdnBlobs.TryGetValue(sha, out var content)) return new RawResponse(404, Encoding.ASCII.GetBytes("NoSuchKey"));
        var headers = new Dictionary<string, string> { ["Accept-Ranges"] = "bytes", ["ETag"] = $"\"{sha}\"" };
        RawResponse response;
        if (request.Header("Range") is { } range && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            var from = int.Parse(range["bytes=".Length..^1], CultureInfo.InvariantCulture);
            if (from >= content.Length)
            {
                headers["Content-Range"] = $"bytes */{content.Length}";
                return new RawResponse(416, [], headers);
            }
            headers["Content-Range"] = $"bytes {from}-{content.Length - 1}/{content.Length}";
            response = new RawResponse(206, content[from..], headers);
        }
        else
        {
            response = new RawResponse(200, content, headers);
        }
        if (_cdnFaults.TryGetValue(sha, out var queue) && queue.TryDequeue(out var fault)) response = fault(response);
        return response;
    }

    private IResponseMessage Error(int status, string? code, string? message, Dictionary<string, string>? extra = null)
    {
        var headers = extra ?? [];
        if (code is not null) headers["X-Error-Code"] = code;
        if (message is not null) headers["X-Error-Message"] = message;
        return Json(status, new { error = message ?? "error" }, headers);
    }

    private IResponseMessage Json(int status, object body, Dictionary<string, string>? headers = null)
    {
        var all = headers ?? [];
        all["Content-Type"] = "application/json";
        return Message(status, all, JsonSerializer.SerializeToUtf8Bytes(body));
    }

    private IResponseMessage Message(int status, Dictionary<string, string> headers, byte[] body, long? contentLength = null)
    {
        headers["X-Request-Id"] = "Root=1-stub-" + Interlocked.Increment(ref _requestId).ToString(CultureInfo.InvariantCulture);
        if (contentLength is { } length) headers["Content-Length"] = length.ToString(CultureInfo.InvariantCulture);
        var message = new ResponseMessage
        {
            StatusCode = status,
            Headers = headers.ToDictionary(kv => kv.Key, kv => new WireMockList<string>(kv.Value)),
        };
        if (body.Length > 0) message.BodyData = new BodyData { DetectedBodyType = BodyType.Bytes, BodyAsBytes = body };
        return message;
    }

    public void Dispose()
    {
        Hub.Stop();
        Hub.Dispose();
        Cdn.Dispose();
    }
}
