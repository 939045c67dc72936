using Adapters.Hub.Legacy;

namespace Adapters.Hub.Cli.Commands;

/// <summary>The <c>resolve --json</c> document.</summary>
internal sealed record ResolveReport(
    string Identifier,
    string RepoId,
    string Revision,
    string EntryPath,
    string ConfigId,
    string Version,
    string DefaultVersion,
    string? Sha1,
    string? Sha256,
    string LegacyUrl,
    string ModelName,
    string Task,
    string Subtask)
{
    public static ResolveReport From(LegacyResolution result) => new(
        result.Identifier, result.RepoId, result.Revision, $"{LegacyRegistry.DistFolder}/{result.EntryPath}", result.ConfigId,
        result.Version, result.DefaultVersion, result.File.Sha1, result.File.Sha256, result.File.Url, result.ModelName, result.Task, result.Subtask);
}
