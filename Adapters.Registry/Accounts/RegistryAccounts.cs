using System.Data.Common;
using System.Globalization;
using Adapters.Registry.Auth;
using Adapters.Registry.Storage;
using Adapters.Registry.Storage.Metadata;

namespace Adapters.Registry.Accounts;

/// <summary>
/// Users, organisations, memberships, per-repository grants and tokens, kept in the registry's own metadata store
/// (SQLite <c>registry.db</c> under the root, or PostgreSQL) so that every replica sees a change at once. This is
/// what <c>adapters-hub registry</c> administers; a running registry reads the same tables on every request.
/// Once an account exists the registry is no longer open: anyone may still read public repositories, but writing
/// needs a token, and private repositories are visible only to those they belong to or are granted to.
/// Tokens are stored as the SHA-256 of their secret, never the secret.
/// </summary>
public sealed class RegistryAccounts : IDisposable
{
    private readonly SqlDialect _dialect;
    private readonly bool _ownsDialect;

    internal RegistryAccounts(SqlDialect dialect, bool ownsDialect)
    {
        _dialect = dialect;
        _ownsDialect = ownsDialect;
    }

    /// <summary>The accounts of the SQLite registry under <paramref name="rootDirectory"/> (its <c>registry.db</c>, migrated to the current schema).</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static RegistryAccounts OpenSqlite(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootDirectory);
        if (!Directory.Exists(rootDirectory))
        {
            throw new DirectoryNotFoundException($"The registry root '{rootDirectory}' does not exist; give the --root that 'serve' uses.");
        }
        return Open(new SqliteDialect(Path.Combine(rootDirectory, "registry.db")));
    }

    /// <summary>The accounts of the registry whose metadata is in this PostgreSQL database (migrated to the current schema).</summary>
    public static RegistryAccounts OpenPostgres(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return Open(new PostgresDialect(connectionString));
    }

    private static RegistryAccounts Open(SqlDialect dialect)
    {
        try
        {
            SchemaMigrations.Apply(dialect);
            return new RegistryAccounts(dialect, ownsDialect: true);
        }
        catch (DbException ex)
        {
            dialect.Dispose();
            throw new InvalidOperationException($"The registry's metadata in {dialect.Description} cannot be opened: {ex.Message}", ex);
        }
        catch
        {
            dialect.Dispose();
            throw;
        }
    }

    /// <summary>Where the accounts live, for messages (never a password).</summary>
    public string Description => _dialect.Description;

    /// <summary>Adds a user; the name is a Hub namespace and is unique among users and organisations, ignoring case.</summary>
    /// <exception cref="ArgumentException">The name is not a valid namespace.</exception>
    /// <exception cref="RegistryAccountException">A user or organisation of that name exists.</exception>
    public void CreateUser(string name, string? fullName = null) => CreateAccount(name, "user", fullName);

    /// <summary>Adds an organisation (see <see cref="CreateUser"/> for names).</summary>
    public void CreateOrganization(string name, string? fullName = null) => CreateAccount(name, "org", fullName);

    /// <summary>Makes <paramref name="user"/> a member of <paramref name="organization"/> with <paramref name="role"/>, or changes their role.</summary>
    /// <exception cref="RegistryAccountException">The organisation or the user does not exist.</exception>
    public void AddMember(string organization, string user, OrganizationRole role)
    {
        RequireKind(organization, "org", "organization");
        RequireKind(user, "user", "user");
        if (!Enum.IsDefined(role)) throw new ArgumentOutOfRangeException(nameof(role), role, "The role must be read, write or admin.");
        using var connection = _dialect.Open();
        Execute(connection, "INSERT INTO memberships (org_key, member_key, role) VALUES (@p0, @p1, @p2) ON CONFLICT (org_key, member_key) DO UPDATE SET role = excluded.role",
            Key(organization), Key(user), role.ToString().ToLowerInvariant());
    }

    /// <summary>
    /// Creates a token for <paramref name="user"/> that may at most <paramref name="scope"/>; the returned secret is
    /// shown once and only its SHA-256 is stored.
    /// </summary>
    /// <exception cref="RegistryAccountException">The user does not exist (organisations hold no tokens).</exception>
    public IssuedToken CreateToken(string user, string displayName, AccessLevel scope)
    {
        var account = RequireKind(user, "user", "user");
        ArgumentException.ThrowIfNullOrWhiteSpace(displayName);
        if (displayName.Length > 100 || displayName.Any(char.IsControl)) throw new ArgumentException($"Token name '{SafeName(displayName)}' must be at most 100 printable characters.", nameof(displayName));
        if (!Enum.IsDefined(scope)) throw new ArgumentOutOfRangeException(nameof(scope), scope, "The scope must be read or write.");
        var secret = TokenSecrets.NewSecret();
        var id = TokenSecrets.NewId();
        using var connection = _dialect.Open();
        Execute(connection, "INSERT INTO tokens (id, account_key, display_name, scope, secret_sha256, created_at) VALUES (@p0, @p1, @p2, @p3, @p4, @p5)",
            id, Key(user), displayName, scope.ToString().ToLowerInvariant(), TokenSecrets.Hash(secret), Now());
        return new IssuedToken(id, secret, account, scope);
    }

    /// <summary>The tokens of <paramref name="user"/>, or of everyone when it is null, revoked ones included, oldest first.</summary>
    public IReadOnlyList<TokenSummary> ListTokens(string? user = null)
    {
        using var connection = _dialect.Open();
        using var command = SqlDialect.Command(connection, null,
            "SELECT t.id, a.name, t.display_name, t.scope, t.created_at, t.revoked_at FROM tokens t JOIN accounts a ON a.name_key = t.account_key"
            + (user is null ? "" : " WHERE t.account_key = @p0") + " ORDER BY t.created_at, t.id",
            user is null ? [] : [Key(user)]);
        using var reader = command.ExecuteReader();
        var tokens = new List<TokenSummary>();
        while (reader.Read())
        {
            tokens.Add(new TokenSummary(reader.GetString(0), reader.GetString(1), reader.GetString(2), ParseLevel(reader.GetString(3)),
                DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture),
                reader.IsDBNull(5) ? null : DateTimeOffset.Parse(reader.GetString(5), CultureInfo.InvariantCulture)));
        }
        return tokens;
    }

    /// <summary>Revokes the token with this id at once on every replica; false when no valid token has it.</summary>
    public bool RevokeToken(string id)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        using var connection = _dialect.Open();
        return Execute(connection, "UPDATE tokens SET revoked_at = @p1 WHERE id = @p0 AND revoked_at IS NULL", id, Now()) == 1;
    }

    /// <summary>
    /// Gives <paramref name="principal"/> (a user, or an organisation whose members get it up to their role)
    /// <paramref name="access"/> on one repository, or changes it. The repository need not exist yet; deleting it removes its grants.
    /// </summary>
    /// <exception cref="ArgumentException">The repository id is not a Hub id.</exception>
    /// <exception cref="RegistryAccountException">No user or organisation has that name.</exception>
    public void Grant(RepoType type, string repoId, string principal, AccessLevel access)
    {
        if (!Enum.IsDefined(access)) throw new ArgumentOutOfRangeException(nameof(access), access, "The access must be read or write.");
        var key = ParseRepo(type, repoId);
        if (FindAccount(principal) is null) throw new RegistryAccountException($"No user or organization is named '{SafeName(principal)}' in {Description}.");
        using var connection = _dialect.Open();
        Execute(connection, "INSERT INTO repo_grants (repo_type, repo_id, principal_key, access) VALUES (@p0, @p1, @p2, @p3) ON CONFLICT (repo_type, repo_id, principal_key) DO UPDATE SET access = excluded.access",
            type.ApiSegment(), key.Id, Key(principal), access.ToString().ToLowerInvariant());
    }

    /// <summary>Removes what <see cref="Grant"/> gave; false when there was no such grant.</summary>
    public bool RevokeGrant(RepoType type, string repoId, string principal)
    {
        var key = ParseRepo(type, repoId);
        using var connection = _dialect.Open();
        return Execute(connection, "DELETE FROM repo_grants WHERE repo_type = @p0 AND repo_id = @p1 AND principal_key = @p2", type.ApiSegment(), key.Id, Key(principal)) == 1;
    }

    /// <summary>Whether any user or organisation exists, i.e. whether the registry is closed to anonymous writers.</summary>
    internal bool Any()
    {
        using var connection = _dialect.Open();
        using var command = SqlDialect.Command(connection, null, "SELECT count(*) FROM (SELECT 1 FROM accounts LIMIT 1) AS one");
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
    }

    /// <summary>The caller a valid, unrevoked token secret stands for, with their organisations; null for any other value.</summary>
    internal Caller? FindCaller(string secret)
    {
        if (!TokenSecrets.LooksLikeSecret(secret)) return null;
        using var connection = _dialect.Open();
        Caller caller;
        using (var command = SqlDialect.Command(connection, null,
            "SELECT a.name, a.fullname, a.name_key, t.display_name, t.scope FROM tokens t JOIN accounts a ON a.name_key = t.account_key WHERE t.secret_sha256 = @p0 AND t.revoked_at IS NULL",
            TokenSecrets.Hash(secret)))
        using (var reader = command.ExecuteReader())
        {
            if (!reader.Read()) return null;
            caller = new Caller(reader.GetString(0), ParseLevel(reader.GetString(4)), reader.GetString(3), AllRepositories: false) { FullName = reader.GetString(1) };
        }
        var organizations = new Dictionary<string, OrganizationRole>(StringComparer.OrdinalIgnoreCase);
        using (var command = SqlDialect.Command(connection, null,
            "SELECT a.name, m.role FROM memberships m JOIN accounts a ON a.name_key = m.org_key WHERE m.member_key = @p0", Key(caller.Account)))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read()) organizations[reader.GetString(0)] = Enum.Parse<OrganizationRole>(reader.GetString(1), ignoreCase: true);
        }
        return caller with { Organizations = organizations };
    }

    /// <summary>The grants on one repository.</summary>
    internal IReadOnlyList<RepoGrant> GrantsOf(RepoKey key)
    {
        using var connection = _dialect.Open();
        using var command = SqlDialect.Command(connection, null, "SELECT principal_key, access FROM repo_grants WHERE repo_type = @p0 AND repo_id = @p1", key.Type.ApiSegment(), key.Id);
        using var reader = command.ExecuteReader();
        var grants = new List<RepoGrant>();
        while (reader.Read()) grants.Add(new RepoGrant(reader.GetString(0), ParseLevel(reader.GetString(1))));
        return grants;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsDialect) _dialect.Dispose();
    }

    private void CreateAccount(string name, string kind, string? fullName)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!RepoKey.IsValidSegment(name))
        {
            throw new ArgumentException($"'{SafeName(name)}' is not a valid {(kind == "org" ? "organization" : "user")} name; expected letters, digits, '-', '_' and '.' (a Hub namespace).", nameof(name));
        }
        if (fullName is { } full && (full.Length > 200 || full.Any(char.IsControl))) throw new ArgumentException("The full name must be at most 200 printable characters.", nameof(fullName));
        using var connection = _dialect.Open();
        var added = Execute(connection, "INSERT INTO accounts (name_key, name, kind, fullname, created_at) VALUES (@p0, @p1, @p2, @p3, @p4) ON CONFLICT DO NOTHING",
            Key(name), name, kind, fullName ?? name, Now());
        if (added != 1) throw new RegistryAccountException($"A user or organization named '{SafeName(name)}' exists already in {Description}.");
    }

    /// <summary>The account's canonical name when it is of <paramref name="kind"/>; a typed error naming the field otherwise.</summary>
    private string RequireKind(string name, string kind, string field)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var found = FindAccount(name);
        if (found is { } account && account.Kind == kind) return account.Name;
        var what = kind == "org" ? "organization" : "user";
        throw new RegistryAccountException(found is null
            ? $"{field} '{SafeName(name)}': no {what} of that name in {Description}."
            : $"{field} '{SafeName(name)}' is not a {what}.");
    }

    private (string Name, string Kind)? FindAccount(string name)
    {
        using var connection = _dialect.Open();
        using var command = SqlDialect.Command(connection, null, "SELECT name, kind FROM accounts WHERE name_key = @p0", Key(name));
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetString(0), reader.GetString(1)) : null;
    }

    private static RepoKey ParseRepo(RepoType type, string repoId)
    {
        try
        {
            return RepoKey.Parse(type, repoId);
        }
        catch (RegistryException ex)
        {
            throw new ArgumentException(ex.Message, nameof(repoId), ex);
        }
    }

    private static AccessLevel ParseLevel(string text) => text switch
    {
        "read" => AccessLevel.Read,
        "write" => AccessLevel.Write,
        _ => throw new InvalidDataException($"An access level is stored as '{SafeName(text)}'; expected 'read' or 'write'."),
    };

    private static string Key(string name) => name.ToLowerInvariant();

    private static string Now() => DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);

    private static string SafeName(string text) => Adapters.Hub.Text.SafeText.Shorten(Adapters.Hub.Text.SafeText.Escape(text), Adapters.Hub.Text.SafeText.MaxValueLength);

    private static int Execute(DbConnection connection, string sql, params object?[] values)
    {
        using var command = SqlDialect.Command(connection, null, sql, values);
        return command.ExecuteNonQuery();
    }
}
