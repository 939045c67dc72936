using System.Globalization;
using System.Text;

namespace Adapters.Hub.Cards;

/// <summary>
/// Builds the model card for a pushed adapter. The Python part is the card Python's
/// <c>push_adapter_to_hub</c> writes, so the Hub shows and tags both the same way; what .NET users need
/// (library and base model keys, the adapter's size, a C# snippet) comes after it.
/// </summary>
public static class AdapterCard
{
    /// <summary>The tag Python adapters puts on every adapter; the Hub infers the library from it.</summary>
    public const string LibraryTag = "adapter-transformers";

    private const string Placeholder = "<!-- Add some description here -->";

    /// <summary>Creates a new card.</summary>
    public static ModelCard Create(AdapterCardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var metadata = new ModelCardMetadata();
        ApplyMetadata(metadata, options);
        return new ModelCard(metadata, Body(options));
    }

    /// <summary>
    /// Refreshes an existing card: adds the adapter's tags and keys to its front matter without dropping
    /// anyone else's, and keeps its text unless <paramref name="overwriteBody"/> is set.
    /// </summary>
    public static ModelCard Refresh(ModelCard existing, AdapterCardOptions options, bool overwriteBody = false)
    {
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(options);
        ApplyMetadata(existing.Metadata, options);
        if (overwriteBody || string.IsNullOrWhiteSpace(existing.Body)) existing.Body = Body(options);
        return existing;
    }

    private static void ApplyMetadata(ModelCardMetadata metadata, AdapterCardOptions options)
    {
        var tags = new List<string> { LibraryTag };
        if (!string.IsNullOrEmpty(options.ModelType)) tags.Add(options.ModelType);
        tags.AddRange(options.Tags);
        metadata.AddToList("tags", tags);
        if (!string.IsNullOrEmpty(options.DatasetTag)) metadata.AddToList("datasets", [options.DatasetTag]);
        if (options.Language.Count > 0) metadata.AddToList("language", options.Language);
        if (!string.IsNullOrEmpty(options.License)) metadata.SetString("license", options.License, quoted: true);
        if (options.Metrics.Count > 0) metadata.AddToList("metrics", options.Metrics);
        if (metadata.GetString("library_name") is null) metadata.SetString("library_name", LibraryTag);
        if (metadata.GetString("base_model") is null && metadata.GetList("base_model").Count == 0)
        {
            metadata.SetString("base_model", options.ModelName);
        }
    }

    private static string Body(AdapterCardOptions o)
    {
        var dataset = string.IsNullOrEmpty(o.DatasetTag) ? "None" : $"[{o.DatasetTag}](https://huggingface.co/datasets/{o.DatasetTag}/)";
        var headInfo = string.IsNullOrEmpty(o.HeadType) ? "" : $" and includes a prediction head for {o.HeadType.Replace('_', ' ')}";
        var b = new StringBuilder();
        b.Append('\n');
        b.Append(CultureInfo.InvariantCulture, $"# Adapter `{o.RepoId}` for {o.ModelName}\n\n");
        b.Append(CultureInfo.InvariantCulture, $"An [adapter](https://adapterhub.ml) for the `{o.ModelName}` model that was trained on the {dataset} dataset{headInfo}.\n\n");
        b.Append("This adapter was created for usage with the **[Adapters](https://github.com/Adapter-Hub/adapters)** library.\n\n");
        b.Append("## Usage\n\n");
        b.Append("First, install `adapters`:\n\n");
        b.Append("```\npip install -U adapters\n```\n\n");
        b.Append("Now, the adapter can be loaded and activated like this:\n\n");
        b.Append("```python\nfrom adapters import AutoAdapterModel\n\n");
        b.Append(CultureInfo.InvariantCulture, $"model = AutoAdapterModel.from_pretrained(\"{o.ModelName}\")\n");
        b.Append(CultureInfo.InvariantCulture, $"adapter_name = model.{o.LoadFunction}(\"{o.RepoId}\", set_active=True)\n```\n\n");
        b.Append("In .NET, with [Adapters.NET](https://www.nuget.org/packages/Adapters.Hub), the same files load into a TorchSharp model (through the cache Python uses):\n\n");
        b.Append("```csharp\nusing Adapters.Core.Heads;\nusing Adapters.Core.Serialization;\nusing Adapters.Hub;\nusing Adapters.Hub.Loading;\n\n");
        b.Append(CultureInfo.InvariantCulture, $"var model = new FlexHeadModel(PretrainedEncoders.Load(\"path/to/{o.ModelName}\"));\n");
        b.Append("using var hub = new HubClient();\n");
        b.Append(CultureInfo.InvariantCulture, $"var adapter = await model.LoadAdapterAsync(hub, \"{o.RepoId}\", setActive: true);\n```\n\n");
        AppendAdapterSummary(b, o);
        b.Append("## Architecture & Training\n\n").Append(o.ArchitectureTraining ?? Placeholder).Append("\n\n");
        b.Append("## Evaluation results\n\n").Append(o.Results ?? Placeholder).Append("\n\n");
        b.Append("## Citation\n\n").Append(o.Citation ?? Placeholder).Append('\n');
        return b.ToString();
    }

    private static void AppendAdapterSummary(StringBuilder b, AdapterCardOptions o)
    {
        if (o.Method is null && o.ParameterCount is null) return;
        b.Append("## Adapter\n\n");
        if (o.AdapterName is not null) b.Append(CultureInfo.InvariantCulture, $"- Name: `{o.AdapterName}`\n");
        if (o.Method is not null) b.Append(CultureInfo.InvariantCulture, $"- Method: `{o.Method}`\n");
        if (o.ParameterCount is { } count)
        {
            b.Append(CultureInfo.InvariantCulture, $"- Parameters: {count:N0}");
            if (o.ModelParameterCount is { } total and > 0)
            {
                b.Append(CultureInfo.InvariantCulture, $" ({100.0 * count / total:0.###}% of the base model's {total:N0})");
            }
            b.Append('\n');
        }
        b.Append('\n');
    }
}
