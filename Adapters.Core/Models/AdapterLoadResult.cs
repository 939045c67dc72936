namespace Adapters.Core.Models;

/// <summary>The outcome of loading adapter weights: the name used and Python-style missing/unexpected key lists.</summary>
/// <param name="Name">The adapter name in the model (the <c>loadAs</c> name when given).</param>
/// <param name="MissingKeys">Keys the adapter has that the weights did not provide.</param>
/// <param name="UnexpectedKeys">Keys in the weights that the model does not have.</param>
public sealed record AdapterLoadResult(string Name, IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);
