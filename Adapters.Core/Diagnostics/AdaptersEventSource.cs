using System.Diagnostics.Tracing;

namespace Adapters.Core.Diagnostics;

/// <summary>
/// The library's log, as an <see cref="EventSource"/> named <c>Adapters-Core</c> (listen with an
/// <see cref="EventListener"/>, <c>dotnet-trace</c> or any EventSource bridge): warnings Python's <c>adapters</c> logs
/// and goes on after, such as adapter weights a saved folder lacks.
/// </summary>
[EventSource(Name = SourceName)]
public sealed class AdaptersEventSource : EventSource
{
    /// <summary>The event source name.</summary>
    public const string SourceName = "Adapters-Core";

    /// <summary>Id of <see cref="MissingSharedParameters"/>.</summary>
    public const int MissingSharedParametersId = 1;

    /// <summary>The single instance.</summary>
    public static AdaptersEventSource Log { get; } = new();

    private AdaptersEventSource() { }

    /// <summary>
    /// An adapter folder lacks tensors the adapter shares across layers (adapters ≤ 1.2 does not save
    /// <c>shared_parameters</c>, e.g. Compacter's <c>phm_rule</c>); they keep their fresh initialisation, as in Python.
    /// </summary>
    /// <param name="adapter">The adapter name in the saved folder.</param>
    /// <param name="keys">The missing tensors, comma separated.</param>
    [Event(MissingSharedParametersId, Level = EventLevel.Warning,
        Message = "Adapter \"{0}\" was saved without its shared parameter(s) {1}; they keep their fresh initialisation, so outputs differ from the saved model's (adapters <= 1.2 does not save shared_parameters).")]
    public void MissingSharedParameters(string adapter, string keys) => WriteEvent(MissingSharedParametersId, adapter, keys);
}
