using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Adapters.Core.Configuration;
using Adapters.Core.Diagnostics;
using Adapters.Core.Models;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Serialization;
using Adapters.Core.Tests.Models;
using Adapters.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Serialization;

/// <summary>
/// Folders Python's adapters 1.1 writes that need Python's reading rules (fixtures/python-goldens/adapters, see its
/// README): Compacter without its shared <c>phm_rule</c>, and DiReFT without <c>subtract_projection</c>.
/// </summary>
public sealed class PythonLoadCornerTests
{
    private static AdapterModel Base(string model)
    {
        TorchRuntime.Initialize();
        var folder = TestPaths.Fixture("python-goldens", "models", model);
        return model == "gpt2" ? PretrainedDecoders.LoadBaseModel(folder) : PretrainedEncoders.Load(folder, requireWeights: true);
    }

    private static Tensor LastHiddenState(AdapterModel model, GoldenFile golden) => model switch
    {
        ITextEncoder encoder => encoder.Encode(golden.InputIds, golden.AttentionMask).LastHiddenState,
        Gpt2Model gpt2 => gpt2.Forward(golden.InputIds, attentionMask: golden.AttentionMask),
        _ => throw new ArgumentException(model.GetType().Name),
    };

    [Theory]
    [InlineData("bert", "compacter_reduction_factor8")]
    [InlineData("gpt2", "compacterpp_reduction_factor8")]
    public void A_compacter_folder_without_the_shared_phm_rule_loads_with_a_warning_naming_it(string model, string name)
    {
        using var scope = NewDisposeScope();
        using var target = Base(model);
        using var listener = new WarningListener();

        var result = target.LoadAdapter(TestPaths.Fixture("python-goldens", "adapters", model, name, "adapter_st"), setActive: true);

        var missing = Assert.Single(result.MissingKeys);
        Assert.EndsWith($"shared_parameters.{name}.phm_rule", missing, StringComparison.Ordinal);
        Assert.Empty(result.UnexpectedKeys);
        var warning = Assert.Single(listener.Warnings, w => w.Contains(name, StringComparison.Ordinal));
        Assert.Contains(missing, warning, StringComparison.Ordinal);
        Assert.Contains(name, target.AdapterNames);
    }

    [Theory]
    [InlineData("bert", "compacter_reduction_factor8")]
    [InlineData("gpt2", "compacterpp_reduction_factor8")]
    public void With_the_separately_saved_phm_rule_the_compacter_gives_pythons_outputs(string model, string name)
    {
        using var scope = NewDisposeScope();
        using var target = Base(model);
        var folder = TestPaths.Fixture("python-goldens", "adapters", model, name);
        var golden = GoldenFile.Read("adapters", model, name);
        using var adapter = TensorFiles.Load(Path.Combine(folder, "adapter_st", AdapterFolderFiles.AdapterSafetensorsFile));
        using var shared = TensorFiles.Load(Path.Combine(folder, "shared_parameters.safetensors"));
        var weights = adapter.Concat(shared).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

        var result = target.LoadAdapterStateDict(AdapterConfigFile.Read(Path.Combine(folder, "adapter_st", AdapterConfigFile.FileName)), weights, setActive: true);
        target.eval();

        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        using var _ = no_grad();
        var diff = golden.MaxAbsDiff(LastHiddenState(target, golden), "outputs", "last_hidden_state");
        Assert.True(diff <= 1e-5, $"max abs difference {diff} to Python's outputs");
    }

    [Theory]
    [InlineData("bert")]
    public void A_python_saved_direft_reloads_subtracting_the_projection_as_pythons_load_adapter_does(string model)
    {
        using var scope = NewDisposeScope();
        using var target = Base(model);
        var golden = GoldenFile.Read("adapters", model, "direft");

        var result = target.LoadAdapter(TestPaths.Fixture("python-goldens", "adapters", model, "direft", "adapter_st"), setActive: true);
        target.eval();

        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.True(Assert.IsType<ReftConfig>(target.GetAdapterConfig("direft")).SubtractProjection);
        using var _ = no_grad();
        var diff = golden.MaxAbsDiff(LastHiddenState(target, golden), "reload_outputs", "last_hidden_state");
        Assert.True(diff <= 1e-5, $"max abs difference {diff} to Python's reloaded outputs");
    }

    [Theory]
    [InlineData("bert")]
    public void An_in_memory_direft_with_pythons_weights_gives_pythons_outputs_and_saves_pythons_config(string model)
    {
        using var scope = NewDisposeScope();
        using var target = Base(model);
        var folder = TestPaths.Fixture("python-goldens", "adapters", model, "direft", "adapter_st");
        var golden = GoldenFile.Read("adapters", model, "direft");
        target.AddAdapter("direft", "direft", setActive: true);
        using var weights = TensorFiles.Load(Path.Combine(folder, AdapterFolderFiles.AdapterSafetensorsFile));
        var mine = target.GetAdapterStateDict("direft");
        using (no_grad())
            foreach (var (key, tensor) in weights) Assert.Single(mine, p => p.Key.EndsWith(key, StringComparison.Ordinal)).Value.copy_(tensor);
        target.eval();

        using var _ = no_grad();
        var diff = golden.MaxAbsDiff(LastHiddenState(target, golden), "outputs", "last_hidden_state");
        Assert.True(diff <= 1e-5, $"max abs difference {diff} to Python's in-memory DiReFT");
        var python = AdapterConfigFile.Read(Path.Combine(folder, AdapterConfigFile.FileName));
        // adapters 1.2 added init_weights_seed, which 1.1 did not write; otherwise the config is Python's.
        var ours = (System.Text.Json.Nodes.JsonObject)target.CreateAdapterConfigFile("direft").Document["config"]!.DeepClone();
        Assert.False(ours.ContainsKey("subtract_projection"));
        ours.Remove("init_weights_seed");
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(python.Document["config"], ours), ours.ToJsonString());
    }

    /// <summary>Collects the warnings <see cref="AdaptersEventSource"/> writes while it lives.</summary>
    private sealed class WarningListener : EventListener
    {
        private readonly ConcurrentQueue<string> _warnings = new();

        public IReadOnlyCollection<string> Warnings => _warnings;

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == AdaptersEventSource.SourceName) EnableEvents(eventSource, EventLevel.Warning);
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.Level <= EventLevel.Warning && eventData.Message is { } message)
                _warnings.Enqueue(string.Format(System.Globalization.CultureInfo.InvariantCulture, message, [.. eventData.Payload ?? []]));
        }
    }
}
