using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Adapters.Registry.Tests.Backends;

/// <summary>
/// A throwaway PostgreSQL 15 cluster for the test run: <c>initdb</c> into a temporary folder and <c>pg_ctl start</c>
/// on a free loopback port, as the <c>postgres</c> user when the tests run as root (initdb refuses root). Each
/// <see cref="CreateDatabaseAsync"/> gives a test its own empty database. When the cluster cannot start, the
/// fixture throws and every test that needs it fails; nothing is skipped.
/// </summary>
public sealed class PostgresCluster : IAsyncLifetime
{
    /// <summary>Where Debian's postgresql-15 installs its server binaries; <c>ADAPTERS_PG_BIN</c> overrides it.</summary>
    public static string BinDirectory => Environment.GetEnvironmentVariable("ADAPTERS_PG_BIN") is { Length: > 0 } bin ? bin : "/usr/lib/postgresql/15/bin";

    private const string Superuser = "postgres";

    private DirectoryInfo? _folder;
    private string? _runAs;

    public int Port { get; private set; }

    private string DataDirectory => Path.Combine(_folder!.FullName, "data");

    /// <summary>A connection string to <paramref name="database"/> as the cluster's superuser (trust authentication on loopback).</summary>
    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = Superuser, Database = database, Pooling = true }.ConnectionString;

    public async Task InitializeAsync()
    {
        foreach (var tool in new[] { "initdb", "pg_ctl" })
        {
            if (!File.Exists(Path.Combine(BinDirectory, tool)))
            {
                throw new InvalidOperationException($"PostgreSQL 15 is needed for the registry's PostgreSQL tests: {Path.Combine(BinDirectory, tool)} is missing (apt-get install postgresql-15, or set ADAPTERS_PG_BIN).");
            }
        }
        _folder = Directory.CreateTempSubdirectory("adapters-registry-pg-");
        _runAs = Environment.IsPrivilegedProcess ? Superuser : null;
        if (_runAs is not null) await RunAsync("chown", [$"{_runAs}:", _folder.FullName], asUser: null);
        await RunAsync(Path.Combine(BinDirectory, "initdb"), ["-D", DataDirectory, "-A", "trust", "-U", Superuser, "-E", "UTF8", "--no-sync"], _runAs);
        // A free port can be taken between our probe and the server's bind: try a few.
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            Port = FreeLoopbackPort();
            try
            {
                await RunAsync(Path.Combine(BinDirectory, "pg_ctl"),
                    ["-D", DataDirectory, "-l", Path.Combine(_folder.FullName, "server.log"), "-w", "-t", "60",
                     "-o", $"-p {Port} -k {_folder.FullName} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start"], _runAs);
                return;
            }
            catch (InvalidOperationException ex)
            {
                last = ex;
            }
        }
        var log = File.Exists(Path.Combine(_folder.FullName, "server.log")) ? await File.ReadAllTextAsync(Path.Combine(_folder.FullName, "server.log")) : "(no server log)";
        throw new InvalidOperationException($"PostgreSQL did not start on loopback: {last?.Message}\n{log}", last);
    }

    /// <summary>A new, empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "registry_" + Guid.NewGuid().ToString("N");
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection))
        {
            await create.ExecuteNonQueryAsync();
        }
        return ConnectionString(name);
    }

    public async Task DisposeAsync()
    {
        if (_folder is null) return;
        NpgsqlConnection.ClearAllPools();
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            await RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"], _runAs);
        }
        _folder.Delete(recursive: true);
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, string? asUser)
    {
        var start = asUser is null ? new ProcessStartInfo(program) : new ProcessStartInfo("runuser", ["-u", asUser, "--", program]);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} could not be started.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await error}{await output}");
        }
    }
}
