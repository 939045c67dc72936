using Adapters.Core.Heads;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Heads;

public sealed class LastTokenPoolingTests
{
    private static Tensor Hidden(long rows, long length) => arange(rows * length * 2, ScalarType.Float32).reshape(rows, length, 2);

    [Fact]
    public void Each_row_reads_its_last_non_padding_position()
    {
        TorchRuntime.Initialize();
        var ids = tensor(new long[] { 5, 6, 7, 8, 3, 4, 0, 0, 0, 0, 0, 0 }, [3, 4]);
        var hidden = Hidden(3, 4);

        var pooled = LastTokenPooling.Select(hidden, ids, padTokenId: 0);

        Assert.Equal(new float[] { 6, 7, 10, 11, 22, 23 }, pooled.data<float>().ToArray());
    }

    [Fact]
    public void A_prompt_in_front_shifts_and_replicated_rows_repeat_the_index()
    {
        TorchRuntime.Initialize();
        var ids = tensor(new long[] { 5, 6, 0, 7, 0, 0 }, [2, 3]);
        // Two parallel copies of the two rows, each with a 2-token prompt in front: (4, 5, 2).
        var hidden = Hidden(4, 5);

        var pooled = LastTokenPooling.Select(hidden, ids, padTokenId: 0);

        // Row r reads position 2 + (count - 1): rows 0 and 2 position 3, rows 1 and 3 position 2.
        Assert.Equal(new float[] { 6, 7, 14, 15, 26, 27, 34, 35 }, pooled.data<float>().ToArray());
        Assert.Throws<ArgumentException>(() => LastTokenPooling.Select(Hidden(3, 5), ids, 0));
    }

    [Fact]
    public void Without_a_pad_id_every_row_reads_its_last_position()
    {
        TorchRuntime.Initialize();
        var ids = tensor(new long[] { 5, 0, 0, 7, 8, 0 }, [2, 3]);

        var pooled = LastTokenPooling.Select(Hidden(2, 3), ids, padTokenId: null);

        Assert.Equal(new float[] { 4, 5, 10, 11 }, pooled.data<float>().ToArray());
    }
}
