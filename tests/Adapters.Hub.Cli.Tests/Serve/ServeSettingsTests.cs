using System.CommandLine;
using Adapters.Hub.Cli.Commands;

namespace Adapters.Hub.Cli.Tests.Serve;

/// <summary><c>serve</c>'s settings: the command line over <c>ADAPTERS_SERVE_*</c> variables over the <c>--config</c> file over defaults.</summary>
public sealed class ServeSettingsTests : IDisposable
{
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("adapters-serve-settings-");

    public void Dispose() => _scratch.Delete(recursive: true);

    private static (Command Command, ParseResult Parse) Parse(params string[] arguments)
    {
        var command = ServeCommand.Create();
        return (command, command.Parse(arguments));
    }

    private static Option<T> OptionOf<T>(Command command, string name) => (Option<T>)command.Options.Single(o => o.Name == name);

    private static ServeSettings Load(Command command, ParseResult parse, Dictionary<string, string> environment) =>
        ServeSettings.Load(parse, OptionOf<string?>(command, "--config"), command.Options, name => environment.GetValueOrDefault(name));

    [Fact]
    public async Task The_command_line_beats_the_environment_which_beats_the_file_which_beats_the_defaults()
    {
        var file = Path.Combine(_scratch.FullName, "serve.json");
        await File.WriteAllTextAsync(file, """
            {
              // comments are allowed: operators annotate these files
              "root": "/srv/from-file",
              "port": 1111,
              "host": "0.0.0.0",
              "token": ["read:hf_file_reader", "write:hf_file_writer"],
              "upstream": "https://hub.example.com",
              "mirror-deny": "private-org/**",
              "revision-ttl": 60
            }
            """);
        var (command, parse) = Parse("--config", file, "--port", "3333", "--mirror-allow", "team/*");
        var settings = Load(command, parse, new() { ["ADAPTERS_SERVE_PORT"] = "2222", ["ADAPTERS_SERVE_HOST"] = "127.0.0.2", ["ADAPTERS_SERVE_UPSTREAM_TOKEN"] = "hf_env_secret" });

        Assert.Equal(3333, settings.Int(OptionOf<int>(command, "--port")));
        Assert.Equal("127.0.0.2", settings.Defaulted(OptionOf<string>(command, "--host")));
        Assert.Equal("/srv/from-file", settings.String(OptionOf<string?>(command, "--root")));
        Assert.Equal(["read:hf_file_reader", "write:hf_file_writer"], settings.Strings(OptionOf<string[]>(command, "--token")));
        Assert.Equal(64L * 1024 * 1024, settings.Long(OptionOf<long>(command, "--lfs-chunk-size")));
        Assert.Null(settings.String(OptionOf<string?>(command, "--postgres")));
        Assert.Equal(["team/*"], settings.Strings(OptionOf<string[]>(command, "--mirror-allow")));
        Assert.Equal(["private-org/**"], settings.Strings(OptionOf<string[]>(command, "--mirror-deny")));
        Assert.Equal(60, settings.Int(OptionOf<int>(command, "--revision-ttl")));
        Assert.Equal("hf_env_secret", settings.String(OptionOf<string?>(command, "--upstream-token")));
        Assert.False(settings.Bool(OptionOf<bool>(command, "--offline")));
    }

    [Fact]
    public async Task The_config_file_can_come_from_the_environment_and_bad_files_are_errors_naming_file_and_key()
    {
        var file = Path.Combine(_scratch.FullName, "serve.json");
        await File.WriteAllTextAsync(file, """{"root": "/srv/r", "offline": true, "mirror-deny": ["a/*", "b/**"]}""");
        var (command, parse) = Parse();
        var settings = Load(command, parse, new() { ["ADAPTERS_SERVE_CONFIG"] = file, ["ADAPTERS_SERVE_MIRROR_ALLOW"] = "x/*, y/*" });
        Assert.Equal("/srv/r", settings.String(OptionOf<string?>(command, "--root")));
        Assert.True(settings.Bool(OptionOf<bool>(command, "--offline")));
        Assert.Equal(["a/*", "b/**"], settings.Strings(OptionOf<string[]>(command, "--mirror-deny")));
        Assert.Equal(["x/*", "y/*"], settings.Strings(OptionOf<string[]>(command, "--mirror-allow")));
        Assert.Equal(8787, settings.Int(OptionOf<int>(command, "--port")));

        await File.WriteAllTextAsync(file, """{"root": "/srv/r", "prot": 80}""");
        var unknown = Assert.Throws<ArgumentException>(() => Load(command, parse, new() { ["ADAPTERS_SERVE_CONFIG"] = file }));
        Assert.Contains(file, unknown.Message, StringComparison.Ordinal);
        Assert.Contains("'prot'", unknown.Message, StringComparison.Ordinal);

        await File.WriteAllTextAsync(file, """{"port": "eighty"}""");
        var (command2, parse2) = Parse("--config", file);
        var wrongType = Assert.Throws<ArgumentException>(() => Load(command2, parse2, []).Int(OptionOf<int>(command2, "--port")));
        Assert.Contains("--port", wrongType.Message, StringComparison.Ordinal);

        await File.WriteAllTextAsync(file, "[1, 2]");
        Assert.Throws<ArgumentException>(() => Load(command2, parse2, []));
    }

    [Fact]
    public void The_upstream_token_given_on_the_command_line_is_masked_in_error_messages()
    {
        var root = new RootCommand { ServeCommand.Create() };
        var parse = root.Parse(["serve", "--root", "/srv/r", "--upstream", "https://hub.example.com", "--upstream-token", "hf_cli_upstream_secret"]);
        Assert.Contains("hf_cli_upstream_secret", CommandErrors.SecretsOf(parse));
        var inline = root.Parse(["serve", "--root", "/srv/r", "--upstream", "https://hub.example.com", "--upstream-token=hf_inline_upstream_secret"]);
        Assert.Contains("hf_inline_upstream_secret", CommandErrors.SecretsOf(inline));
    }

    [Fact]
    public async Task Serve_started_from_a_config_file_mirrors_its_upstream_and_reports_it_without_the_token()
    {
        var file = Path.Combine(_scratch.FullName, "serve.json");
        await File.WriteAllTextAsync(file, $$"""{"root": "{{Path.Combine(_scratch.FullName, "mirror").Replace("\\", "\\\\")}}", "port": 0, "upstream": "http://127.0.0.1:9", "upstream-token": "hf_config_secret_token", "offline": true}""");
        var inner = new StringWriter();
        var output = TextWriter.Synchronized(inner);
        using var error = new StringWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var serving = CliApplication.RunAsync(["serve", "--config", file], output, error, stop.Token);
        string? endpoint = null;
        for (var attempt = 0; attempt < 400 && endpoint is null && !serving.IsCompleted; attempt++)
        {
            await Task.Delay(50);
            string text;
            lock (output) text = inner.ToString();
            endpoint = text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("HF_ENDPOINT=", StringComparison.Ordinal))?["HF_ENDPOINT=".Length..];
        }
        Assert.True(endpoint is not null, $"serve printed no HF_ENDPOINT line: {inner} {error}");
        using var http = new HttpClient();
        using var health = await http.GetAsync(endpoint + "/healthz");
        Assert.Contains("\"mirror\":\"offline\"", await health.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var missing = await http.GetAsync(endpoint + "/api/models/team/not-cached");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        await stop.CancelAsync();
        Assert.Equal(0, await serving);
        Assert.Contains("Mirror of http://127.0.0.1:9/ (offline: cached content only)", inner.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hf_config_secret_token", inner + error.ToString(), StringComparison.Ordinal);
    }
}
