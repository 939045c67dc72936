using Adapters.Hub.Legacy;
using Adapters.Testing;

namespace Adapters.Hub.Tests.Legacy;

internal static class LegacyFixtures
{
    public static string RegistryRoot => TestPaths.Fixture("legacy-hub");

    private static readonly Lazy<LegacyRegistry> s_registry = new(() => LegacyRegistry.OpenFolder(RegistryRoot));

    /// <summary>One registry shared by the read-only tests, so files are parsed once.</summary>
    public static LegacyRegistry Registry => s_registry.Value;

    public static string NewTempFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "adapters-legacy-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Copies a minimal registry (schemas, architectures, the given cards and their dist entries) into a temp folder.</summary>
    public static string CopyRegistrySubset(params string[] relativePaths)
    {
        var root = NewTempFolder();
        foreach (var relative in new[] { "scripts/schemas/adapter.schema.json", "scripts/schemas/subtask.schema.json", "dist/v2/architectures.json" }.Concat(relativePaths))
        {
            var target = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(RegistryRoot, relative), target);
        }
        return root;
    }
}
