namespace Adapters.Testing;

/// <summary>Locates the repository's fixtures from a test host's output folder.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> s_repoRoot = new(FindRepoRoot);

    /// <summary>The folder holding <c>Adapters.sln</c>.</summary>
    public static string RepoRoot => s_repoRoot.Value;

    /// <summary>A path under the repository's <c>fixtures/</c> folder.</summary>
    public static string Fixture(params string[] parts) => Path.Combine([RepoRoot, "fixtures", .. parts]);

    /// <summary>
    /// A path under <c>../shared/fixtures</c>, which sits beside the clone on developer machines and in CI,
    /// or null when it is absent. Tests that need a file every time copy it into <c>fixtures/</c> instead.
    /// </summary>
    public static string? SharedFixture(params string[] parts)
    {
        var path = Path.GetFullPath(Path.Combine([RepoRoot, "..", "shared", "fixtures", .. parts]));
        return File.Exists(path) || Directory.Exists(path) ? path : null;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Adapters.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No Adapters.sln above {AppContext.BaseDirectory}.");
    }
}
