using System.Globalization;

namespace Adapters.Hub.Routing;

/// <summary>
/// One URL template of the Hub protocol with the methods it answers, used both ways: the client expands it
/// into the URL <c>huggingface_hub</c> would send (<see cref="Expand"/>), and a server matches request paths
/// against it (<see cref="Match"/>). Templates are <c>/</c>-separated segments, each a literal or one of
/// <c>{type}</c> (<c>models|datasets|spaces</c>), <c>{prefix}</c> (nothing for models, else <c>datasets</c> or
/// <c>spaces</c>), <c>{repo}</c> (<c>name</c> or <c>namespace/name</c>, not encoded), <c>{repo}.git</c>,
/// <c>{rev}</c> (one segment, encoded with no safe characters, so <c>refs/pr/1</c> is <c>refs%2Fpr%2F1</c>),
/// <c>{num}</c>, <c>{commentId}</c>, <c>{path}</c> (the rest, <c>/</c> kept as in <c>/resolve/</c>) and
/// <c>{encodedPath}</c> (the rest, sent as one segment with <c>/</c> encoded, as <c>list_repo_tree</c> does).
/// </summary>
public sealed class HubRoute
{
    private readonly Segment[] _segments;

    /// <summary>Parses <paramref name="template"/>; throws <see cref="ArgumentException"/> for an unknown placeholder.</summary>
    public HubRoute(string name, string template, params string[] methods)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(template);
        if (methods.Length == 0) throw new ArgumentException($"Route '{name}' needs at least one HTTP method.", nameof(methods));
        Name = name;
        Template = template;
        Methods = methods.Select(m => m.ToUpperInvariant()).ToArray();
        _segments = template.Split('/').Select(part => Segment.Parse(name, part)).ToArray();
        if (_segments.Take(_segments.Length - 1).Any(s => s.Kind is SegmentKind.Path or SegmentKind.EncodedPath))
        {
            throw new ArgumentException($"Route '{name}': a path placeholder must be the last segment of '{template}'.", nameof(template));
        }
    }

    /// <summary>A name for messages and tests, such as <c>create-tag</c>.</summary>
    public string Name { get; }

    /// <summary>The URL template relative to the endpoint, without a leading <c>/</c>.</summary>
    public string Template { get; }

    /// <summary>The HTTP methods (upper case) this route answers.</summary>
    public IReadOnlyList<string> Methods { get; }

    /// <summary>Whether the route answers <paramref name="method"/> (any case).</summary>
    public bool Allows(string method) => Methods.Contains(method, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The URL relative to the endpoint, encoded as <c>huggingface_hub</c> encodes it. Only the values the
    /// template names are needed; a missing one is an <see cref="ArgumentException"/> naming it.
    /// </summary>
    /// <param name="repoType">Fills <c>{type}</c> and <c>{prefix}</c>.</param>
    /// <param name="repoId">Fills <c>{repo}</c>; not encoded, so it must already be a valid id.</param>
    /// <param name="revision">Fills <c>{rev}</c> (a branch, tag, commit, <c>refs/pr/N</c>, or a tag or branch name to create or delete).</param>
    /// <param name="path">Fills <c>{path}</c> or <c>{encodedPath}</c>.</param>
    /// <param name="number">Fills <c>{num}</c> (a discussion number).</param>
    /// <param name="commentId">Fills <c>{commentId}</c>; lower-cased as Python sends it.</param>
    public string Expand(RepoType repoType = RepoType.Model, string? repoId = null, string? revision = null, string? path = null, int? number = null, string? commentId = null)
    {
        var parts = new List<string>(_segments.Length);
        foreach (var segment in _segments)
        {
            switch (segment.Kind)
            {
                case SegmentKind.Literal: parts.Add(segment.Text); break;
                case SegmentKind.Type: parts.Add(repoType.ApiSegment()); break;
                case SegmentKind.Prefix: if (repoType != RepoType.Model) parts.Add(repoType.ApiSegment()); break;
                case SegmentKind.Repo: parts.Add(Required(repoId, "repoId")); break;
                case SegmentKind.RepoGit: parts.Add(Required(repoId, "repoId") + ".git"); break;
                case SegmentKind.Revision: parts.Add(Uri.EscapeDataString(Required(revision, "revision"))); break;
                case SegmentKind.Number: parts.Add((number ?? throw Missing("number")).ToString(CultureInfo.InvariantCulture)); break;
                case SegmentKind.CommentId: parts.Add(Uri.EscapeDataString(Required(commentId, "commentId").ToLowerInvariant())); break;
                case SegmentKind.Path: parts.Add(string.Join('/', Required(path, "path").Split('/').Select(Uri.EscapeDataString))); break;
                case SegmentKind.EncodedPath: parts.Add(Uri.EscapeDataString(Required(path, "path"))); break;
            }
        }
        return string.Join('/', parts);
    }

    /// <summary>
    /// Every way <paramref name="segments"/> (the request path split at <c>/</c>, each segment percent-decoded
    /// on its own) fits this template: a repository id may be one or two segments, so a path can fit more
    /// than once (<c>a/refs</c> is the refs of <c>a</c> or the info of <c>a/refs</c>); the caller chooses.
    /// The method is not checked here (see <see cref="Allows"/>).
    /// </summary>
    public IEnumerable<HubRouteMatch> Match(IReadOnlyList<string> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var results = new List<HubRouteMatch>();
        MatchFrom(segments, 0, 0, new HubRouteMatch(this), results);
        return results;
    }

    /// <inheritdoc />
    public override string ToString() => $"{string.Join('|', Methods)} /{Template}";

    private void MatchFrom(IReadOnlyList<string> input, int templateIndex, int inputIndex, HubRouteMatch soFar, List<HubRouteMatch> results)
    {
        if (templateIndex == _segments.Length)
        {
            if (inputIndex == input.Count) results.Add(soFar);
            return;
        }
        var segment = _segments[templateIndex];
        var remaining = input.Count - inputIndex;
        void Next(int consumed, HubRouteMatch match) => MatchFrom(input, templateIndex + 1, inputIndex + consumed, match, results);

        switch (segment.Kind)
        {
            case SegmentKind.Literal:
                if (remaining >= 1 && input[inputIndex] == segment.Text) Next(1, soFar);
                break;
            case SegmentKind.Type:
                if (remaining >= 1 && TypeOf(input[inputIndex]) is { } type) Next(1, soFar with { RepoType = type });
                break;
            case SegmentKind.Prefix:
                // "datasets" and "spaces" are reserved on the Hub: no model namespace has those names.
                if (remaining >= 1 && TypeOf(input[inputIndex]) is { } prefixed and not RepoType.Model) Next(1, soFar with { RepoType = prefixed });
                else Next(0, soFar with { RepoType = RepoType.Model });
                break;
            case SegmentKind.Repo:
            case SegmentKind.RepoGit:
                // Two segments first: namespaced ids are the common case.
                for (var length = 2; length >= 1; length--)
                {
                    if (remaining < length) continue;
                    var parts = input.Skip(inputIndex).Take(length).ToArray();
                    if (parts.Any(p => p.Length == 0)) continue;
                    if (segment.Kind == SegmentKind.RepoGit)
                    {
                        if (!parts[^1].EndsWith(".git", StringComparison.Ordinal) || parts[^1].Length == 4) continue;
                        parts[^1] = parts[^1][..^4];
                    }
                    Next(length, soFar with { RepoId = string.Join('/', parts) });
                }
                break;
            case SegmentKind.Revision:
                if (remaining >= 1 && input[inputIndex].Length > 0) Next(1, soFar with { Revision = input[inputIndex] });
                break;
            case SegmentKind.Number:
                if (remaining >= 1 && input[inputIndex].Length > 0) Next(1, soFar with { Number = input[inputIndex] });
                break;
            case SegmentKind.CommentId:
                if (remaining >= 1 && input[inputIndex].Length > 0) Next(1, soFar with { CommentId = input[inputIndex] });
                break;
            case SegmentKind.Path:
            case SegmentKind.EncodedPath:
                if (remaining >= 1) Next(remaining, soFar with { Path = string.Join('/', input.Skip(inputIndex)) });
                break;
        }
    }

    private static RepoType? TypeOf(string segment) => segment switch
    {
        "models" => RepoType.Model,
        "datasets" => RepoType.Dataset,
        "spaces" => RepoType.Space,
        _ => null,
    };

    private string Required(string? value, string parameter) =>
        string.IsNullOrEmpty(value) ? throw Missing(parameter) : value;

    private ArgumentException Missing(string parameter) =>
        new($"Route '{Name}' (/{Template}) needs a value for '{parameter}'.", parameter);

    private enum SegmentKind { Literal, Type, Prefix, Repo, RepoGit, Revision, Number, CommentId, Path, EncodedPath }

    private readonly record struct Segment(SegmentKind Kind, string Text)
    {
        public static Segment Parse(string route, string part) => part switch
        {
            "{type}" => new(SegmentKind.Type, part),
            "{prefix}" => new(SegmentKind.Prefix, part),
            "{repo}" => new(SegmentKind.Repo, part),
            "{repo}.git" => new(SegmentKind.RepoGit, part),
            "{rev}" => new(SegmentKind.Revision, part),
            "{num}" => new(SegmentKind.Number, part),
            "{commentId}" => new(SegmentKind.CommentId, part),
            "{path}" => new(SegmentKind.Path, part),
            "{encodedPath}" => new(SegmentKind.EncodedPath, part),
            _ when part.Contains('{', StringComparison.Ordinal) || part.Contains('}', StringComparison.Ordinal) || part.Length == 0
                => throw new ArgumentException($"Route '{route}': '{part}' is not a literal segment or a known placeholder.", nameof(part)),
            _ => new(SegmentKind.Literal, part),
        };
    }
}
