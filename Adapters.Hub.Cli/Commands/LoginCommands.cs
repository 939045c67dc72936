using System.CommandLine;
using Adapters.Hub.Cli.Help;
using Adapters.Hub.Cli.Logging;
using System.Text.Json;

namespace Adapters.Hub.Cli.Commands;

/// <summary><c>login</c>, <c>logout</c> and <c>whoami</c>: the token file Python's <c>hf auth login</c> also uses.</summary>
internal static class LoginCommands
{
    public static Command CreateLogin()
    {
        var token = new Option<string?>("--token") { Description = "The token to store; read from standard input when omitted." };
        var endpoint = new Option<string?>("--endpoint") { Description = "Hub URL to check the token against (default: HF_ENDPOINT)." };
        var command = new Command("login", "Check a token with whoami, then store it at $HF_HOME/token (mode 0600) for this tool and Python.")
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

            TokenFile.Write(environment.TokenPath, value);
            await parseResult.InvocationConfiguration.Output.WriteLineAsync(
                $"Logged in as {me.Name} (token '{me.Auth?.AccessToken?.DisplayName ?? "unnamed"}', role {me.Auth?.AccessToken?.Role ?? "unknown"}); token saved to {environment.TokenPath}.").ConfigureAwait(false);
            return 0;
        }));
        command.WithExamples("adapters-hub login --token hf_...", "echo \"$HF_TOKEN\" | adapters-hub login", "adapters-hub login --endpoint http://127.0.0.1:8787 --token hf_...");
        return command;
    }

    public static Command CreateLogout()
    {
        var command = new Command("logout", "Delete the stored token file ($HF_HOME/token). HF_TOKEN, if set, still applies.");
        command.SetAction(parseResult => CommandErrors.Guard(parseResult, () =>
        {
            var path = HubEnvironment.FromProcess().TokenPath;
            var existed = File.Exists(path);
            if (existed) File.Delete(path);
            parseResult.InvocationConfiguration.Output.WriteLine(existed ? $"Removed {path}." : $"No token file at {path}; nothing to do.");
            return 0;
        }));
        command.WithExamples("adapters-hub logout");
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
