namespace Adapters.Registry.Auth;

/// <summary>What a bearer token may do: read everything, or also write (create, commit, delete).</summary>
public enum AccessLevel
{
    /// <summary>Downloads, listings and metadata.</summary>
    Read = 1,

    /// <summary>Everything <see cref="Read"/> may, plus creating, committing and deleting.</summary>
    Write = 2,
}
