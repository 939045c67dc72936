using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Adapters.Registry.Tests.Web;

/// <summary>
/// The page in a real headless Chromium (Debian's <c>chromium</c>, which <c>.ci/run</c> installs), driven by
/// Playwright with <see cref="BrowserTypeLaunchOptions.ExecutablePath"/>: no browser is downloaded. A machine
/// without Chromium fails this test; it is never skipped.
/// </summary>
[Collection(LegacyCatalogCollection.Name)]
public sealed class ChromiumPageTests(LegacyCatalogRegistry registry, ITestOutputHelper output)
{
    private const int ViewportWidth = 1280;

    private const int ViewportHeight = 900;

    /// <summary>The browser: <c>ADAPTERS_CHROMIUM</c> when set, else Debian's path.</summary>
    private static string ChromiumPath => Environment.GetEnvironmentVariable("ADAPTERS_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    [Fact]
    public async Task Chromium_finds_a_legacy_adapter_by_task_and_opens_its_card()
    {
        const string adapter = "AdapterHub/bert-base-uncased_sentiment_sst-2_pfeiffer";
        await using var session = await OpenAsync();
        var page = session.Page;

        await page.GotoAsync(registry.Server.Endpoint.ToString());
        Assert.Equal($"{registry.Legacy.Count + 3} adapters of {registry.Legacy.Count + 3}", await page.Locator("#result-count").InnerTextAsync());
        await page.SelectOptionAsync("#task", "sentiment");
        await page.ClickAsync("#search");
        await page.WaitForURLAsync(url => url.Contains("task=sentiment", StringComparison.Ordinal));
        Assert.Equal($"17 adapters of {registry.Legacy.Count + 3}", await page.Locator("#result-count").InnerTextAsync());

        await page.Locator("a.repo-id", new() { HasTextString = adapter }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("/-/models/" + adapter, StringComparison.Ordinal));
        Assert.Equal(adapter, await page.Locator("#repo-title").InnerTextAsync());
        var card = await page.Locator("#card").InnerTextAsync();
        Assert.Contains($"Adapter {adapter} for bert-base-uncased", card, StringComparison.Ordinal);
        Assert.Contains("It replaces the legacy AdapterHub adapter @ukp/bert-base-uncased_sentiment_sst-2_pfeiffer", card, StringComparison.Ordinal);
        Assert.Contains($"model.load_adapter(\"{adapter}\"", await page.Locator("#snippets").InnerTextAsync(), StringComparison.Ordinal);

        var png = await page.ScreenshotAsync(new PageScreenshotOptions { Type = ScreenshotType.Png });
        var screenshot = Path.Combine(AppContext.BaseDirectory, "screenshots", "registry-repo-page.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await File.WriteAllBytesAsync(screenshot, png);
        output.WriteLine($"Screenshot of {adapter}: {screenshot} ({png.Length} bytes)");
        AssertShowsThePage(PngImage.Decode(png));
    }

    [Fact]
    public async Task Chromium_runs_nothing_from_a_hostile_card()
    {
        await using var session = await OpenAsync();
        var page = session.Page;
        var dialogs = new List<string>();
        page.Dialog += (_, dialog) => { dialogs.Add(dialog.Message); _ = dialog.DismissAsync(); };
        await page.GotoAsync(new Uri(registry.Server.Endpoint, "/-/models/" + LegacyCatalogRegistry.HostileRepo).ToString());

        foreach (var link in await page.Locator("#card a").AllAsync())
        {
            var href = await link.GetAttributeAsync("href");
            Assert.True(href is null || href == "#" || href.StartsWith("https:", StringComparison.Ordinal) || href.StartsWith("http:", StringComparison.Ordinal), $"link to {href}");
        }
        Assert.Equal(0, await page.Locator("#card script, #card iframe, #card [onerror], #card [onclick], #card [onmouseover]").CountAsync());
        Assert.Empty(dialogs);
        Assert.Contains(HostileMarkdown.SafeLinkText, await page.Locator("#card").InnerTextAsync(), StringComparison.Ordinal);
    }

    /// <summary>The screenshot is the viewport, is not blank, and shows the page's header bar and text.</summary>
    private static void AssertShowsThePage(PngImage image)
    {
        Assert.Equal(ViewportWidth, image.Width);
        Assert.Equal(ViewportHeight, image.Height);
        // The header bar's colour (#24292f) at its top-left corner: the page's style was applied.
        var (r, g, b) = image.Pixel(4, 4);
        Assert.True(Math.Abs(r - 0x24) < 8 && Math.Abs(g - 0x29) < 8 && Math.Abs(b - 0x2f) < 8, $"header pixel is ({r},{g},{b})");
        long ink = 0;
        var colours = new HashSet<int>();
        for (var y = 0; y < image.Height; y += 2)
        {
            for (var x = 0; x < image.Width; x += 2)
            {
                var (pr, pg, pb) = image.Pixel(x, y);
                if (pr < 200 || pg < 200 || pb < 200) ink++;
                colours.Add((pr >> 4) << 8 | (pg >> 4) << 4 | (pb >> 4));
            }
        }
        var fraction = ink / (double)(image.Width / 2 * (image.Height / 2));
        // Text, chips and code blocks: a few percent of dark pixels, far from an empty (white or black) page.
        Assert.InRange(fraction, 0.02, 0.6);
        Assert.True(colours.Count >= 16, $"only {colours.Count} distinct colours");
    }

    private async Task<BrowserSession> OpenAsync()
    {
        Assert.True(File.Exists(ChromiumPath),
            $"Chromium is not installed at {ChromiumPath}: install Debian's package ('apt-get install -y chromium', as .ci/run does) or set ADAPTERS_CHROMIUM.");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Timeout = 120_000,
            });
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = ViewportWidth, Height = ViewportHeight } });
            page.SetDefaultTimeout(60_000);
            return new BrowserSession(playwright, browser, page);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    private sealed record BrowserSession(IPlaywright Playwright, IBrowser Browser, IPage Page) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Browser.DisposeAsync();
            Playwright.Dispose();
        }
    }
}
