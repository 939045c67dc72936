using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Adapters.Registry.Storage;

namespace Adapters.Registry.Tests.Web;

/// <summary>The page's HTML as a browser receives it: search and filters over the 291 legacy adapters and the pushed ones, repository pages, privacy.</summary>
[Collection(LegacyCatalogCollection.Name)]
public sealed partial class WebPageTests(LegacyCatalogRegistry registry)
{
    /// <summary>Public repositories: the legacy ones plus the LoRA, PEFT and hostile-card repos.</summary>
    private int PublicCount => registry.Legacy.Count + 3;

    [Fact]
    public async Task The_search_page_lists_every_public_adapter_and_no_private_one()
    {
        var html = await GetAsync("/");

        Assert.Equal(291, registry.Legacy.Count);
        Assert.Contains($"{PublicCount} adapters of {PublicCount}", html, StringComparison.Ordinal);
        var listed = ResultIds(html);
        Assert.Equal(PublicCount, listed.Count);
        Assert.Contains("AdapterHub/bert-base-uncased_sentiment_sst-2_pfeiffer", listed);
        Assert.DoesNotContain(LegacyCatalogRegistry.PrivateRepo, html, StringComparison.Ordinal);
        Assert.Equal("text/html; charset=utf-8", (await registry.Browser().GetAsync("/")).Content.Headers.ContentType?.ToString());
    }

