using Adapters.Testing;

namespace Adapters.Hub.Tests.Stubs;

/// <summary>A scratch copy of <c>fixtures/hub/python-cache</c>, symlinks kept as symlinks.</summary>
internal sealed class PythonCacheFixture : IDisposable
{
    public const string OldCommit = "e7da7f221d5bf496a48136c0cd264e630fe9fcc8";
    public const string MainCommit = "f2c752cf3a0e1a3c2d2a9b7b1e0e8f0d9c8b7a61";
    public const string DatasetCommit = "0123456789abcdef0123456789abcdef01234567";
    public const string OldConfigEtag = "6583b32552805f606ed464ae1da7ed95bf08fcb3";
    public const string WeightsEtag = "c8f5d0341d54d951a71b136e6e2afcb14d11ed8489a7ae126a8fee0df6ecf193";

    public PythonCacheFixture()
    {
        Root = Directory.CreateTempSubdirectory("adapters-python-cache-").FullName;
        Copy(TestPaths.Fixture("hub", "python-cache"), Root);
    }

    public string Root { get; }
    public string ModelFolder => Path.Combine(Root, "models--ada--tiny-adapter");

    private static void Copy(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            var destination = Path.Combine(target, entry.Name);
            if (entry.LinkTarget is { } link) File.CreateSymbolicLink(destination, link);
            else if (entry is DirectoryInfo) Copy(entry.FullName, destination);
            else File.Copy(entry.FullName, destination);
        }
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
