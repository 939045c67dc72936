using System.CommandLine;
using System.Text;
using Adapters.Testing;

namespace Adapters.Hub.Cli.Tests.Approval;

public sealed class HelpApprovalTests
{
    /// <summary>Every command path under the root, found by walking the tree, so new verbs are covered without a test change.</summary>
    private static IEnumerable<string[]> CommandPaths(Command command, string[] path)
    {
        yield return path;
        foreach (var sub in command.Subcommands.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            foreach (var nested in CommandPaths(sub, [.. path, sub.Name])) yield return nested;
        }
    }

    [Fact]
    public async Task Help_of_the_root_and_every_verb_matches_the_approved_text()
    {
        var text = new StringBuilder();
        foreach (var path in CommandPaths(CliApplication.BuildRootCommand(), []))
        {
            using var output = new StringWriter();
            using var error = new StringWriter();
            var exitCode = await CliApplication.RunAsync([.. path, "--help"], output, error, CancellationToken.None);
            Assert.True(exitCode == 0, $"{string.Join(' ', path)} --help exited {exitCode}: {error}");
            Assert.Equal("", error.ToString());
            text.Append("=== adapters-hub ").Append(string.Join(' ', [.. path, "--help"])).Append(" ===\n");
            // The usage line names the running executable (testhost here, adapters-hub when installed).
            var help = output.ToString().ReplaceLineEndings("\n").Replace($"\n  {RootCommand.ExecutableName} ", "\n  adapters-hub ", StringComparison.Ordinal);
            text.Append(help.TrimEnd()).Append("\n\n");
        }
        Approvals.Verify(text.ToString(), "tests/Adapters.Hub.Cli.Tests/Approved/help.approved.txt");
    }

    [Fact]
    public async Task Every_verb_has_examples_under_its_usage()
    {
        foreach (var path in CommandPaths(CliApplication.BuildRootCommand(), []))
        {
            using var output = new StringWriter();
            await CliApplication.RunAsync([.. path, "--help"], output, TextWriter.Null, CancellationToken.None);
            var help = output.ToString();
            var usage = help.IndexOf("Usage:", StringComparison.Ordinal);
            var examples = help.IndexOf("Examples:", StringComparison.Ordinal);
            Assert.True(usage >= 0 && examples > usage, $"'adapters-hub {string.Join(' ', path)} --help' has no Examples: block under its usage:\n{help}");
            Assert.Contains("  adapters-hub ", help[examples..], StringComparison.Ordinal);
        }
    }
}
