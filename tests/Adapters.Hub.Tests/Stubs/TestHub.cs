using Adapters.Hub.Download;

namespace Adapters.Hub.Tests.Stubs;

/// <summary>Options with short timeouts and a scratch cache, and cache-wide integrity assertions.</summary>
internal static class TestHub
{
    public const string Token = "hf_stub_token_for_tests";

    public static HubClientOptions Options(HubStub stub, string cacheDirectory, string? token = Token) => new()
    {
        Endpoint = stub.Endpoint,
        Token = token,
        CacheDirectory = cacheDirectory,
        ReadTimeout = TimeSpan.FromMilliseconds(700),
        Retry = new HubRetryOptions
        {
            MaxRetries = 3,
            BaseDelay = TimeSpan.FromMilliseconds(20),
            MaxDelay = TimeSpan.FromMilliseconds(100),
            AttemptTimeout = TimeSpan.FromSeconds(5),
        },
    };

    public static HubClient Client(HubStub stub, string cacheDirectory, string? token = Token) => new(Options(stub, cacheDirectory, token));

    /// <summary>Every complete blob in the cache hashes to its name; returns how many were checked.</summary>
    public static async Task<int> AssertEveryBlobVerifiesAsync(string cacheDirectory)
    {
        var checkedBlobs = 0;
        if (!Directory.Exists(cacheDirectory)) return 0;
        foreach (var blobs in Directory.EnumerateDirectories(cacheDirectory, "blobs", SearchOption.AllDirectories))
        {
            foreach (var blob in Directory.EnumerateFiles(blobs))
            {
                var name = Path.GetFileName(blob);
                if (name.EndsWith(".incomplete", StringComparison.Ordinal)) continue;
                var actual = await ContentHasher.HashFileAsync(blob, name);
                Assert.True(actual == name, $"blob {blob} hashes to {actual}");
                checkedBlobs++;
            }
        }
        return checkedBlobs;
    }

    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