    [Fact]
    public async Task Filtering_by_task_lists_exactly_the_legacy_adapters_of_that_task()
    {
        var expected = registry.Legacy.Where(i => i.Card.Task == "sentiment").Select(i => i.TargetRepo).Order(StringComparer.OrdinalIgnoreCase).ToList();

        var html = await GetAsync("/?task=sentiment");

        Assert.Equal(17, expected.Count);
        Assert.Equal(expected, ResultIds(html));
        Assert.Contains("<option value=\"sentiment\" selected>sentiment (17)</option>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_private_adapter_is_found_only_with_a_token_that_may_read_it()
    {
        var anonymous = await GetAsync("/?task=sentiment");
        var withToken = await GetAsync("/?task=sentiment", authorized: true);

        Assert.DoesNotContain(LegacyCatalogRegistry.PrivateRepo, ResultIds(anonymous));
        Assert.Contains(LegacyCatalogRegistry.PrivateRepo, ResultIds(withToken));
        Assert.Equal(HttpStatusCode.NotFound, (await registry.Browser().GetAsync("/-/models/" + LegacyCatalogRegistry.PrivateRepo)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await registry.Browser().GetAsync("/-/models/team/no-such-repo")).StatusCode);
        Assert.Contains("Secret sentiment adapter", await GetAsync("/-/models/" + LegacyCatalogRegistry.PrivateRepo, authorized: true), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Language_base_model_library_and_architecture_filters_combine()
    {
        var arabic = registry.Legacy.Where(i => i.Card.Type == "text_lang" && i.Card.Task == "ar").Select(i => i.TargetRepo).Order(StringComparer.OrdinalIgnoreCase).ToList();
        var bertBase = registry.Legacy.Where(i => i.Card.ModelName == "bert-base-uncased" && i.Card.Task == "nli").Select(i => i.TargetRepo).Order(StringComparer.OrdinalIgnoreCase).ToList();

        Assert.NotEmpty(arabic);
        Assert.Equal(arabic, ResultIds(await GetAsync("/?language=ar")));
        Assert.NotEmpty(bertBase);
        Assert.Equal(bertBase, ResultIds(await GetAsync("/?base_model=bert-base-uncased&task=nli")));
        Assert.Equal([LegacyCatalogRegistry.PeftRepo], ResultIds(await GetAsync("/?library=peft")));
        // LoRA in either library: the adapters config's architecture and PEFT's peft_type.
        Assert.Equal([LegacyCatalogRegistry.LoraRepo, LegacyCatalogRegistry.PeftRepo], ResultIds(await GetAsync("/?architecture=lora")));
        Assert.Equal([LegacyCatalogRegistry.LoraRepo], ResultIds(await GetAsync("/?architecture=lora&library=adapters&language=de")));
        Assert.Equal(registry.Legacy.Count(i => i.Card.ModelName == "gpt2"), ResultIds(await GetAsync("/?library=adapters&q=gpt2")).Count);
        Assert.Empty(ResultIds(await GetAsync("/?task=no-such-task")));
    }

    [Fact]
    public async Task A_legacy_adapter_page_shows_its_migrated_card_config_and_snippets()
    {
        var item = registry.Legacy.Single(i => i.LegacyId == "@ukp/bert-base-uncased_sentiment_sst-2_pfeiffer");

        var html = WebUtility.HtmlDecode(await GetAsync("/-/models/" + item.TargetRepo));

        Assert.Contains($"<h1 id=\"repo-title\">{item.TargetRepo}</h1>", html, StringComparison.Ordinal);
        Assert.Contains($"It replaces the legacy AdapterHub adapter <code>{item.LegacyId}</code>", html, StringComparison.Ordinal);
        Assert.Contains("\"reduction_factor\": 16", html, StringComparison.Ordinal);
        Assert.Contains("\"version\": \"adapters.1.2.0\"", html, StringComparison.Ordinal);
        Assert.Contains($"await model.LoadAdapterAsync(hub, \"{item.TargetRepo}\", setActive: true);", html, StringComparison.Ordinal);
        Assert.Contains($"model = AutoAdapterModel.from_pretrained(\"bert-base-uncased\")", html, StringComparison.Ordinal);
        Assert.Contains($"adapter_name = model.load_adapter(\"{item.TargetRepo}\", set_active=True)", html, StringComparison.Ordinal);
        Assert.Contains($"os.environ[\"HF_ENDPOINT\"] = \"{registry.Server.Endpoint.ToString().TrimEnd('/')}\"", html, StringComparison.Ordinal);
        Assert.Contains("No safetensors file in this revision.", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pushed_adapter_page_summarises_parameters_and_lists_files_commits_and_tags()
    {
        var html = WebUtility.HtmlDecode(await GetAsync("/-/models/" + LegacyCatalogRegistry.LoraRepo));

        // r=8 on query and value of 2 layers, hidden size 64 (adapter_config.json): 4 matrices × (8×64 + 64×8).
        Assert.Matches(@"<tr><td>adapter\.safetensors</td><td>8</td><td>4,096</td><td>F32: 4,096</td></tr>", html);
        Assert.Contains("\"architecture\": \"lora\"", html, StringComparison.Ordinal);
        foreach (var path in Directory.GetFiles(LegacyCatalogRegistry.LoraFolder))
        {
            var bytes = await File.ReadAllBytesAsync(path);
            var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
            Assert.Matches($@"<tr><td>{Regex.Escape(Path.GetFileName(path))}</td><td>[^<]+</td><td>((LFS|Xet)</td><td class=""hash"">sha256 {sha256}|git</td><td class=""hash"">git sha1 {ContentHashes.GitBlobSha1(bytes)})</td></tr>", html);
        }
        Assert.Contains("<td>Add the tagging LoRA</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>Describe the adapter</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>initial commit</td>", html, StringComparison.Ordinal);
        Assert.Matches(@"<td>tag</td><td><a href=""/-/models/team/bert-tagging-lora\?revision=v1"">v1</a></td>", html);
        Assert.Contains("<h1>Token tagging LoRA</h1>", html, StringComparison.Ordinal);
        Assert.Contains("<strong>LoRA</strong>", html, StringComparison.Ordinal);
        // A relative link in the card is the repository's file at the commit shown, served by the Hub route.
        var configLink = Regex.Match(html, @"<a href=""(?<href>/team/bert-tagging-lora/resolve/[0-9a-f]{40}/adapter_config\.json)"">its config</a>");
        Assert.True(configLink.Success, "relative card link not resolved to the file");
        using var http = registry.Browser();
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(LegacyCatalogRegistry.LoraFolder, "adapter_config.json")), await http.GetByteArrayAsync(configLink.Groups["href"].Value));

        var peft = WebUtility.HtmlDecode(await GetAsync("/-/models/" + LegacyCatalogRegistry.PeftRepo));
        Assert.Matches(@"<tr><td>adapter_model\.safetensors</td><td>8</td><td>2,048</td><td>F32: 2,048</td></tr>", peft);
        Assert.Contains($"model = PeftModel.from_pretrained(base, \"{LegacyCatalogRegistry.PeftRepo}\")", peft, StringComparison.Ordinal);
        Assert.Contains("base = AutoModel.from_pretrained(\"models/llama\")", peft, StringComparison.Ordinal);
        Assert.Contains("model.LoadPeftAdapter(snapshot.Path, \"llama-peft-lora\");", peft, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tag_page_shows_the_tagged_revision()
    {
        var html = WebUtility.HtmlDecode(await GetAsync("/-/models/" + LegacyCatalogRegistry.LoraRepo + "?revision=v1"));

        Assert.Contains("revision <code>v1</code>", html, StringComparison.Ordinal);
        Assert.Contains("options: new AdapterResolveOptions { Version = \"v1\" }", html, StringComparison.Ordinal);
        Assert.Contains("version=\"v1\"", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await registry.Browser().GetAsync("/-/models/" + LegacyCatalogRegistry.LoraRepo + "?revision=nope")).StatusCode);
    }

    [Fact]
    public async Task A_hostile_card_is_rendered_without_anything_that_runs()
    {
        using var response = await registry.Browser().GetAsync("/-/models/" + LegacyCatalogRegistry.HostileRepo);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        HostileMarkdown.AssertHarmless(html);
        // The raw HTML is still there for the reader, as text.
        Assert.Contains("&lt;script&gt;alert(", html, StringComparison.Ordinal);
        Assert.Contains("<script>alert('block script')</script>", WebUtility.HtmlDecode(html), StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hostile_front_matter_is_listed_and_filterable_as_text()
    {
        var page = await GetAsync("/");
        var filtered = await GetAsync("/?language=" + Uri.EscapeDataString("' onfocus='alert(1)' x='"));

        HostileMarkdown.AssertNothingRuns(page);
        HostileMarkdown.AssertNothingRuns(filtered);
        Assert.Equal([LegacyCatalogRegistry.HostileRepo], ResultIds(filtered));
        Assert.Contains("<option value=\"&lt;script&gt;alert(&#x27;task&#x27;)&lt;/script&gt;\">", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_values_are_escaped_and_the_hub_api_is_unaffected()
    {
        var html = await GetAsync("/?q=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E");

        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\"", html, StringComparison.Ordinal);
        using var api = await registry.Browser().GetAsync("/api/models/" + LegacyCatalogRegistry.LoraRepo);
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        Assert.Equal("application/json", api.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await registry.Browser().GetAsync("/-/nothing")).StatusCode);
    }

    private async Task<string> GetAsync(string path, bool authorized = false)
    {
        using var http = registry.Browser(authorized);
        using var response = await http.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {html}");
        return html;
    }

    /// <summary>The repository ids in the result list, in page order.</summary>
    private static List<string> ResultIds(string html) =>
        ResultLink().Matches(html).Select(m => WebUtility.HtmlDecode(m.Groups["id"].Value)).ToList();

    [GeneratedRegex("<li><a class=\"repo-id\" href=\"[^\"]*\">(?<id>[^<]*)</a>")]
    private static partial Regex ResultLink();
}
