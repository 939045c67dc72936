using Adapters.Hub.IO;

namespace Adapters.Hub.Tests.IO;

/// <summary>The one atomic writer every project uses: racing writers, failures, durability and permissions.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("adapters-atomic-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Concurrent_writers_never_share_a_temporary_file_and_readers_only_ever_see_one_whole_version()
    {
        var path = Path.Combine(_folder, "refs", "main");
        const int size = 256 * 1024;
        const int writesEach = 40;
        var torn = 0;
        var reads = 0;
        using var stop = new CancellationTokenSource();

        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                byte[] seen;
                try
                {
                    seen = File.ReadAllBytes(path);
                }
                catch (FileNotFoundException) { continue; }
                catch (DirectoryNotFoundException) { continue; }
                reads++;
                if (seen.Length != size || seen.Any(b => b != seen[0])) Interlocked.Increment(ref torn);
            }
        });
        var writers = Enumerable.Range(1, 4).Select(id => Task.Run(async () =>
        {
            var content = Enumerable.Repeat((byte)id, size).ToArray();
            for (var i = 0; i < writesEach; i++)
            {
                if (i % 2 == 0) AtomicFile.WriteAllBytes(path, content);
                else await AtomicFile.WriteAllBytesAsync(path, content);
            }
        })).ToArray();
        await Task.WhenAll(writers);
        await stop.CancelAsync();
        await reader;

        Assert.Equal(0, torn);
        Assert.True(reads > 0);
        var final = await File.ReadAllBytesAsync(path);
        Assert.Equal(size, final.Length);
        Assert.InRange(final[0], 1, 4);
        Assert.Equal(["main"], Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_failing_writer_leaves_the_old_file_and_no_temporary_file_behind()
    {
        var path = Path.Combine(_folder, "adapter_config.json");
        AtomicFile.WriteAllText(path, "old");

        Assert.Throws<InvalidDataException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("half of the new"u8);
            throw new InvalidDataException("the writer failed");
        }));
        await Assert.ThrowsAsync<InvalidDataException>(() => AtomicFile.WriteAsync(path, async (stream, ct) =>
        {
            await stream.WriteAsync("half of the new"u8.ToArray(), ct);
            throw new InvalidDataException("the writer failed");
        }));
        Assert.Throws<InvalidDataException>(() => AtomicFile.WriteThroughPath(path, temp =>
        {
            File.WriteAllText(temp, "half of the new");
            throw new InvalidDataException("the writer failed");
        }));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => AtomicFile.WriteAllTextAsync(path, "new", cancellationToken: cancelled.Token));

        Assert.Equal("old", await File.ReadAllTextAsync(path));
        Assert.Equal(["adapter_config.json"], Directory.EnumerateFileSystemEntries(_folder).Select(Path.GetFileName));
    }

    [Fact]
    public void A_failed_write_removes_the_folders_it_created_and_keeps_those_that_were_there()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "snapshots"));
        var target = Path.Combine(_folder, "snapshots", "abc", "deep", "er", "file");

        Assert.Throws<InvalidDataException>(() => AtomicFile.Write(target, _ => throw new InvalidDataException("the writer failed")));

        Assert.Equal(["snapshots"], Directory.EnumerateFileSystemEntries(_folder).Select(Path.GetFileName));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_folder, "snapshots")));
    }

    [Fact]
    public void A_path_longer_than_the_file_system_allows_is_refused_before_anything_is_created()
    {
        if (OperatingSystem.IsWindows()) return; // Windows has no PATH_MAX here; long paths are allowed.
        var deep = Path.Combine(_folder, string.Join('/', Enumerable.Repeat("d", 2100)), "weights.bin");
        var longName = Path.Combine(_folder, "dir", new string('n', 256));

        var error = Assert.Throws<PathTooLongException>(() => AtomicFile.WriteAllText(deep, "x"));
        Assert.Throws<PathTooLongException>(() => AtomicFile.WriteAllText(longName, "x"));

        Assert.InRange(error.Message.Length, 1, 300);
        Assert.Contains("chars)", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_folder));
    }

    [Fact]
    public async Task Durable_writes_replace_the_file_and_sync_the_folder()
    {
        var path = Path.Combine(_folder, "commits", "abc.json");
        AtomicFile.WriteAllText(path, "{\"a\": 1}", WriteDurability.FileAndFolderOnDisk);
        await AtomicFile.WriteAllBytesAsync(path, "{\"a\": 2}"u8.ToArray(), WriteDurability.FileOnDisk);
        AtomicFile.WriteThroughPath(path, temp => File.WriteAllText(temp, "{\"a\": 3}"), WriteDurability.FileAndFolderOnDisk);

        Assert.Equal("{\"a\": 3}", await File.ReadAllTextAsync(path));
        Assert.Single(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(path)!));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Throws<IOException>(() => AtomicFile.SyncFolder(Path.Combine(_folder, "missing")));
        }
    }

    [Fact]
    public void Text_is_utf8_without_a_byte_order_mark_and_the_unix_mode_is_applied()
    {
        var path = Path.Combine(_folder, "token");
        AtomicFile.WriteAllText(path, "hf_é", unixMode: UnixFileMode.UserRead | UnixFileMode.UserWrite);

        Assert.Equal([(byte)'h', (byte)'f', (byte)'_', 0xC3, 0xA9], File.ReadAllBytes(path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void Temporary_names_are_hidden_unique_and_beside_the_target()
    {
        var target = Path.Combine(_folder, "model.safetensors");
        var first = AtomicFile.TempPathFor(target);
        var second = AtomicFile.TempPathFor(target);

        Assert.NotEqual(first, second);
        Assert.Equal(_folder, Path.GetDirectoryName(first));
        Assert.StartsWith(".model.safetensors.", Path.GetFileName(first), StringComparison.Ordinal);
        Assert.EndsWith(".tmp", first, StringComparison.Ordinal);
    }
}
