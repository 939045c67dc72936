using System.CommandLine;
using Adapters.Hub.Cli.Help;
using Adapters.Registry.Accounts;
using Adapters.Registry.Auth;

namespace Adapters.Hub.Cli.Commands;

/// <summary>
/// <c>adapters-hub registry create-user|create-org|add-member|create-token|list-tokens|revoke-token|grant|revoke-grant</c>:
/// administers the accounts of a registry that <c>serve</c> runs, in the same metadata store (<c>--root</c>'s
/// SQLite file or <c>--postgres</c>), so a change reaches every running replica at once.
/// </summary>
internal static class RegistryCommand
{
    public static Command Create()
    {
        var command = new Command("registry", "Administer the users, organizations, grants and tokens of a registry that 'serve' runs.");
        command.Subcommands.Add(CreateAccount("create-user", "Add a user (a namespace for repositories; tokens act for users).", org: false));
        command.Subcommands.Add(CreateAccount("create-org", "Add an organization (a namespace whose members get access by role).", org: true));
        command.Subcommands.Add(CreateAddMember());
        command.Subcommands.Add(CreateToken());
        command.Subcommands.Add(CreateListTokens());
        command.Subcommands.Add(CreateRevokeToken());
        command.Subcommands.Add(CreateGrant());
        command.Subcommands.Add(CreateRevokeGrant());
        command.WithExamples(
            "adapters-hub registry create-user alice --root ./registry",
            "adapters-hub registry create-org lab --root ./registry",
            "adapters-hub registry add-member lab alice --role write --root ./registry",
            "adapters-hub registry create-token alice --name laptop --scope write --root ./registry",
            $"{ServeCommand.PostgresVariable}='Host=db;Database=registry' adapters-hub registry grant lab/secret-model bob --access read");
        return command;
    }

    /// <summary>Where the accounts are: the options every subcommand takes.</summary>
    private sealed class StoreOptions
    {
        public Option<string?> Root { get; } = new("--root") { Description = "The folder 'serve --root' uses (its registry.db holds the accounts)." };

        public Option<string?> Postgres { get; } = new("--postgres") { Description = $"The PostgreSQL database 'serve --postgres' uses, an Npgsql connection string. Default: ${ServeCommand.PostgresVariable}." };

        public void AddTo(Command command)
        {
            command.Options.Add(Root);
            command.Options.Add(Postgres);
        }

        public RegistryAccounts Open(ParseResult parseResult)
        {
            var postgres = parseResult.GetValue(Postgres) is { Length: > 0 } given ? given
                : Environment.GetEnvironmentVariable(ServeCommand.PostgresVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
            if (postgres is not null) return RegistryAccounts.OpenPostgres(postgres);
            return parseResult.GetValue(Root) is { Length: > 0 } root
                ? RegistryAccounts.OpenSqlite(root)
                : throw new ArgumentException($"Name the registry: --root DIR (SQLite) or --postgres CONNECTION (or ${ServeCommand.PostgresVariable}), as given to 'serve'.");
        }
    }

