using System.Net;
using System.Net.Http.Headers;
using Adapters.Hub;
using Adapters.Hub.Upload;
using Adapters.Registry.Accounts;
using Adapters.Registry.Auth;
using Adapters.Registry.Storage.Metadata;
using Adapters.Registry.Tests.Backends;

namespace Adapters.Registry.Tests.Accounts;

/// <summary>
/// Users, organisations, grants and tokens administered through <see cref="RegistryAccounts"/> on the store a
/// running registry uses, and the registry answering as the Hub does: whoami from the database, private
/// repositories invisible (404) to those without access, writes without permission 403, revocation at once.
/// Run on every backend (SuitesOnBackends.cs).
/// </summary>
public abstract class AccountTests(RegistryBackend backend) : BackendSuite(backend)
{
    private sealed record Team(ServeTestHost Host, RegistryAccounts Accounts, RegistryServerOptions Options) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Accounts.Dispose();
            await Host.DisposeAsync();
        }
    }

    /// <summary>A registry on this backend and the accounts of its store, opened the way the admin command opens them.</summary>
    private async Task<Team> StartTeamAsync()
    {
        var configure = await Backend.PrepareAsync();
        var host = await ServeTestHost.StartAsync(customize: configure);
        var options = configure(new RegistryServerOptions { RootDirectory = host.Root });
        var accounts = options.PostgresConnectionString is { } postgres ? RegistryAccounts.OpenPostgres(postgres) : RegistryAccounts.OpenSqlite(host.Root);
        return new Team(host, accounts, options);
    }

    private static HttpClient Http(ServeTestHost host, string? token)
    {
        var http = new HttpClient { BaseAddress = host.Server.Endpoint };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    [Fact]
    public async Task Whoami_answers_from_the_database_with_the_users_organisations_and_token_scope()
    {
        await using var team = await StartTeamAsync();
        team.Accounts.CreateUser("alice", "Alice Liddell");
        team.Accounts.CreateOrganization("wonderland");
        team.Accounts.AddMember("wonderland", "alice", OrganizationRole.Admin);
        var token = team.Accounts.CreateToken("alice", "laptop", AccessLevel.Read);

        Assert.StartsWith("adh_", token.Secret, StringComparison.Ordinal);
        var me = await team.Host.Client(token.Secret).Repositories.WhoAmIAsync();
        Assert.Equal("alice", me.Name);
        Assert.Equal("Alice Liddell", me.FullName);
        Assert.Equal("wonderland", Assert.Single(me.Organizations).Name);
        Assert.Equal("laptop", me.Auth?.AccessToken?.DisplayName);
        Assert.Equal("read", me.Auth?.AccessToken?.Role);

        // A value that is not a token of this registry is refused, whatever its shape.
        using var forged = Http(team.Host, "adh_" + new string('0', 64));
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync("api/whoami-v2")).StatusCode);
    }

    [Fact]
    public async Task Tokens_are_stored_as_sha256_only_and_a_revoked_token_is_refused_at_once()
    {
        await using var team = await StartTeamAsync();
        team.Accounts.CreateUser("bob");
        var token = team.Accounts.CreateToken("bob", "ci", AccessLevel.Write);
        using var http = Http(team.Host, token.Secret);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/whoami-v2")).StatusCode);

        var listed = Assert.Single(team.Accounts.ListTokens("bob"));
        Assert.Equal((token.Id, "bob", "ci", AccessLevel.Write, (DateTimeOffset?)null), (listed.Id, listed.Account, listed.DisplayName, listed.Scope, listed.RevokedAt));
        Assert.DoesNotContain(token.Secret, listed.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(token.Secret, token.ToString(), StringComparison.Ordinal);
        Assert.False(StoreHolds(team, token.Secret), "the secret itself is in the metadata store");
        Assert.True(StoreHolds(team, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token.Secret)))));

        Assert.True(team.Accounts.RevokeToken(token.Id));
        Assert.False(team.Accounts.RevokeToken(token.Id));
        Assert.NotNull(Assert.Single(team.Accounts.ListTokens("bob")).RevokedAt);
        var refused = await http.GetAsync("api/whoami-v2");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("Invalid credentials", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Private_repositories_are_404_to_other_users_and_anonymous_callers_while_members_and_grantees_see_them()
    {
        await using var team = await StartTeamAsync();
        var accounts = team.Accounts;
        foreach (var user in new[] { "owner", "member", "outsider", "guest" }) accounts.CreateUser(user);
        accounts.CreateOrganization("lab");
        accounts.AddMember("lab", "owner", OrganizationRole.Write);
        accounts.AddMember("lab", "member", OrganizationRole.Read);
        var owner = accounts.CreateToken("owner", "t", AccessLevel.Write).Secret;
        var member = accounts.CreateToken("member", "t", AccessLevel.Write).Secret;
        var outsider = accounts.CreateToken("outsider", "t", AccessLevel.Write).Secret;
        var guest = accounts.CreateToken("guest", "t", AccessLevel.Read).Secret;

        var ownerClient = team.Host.Client(owner);
        await ownerClient.Repositories.CreateRepoAsync("lab/secret", isPrivate: true);
        await ownerClient.Commits.CreateCommitAsync("lab/secret", [CommitOperation.AddBytes("notes.txt", "classified"u8.ToArray())], "Add notes");
        await ownerClient.Repositories.CreateRepoAsync("lab/open");

        // The outsider and an anonymous caller cannot tell the private repository from a missing one.
        var hidden = await Assert.ThrowsAsync<RepositoryNotFoundException>(() => team.Host.Client(outsider).Repositories.ModelInfoAsync("lab/secret"));
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        using (var outsiderHttp = Http(team.Host, outsider))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await outsiderHttp.GetAsync("lab/secret/resolve/main/notes.txt")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await outsiderHttp.GetAsync("api/models/lab/secret/tree/main")).StatusCode);
            var listing = await outsiderHttp.GetStringAsync("api/models?author=lab");
            Assert.Contains("lab/open", listing, StringComparison.Ordinal);
            Assert.DoesNotContain("lab/secret", listing, StringComparison.Ordinal);
        }
        using (var anonymous = Http(team.Host, null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/models/lab/secret")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("api/models/lab/open")).StatusCode);
        }

        // A member of the organisation reads it; a grant lets the guest read it too.
        var pulled = await team.Host.Client(member).Files.DownloadFileAsync("lab/secret", "notes.txt");
        Assert.Equal("classified", await File.ReadAllTextAsync(pulled));
        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => team.Host.Client(guest).Repositories.ModelInfoAsync("lab/secret"));
        accounts.Grant(RepoType.Model, "lab/secret", "guest", AccessLevel.Read);
        Assert.Equal("lab/secret", (await team.Host.Client(guest).Repositories.ModelInfoAsync("lab/secret")).Id);
        using (var guestHttp = Http(team.Host, guest))
        {
            Assert.Contains("lab/secret", await guestHttp.GetStringAsync("api/models?author=lab"), StringComparison.Ordinal);
        }
        Assert.True(accounts.RevokeGrant(RepoType.Model, "lab/secret", "guest"));
        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => team.Host.Client(guest).Repositories.ModelInfoAsync("lab/secret"));
    }

    [Fact]
    public async Task Writing_without_permission_is_403_and_a_write_grant_or_role_allows_it()
    {
        await using var team = await StartTeamAsync();
        var accounts = team.Accounts;
        foreach (var user in new[] { "owner", "reader", "writer", "helper" }) accounts.CreateUser(user);
        accounts.CreateOrganization("lab");
        accounts.AddMember("lab", "owner", OrganizationRole.Admin);
        accounts.AddMember("lab", "reader", OrganizationRole.Read);
        accounts.AddMember("lab", "writer", OrganizationRole.Write);
        var owner = team.Host.Client(accounts.CreateToken("owner", "t", AccessLevel.Write).Secret);
        var reader = team.Host.Client(accounts.CreateToken("reader", "t", AccessLevel.Write).Secret);
        var writer = team.Host.Client(accounts.CreateToken("writer", "t", AccessLevel.Write).Secret);
        var writerReadOnly = team.Host.Client(accounts.CreateToken("writer", "read-only", AccessLevel.Read).Secret);
        var helperSecret = accounts.CreateToken("helper", "t", AccessLevel.Write).Secret;
        var helper = team.Host.Client(helperSecret);
        await owner.Repositories.CreateRepoAsync("lab/model");
        Task<CommitInfo> Push(HubClient client, string name) =>
            client.Commits.CreateCommitAsync("lab/model", [CommitOperation.AddBytes(name, System.Text.Encoding.UTF8.GetBytes(name))], $"Add {name}");

        // Read role, a read-scoped token, and a user with no tie to the repository: 403 (the repository is public).
        Assert.Equal(HttpStatusCode.Forbidden, (await Assert.ThrowsAnyAsync<HubHttpException>(() => Push(reader, "r.txt"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Assert.ThrowsAnyAsync<HubHttpException>(() => Push(writerReadOnly, "w.txt"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Assert.ThrowsAnyAsync<HubHttpException>(() => Push(helper, "h.txt"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Assert.ThrowsAnyAsync<HubHttpException>(() => reader.Repositories.CreateRepoAsync("lab/other"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Assert.ThrowsAnyAsync<HubHttpException>(() => helper.Repositories.CreateRepoAsync("owner/mine"))).StatusCode);

        // The write role and a write grant allow commits; only the owner's admin role allows deleting.
        await Push(writer, "w.txt");
        accounts.Grant(RepoType.Model, "lab/model", "helper", AccessLevel.Write);
        await Push(helper, "h.txt");
        await helper.Repositories.CreateRepoAsync("helper/own");
        Assert.Equal(HttpStatusCode.Forbidden, (await Assert.ThrowsAnyAsync<HubHttpException>(() => writer.Repositories.DeleteRepoAsync("lab/model"))).StatusCode);
        var files = (await owner.Repositories.ModelInfoAsync("lab/model")).Siblings.Select(s => s.RelativeFileName).Where(f => f.EndsWith(".txt", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal(["h.txt", "w.txt"], files);

        // Deleting the repository takes its grants with it: a new repository of that name grants nothing.
        await owner.Repositories.DeleteRepoAsync("lab/model");
        await owner.Repositories.CreateRepoAsync("lab/model");
        Assert.Equal(HttpStatusCode.Forbidden, (await Assert.ThrowsAnyAsync<HubHttpException>(() => Push(helper, "again.txt"))).StatusCode);
    }

    [Fact]
    public async Task Once_an_account_exists_anonymous_callers_may_read_but_not_write_and_configured_tokens_still_work()
    {
        var configure = await Backend.PrepareAsync();
        await using var host = await ServeTestHost.StartAsync(tokens: ["write:hf_admin"], customize: configure);
        var options = configure(new RegistryServerOptions { RootDirectory = host.Root });
        using var accounts = options.PostgresConnectionString is { } postgres ? RegistryAccounts.OpenPostgres(postgres) : RegistryAccounts.OpenSqlite(host.Root);
        accounts.CreateUser("carol");
        var carol = host.Client(accounts.CreateToken("carol", "t", AccessLevel.Write).Secret);

        // The configured token acts on every repository, the account on its own namespace.
        var admin = host.Client("hf_admin");
        await admin.Repositories.CreateRepoAsync("carol/private-by-admin", isPrivate: true);
        Assert.Equal("carol/private-by-admin", (await carol.Repositories.ModelInfoAsync("carol/private-by-admin")).Id);
        await carol.Repositories.CreateRepoAsync("carol/mine", isPrivate: true);
        Assert.Equal("carol/mine", (await admin.Repositories.ModelInfoAsync("carol/mine")).Id);
        Assert.Equal("local", (await admin.Repositories.WhoAmIAsync()).Name);

        using var anonymous = Http(host, null);
        using var create = await anonymous.PostAsync("api/repos/create", new StringContent("{\"name\":\"x\",\"organization\":\"carol\"}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, create.StatusCode);
    }

    [Fact]
    public async Task Admin_errors_name_what_is_wrong()
    {
        await using var team = await StartTeamAsync();
        var accounts = team.Accounts;
        accounts.CreateUser("dave");
        Assert.Contains("exists already", Assert.Throws<RegistryAccountException>(() => accounts.CreateOrganization("DAVE")).Message, StringComparison.Ordinal);
        Assert.Contains("not a valid user name", Assert.Throws<ArgumentException>(() => accounts.CreateUser("bad name")).Message, StringComparison.Ordinal);
        Assert.Contains("no organization", Assert.Throws<RegistryAccountException>(() => accounts.AddMember("nowhere", "dave", OrganizationRole.Read)).Message, StringComparison.Ordinal);
        Assert.Contains("is not a user", Assert.Throws<RegistryAccountException>(() => { accounts.CreateOrganization("org"); accounts.CreateToken("org", "t", AccessLevel.Read); }).Message, StringComparison.Ordinal);
        Assert.Contains("No user or organization", Assert.Throws<RegistryAccountException>(() => accounts.Grant(RepoType.Model, "org/x", "ghost", AccessLevel.Read)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => accounts.Grant(RepoType.Model, "a/b/c", "dave", AccessLevel.Read));
    }

    /// <summary>Whether any column of any row of the <c>tokens</c> table holds <paramref name="text"/>, read straight from the database.</summary>
    private static bool StoreHolds(Team team, string text)
    {
        using SqlDialect dialect = team.Options.PostgresConnectionString is { } postgres
            ? new PostgresDialect(postgres)
            : new SqliteDialect(Path.Combine(team.Host.Root, "registry.db"));
        using var connection = dialect.Open();
        using var command = SqlDialect.Command(connection, null, "SELECT * FROM tokens");
        using var reader = command.ExecuteReader();
        var rows = 0;
        var found = false;
        while (reader.Read())
        {
            rows++;
            for (var i = 0; i < reader.FieldCount; i++) found |= !reader.IsDBNull(i) && Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!.Contains(text, StringComparison.Ordinal);
        }
        Assert.True(rows > 0, "the tokens table is empty");
        return found;
    }
}
