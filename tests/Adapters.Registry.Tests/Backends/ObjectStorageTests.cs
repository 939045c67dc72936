using System.Security.Cryptography;
using Adapters.Registry.Storage;
using Adapters.Registry.Storage.ObjectStorage;

namespace Adapters.Registry.Tests.Backends;

/// <summary>
/// Blobs written through to S3 (s3rver): a large object goes up in parts and another registry's empty cache
/// fetches it byte for byte; an object whose bytes do not hash to its key is never adopted or served.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ObjectStorageTests(S3Server s3) : IDisposable
{
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("adapters-object-storage-");

    public void Dispose() => _scratch.Delete(recursive: true);

    private BlobStore Cache(string name, IObjectStorage remote) =>
        new(Path.Combine(_scratch.FullName, name, "objects"), Path.Combine(_scratch.FullName, name, "tmp"), remote);

    [Fact]
    public async Task A_large_blob_goes_up_in_parts_and_an_empty_cache_elsewhere_fetches_it_verified()
    {
        using var remote = new S3ObjectStorage(s3.NewRegistryStorage(partSize: 5L * 1024 * 1024));
        var bytes = RandomNumberGenerator.GetBytes(11 * 1024 * 1024 + 17);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        using (var upload = new MemoryStream(bytes))
        {
            await Cache("writer", remote).PutLfsAsync(upload, sha256, bytes.Length, CancellationToken.None);
        }
        Assert.Equal(bytes.Length, await remote.SizeAsync("lfs/" + sha256, CancellationToken.None));

        var reader = Cache("reader", remote);
        Assert.Equal(bytes.Length, reader.LfsSize(sha256));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(reader.LfsPath(sha256)));
        var git = reader.PutGitBlob("small"u8.ToArray());
        Assert.Equal("small"u8.ToArray(), await File.ReadAllBytesAsync(Cache("third", remote).GitPath(git)));
    }

    [Fact]
    public async Task An_object_that_does_not_hash_to_its_key_is_refused_and_never_cached()
    {
        using var remote = new S3ObjectStorage(s3.NewRegistryStorage());
        var claimed = Convert.ToHexStringLower(SHA256.HashData("what the key promises"u8));
        var forged = Path.Combine(_scratch.FullName, "forged.bin");
        await File.WriteAllTextAsync(forged, "something else entirely");
        await remote.PutAsync("lfs/" + claimed, forged, new FileInfo(forged).Length, CancellationToken.None);

        var cache = Cache("victim", remote);
        var refused = Assert.Throws<InvalidDataException>(() => cache.LfsPath(claimed));
        Assert.Contains("does not hash to its own name", refused.Message);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_scratch.FullName, "victim"), "*", SearchOption.AllDirectories));
    }
}
