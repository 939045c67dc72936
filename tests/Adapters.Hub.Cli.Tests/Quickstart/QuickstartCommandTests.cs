using System.Text.Json;
using Adapters.Hub.Cli.Quickstart;

namespace Adapters.Hub.Cli.Tests.Quickstart;

public sealed class QuickstartCommandTests
{
    [Fact]
    public async Task Quickstart_json_trains_pushes_pulls_and_predicts_then_cleans_up()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await CliApplication.RunAsync(["quickstart", "--json"], output, error, CancellationToken.None);

        Assert.True(exitCode == 0, $"exit {exitCode}: {error}");
        Assert.Equal("", error.ToString());
        using var report = JsonDocument.Parse(output.ToString());
        var root = report.RootElement;
        Assert.True(root.GetProperty("testAccuracy").GetDouble() >= 0.75, output.ToString());
        Assert.Matches("^[0-9a-f]{40}$", root.GetProperty("commitId").GetString());
        var pulled = root.GetProperty("pulledFiles").EnumerateArray().Select(f => f.GetString()).ToList();
        Assert.Contains("adapter_config.json", pulled);
        Assert.Contains("adapter.safetensors", pulled);
        Assert.Contains("head_config.json", pulled);
        Assert.Contains("README.md", pulled);

        var predictions = root.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(2, predictions.Count);
        Assert.Contains("loved", predictions[0].GetProperty("text").GetString());
        Assert.Equal("positive", predictions[0].GetProperty("label").GetString());
        Assert.Contains("hated", predictions[1].GetProperty("text").GetString());
        Assert.Equal("negative", predictions[1].GetProperty("label").GetString());
        Assert.All(predictions, p => Assert.InRange(p.GetProperty("probability").GetDouble(), 0.5, 1.0));

        Assert.Contains("sentiment", root.GetProperty("adapterSummary").GetString());
        var steps = root.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToList();
        Assert.Equal(["start registry", "build model", "train", "push", "pull", "load and predict"], steps);
        Assert.False(Directory.Exists(root.GetProperty("workDirectory").GetString()), "the temporary folder must be deleted");
    }

    [Fact]
    public async Task Quickstart_fails_with_one_line_when_the_adapter_does_not_reach_the_threshold_and_still_cleans_up()
    {
        var runner = new QuickstartRunner(new QuickstartOptions { MaxEpochs = 1, AccuracyThreshold = 0.99 }, QuickstartView.Create(TextWriter.Null, json: true));

        var failure = await Assert.ThrowsAsync<QuickstartException>(() => runner.RunAsync(false, _ => Task.CompletedTask));

        Assert.Contains("below the required 0.99", failure.Message);
        Assert.DoesNotContain('\n', failure.Message);
        Assert.NotNull(runner.WorkDirectory);
        Assert.False(Directory.Exists(runner.WorkDirectory));
    }
}
