namespace Adapters.Registry;

/// <summary>
/// Mirror mode (<see cref="RegistryServerOptions.Mirror"/>): repositories this registry does not hold are read from
/// <see cref="Upstream"/> (the public Hub or another registry) on first request and kept. Repository metadata is
/// resolved per revision: a commit id is immutable and fetched once; a branch or tag name is re-resolved upstream
/// once its resolution is older than <see cref="RevisionTtl"/>, so a cached <c>main</c> is never more than that
/// stale. Blobs are fetched once each (concurrent first requests share one upstream download) and adopted only
/// when their SHA-256 (LFS) or git SHA-1 (regular files) matches what upstream announced.
/// </summary>
public sealed record UpstreamMirrorOptions
{
    /// <summary>The Hub to mirror, e.g. <c>https://huggingface.co</c>.</summary>
    public required Uri Upstream { get; init; }

    /// <summary>
    /// The bearer token sent to <see cref="Upstream"/> (gated or private repositories); never forwarded to clients,
    /// logged or shown. <c>serve</c> reads it from <c>--upstream-token</c> or <c>ADAPTERS_SERVE_UPSTREAM_TOKEN</c>.
    /// </summary>
    public string? UpstreamToken { get; init; }

    /// <summary>
    /// Repository ids that may be mirrored (globs: <c>*</c> matches within one segment, <c>**</c> across <c>/</c>,
    /// <c>?</c> one character; case-insensitive). Empty allows every id.
    /// </summary>
    public IReadOnlyList<string> Allow { get; init; } = [];

    /// <summary>
    /// Repository ids that are never mirrored, even when <see cref="Allow"/> matches. A denied id that is not held
    /// locally is answered as a missing repository (404, <c>X-Error-Code: RepoNotFound</c>), as the Hub answers
    /// repositories a caller may not see; repositories held locally are served as usual.
    /// </summary>
    public IReadOnlyList<string> Deny { get; init; } = [];

    /// <summary>
    /// Serve only what is cached: no request goes upstream. Branch and tag names resolve to the commit they were last
    /// resolved to, whatever its age; anything not cached is a 404.
    /// </summary>
    public bool Offline { get; init; }

    /// <summary>
    /// How long a branch or tag name's resolution to a commit is trusted before it is resolved upstream again
    /// (default 5 minutes). Zero re-resolves on every request. When upstream cannot be reached after the TTL, the
    /// last resolution is served and the answer carries <c>X-Mirror-Stale: 1</c>.
    /// </summary>
    public TimeSpan RevisionTtl { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The clock the TTL is measured on (tests move it).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The settings with the token masked, so that printing the options never shows it.</summary>
    public override string ToString() =>
        $"UpstreamMirrorOptions {{ Upstream = {Upstream}, UpstreamToken = {(UpstreamToken is null ? "null" : "***")}, Allow = [{string.Join(", ", Allow)}], Deny = [{string.Join(", ", Deny)}], Offline = {Offline}, RevisionTtl = {RevisionTtl} }}";
}
