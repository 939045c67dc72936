namespace Adapters.Hub.Cli.Serve.Auth;

/// <summary>What a bearer token may do: read everything, or also write (create, commit, delete).</summary>
internal enum AccessLevel
{
    Read = 1,
    Write = 2,
}
