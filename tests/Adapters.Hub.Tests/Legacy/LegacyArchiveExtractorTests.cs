using System.IO.Compression;
using Adapters.Hub.Legacy.Migration;

namespace Adapters.Hub.Tests.Legacy;

public sealed class LegacyArchiveExtractorTests
{
    private static string WriteZip(byte[] bytes)
    {
        var path = Path.Combine(LegacyFixtures.NewTempFolder(), "a.zip");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public async Task Members_are_flattened_to_their_file_names_like_python()
    {
        var zip = WriteZip(TestRegistryBuilder.LegacyZip("sst", withHead: true, folder: "nested/dir"));
        var target = LegacyFixtures.NewTempFolder();

        var written = await LegacyArchiveExtractor.ExtractAsync(zip, target);

        Assert.Equal(["adapter_config.json", "pytorch_adapter.bin", "head_config.json", "pytorch_model_head.bin"], written);
        Assert.Equal("weights of sst", File.ReadAllText(Path.Combine(target, "pytorch_adapter.bin")));
        Assert.Empty(Directory.GetDirectories(target));
    }

    [Theory]
    [InlineData("../evil.txt")]
    [InlineData("a/../../evil.txt")]
    [InlineData("/etc/evil.txt")]
    [InlineData("..\\evil.txt")]
    public async Task Zip_slip_entries_are_refused(string entryName)
    {
        var zip = WriteZip(TestRegistryBuilder.LegacyZip("x", extra: [(entryName, "boom"u8.ToArray())]));
        var parent = LegacyFixtures.NewTempFolder();
        var target = Path.Combine(parent, "out");

        var error = await Assert.ThrowsAsync<LegacyArchiveException>(() => LegacyArchiveExtractor.ExtractAsync(zip, target));

        Assert.Contains("outside the extraction folder", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(parent, "evil.txt")));
    }

    [Fact]
    public async Task Size_and_count_limits_are_enforced_on_inflated_bytes()
    {
        var big = WriteZip(TestRegistryBuilder.LegacyZip("x", extra: [("big.bin", new byte[100_000])]));
        var many = WriteZip(TestRegistryBuilder.LegacyZip("x", extra: Enumerable.Range(0, 10).Select(i => ($"f{i}", new byte[1]))));

        var tooBig = await Assert.ThrowsAsync<LegacyArchiveException>(() =>
            LegacyArchiveExtractor.ExtractAsync(big, LegacyFixtures.NewTempFolder(), new ArchiveLimits { MaxEntryBytes = 50_000 }));
        var tooMuch = await Assert.ThrowsAsync<LegacyArchiveException>(() =>
            LegacyArchiveExtractor.ExtractAsync(big, LegacyFixtures.NewTempFolder(), new ArchiveLimits { MaxTotalBytes = 60_000 }));
        var tooMany = await Assert.ThrowsAsync<LegacyArchiveException>(() =>
            LegacyArchiveExtractor.ExtractAsync(many, LegacyFixtures.NewTempFolder(), new ArchiveLimits { MaxEntries = 5 }));

        Assert.Contains("big.bin", tooBig.Message, StringComparison.Ordinal);
        Assert.Contains("60000", tooMuch.Message, StringComparison.Ordinal);
        Assert.Contains("12 entries", tooMany.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_that_is_not_a_zip_is_reported()
    {
        var path = WriteZip("<html>not found</html>"u8.ToArray());

        var error = await Assert.ThrowsAsync<LegacyArchiveException>(() => LegacyArchiveExtractor.ExtractAsync(path, LegacyFixtures.NewTempFolder()));

        Assert.Contains("not a zip", error.Message, StringComparison.Ordinal);
    }
}
