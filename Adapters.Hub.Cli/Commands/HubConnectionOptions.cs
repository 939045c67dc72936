using System.CommandLine;
using Adapters.Hub.Cli.Logging;

namespace Adapters.Hub.Cli.Commands;

/// <summary>The options every verb that talks to a Hub shares: <c>--endpoint</c>, <c>--token</c>, <c>--cache-dir</c>, <c>--offline</c>.</summary>
internal sealed class HubConnectionOptions
{
    public Option<string?> Endpoint { get; } = new("--endpoint") { Description = "Hub URL (default: HF_ENDPOINT, else https://huggingface.co); plain http works for local registries." };

    public Option<string?> Token { get; } = new("--token") { Description = "Access token (default: HF_TOKEN, else the token file written by 'adapters-hub login')." };

    public Option<string?> CacheDir { get; } = new("--cache-dir") { Description = "Hub cache folder (default: HF_HUB_CACHE, else $HF_HOME/hub)." };

    public Option<bool> Offline { get; } = new("--offline") { Description = "Use only the cache; send no request (default: HF_HUB_OFFLINE)." };

    public void AddTo(Command command, bool includeCache = true)
    {
        command.Options.Add(Endpoint);
        command.Options.Add(Token);
        if (includeCache)
        {
            command.Options.Add(CacheDir);
            command.Options.Add(Offline);
        }
    }

    /// <summary>The environment's settings (Python's rules) overridden by whatever was given on the command line.</summary>
    public HubClientOptions Resolve(ParseResult parseResult)
    {
        var options = HubClientOptions.FromEnvironment();
        if (parseResult.GetValue(Endpoint) is { Length: > 0 } endpoint)
        {
            if (!Uri.TryCreate(endpoint.TrimEnd('/'), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"--endpoint '{endpoint}' is not an absolute http(s) URL.");
            }
            options.Endpoint = uri;
        }
        if (parseResult.GetValue(Token) is { Length: > 0 } token) options.Token = token;
        if (parseResult.GetResult(CacheDir) is not null && parseResult.GetValue(CacheDir) is { Length: > 0 } cache) options.CacheDirectory = Path.GetFullPath(cache);
        if (parseResult.GetResult(Offline) is not null && parseResult.GetValue(Offline)) options.Offline = true;
        options.LoggerFactory = CliLogging.CreateFactory(parseResult);
        return options;
    }
}
