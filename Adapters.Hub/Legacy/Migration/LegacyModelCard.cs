using Adapters.Hub.Json;
using System.Text;

namespace Adapters.Hub.Legacy.Migration;

/// <summary>
/// The <c>README.md</c> of a migrated repo, built from the legacy card: front matter with the
/// <c>adapter-transformers</c>, <c>adapterhub:task/subtask</c> and model-type tags, the subtask's dataset,
/// the language of a language adapter and the licence; then description, usage, architecture, author, the
/// legacy id the repo replaces, and the citation.
/// </summary>
public static class LegacyModelCard
{
    /// <summary>The licence the registry is published under.</summary>
    public const string License = "apache-2.0";

    /// <summary>Renders the card text (LF line ends, one trailing newline).</summary>
    public static string Render(MigrationPlanItem item, LegacySubtaskCard? subtask)
    {
        ArgumentNullException.ThrowIfNull(item);
        var card = item.Card;
        var text = new StringBuilder();
        text.Append("---\n");
        text.Append("tags:\n");
        foreach (var tag in new[] { "adapter-transformers", $"adapterhub:{card.Task}/{card.Subtask}", card.ModelType }.Distinct(StringComparer.Ordinal))
        {
            text.Append("- ").Append(Quote(tag)).Append('\n');
        }
        if (subtask?.HfDatasetsId is { Length: > 0 } dataset)
        {
            text.Append("datasets:\n- ").Append(Quote(dataset)).Append('\n');
        }
        if (card.Type == "text_lang")
        {
            text.Append("language:\n- ").Append(Quote(card.Task)).Append('\n');
        }
        text.Append("license: ").Append(Quote(License)).Append('\n');
        text.Append("---\n\n");

        text.Append($"# Adapter `{item.TargetRepo}` for {card.ModelName}\n\n");
        text.Append($"An [adapter](https://adapterhub.ml) for the `{card.ModelName}` model that was trained on the ");
        text.Append(subtask?.HfDatasetsId is { Length: > 0 } id ? $"[{id}](https://huggingface.co/datasets/{id}/)" : $"{card.Task}/{card.Subtask}");
        text.Append(" dataset");
        if (card.PredictionHead == true) text.Append(" and includes a prediction head");
        text.Append(".\n\n");
        if (!string.IsNullOrWhiteSpace(card.Description)) text.Append(card.Description.Trim()).Append("\n\n");
        if (subtask is not null && !string.IsNullOrWhiteSpace(subtask.Description))
        {
            text.Append($"**{subtask.DisplayName ?? subtask.Subtask}**: ").Append(subtask.Description.Trim()).Append("\n\n");
        }
        text.Append("This adapter was created for usage with the **[Adapters](https://github.com/Adapter-Hub/adapters)** library.\n\n");
        text.Append($"It replaces the legacy AdapterHub adapter `{card.LegacyId}` (`{card.Task}/{card.Subtask}@{card.Org}`, ");
        text.Append($"index entry `{item.EntryPath}`, config id `{item.ConfigId}`). ");
        text.Append("Legacy versions are kept as branches: ");
        text.Append(string.Join(", ", item.Versions.Select(v => v.IsDefault ? $"`{v.Version}` (default, also `main`)" : $"`{v.Version}`")));
        text.Append(".\n\n");

        text.Append("## Usage\n\nFirst, install `adapters`:\n\n```\npip install -U adapters\n```\n\n");
        text.Append("Now, the adapter can be loaded and activated like this:\n\n```python\nfrom adapters import AutoAdapterModel\n\n");
        text.Append($"model = AutoAdapterModel.from_pretrained(\"{card.ModelName}\")\n");
        text.Append($"adapter_name = model.load_adapter(\"{item.TargetRepo}\", set_active=True)\n```\n\n");
        text.Append("Pass `revision=\"<version>\"` to `load_adapter` for another legacy version.\n\n");

        text.Append("## Architecture & Training\n\n");
        text.Append($"- Architecture: `{card.Architecture}`");
        var overrides = card.Config.Where(p => p.Key != "using").Select(p => $"{p.Key}={PythonJson.Dumps(p.Value)}").ToList();
        if (overrides.Count > 0) text.Append(" with ").Append(string.Join(", ", overrides));
        text.Append('\n');
        text.Append($"- Type: `{card.Type}`, task `{card.Task}`, subtask `{card.Subtask}`\n");
        if (card.ModelClass is not null) text.Append($"- Model class: `{card.ModelClass}`\n");
        foreach (var dependency in card.Dependencies) text.Append($"- Stacked on: `{dependency}`\n");
        text.Append('\n');

        text.Append("## Author\n\n").Append(card.Author).Append('\n');
        foreach (var (label, value) in new[] { ("Email", card.Email), ("Website", card.Url), ("GitHub", card.GitHub), ("Twitter", card.Twitter) })
        {
            if (!string.IsNullOrWhiteSpace(value)) text.Append($"- {label}: {value.Trim()}\n");
        }
        text.Append('\n');

        text.Append("## Citation\n\n");
        text.Append(string.IsNullOrWhiteSpace(card.Citation) ? "<!-- Add some description here -->\n" : $"```bibtex\n{card.Citation.Trim()}\n```\n");
        return text.ToString();
    }

    /// <summary>A YAML double-quoted scalar (JSON string syntax), so values such as <c>no</c> stay strings.</summary>
    private static string Quote(string value)
    {
        var builder = new StringBuilder();
        PythonJson.WriteString(builder, value);
        return builder.ToString();
    }
}
