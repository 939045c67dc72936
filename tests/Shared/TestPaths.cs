namespace Adapters.Testing;

/// <summary>Locates the repository's fixtures from a test host's output folder.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> s_repoRoot = new(FindRepoRoot);

    /// <summary>The folder holding <c>Adapters.sln</c>.</summary>
    public static string RepoRoot => s_repoRoot.Value;

    /// <summary>A path under the repository's <c>fixtures/</c> folder; tests read nothing outside the clone.</summary>
    public static string Fixture(params string[] parts) => Path.Combine([RepoRoot, "fixtures", .. parts]);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Adapters.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No Adapters.sln above {AppContext.BaseDirectory}.");
    }
}
