using System.CommandLine;
using System.Globalization;
using Adapters.Registry;

namespace Adapters.Hub.Cli.Commands;

/// <summary><c>serve</c>'s mirror-mode options (<c>--upstream</c> and its companions), read into <see cref="UpstreamMirrorOptions"/>.</summary>
internal sealed class ServeMirrorOptions
{
    private ServeMirrorOptions()
    {
    }

    public Option<string?> Upstream { get; } = new("--upstream")
    {
        Description = "Mirror this Hub (e.g. https://huggingface.co): repositories not held here are fetched on first request, verified and kept.",
    };

    public Option<string?> UpstreamToken { get; } = new("--upstream-token")
    {
        Description = $"Bearer token for --upstream (gated or private repositories); clients never see it. Prefer {ServeSettings.EnvironmentPrefix}UPSTREAM_TOKEN, which stays out of the process list.",
    };

    public Option<string[]> Allow { get; } = new("--mirror-allow")
    {
        Description = "Only mirror repository ids matching this glob ('*' within a segment, '**' across '/'); repeat for several. Default: all.",
    };

    public Option<string[]> Deny { get; } = new("--mirror-deny")
    {
        Description = "Never mirror repository ids matching this glob (answered as missing, 404 RepoNotFound); repeat for several.",
    };

    public Option<bool> Offline { get; } = new("--offline")
    {
        Description = "With --upstream: serve only what is cached and never contact the upstream.",
    };

    public Option<int> RevisionTtl { get; } = new("--revision-ttl")
    {
        Description = "Seconds a branch or tag name's resolution to a commit is trusted before the upstream is asked again (commit ids never expire).",
        DefaultValueFactory = _ => 300,
    };

    public IEnumerable<Option> All => [Upstream, UpstreamToken, Allow, Deny, Offline, RevisionTtl];

    public static ServeMirrorOptions Create() => new();

    /// <summary>The mirror settings, or null without <c>--upstream</c> (its companions alone are an error).</summary>
    public UpstreamMirrorOptions? Read(ServeSettings settings)
    {
        var upstream = settings.String(Upstream);
        if (upstream is not { Length: > 0 })
        {
            if (settings.String(UpstreamToken) is { Length: > 0 } || settings.Strings(Allow).Length > 0 || settings.Strings(Deny).Length > 0 || settings.Bool(Offline))
            {
                throw new ArgumentException("--upstream-token, --mirror-allow, --mirror-deny and --offline are settings of mirror mode: give --upstream too.");
            }
            return null;
        }
        if (!Uri.TryCreate(upstream, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"--upstream '{upstream}' is not an http(s) URL.");
        }
        var ttl = settings.Int(RevisionTtl);
        if (ttl < 0) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--revision-ttl {ttl} must be zero or more seconds."));
        return new UpstreamMirrorOptions
        {
            Upstream = url,
            UpstreamToken = settings.String(UpstreamToken) is { Length: > 0 } token ? token : null,
            Allow = settings.Strings(Allow),
            Deny = settings.Strings(Deny),
            Offline = settings.Bool(Offline),
            RevisionTtl = TimeSpan.FromSeconds(ttl),
        };
    }
}
