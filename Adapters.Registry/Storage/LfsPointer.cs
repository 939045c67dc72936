using System.Text;

namespace Adapters.Registry.Storage;

/// <summary>The git-lfs pointer file that stands for an LFS object in git: what <c>/raw/</c> serves and what the tree <c>oid</c> hashes.</summary>
internal static class LfsPointer
{
    public static byte[] Text(string sha256, long size) =>
        Encoding.ASCII.GetBytes($"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n");

    public static string GitOid(string sha256, long size) => ContentHashes.GitBlobSha1(Text(sha256, size));

    public static long Size(string sha256, long size) => Text(sha256, size).Length;
}
