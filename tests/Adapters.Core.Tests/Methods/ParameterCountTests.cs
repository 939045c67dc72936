using Adapters.Core.Configuration;

namespace Adapters.Core.Tests.Methods;

/// <summary>Counts for every alias on bert-base, from the table in adapters-python-methods.md §5.</summary>
public sealed class ParameterCountTests : IClassFixture<BertBaseFixture>
{
    private readonly BertBaseFixture _fixture;

    public ParameterCountTests(BertBaseFixture fixture) => _fixture = fixture;

    [Theory]
    [InlineData("seq_bn", 894_528, "0.817", "bottleneck")]
    [InlineData("pfeiffer", 894_528, "0.817", "bottleneck")]
    [InlineData("double_seq_bn", 1_789_056, "1.634", "bottleneck")]
    [InlineData("houlsby", 1_789_056, "1.634", "bottleneck")]
    [InlineData("par_bn", 7_091_712, "6.477", "bottleneck")]
    [InlineData("parallel", 7_091_712, "6.477", "bottleneck")]
    [InlineData("scaled_par_bn", 7_091_724, "6.478", "bottleneck")]
    [InlineData("scaled_parallel", 7_091_724, "6.478", "bottleneck")]
    [InlineData("seq_bn_inv", 1_190_592, "1.087", "bottleneck")]
    [InlineData("pfeiffer+inv", 1_190_592, "1.087", "bottleneck")]
    [InlineData("double_seq_bn_inv", 2_085_120, "1.905", "bottleneck")]
    [InlineData("houlsby+inv", 2_085_120, "1.905", "bottleneck")]
    [InlineData("compacter++", 28_576, "0.026", "bottleneck")]
    [InlineData("compacter", 57_088, "0.052", "bottleneck")]
    [InlineData("lora", 294_912, "0.269", "lora")]
    [InlineData("ia3", 55_296, "0.051", "lora")]
    [InlineData("vera", 14_169_600, "12.942", "lora")]
    [InlineData("dora", 313_344, "0.286", "lora")]
    [InlineData("dvora", 14_188_032, "12.959", "lora")]
    // mtl_lora (no table row): lora's A and B (n_up_projection=1) + 1 mixing weight + 8 singular values, 24 modules.
    [InlineData("mtl_lora", 295_128, "0.270", "mtl_lora")]
    [InlineData("prefix_tuning", 9_872_384, "9.017", "prefix_tuning")]
    [InlineData("prefix_tuning_flat", 552_960, "0.505", "prefix_tuning")]
    [InlineData("prompt_tuning", 7_680, "0.007", "prompt_tuning")]
    [InlineData("loreft", 36_888, "0.034", "reft")]
    [InlineData("noreft", 36_888, "0.034", "reft")]
    [InlineData("direft", 36_888, "0.034", "reft")]
    [InlineData("mam", 22_493_984, "20.546", "union")]
    [InlineData("unipelt", 11_083_376, "10.123", "union")]
    // GLOW (no table row): seq_bn + s1, s2 = Linear(384, 192) + Linear(192, 768) each = 894,528 + 2·222,144.
    [InlineData("seq_bn[inv_adapter='glow', inv_adapter_reduction_factor=2]", 1_338_816, "1.223", "bottleneck")]
    [InlineData("double_seq_bn[inv_adapter='glow', inv_adapter_reduction_factor=2]", 2_233_344, "2.040", "bottleneck")]
    public void Alias_parameter_counts_match_python(string alias, long expected, string percent, string architecture)
    {
        var model = _fixture.Model;
        model.AddAdapter("x", alias);
        try
        {
            var rows = model.AdapterSummaryRows();
            Assert.Equal(expected, rows[0].ParameterCount);
            Assert.Equal(architecture, rows[0].Architecture);
            Assert.Equal(percent, rows[0].ParameterPercent.ToString("F3", System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(109_482_240, rows[^1].ParameterCount);
        }
        finally
        {
            model.DeleteAdapter("x");
        }
    }

    [Fact]
    public void AdapterPlus_counts_match_the_vit_notebook_per_layer()
    {
        var model = _fixture.Model;
        model.AddAdapter("plus", new AdapterPlusConfig());
        try
        {
            // ViT_AdapterPlus_FineTuning.ipynb: 12 × (6,152 + 6,912 + 768) = 165,984 on a 768-wide, 12-layer model.
            Assert.Equal(165_984, model.AdapterSummaryRows()[0].ParameterCount);
            Assert.Equal([768L], model.GetAdapterStateDict("plus")["bert.encoder.layer.0.output.adapters.plus.scaling"].shape);
        }
        finally
        {
            model.DeleteAdapter("plus");
        }
    }

    [Fact]
    public void Every_buildable_alias_is_covered_by_the_count_table()
    {
        var covered = new[] { "seq_bn", "pfeiffer", "double_seq_bn", "houlsby", "par_bn", "parallel", "scaled_par_bn", "scaled_parallel",
            "seq_bn_inv", "pfeiffer+inv", "double_seq_bn_inv", "houlsby+inv", "compacter++", "compacter", "lora", "ia3", "vera", "dora", "dvora",
            "prefix_tuning", "prefix_tuning_flat", "prompt_tuning", "mtl_lora", "loreft", "noreft", "direft", "mam", "unipelt" };

        Assert.Equal(covered.Order(), AdapterConfigMap.Names.Order());
    }

    [Fact]
    public void Summary_prints_pythons_table()
    {
        var model = _fixture.Model;
        model.AddAdapter("my_lora", "lora");
        model.AddAdapter("bn", new SeqBnConfig());
        try
        {
            model.TrainAdapter("bn");

            var summary = model.AdapterSummary();

            var expected = string.Join('\n',
                new string('=', 80),
                "Name                     Architecture         #Param      %Param  Active   Train",
                new string('-', 80),
                "my_lora                  lora                294,912       0.269       0       0",
                "bn                       bottleneck          894,528       0.817       1       1",
                new string('-', 80),
                "Full model                               109,482,240     100.000               0",
                new string('=', 80));
            Assert.Equal(expected, summary);
        }
        finally
        {
            model.DeleteAdapter("my_lora");
            model.DeleteAdapter("bn");
            model.FreezeModel(false);
            model.eval();
        }
    }
}
