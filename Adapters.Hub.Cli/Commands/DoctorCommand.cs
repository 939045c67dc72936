using Adapters.Hub.Text;
using System.CommandLine;
using Adapters.Hub.Cli.Help;
using System.Text.Json;

namespace Adapters.Hub.Cli.Commands;

/// <summary><c>adapters-hub doctor [--json]</c>: the environment report, like <c>hf env</c>.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var command = new Command("doctor", "Show versions, the native torch backend and the Hub settings in use (never the token).")
        {
            json,
        };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var report = DoctorReport.Collect(HubEnvironment.FromProcess());
            if (parseResult.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(report, CliJson.Options));
            }
            else
            {
                WriteText(output, report);
            }
            if (report.TorchError is not null)
            {
                parseResult.InvocationConfiguration.Error.WriteLine($"error: {SafeText.OneLine(report.TorchError)}");
                return 1;
            }
            return 0;
        });
        command.WithExamples("adapters-hub doctor", "adapters-hub doctor --json");
        return command;
    }

    private static void WriteText(TextWriter output, DoctorReport report)
    {
        void Row(string name, object? value) => output.WriteLine($"- {name,-18} {value ?? "(unavailable)"}");

        output.WriteLine("adapters-hub environment");
        output.WriteLine();
        Row("adapters-hub", report.Version);
        Row(".NET", report.Dotnet);
        Row("OS", $"{report.Os} ({report.Architecture})");
        Row("TorchSharp", report.TorchSharp);
        Row("libtorch", report.LibTorch is null ? null : $"{report.LibTorch} ({report.LibTorchPackage ?? "package unknown"})");
        Row("CUDA available", report.Cuda);
        Row("torch threads", report.TorchThreads);
        Row("Hub endpoint", report.Endpoint);
        Row("HF_HOME", report.HfHome);
        Row("Hub cache", report.CacheDirectory);
        Row("token", report.TokenSource);
        Row("offline", report.Offline);
    }
}
