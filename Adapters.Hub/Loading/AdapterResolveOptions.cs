using Adapters.Hub.Legacy;

namespace Adapters.Hub.Loading;

/// <summary>Options of <see cref="AdapterFolderResolver.ResolveAsync"/>; mirror Python's <c>load_adapter</c> arguments.</summary>
public sealed record AdapterResolveOptions
{
    /// <summary>The base model's name (<c>config.name_or_path</c>), needed for legacy ids.</summary>
    public string? ModelName { get; init; }

    /// <summary>A legacy config name or JSON, to pick between legacy adapters of several architectures.</summary>
    public string? Config { get; init; }

    /// <summary>The Hub revision, or the legacy version (which is a branch of the migrated repo).</summary>
    public string? Version { get; init; }

    /// <summary>Expected lowercase hex SHA-256 of a URL download; checked when given.</summary>
    public string? UrlSha256 { get; init; }

    /// <summary>The legacy registry for ids like <c>sentiment/sst-2@ukp</c>; without it that step is skipped.</summary>
    public AdapterResolver? LegacyResolver { get; init; }

    /// <summary>Where URL downloads are cached (Python: <c>$TORCH_HOME/adapters</c>, else <c>~/.cache/torch/adapters</c>).</summary>
    public string? UrlCacheDirectory { get; init; }
}
