using System.CommandLine;

namespace Adapters.Hub.Cli.Commands;

/// <summary>
/// The connection options of <c>pull</c> (<c>--endpoint</c>, <c>--cache-dir</c>, <c>--token</c>,
/// <c>--offline</c>); anything not given comes from the environment exactly as Python reads it.
/// </summary>
internal sealed class PullConnectionOptions
{
    private readonly Option<string> _endpoint = new("--endpoint") { Description = "Hub URL (default: HF_ENDPOINT or https://huggingface.co); http:// is allowed." };
    private readonly Option<string> _cacheDir = new("--cache-dir") { Description = "Cache folder (default: HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub)." };
    private readonly Option<string> _token = new("--token") { Description = "Access token (default: HF_TOKEN, then $HF_HOME/token)." };
    private readonly Option<bool> _offline = new("--offline") { Description = "Use only the cache (as HF_HUB_OFFLINE=1)." };

    public void AddTo(Command command)
    {
        command.Options.Add(_endpoint);
        command.Options.Add(_cacheDir);
        command.Options.Add(_token);
        command.Options.Add(_offline);
    }

    public HubClientOptions Resolve(ParseResult parseResult)
    {
        var options = HubClientOptions.FromEnvironment();
        if (parseResult.GetValue(_endpoint) is { Length: > 0 } endpoint)
        {
            if (!Uri.TryCreate(endpoint.TrimEnd('/'), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"--endpoint '{endpoint}' is not an absolute http(s) URL.");
            }
            options.Endpoint = uri;
        }
        if (parseResult.GetValue(_cacheDir) is { Length: > 0 } cacheDir) options.CacheDirectory = Path.GetFullPath(cacheDir);
        if (parseResult.GetValue(_token) is { Length: > 0 } token) options.Token = token;
        if (parseResult.GetValue(_offline)) options.Offline = true;
        return options;
    }
}
