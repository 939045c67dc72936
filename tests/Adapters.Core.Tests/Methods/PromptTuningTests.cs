using Adapters.Core.Configuration;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Methods;

public sealed class PromptTuningTests
{
    [Fact]
    public void The_prompt_grows_the_sequence_and_the_mask_attends_it_and_hides_padding()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("p", "prompt_tuning[prompt_length=4]", setActive: true);
        var ids = TinyModels.InputIds(batch: 1, length: 6);
        var padded = cat([ids, zeros([1, 2], ScalarType.Int64)], 1);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 0, 0 }).unsqueeze(0);

        var output = model.Forward(ids);
        var paddedOutput = model.Forward(padded, mask).LastHiddenState;

        Assert.Equal([1L, 10L, 32L], output.LastHiddenState.shape);
        Assert.Equal([1L, 12L, 32L], paddedOutput.shape);
        Assert.True(allclose(output.LastHiddenState, paddedOutput.narrow(1, 0, 10), 1e-5, 1e-5));
        var weight = model.GetAdapterStateDict("p")["bert.prompt_tuning.prompt_tunings.p.prompt_embedding.weight"];
        Assert.Equal([4L, 32L], weight.shape);
        Assert.True(weight.abs().max().item<float>() <= 0.5f);
        Assert.Equal(128, model.AdapterSummaryRows()[0].ParameterCount);
    }

    [Fact]
    public void Prefix_after_bos_keeps_the_first_token_in_front()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        var ids = TinyModels.InputIds(batch: 2, length: 5);
        model.AddAdapter("front", "prompt_tuning[prompt_length=3]");
        model.AddAdapter("bos", "prompt_tuning[prompt_length=3, combine='prefix_after_bos']");
        model.SetActiveAdapters("front");
        var front = model.Forward(ids).LastHiddenState;
        model.SetActiveAdapters("bos");

        var bos = model.Forward(ids, ones(2, 5)).LastHiddenState;

        Assert.Equal([2L, 8L, 32L], bos.shape);
        Assert.False(allclose(front, bos, 1e-3, 1e-3));
    }

    [Fact]
    public void From_string_copies_the_repeated_token_embeddings()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.PromptTokenizer = text => text == "hi there" ? [2, 7, 9] : throw new ArgumentException(text);

        model.AddAdapter("p", "prompt_tuning[prompt_length=5, prompt_init='from_string', prompt_init_text='hi there']");

        var weight = model.GetAdapterStateDict("p")["bert.prompt_tuning.prompt_tunings.p.prompt_embedding.weight"];
        var expected = model.WordEmbeddings.detach().index_select(0, tensor(new long[] { 2, 7, 9, 2, 7 }));
        Assert.True(TinyModels.Same(expected, weight));
    }

    [Fact]
    public void From_string_without_a_tokenizer_or_text_is_a_typed_error()
    {
        using var model = TinyModels.Bert();

        Assert.Throws<AdapterConfigException>(() => model.AddAdapter("a", "prompt_tuning[prompt_init='from_string', prompt_init_text='x']"));
        model.PromptTokenizer = _ => [3];
        Assert.Throws<AdapterConfigException>(() => model.AddAdapter("b", "prompt_tuning[prompt_init='from_string']"));
        Assert.Throws<AdapterConfigException>(() => model.AddAdapter("c", "prompt_tuning[combine='suffix']"));
        Assert.Throws<AdapterConfigException>(() => PluginModel.Create(16, 1).AddAdapter("d", "prompt_tuning"));
        Assert.Empty(model.AdapterNames);
    }
}
