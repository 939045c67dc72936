using System.Text.Json.Nodes;
using Adapters.Core.Composition;
using Adapters.Core.Heads;
using Adapters.Core.Serialization;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;
using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Tests.Composition;

/// <summary><c>adapter_setup.json</c> (Python's <c>save_adapter_setup</c> / <c>load_adapter_setup</c>).</summary>
public sealed class AdapterSetupFileTests
{
    public static TheoryData<string> Setups() =>
    [
        "Stack(Fuse(a, b), c)",
        "BatchSplit(a, Stack(b, c), batch_sizes=[1, 2])",
        "Average(a, b, weights=[0.25, 0.75], normalize_weights=False)",
        "Split(a, b, splits=[3, 3])",
        "Parallel(a, Stack(b, c))",
        "Stack(a)",
    ];

    [Theory]
    [MemberData(nameof(Setups))]
    public void Blocks_round_trip_through_pythons_dict_form(string text)
    {
        var setup = CompositionParser.Parse(text);

        var back = AdapterCompositionBlock.FromJson(JsonNode.Parse(setup.ToJson().ToJsonString()));

        Assert.Equal(setup, back);
        Assert.Equal(setup.ToString(), back.ToString());
    }

    [Fact]
    public void The_file_is_written_as_pythons_json_dump_with_indent_2_in_insertion_order()
    {
        var file = new AdapterSetupFile(new Stack(new Fuse("a", "b"), new Average([0.5, 0.5], true, "a", "b")),
            AdapterSetupFile.HeadSetupToJson(new HeadSetup(["x", "y"], [1, 2])));

        const string expected = """
            {
              "adapter_setup": {
                "type": "Stack",
                "children": [
                  {
                    "type": "Fuse",
                    "children": [
                      {
                        "type": "single",
                        "children": [
                          "a"
                        ]
                      },
                      {
                        "type": "single",
                        "children": [
                          "b"
                        ]
                      }
                    ]
                  },
                  {
                    "type": "Average",
                    "children": [
                      {
                        "type": "single",
                        "children": [
                          "a"
                        ]
                      },
                      {
                        "type": "single",
                        "children": [
                          "b"
                        ]
                      }
                    ],
                    "kwargs": {
                      "weights": [
                        0.5,
                        0.5
                      ]
                    }
                  }
                ]
              },
              "head_setup": {
                "type": "BatchSplit",
                "children": [
                  {
                    "type": "single",
                    "children": [
                      "x"
                    ]
                  },
                  {
                    "type": "single",
                    "children": [
                      "y"
                    ]
                  }
                ],
                "kwargs": {
                  "batch_sizes": [
                    1,
                    2
                  ]
                }
              },
              "version": "adapters.1.2.0"
            }
            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), file.ToJsonString());
        var read = AdapterSetupFile.Parse(file.ToJsonString());
        Assert.Equal(file.AdapterSetup, read.AdapterSetup);
        Assert.Equal(["x", "y"], read.HeadNames);
        Assert.Equal(new[] { 1, 2 }, read.ToHeadSetup()!.BatchSizes);
    }

    [Fact]
    public void Pythons_other_head_setup_forms_and_bad_files_are_read_or_refused_clearly()
    {
        const string setup = """{"adapter_setup": {"type": "Stack", "children": [{"type": "single", "children": ["a"]}]}, "head_setup": ["a", "b"], "version": "adapters.1.1.0"}""";
        var read = AdapterSetupFile.Parse(setup);
        Assert.Equal(["a", "b"], read.ToHeadSetup()!.Heads);
        Assert.Null(read.ToHeadSetup()!.BatchSizes);
        Assert.Equal("adapters.1.1.0", read.Version);
        Assert.True(AdapterSetupFile.Parse(setup.Replace("[\"a\", \"b\"]", "true", StringComparison.Ordinal)).HeadSetupIsOwnFolder);
        Assert.Null(AdapterSetupFile.Parse(setup.Replace("[\"a\", \"b\"]", "null", StringComparison.Ordinal)).ToHeadSetup());

        var unknown = Assert.Throws<AdapterCompositionException>(() => AdapterSetupFile.Parse(setup.Replace("Stack", "Chain", StringComparison.Ordinal), "x/adapter_setup.json"));
        Assert.Contains("x/adapter_setup.json", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("Chain", unknown.Message, StringComparison.Ordinal);
        Assert.Throws<AdapterCompositionException>(() => AdapterCompositionBlock.FromJson(JsonNode.Parse("""{"type": "Split", "children": [{"type": "single", "children": ["a"]}], "kwargs": {"splits": "x"}}""")));
    }

    [Fact]
    public void A_saved_setup_folder_reloads_adapters_fusion_heads_and_the_active_setup()
    {
        using var scope = NewDisposeScope();
        var directory = Path.Combine(Path.GetTempPath(), "adapters-setup-" + Guid.NewGuid().ToString("N"));
        try
        {
            var setup = new Stack(new Fuse("a", "b"));
            var heads = new HeadSetup(["a", "b"], [1, 1]);
            using var _ = no_grad();
            var ids = TinyModels.InputIds(batch: 2);
            IReadOnlyList<Tensor> expected;
            using (var source = new FlexHeadModel(TinyModels.Bert()))
            {
                source.eval();
                source.BaseModel.AddAdapter("a", "seq_bn");
                source.BaseModel.AddAdapter("b", "seq_bn");
                source.BaseModel.AddAdapterFusion(new Fuse("a", "b"));
                source.AddClassificationHead("a", numLabels: 2);
                source.AddClassificationHead("b", numLabels: 3);
                source.SetActiveAdapters(setup);
                source.ActiveHeadSetup = heads;
                expected = source.ForwardHeads(ids);
                source.SaveAdapterSetup(directory, setup, heads);
            }

            Assert.True(File.Exists(Path.Combine(directory, AdapterSetupFile.FileName)));
            foreach (var folder in new[] { "a", "b", "a,b" }) Assert.True(Directory.Exists(Path.Combine(directory, folder)), folder);

            using var target = new FlexHeadModel(TinyModels.Bert());
            target.eval();
            var file = target.LoadAdapterSetup(directory, setActive: true);

            Assert.Equal(setup, file.AdapterSetup);
            Assert.Equal(setup, target.BaseModel.ActiveAdapters);
            Assert.Equal(heads.Heads, target.ActiveHeadSetup!.Heads);
            var actual = target.ForwardHeads(ids);
            Assert.True(TinyModels.Same(expected[0], actual[0]));
            Assert.True(TinyModels.Same(expected[1], actual[1]));
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }
}
