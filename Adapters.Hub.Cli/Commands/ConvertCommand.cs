using System.CommandLine;
using Adapters.Hub.Cli.Help;
using Adapters.Core.Serialization;

namespace Adapters.Hub.Cli.Commands;

/// <summary><c>adapters-hub convert IN OUT</c>: torch pickle ↔ safetensors, by extension.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("in") { Description = "The file to read: .safetensors, model.safetensors.index.json, or a torch .bin/.pt/.pth." };
        var output = new Argument<string>("out") { Description = "The file to write: .safetensors, or .bin/.pt/.pth for a torch zip pickle." };
        var command = new Command("convert", "Convert tensors between torch pickles (.bin/.pt/.pth) and safetensors, by extension.")
        {
            input,
            output,
        };
        command.SetAction(parseResult => CommandErrors.Guard(parseResult, () =>
        {
            var source = parseResult.GetValue(input)!;
            var target = parseResult.GetValue(output)!;
            LocalFiles.RequireFile(source);
            if (string.Equals(Path.GetFullPath(source), Path.GetFullPath(target), StringComparison.Ordinal))
                throw new ArgumentException($"{target}: input and output are the same file");
            TensorFiles.Convert(source, target);
            using var written = TensorFiles.Open(target);
            parseResult.InvocationConfiguration.Output.WriteLine($"wrote {target}: {written.Tensors.Count} tensors, {written.Format}");
            return 0;
        }));
        command.WithExamples("adapters-hub convert pytorch_adapter.bin adapter.safetensors", "adapters-hub convert adapter.safetensors pytorch_adapter.bin");
        return command;
    }
}
