namespace Adapters.Registry.Accounts;

/// <summary>An account operation the store refuses: a name that exists already, or a user, organisation or role that does not fit.</summary>
public sealed class RegistryAccountException : InvalidOperationException
{
    /// <summary>Creates the exception with a message that names the account or field and what was expected.</summary>
    public RegistryAccountException(string message)
        : base(message)
    {
    }
}
