namespace Adapters.Hub.Cards;

/// <summary>Thrown when a model card's YAML front matter cannot be read.</summary>
public sealed class ModelCardException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="source">The file or repo path the card came from.</param>
    /// <param name="problem">What was wrong and what was expected.</param>
    /// <param name="innerException">The parser's error, if any.</param>
    public ModelCardException(string source, string problem, Exception? innerException = null)
        : base($"{source}: {problem}", innerException)
    {
        Source = source;
    }

    /// <summary>The file or repo path the card came from.</summary>
    public new string Source { get; }
}
