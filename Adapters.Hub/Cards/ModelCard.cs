using Adapters.Hub.IO;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Adapters.Hub.Cards;

/// <summary>
/// A Hub model card (<c>README.md</c>): YAML front matter between <c>---</c> lines, then markdown.
/// Parsing and re-writing an unchanged card gives back the same text.
/// </summary>
public sealed class ModelCard
{
    private readonly string? _originalFrontMatter;
    private readonly string _fenceEnd;

    private ModelCard(ModelCardMetadata metadata, string? originalFrontMatter, string body, string fenceEnd = "\n")
    {
        Metadata = metadata;
        _originalFrontMatter = originalFrontMatter;
        _fenceEnd = fenceEnd;
        Body = body;
    }

    /// <summary>Creates a card from metadata and a markdown body.</summary>
    public ModelCard(ModelCardMetadata metadata, string body)
        : this(metadata, null, body)
    {
    }

    /// <summary>The YAML front matter.</summary>
    public ModelCardMetadata Metadata { get; }

    /// <summary>The markdown after the front matter.</summary>
    public string Body { get; set; }

    /// <summary>Reads a card from a file.</summary>
    /// <exception cref="ModelCardException">The front matter is not valid YAML or not a mapping.</exception>
    public static ModelCard Load(string path) => Parse(File.ReadAllText(path, Encoding.UTF8), path);

    /// <summary>Parses card text; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="ModelCardException">The front matter is not valid YAML or not a mapping.</exception>
    public static ModelCard Parse(string text, string source = "README.md")
    {
        ArgumentNullException.ThrowIfNull(text);
        var normalized = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (!normalized.StartsWith("---\n", StringComparison.Ordinal))
        {
            return new ModelCard(new ModelCardMetadata(), null, text);
        }

        int close = FindClosingFence(normalized);
        if (close < 0)
        {
            throw new ModelCardException(source, "the YAML front matter opened with '---' on line 1 is never closed by a '---' line");
        }

        string yaml = normalized[4..close];
        int bodyStart = close + 3;
        string fenceEnd = "";
        if (bodyStart < normalized.Length && normalized[bodyStart] == '\n')
        {
            bodyStart++;
            fenceEnd = "\n";
        }
        string body = normalized[bodyStart..];

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new ModelCardException(source, $"invalid YAML front matter at line {ex.Start.Line + 1}, column {ex.Start.Column}: {ex.Message}", ex);
        }

        YamlMappingNode root;
        if (stream.Documents.Count == 0)
        {
            root = new YamlMappingNode();
        }
        else if (stream.Documents[0].RootNode is YamlMappingNode mapping)
        {
            root = mapping;
        }
        else if (stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            root = new YamlMappingNode();
        }
        else
        {
            throw new ModelCardException(source, $"the YAML front matter must be a mapping of keys to values, found a {stream.Documents[0].RootNode.NodeType}");
        }

        return new ModelCard(new ModelCardMetadata(root), yaml, body, fenceEnd);
    }

    /// <summary>The card text: front matter (when there is any) and body.</summary>
    public override string ToString()
    {
        if (_originalFrontMatter is null && Metadata.IsEmpty) return Body;
        if (!Metadata.IsModified && _originalFrontMatter is not null)
        {
            return $"---\n{_originalFrontMatter}---{_fenceEnd}{Body}";
        }
        return $"---\n{Metadata.ToYaml()}---\n{Body}";
    }

    /// <summary>Writes the card to <paramref name="path"/> through a temporary file.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToString());

    private static int FindClosingFence(string text)
    {
        int at = 4;
        while (at <= text.Length)
        {
            if (string.CompareOrdinal(text, at, "---", 0, 3) == 0 && (at + 3 == text.Length || text[at + 3] == '\n'))
            {
                return at;
            }
            int next = text.IndexOf('\n', at);
            if (next < 0) return -1;
            at = next + 1;
        }
        return -1;
    }
}
