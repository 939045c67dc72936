namespace Adapters.Core.Peft.Tuners;

/// <summary>What loading a PEFT folder did: the adapter, its method, keys the file lacked or had in excess, and config warnings.</summary>
public sealed record PeftLoadResult(string Name, string PeftType, IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys, IReadOnlyList<string> Warnings);
