namespace Adapters.Hub.Loading;

/// <summary>No resolution step could find the adapter; <see cref="Attempts"/> says what each step tried and why it failed.</summary>
public sealed class AdapterNotFoundException : HubException
{
    /// <summary>Creates the exception from the failed steps.</summary>
    public AdapterNotFoundException(string identifier, IReadOnlyList<string> attempts)
        : base($"Unable to load adapter '{identifier}' from any source. Tried: {string.Join("; ", attempts)}. Check the name of the adapter or its source.")
    {
        Identifier = identifier;
        Attempts = attempts;
    }

    /// <summary>The id, path or URL that was asked for.</summary>
    public string Identifier { get; }

    /// <summary>One line per step tried, with its failure.</summary>
    public IReadOnlyList<string> Attempts { get; }
}
