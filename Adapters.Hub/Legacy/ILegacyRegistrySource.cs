namespace Adapters.Hub.Legacy;

/// <summary>Where a <see cref="LegacyRegistry"/> reads the registry's files from: a local snapshot or GitHub.</summary>
public interface ILegacyRegistrySource
{
    /// <summary>A human-readable description (folder path or <c>github:owner/repo@ref</c>), for messages.</summary>
    string Description { get; }

    /// <summary>Reads a file by its registry-relative path (<c>/</c>-separated), or returns null when it does not exist.</summary>
    Task<string?> ReadTextAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Lists every file under <paramref name="folder"/> (recursively) as registry-relative paths, sorted ordinally.</summary>
    Task<IReadOnlyList<string>> ListFilesAsync(string folder, CancellationToken cancellationToken = default);
}
