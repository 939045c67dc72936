namespace Adapters.Hub.Legacy;

/// <summary>A registry checkout or snapshot folder on disk (the root that holds <c>adapters/</c> and <c>dist/</c>).</summary>
public sealed class LocalLegacyRegistrySource : ILegacyRegistrySource
{
    /// <summary>Uses the registry at <paramref name="root"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist or has no <c>dist/v2</c>.</exception>
    public LocalLegacyRegistrySource(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = Path.GetFullPath(root);
        if (!Directory.Exists(Path.Combine(Root, "dist", "v2")))
        {
            throw new DirectoryNotFoundException($"'{Root}' is not an AdapterHub registry snapshot: it has no dist/v2 folder.");
        }
    }

    /// <summary>The registry root folder.</summary>
    public string Root { get; }

    /// <inheritdoc />
    public string Description => Root;

    /// <inheritdoc />
    public async Task<string?> ReadTextAsync(string path, CancellationToken cancellationToken = default)
    {
        var full = Path.Combine(Root, RegistryPaths.Normalize(path));
        if (!File.Exists(full)) return null;
        return await File.ReadAllTextAsync(full, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListFilesAsync(string folder, CancellationToken cancellationToken = default)
    {
        var full = Path.Combine(Root, RegistryPaths.Normalize(folder));
        IReadOnlyList<string> files = Directory.Exists(full)
            ? Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(Root, f).Replace(Path.DirectorySeparatorChar, '/'))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];
        return Task.FromResult(files);
    }
}
