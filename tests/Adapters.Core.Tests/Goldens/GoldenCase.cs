using System.Text.Json.Nodes;
using Adapters.Testing;

namespace Adapters.Core.Tests.Goldens;

/// <summary>
/// One case of fixtures/python-goldens/MANIFEST.json: what Python's <c>adapters</c> 1.1.0 or <c>peft</c> 0.14.0 did
/// (kind model, adapter, composition, head, summary or peft), on which model, and whether Python ran it (status
/// <c>ok</c>) or refused it (<c>unsupported</c>, <c>incompatible</c>, with its error text).
/// </summary>
internal sealed record GoldenCase(string Id, string Kind, string Model, string Name, string Status, string? Folder, string? PythonError, string Generator)
{
    private static readonly System.Text.RegularExpressions.Regex s_nonFinite =
        new(@"(?<=[:\[,]\s*)(-?Infinity|NaN)(?=\s*[,\]}])", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private static readonly Lazy<IReadOnlyDictionary<string, GoldenCase>> s_all = new(ReadManifest);
    private static readonly Lazy<IReadOnlyList<string>> s_notCopied = new(ReadNotCopied);

    /// <summary>Every case, keyed by <see cref="Id"/>.</summary>
    public static IReadOnlyDictionary<string, GoldenCase> All => s_all.Value;

    /// <summary>The folder holding the goldens.</summary>
    public static string Root => TestPaths.Fixture("python-goldens");

    /// <summary>Whether Python refused the case (status unsupported or incompatible).</summary>
    public bool PythonRefused => Status is "unsupported" or "incompatible";

    /// <summary>The score group: models, adapters, compositions, heads, summaries or peft.</summary>
    public string Group => Generator == "peft" ? "peft" : Kind switch
    {
        "model" => "models",
        "adapter" => "adapters",
        "composition" => "compositions",
        "head" => "heads",
        "summary" => "summaries",
        _ => Kind,
    };

    /// <summary>A path inside the case's folder.</summary>
    public string PathOf(params string[] parts) => Path.Combine([Root, Folder!, .. parts]);

    /// <summary>Case folders left out of the copy to keep the fixtures small (see the README's last section).</summary>
    public static IReadOnlyList<string> NotCopied => s_notCopied.Value;

    public override string ToString() => Id;

    private static IReadOnlyDictionary<string, GoldenCase> ReadManifest()
    {
        var manifest = ReadManifestJson();
        var cases = new Dictionary<string, GoldenCase>(StringComparer.Ordinal);
        foreach (var node in manifest["cases"]!.AsArray())
        {
            var c = node!.AsObject();
            var kind = (string)c["kind"]!;
            var model = (string)c["model"]!;
            var name = (string)c["case"]!;
            var generator = (string)c["generator"]!;
            var dir = (string?)c["dir"];
            var folder = kind switch
            {
                "model" => generator == "peft" ? $"peft/models/{model}" : $"models/{model}",
                "summary" => "summaries",
                "peft" when dir is not null => $"peft/{dir}",
                _ => dir,
            };
            var id = kind switch
            {
                "model" => generator == "peft" ? $"peft/models/{model}" : $"models/{model}",
                "summary" => $"summaries/{name}",
                "adapter" => $"adapters/{model}/{name}",
                "composition" => $"compositions/{model}/{name}",
                "head" => $"heads/{model}/{name}",
                "peft" => $"peft/{model}/{name}",
                _ => throw new InvalidDataException($"MANIFEST.json: unknown case kind \"{kind}\"."),
            };
            cases.Add(id, new GoldenCase(id, kind, model, name, (string)c["status"]!, folder, (string?)c["error"], generator));
        }
        return cases;
    }

    private static IReadOnlyList<string> ReadNotCopied() =>
        ReadManifestJson()["not_copied"]!["prefix"]!.AsArray().Select(n => (string)n!).ToArray();

    private static JsonObject ReadManifestJson() =>
        ParsePythonJson(Path.Combine(Root, "MANIFEST.json")).AsObject();

    /// <summary>
    /// Parses a JSON file Python's <c>json.dump</c> wrote: it spells non-finite floats <c>Infinity</c>, <c>-Infinity</c>
    /// and <c>NaN</c>, which standard JSON has not; those values (diagnostics no check reads) become null.
    /// </summary>
    public static JsonNode ParsePythonJson(string path) =>
        JsonNode.Parse(s_nonFinite.Replace(File.ReadAllText(path), "null")) ?? throw new InvalidDataException($"{path} holds null.");

}