    private static Command CreateAccount(string verb, string description, bool org)
    {
        var store = new StoreOptions();
        var name = new Argument<string>("name") { Description = "The account name: letters, digits, '-', '_' and '.'." };
        var fullName = new Option<string?>("--fullname") { Description = "The name shown by whoami (default: the account name)." };
        var command = new Command(verb, description) { name, fullName };
        store.AddTo(command);
        command.SetAction((parseResult, _) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            using var accounts = store.Open(parseResult);
            var account = parseResult.GetValue(name)!;
            if (org) accounts.CreateOrganization(account, parseResult.GetValue(fullName));
            else accounts.CreateUser(account, parseResult.GetValue(fullName));
            await parseResult.InvocationConfiguration.Output.WriteLineAsync($"Created {(org ? "organization" : "user")} {account} in {accounts.Description}.").ConfigureAwait(false);
            return 0;
        }));
        command.WithExamples(org ? "adapters-hub registry create-org lab --fullname \"The Lab\" --root ./registry" : "adapters-hub registry create-user alice --fullname \"Alice L.\" --root ./registry");
        return command;
    }

    private static Command CreateAddMember()
    {
        var store = new StoreOptions();
        var organization = new Argument<string>("organization") { Description = "The organization." };
        var user = new Argument<string>("user") { Description = "The user to add (or whose role to change)." };
        var role = new Option<string>("--role") { Description = "read (read private repos), write (also create and push) or admin (also delete).", DefaultValueFactory = _ => "read" };
        role.AcceptOnlyFromAmong("read", "write", "admin");
        var command = new Command("add-member", "Make a user a member of an organization with a role, or change the role.") { organization, user, role };
        store.AddTo(command);
        command.SetAction((parseResult, _) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            using var accounts = store.Open(parseResult);
            var chosen = Enum.Parse<OrganizationRole>(parseResult.GetValue(role)!, ignoreCase: true);
            accounts.AddMember(parseResult.GetValue(organization)!, parseResult.GetValue(user)!, chosen);
            await parseResult.InvocationConfiguration.Output.WriteLineAsync($"{parseResult.GetValue(user)} is a member of {parseResult.GetValue(organization)} with the {parseResult.GetValue(role)} role.").ConfigureAwait(false);
            return 0;
        }));
        command.WithExamples("adapters-hub registry add-member lab alice --role write --root ./registry", "adapters-hub registry add-member lab bob --role read --postgres 'Host=db;Database=registry'");
        return command;
    }

    private static Option<string> LevelOption(string name, string description)
    {
        var option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => "read" };
        option.AcceptOnlyFromAmong("read", "write");
        return option;
    }

    private static Command CreateToken()
    {
        var store = new StoreOptions();
        var user = new Argument<string>("user") { Description = "The user the token acts for." };
        var name = new Option<string>("--name") { Description = "A name to recognise the token by (listings, whoami).", Required = true };
        var scope = LevelOption("--scope", "read, or write (also create, push and delete where the user may).");
        var command = new Command("create-token", "Create a token for a user and print its secret once (only its SHA-256 is stored).") { user, name, scope };
        store.AddTo(command);
        command.SetAction((parseResult, _) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            using var accounts = store.Open(parseResult);
            var issued = accounts.CreateToken(parseResult.GetValue(user)!, parseResult.GetValue(name)!, Enum.Parse<AccessLevel>(parseResult.GetValue(scope)!, ignoreCase: true));
            var output = parseResult.InvocationConfiguration.Output;
            await output.WriteLineAsync($"Token {issued.Id} for {issued.Account} ({parseResult.GetValue(scope)}). Its secret, shown only now:").ConfigureAwait(false);
            await output.WriteLineAsync(issued.Secret).ConfigureAwait(false);
            return 0;
        }));
        command.WithExamples("adapters-hub registry create-token alice --name laptop --scope write --root ./registry", "adapters-hub registry create-token ci-bot --name nightly --scope read --root ./registry");
        return command;
    }

    private static Command CreateListTokens()
    {
        var store = new StoreOptions();
        var user = new Argument<string?>("user") { Description = "Only this user's tokens (default: everyone's).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("list-tokens", "List tokens (id, user, name, scope, created, revoked); never a secret.") { user };
        store.AddTo(command);
        command.SetAction((parseResult, _) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            using var accounts = store.Open(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            await output.WriteLineAsync($"{"ID",-20} {"USER",-20} {"NAME",-20} {"SCOPE",-6} {"CREATED",-20} REVOKED").ConfigureAwait(false);
            foreach (var token in accounts.ListTokens(parseResult.GetValue(user)))
            {
                await output.WriteLineAsync($"{token.Id,-20} {token.Account,-20} {token.DisplayName,-20} {token.Scope.ToString().ToLowerInvariant(),-6} {token.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}  {(token.RevokedAt is { } revoked ? revoked.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) : "-")}").ConfigureAwait(false);
            }
            return 0;
        }));
        command.WithExamples("adapters-hub registry list-tokens --root ./registry", "adapters-hub registry list-tokens alice --root ./registry");
        return command;
    }

    private static Command CreateRevokeToken()
    {
        var store = new StoreOptions();
        var id = new Argument<string>("id") { Description = "The token's id (tok_..., from create-token or list-tokens)." };
        var command = new Command("revoke-token", "Revoke a token; every replica refuses it from the next request on.") { id };
        store.AddTo(command);
        command.SetAction((parseResult, _) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            using var accounts = store.Open(parseResult);
            var token = parseResult.GetValue(id)!;
            if (!accounts.RevokeToken(token)) throw new RegistryAccountException($"No valid token has the id '{token}' in {accounts.Description}.");
            await parseResult.InvocationConfiguration.Output.WriteLineAsync($"Revoked {token}.").ConfigureAwait(false);
            return 0;
        }));
        command.WithExamples("adapters-hub registry revoke-token tok_0123456789abcdef --root ./registry");
        return command;
    }

    private static Option<string> RepoTypeOption()
    {
        var option = new Option<string>("--repo-type") { Description = "model, dataset or space.", DefaultValueFactory = _ => "model" };
        option.AcceptOnlyFromAmong("model", "dataset", "space");
        return option;
    }

    private static Command CreateGrant()
    {
        var store = new StoreOptions();
        var repo = new Argument<string>("repo") { Description = "The repository id (namespace/name)." };
        var principal = new Argument<string>("principal") { Description = "A user, or an organization whose members get it up to their role." };
        var access = LevelOption("--access", "read, or write (push, branches, tags, pull requests).");
        var repoType = RepoTypeOption();
        var command = new Command("grant", "Give a user or an organization read or write access to one repository.") { repo, principal, access, repoType };
        store.AddTo(command);
        command.SetAction((parseResult, _) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            using var accounts = store.Open(parseResult);
            accounts.Grant(RepoTypeExtensions.Parse(parseResult.GetValue(repoType)!), parseResult.GetValue(repo)!, parseResult.GetValue(principal)!,
                Enum.Parse<AccessLevel>(parseResult.GetValue(access)!, ignoreCase: true));
            await parseResult.InvocationConfiguration.Output.WriteLineAsync($"{parseResult.GetValue(principal)} has {parseResult.GetValue(access)} access to {parseResult.GetValue(repo)}.").ConfigureAwait(false);
            return 0;
        }));
        command.WithExamples("adapters-hub registry grant lab/secret-model bob --access read --root ./registry", "adapters-hub registry grant lab/eval-set lab --access write --repo-type dataset --root ./registry");
        return command;
    }

    private static Command CreateRevokeGrant()
    {
        var store = new StoreOptions();
        var repo = new Argument<string>("repo") { Description = "The repository id (namespace/name)." };
        var principal = new Argument<string>("principal") { Description = "The user or organization." };
        var repoType = RepoTypeOption();
        var command = new Command("revoke-grant", "Remove what 'grant' gave.") { repo, principal, repoType };
        store.AddTo(command);
        command.SetAction((parseResult, _) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            using var accounts = store.Open(parseResult);
            if (!accounts.RevokeGrant(RepoTypeExtensions.Parse(parseResult.GetValue(repoType)!), parseResult.GetValue(repo)!, parseResult.GetValue(principal)!))
            {
                throw new RegistryAccountException($"{parseResult.GetValue(principal)} has no grant on {parseResult.GetValue(repo)}.");
            }
            await parseResult.InvocationConfiguration.Output.WriteLineAsync($"Removed the grant of {parseResult.GetValue(principal)} on {parseResult.GetValue(repo)}.").ConfigureAwait(false);
            return 0;
        }));
        command.WithExamples("adapters-hub registry revoke-grant lab/secret-model bob --root ./registry");
        return command;
    }
}
