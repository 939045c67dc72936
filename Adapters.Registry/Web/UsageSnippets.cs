using Adapters.Registry.Storage;
namespace Adapters.Registry.Web;

/// <summary>
/// The copy-paste code on a repository page: C# with Adapters.NET and Python with <c>adapters</c> or PEFT,
/// pointed at this registry (<c>HF_ENDPOINT</c>, which both Python's <c>huggingface_hub</c> and our
/// <c>HubClient</c> read).
/// </summary>
internal static class UsageSnippets
{
    /// <summary>The snippets for a repository: (language label, code) in page order.</summary>
    public static IReadOnlyList<(string Label, string Code)> For(RepoKey key, AdapterFacts facts, string registryUrl, string revision)
    {
        // Values from a card end up inside string literals: keep them literals in both languages.
        var baseModel = Literal(facts.BaseModel ?? "<base model>");
        revision = Literal(revision);
        var onMain = revision == RegistryStore.DefaultBranch;
        var snippets = new List<(string, string)>();
        if (facts.Library == AdapterLibrary.Peft)
        {
            snippets.Add(("C# (Adapters.NET)", $$"""
                // HF_ENDPOINT={{registryUrl}}
                using Adapters.Core.Peft;
                using Adapters.Hub;

                using var hub = new HubClient();
                var snapshot = await hub.Files.SnapshotDownloadAsync("{{key.Id}}"{{(onMain ? "" : $", revision: \"{revision}\"")}});
                model.LoadPeftAdapter(snapshot.Path, "{{AdapterName(key)}}");   // model: the {{baseModel}} AdapterModel
                """));
            snippets.Add(("Python (PEFT)", $"""
                import os
                os.environ["HF_ENDPOINT"] = "{registryUrl}"

                from peft import PeftModel
                from transformers import AutoModel

                base = AutoModel.from_pretrained("{baseModel}")
                model = PeftModel.from_pretrained(base, "{key.Id}"{(onMain ? "" : $", revision=\"{revision}\"")})
                """));
        }
        else
        {
            snippets.Add(("C# (Adapters.NET)", $$"""
                // HF_ENDPOINT={{registryUrl}}
                using Adapters.Hub;
                using Adapters.Hub.Loading;

                using var hub = new HubClient();
                await model.LoadAdapterAsync(hub, "{{key.Id}}", setActive: true{{(onMain ? "" : $", options: new AdapterResolveOptions {{ Version = \"{revision}\" }}")}});   // model: the {{baseModel}} model
                """));
            snippets.Add(("Python (adapters)", $"""
                import os
                os.environ["HF_ENDPOINT"] = "{registryUrl}"

                from adapters import AutoAdapterModel

                model = AutoAdapterModel.from_pretrained("{baseModel}")
                adapter_name = model.load_adapter("{key.Id}"{(onMain ? "" : $", version=\"{revision}\"")}, set_active=True)
                """));
        }
        return snippets;
    }

    private static string Literal(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).ReplaceLineEndings(" ");

    private static string AdapterName(RepoKey key) => key.Id.Split('/')[^1];
}
