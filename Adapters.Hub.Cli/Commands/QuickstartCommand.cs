using System.CommandLine;
using Adapters.Hub.Cli.Help;
using System.Globalization;
using System.Text.Json;
using Adapters.Hub.Cli.Quickstart;

namespace Adapters.Hub.Cli.Commands;

/// <summary>
/// <c>adapters-hub quickstart [--keep] [--json]</c>: the offline end-to-end demo — embedded registry, LoRA training on
/// a tiny BERT, push, verified pull, load and predict.
/// </summary>
internal static class QuickstartCommand
{
    public static Command Create()
    {
        var keep = new Option<bool>("--keep") { Description = "Leave the registry running until Ctrl+C and print the HF_ENDPOINT to use with pull/push." };
        var json = new Option<bool>("--json") { Description = "Print one JSON summary object instead of progress." };
        var command = new Command("quickstart",
            "Run the offline demo: start an embedded registry, train a LoRA adapter and a classification head on a tiny " +
            "BERT with the bundled toy sentiment set, push it with a model card, pull it into a fresh verified cache, " +
            "load it into a fresh model and classify two sentences. Everything temporary is deleted at the end.")
        {
            keep, json,
        };
        command.WithExamples(
            "adapters-hub quickstart",
            "adapters-hub quickstart --json",
            "adapters-hub quickstart --keep      # then, in another shell: HF_ENDPOINT=... adapters-hub pull quickstart/tiny-bert-sentiment-lora");
        command.SetAction((parseResult, cancellationToken) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var asJson = parseResult.GetValue(json);
            var keepRunning = parseResult.GetValue(keep);
            var runner = new QuickstartRunner(new QuickstartOptions(), QuickstartView.Create(output, asJson));
            await runner.RunAsync(keepRunning, async report =>
            {
                if (asJson)
                {
                    await output.WriteLineAsync(JsonSerializer.Serialize(report, CliJson.Options)).ConfigureAwait(false);
                }
                else
                {
                    await output.WriteLineAsync().ConfigureAwait(false);
                    foreach (var prediction in report.Predictions)
                    {
                        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                            $"\"{prediction.Text}\" → {prediction.Label} (p = {prediction.Probability:0.000})")).ConfigureAwait(false);
                    }
                }
                if (keepRunning)
                {
                    var log = asJson ? parseResult.InvocationConfiguration.Error : output;
                    await log.WriteLineAsync($"The registry keeps running; in another shell:").ConfigureAwait(false);
                    await log.WriteLineAsync($"  export HF_ENDPOINT={report.Endpoint}").ConfigureAwait(false);
                    await log.WriteLineAsync($"  adapters-hub pull {report.RepoId}").ConfigureAwait(false);
                    await log.WriteLineAsync("Press Ctrl+C to stop it (its temporary folder is then deleted).").ConfigureAwait(false);
                }
                await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }
}
