using System.Diagnostics;
using Adapters.Core.Serialization;
using Adapters.Core.Serialization.Pickle;

namespace Adapters.Core.Tests.Serialization;

/// <summary>
/// Seeded single-byte and length mutations of valid files: every outcome is either a successful read or a
/// <see cref="TensorFormatException"/>; never another exception, a hang or a giant allocation.
/// </summary>
public sealed class MutationTests
{
    public static TheoryData<string, int> Seeds() => new()
    {
        { "huggingface__safetensors/samples/overall.safetensors", 1 },
        { "shaltielshmid__TorchSharp.PyBridge/TorchSharp.PyBridge.Tests/pickled_tensors/tensors.safetensors", 2 },
        { "huggingface__candle/candle-core/tests/fortran_tensor_3d.pth", 3 },
        { "shaltielshmid__TorchSharp.PyBridge/TorchSharp.PyBridge.Tests/pickled_optimizers/adam_load.pth", 4 },
        { "generated/legacy_p2.pt", 5 },
        { "generated/legacy_p1.pt", 6 },
        { "generated/zip_dtypes.pt", 7 },
    };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Mutated_files_fail_only_with_typed_exceptions(string relative, int seed)
    {
        var original = File.ReadAllBytes(TensorTestData.Fixture(relative.Split('/')));
        var random = new Random(seed);
        var stopwatch = Stopwatch.StartNew();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var typed = 0;
        const int iterations = 700;
        for (var i = 0; i < iterations; i++)
        {
            var mutated = Mutate(original, random);
            try
            {
                Exercise(mutated);
            }
            catch (TensorFormatException)
            {
                typed++;
            }
            catch (Exception ex)
            {
                Assert.Fail($"mutation {i} of {relative} threw {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
            }
        }
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        Assert.True(typed > 0);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"{iterations} mutations took {stopwatch.Elapsed}");
        Assert.True(allocated < 1L << 30, $"{iterations} mutations allocated {allocated} bytes");
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = (byte[])original.Clone();
        switch (random.Next(6))
        {
            case 0: // truncate
                return bytes[..random.Next(bytes.Length)];
            case 1: // extend
                return [.. bytes, .. new byte[random.Next(1, 64)]];
            case 2: // a byte in the first 256 (headers, pickle opcodes)
                bytes[random.Next(Math.Min(256, bytes.Length))] = (byte)random.Next(256);
                return bytes;
            case 3: // a byte anywhere
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return bytes;
            case 4: // an interesting value at a random place
                {
                    var at = random.Next(Math.Max(1, bytes.Length - 8));
                    var value = random.Next(4) switch { 0 => 0xFF, 1 => 0x7F, 2 => 0x00, _ => 0x80 };
                    for (var k = 0; k < random.Next(1, 8) && at + k < bytes.Length; k++) bytes[at + k] = (byte)value;
                    return bytes;
                }
            default: // delete a byte
                {
                    var at = random.Next(bytes.Length);
                    return [.. bytes[..at], .. bytes[(at + 1)..]];
                }
        }
    }

    private static void Exercise(byte[] bytes)
    {
        TensorFile file = bytes.Length >= 4 && bytes[0] == 'P' && bytes[1] == 'K' ? TorchPickleFile.FromBytes(bytes, "mutated")
            : bytes.Length >= 9 && bytes[8] == '{' ? SafeTensorsFile.FromBytes(bytes, "mutated")
            : TorchPickleFile.FromBytes(bytes, "mutated");
        using (file)
        {
            foreach (var spec in file.Tensors)
            {
                long total = 0;
                file.ReadValues(spec.Name, chunk => total += chunk.Length);
                Assert.Equal(spec.ByteLength, total);
            }
        }
    }
}
