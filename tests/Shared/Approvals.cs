namespace Adapters.Testing;

/// <summary>
/// Approval files: a test renders some text and compares it with <c>*.approved.txt</c> in the repository.
/// On a mismatch it writes <c>*.received.txt</c> beside the approved file and fails naming both.
/// With <c>ADAPTERS_APPROVE=1</c> it writes the approved file instead (and passes), so regenerating all
/// of them is one command: <c>ADAPTERS_APPROVE=1 dotnet test Adapters.sln --filter "FullyQualifiedName~Approval"</c>.
/// </summary>
internal static class Approvals
{
    /// <summary>The environment variable that turns comparison into (re)writing the approved files.</summary>
    public const string ApproveVariable = "ADAPTERS_APPROVE";

    /// <summary>The one command that regenerates every approved file.</summary>
    public const string RegenerateCommand = "ADAPTERS_APPROVE=1 dotnet test Adapters.sln --filter \"FullyQualifiedName~Approval\"";

    /// <summary>Compares <paramref name="received"/> with the approved file at <paramref name="approvedPath"/> (relative to the repository root).</summary>
    public static void Verify(string received, string approvedPath)
    {
        var text = received.ReplaceLineEndings("\n");
        if (!text.EndsWith('\n')) text += "\n";
        var approved = Path.Combine(TestPaths.RepoRoot, approvedPath);
        const string Suffix = ".approved.txt";
        if (!approved.EndsWith(Suffix, StringComparison.Ordinal)) throw new ArgumentException($"'{approvedPath}' must end in {Suffix}.", nameof(approvedPath));
        var receivedPath = approved[..^Suffix.Length] + ".received.txt";

        if (Environment.GetEnvironmentVariable(ApproveVariable) == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(approved)!);
            File.WriteAllText(approved, text);
            File.Delete(receivedPath);
            return;
        }

        var expected = File.Exists(approved) ? File.ReadAllText(approved).ReplaceLineEndings("\n") : null;
        if (expected == text)
        {
            File.Delete(receivedPath);
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(receivedPath)!);
        File.WriteAllText(receivedPath, text);
        var relativeReceived = Path.GetRelativePath(TestPaths.RepoRoot, receivedPath);
        Assert.Fail(expected is null
            ? $"{approvedPath} does not exist yet. Review {relativeReceived}, then approve with: {RegenerateCommand}"
            : $"{approvedPath} differs from the received text {FirstDifference(expected, text)}. Review with: diff {approvedPath} {relativeReceived}; if the change is intended, approve with: {RegenerateCommand}");
    }

    private static string FirstDifference(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var left = i < a.Length ? a[i] : "(end of file)";
            var right = i < b.Length ? b[i] : "(end of file)";
            if (left != right) return $"at line {i + 1}: approved '{left}', received '{right}'";
        }
        return "(line endings only)";
    }
}
