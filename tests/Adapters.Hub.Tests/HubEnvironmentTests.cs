using Adapters.Hub;

namespace Adapters.Hub.Tests;

public sealed class HubEnvironmentTests : IDisposable
{
    private const string Home = "/home/ada";
    private readonly string _scratch = Directory.CreateTempSubdirectory("adapters-hubenv-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static HubEnvironment Resolve(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return HubEnvironment.Resolve(name => map.GetValueOrDefault(name), Home);
    }

    [Fact]
    public void Defaults_match_python_huggingface_hub()
    {
        var env = Resolve();

        Assert.Equal("https://huggingface.co", env.Endpoint);
        Assert.Equal("/home/ada/.cache/huggingface", env.HfHome);
        Assert.Equal("/home/ada/.cache/huggingface/hub", env.HubCacheDirectory);
        Assert.Equal("/home/ada/.cache/huggingface/token", env.TokenPath);
        Assert.Null(env.Token);
        Assert.Equal(TokenSource.None, env.TokenSource);
        Assert.False(env.Offline);
    }

    [Fact]
    public void Cache_order_is_hub_cache_then_legacy_then_hf_home_then_xdg()
    {
        Assert.Equal("/a", Resolve(("HF_HUB_CACHE", "/a"), ("HUGGINGFACE_HUB_CACHE", "/b"), ("HF_HOME", "/c")).HubCacheDirectory);
        Assert.Equal("/b", Resolve(("HUGGINGFACE_HUB_CACHE", "/b"), ("HF_HOME", "/c")).HubCacheDirectory);
        Assert.Equal("/c/hub", Resolve(("HF_HOME", "/c"), ("XDG_CACHE_HOME", "/x")).HubCacheDirectory);
        Assert.Equal("/x/huggingface/hub", Resolve(("XDG_CACHE_HOME", "/x")).HubCacheDirectory);
    }

    [Fact]
    public void Paths_expand_variables_and_tilde_like_python()
    {
        var env = Resolve(("HF_HOME", "~/hf"), ("HF_HUB_CACHE", "$SCRATCH/${KIND}/cache"), ("SCRATCH", "/scratch"), ("KIND", "models"));

        Assert.Equal("/home/ada/hf", env.HfHome);
        Assert.Equal("/scratch/models/cache", env.HubCacheDirectory);
        Assert.Equal("$UNSET/x", Resolve(("HF_HUB_CACHE", "$UNSET/x")).HubCacheDirectory);
    }

    [Fact]
    public void Endpoint_loses_its_trailing_slash()
    {
        Assert.Equal("http://127.0.0.1:8080", Resolve(("HF_ENDPOINT", "http://127.0.0.1:8080/")).Endpoint);
    }

    [Fact]
    public void Token_comes_from_hf_token_then_legacy_variable_then_file()
    {
        var tokenFile = Path.Combine(_scratch, "token");
        File.WriteAllText(tokenFile, "  hf_file\r\n");

        var fromVariable = Resolve(("HF_TOKEN", "hf_var"), ("HUGGING_FACE_HUB_TOKEN", "hf_legacy"), ("HF_TOKEN_PATH", tokenFile));
        Assert.Equal(("hf_var", TokenSource.HfTokenVariable), (fromVariable.Token, fromVariable.TokenSource));

        var fromLegacy = Resolve(("HUGGING_FACE_HUB_TOKEN", "hf_legacy"), ("HF_TOKEN_PATH", tokenFile));
        Assert.Equal(("hf_legacy", TokenSource.LegacyTokenVariable), (fromLegacy.Token, fromLegacy.TokenSource));

        var fromFile = Resolve(("HF_TOKEN_PATH", tokenFile));
        Assert.Equal(("hf_file", TokenSource.TokenFile), (fromFile.Token, fromFile.TokenSource));

        var fromHome = Resolve(("HF_HOME", _scratch));
        Assert.Equal(("hf_file", TokenSource.TokenFile), (fromHome.Token, fromHome.TokenSource));
    }

    [Fact]
    public void An_empty_token_file_means_no_token()
    {
        File.WriteAllText(Path.Combine(_scratch, "token"), "\n \n");

        var env = Resolve(("HF_HOME", _scratch));

        Assert.Null(env.Token);
        Assert.Equal(TokenSource.None, env.TokenSource);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("on", true)]
    [InlineData("Yes", true)]
    [InlineData("TRUE", true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("y", false)]
    public void Offline_accepts_python_truthy_values(string value, bool expected)
    {
        Assert.Equal(expected, Resolve(("HF_HUB_OFFLINE", value)).Offline);
        Assert.Equal(expected, Resolve(("TRANSFORMERS_OFFLINE", value)).Offline);
    }
}
