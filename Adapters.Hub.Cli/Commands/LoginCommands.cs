using System.CommandLine;
using Adapters.Hub.Cli.Help;
using Adapters.Hub.Cli.Logging;
using System.Text.Json;
using Adapters.Hub.Auth;

namespace Adapters.Hub.Cli.Commands;

/// <summary><c>login</c>, <c>logout</c> and <c>whoami</c>: the token file Python's <c>hf auth login</c> also uses.</summary>
internal static class LoginCommands
{
    public static Command CreateLogin()
    {
        var token = new Option<string?>("--token") { Description = "The token to store; read from standard input when omitted." };
        var endpoint = new Option<string?>("--endpoint") { Description = "Hub URL to check the token against (default: HF_ENDPOINT)." };
        var command = new Command("login", "Check a token with whoami, then save it under its name in $HF_HOME/stored_tokens and make it the active token ($HF_HOME/token, mode 0600), as Python does.")
        {
            token, endpoint,
        };
        command.SetAction((parseResult, cancellationToken) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            var value = parseResult.GetValue(token) ?? (await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false))?.Trim();
            if (string.IsNullOrEmpty(value)) throw new ArgumentException("No token given: pass --token or write it to standard input.");

            var environment = HubEnvironment.FromProcess();
            var options = HubClientOptions.FromEnvironment(environment);
            options.Token = value;
            if (parseResult.GetValue(endpoint) is { Length: > 0 } url) options.Endpoint = new Uri(url);
            options.LoggerFactory = CliLogging.CreateFactory(parseResult);
            using var client = new HubClient(options);
            var me = await client.Repositories.WhoAmIAsync(cancellationToken).ConfigureAwait(false);

            // Python 1.x names the token after whoami's displayName, and OAuth tokens "oauth-<user>".
            var tokenName = me.Auth?.AccessToken?.DisplayName is { Length: > 0 } displayName ? displayName : $"oauth-{me.Name}";
            var store = new TokenStore(environment.TokenPath);
            store.Save(tokenName, value);
            await parseResult.InvocationConfiguration.Output.WriteLineAsync(
                $"Logged in as {me.Name} (token '{tokenName}', role {me.Auth?.AccessToken?.Role ?? "unknown"}); token saved to {store.TokenPath} and {store.StoredTokensPath}.").ConfigureAwait(false);
            return 0;
        }));
        command.WithExamples("adapters-hub login --token hf_...", "echo \"$HF_TOKEN\" | adapters-hub login", "adapters-hub login --endpoint http://127.0.0.1:8787 --token hf_...");
        return command;
    }

    public static Command CreateLogout()
    {
        var tokenName = new Option<string?>("--token-name") { Description = "Forget only this saved token (and the active token file if it holds it)." };
        var command = new Command("logout", "Delete the active token ($HF_HOME/token) and every saved token ($HF_HOME/stored_tokens), or with --token-name only that one, as Python does. HF_TOKEN, if set, still applies.")
        {
            tokenName,
        };
        command.SetAction(parseResult => CommandErrors.Guard(parseResult, () =>
        {
            var store = new TokenStore(HubEnvironment.FromProcess().TokenPath);
            var changed = store.Logout(parseResult.GetValue(tokenName));
            parseResult.InvocationConfiguration.Output.WriteLine(changed.Count == 0
                ? $"No token file at {store.TokenPath} and no {store.StoredTokensPath}; nothing to do."
                : $"Removed the token(s): {string.Join(", ", changed)}.");
            return 0;
        }));
        command.WithExamples("adapters-hub logout", "adapters-hub logout --token-name my-laptop");
        return command;
    }

    public static Command CreateWhoAmI()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var hub = new HubConnectionOptions();
        var command = new Command("whoami", "Show the account the token belongs to.") { json };
        hub.AddTo(command, includeCache: false);
        command.SetAction((parseResult, cancellationToken) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            using var client = new HubClient(hub.Resolve(parseResult));
            var me = await client.Repositories.WhoAmIAsync(cancellationToken).ConfigureAwait(false);
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    name = me.Name,
                    type = me.Type,
                    orgs = me.Organizations.Select(o => o.Name),
                    tokenName = me.Auth?.AccessToken?.DisplayName,
                    role = me.Auth?.AccessToken?.Role,
                }, CliJson.Options)).ConfigureAwait(false);
            }
            else
            {
                await output.WriteLineAsync(me.Name).ConfigureAwait(false);
                if (me.Organizations.Count > 0) await output.WriteLineAsync("orgs: " + string.Join(",", me.Organizations.Select(o => o.Name))).ConfigureAwait(false);
            }
            return 0;
        }));
        command.WithExamples("adapters-hub whoami", "adapters-hub whoami --json", "adapters-hub whoami --endpoint http://127.0.0.1:8787 --token hf_...");
        return command;
    }
}
