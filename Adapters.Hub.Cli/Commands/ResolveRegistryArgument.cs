using Adapters.Hub.Legacy;

namespace Adapters.Hub.Cli.Commands;

/// <summary>Turns <c>--registry PATH|github[:owner/repo[@ref]]</c> (or <c>ADAPTERS_LEGACY_REGISTRY</c>) into a <see cref="LegacyRegistry"/>.</summary>
internal static class ResolveRegistryArgument
{
    public const string EnvironmentVariable = "ADAPTERS_LEGACY_REGISTRY";

    public const string Help =
        "The legacy AdapterHub registry: a snapshot folder (holding adapters/ and dist/v2/), or 'github' for " +
        "adapter-hub/Hub at its final commit (also 'github:OWNER/REPO@REF'; GITHUB_TOKEN is used when set; files are cached " +
        "under $XDG_CACHE_HOME/adapters-net/legacy-hub). Defaults to the " + EnvironmentVariable + " environment variable.";

    public static LegacyRegistry Open(string? value, Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        var spec = string.IsNullOrWhiteSpace(value) ? getVariable(EnvironmentVariable) : value;
        if (string.IsNullOrWhiteSpace(spec))
        {
            throw new ArgumentException($"No legacy registry given: pass --registry PATH|github or set {EnvironmentVariable}.");
        }
        if (spec == "github" || spec.StartsWith("github:", StringComparison.Ordinal))
        {
            var options = new GitHubRegistryOptions { Token = getVariable("GITHUB_TOKEN") is { Length: > 0 } token ? token : null };
            if (spec.Length > "github:".Length)
            {
                var target = spec["github:".Length..];
                var at = target.IndexOf('@', StringComparison.Ordinal);
                if (at >= 0)
                {
                    options.Reference = target[(at + 1)..];
                    target = target[..at];
                }
                var slash = target.IndexOf('/', StringComparison.Ordinal);
                if (slash <= 0 || slash == target.Length - 1)
                {
                    throw new ArgumentException($"'{spec}' is not github:OWNER/REPO[@REF].");
                }
                options.Owner = target[..slash];
                options.Repository = target[(slash + 1)..];
            }
            return LegacyRegistry.FromGitHub(options);
        }
        return LegacyRegistry.OpenFolder(spec);
    }
}
