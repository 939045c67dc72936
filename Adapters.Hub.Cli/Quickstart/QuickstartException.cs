namespace Adapters.Hub.Cli.Quickstart;

/// <summary>A quickstart step did not do what it must (e.g. the adapter did not learn, or the pulled copy differs).</summary>
internal sealed class QuickstartException : Exception
{
    /// <summary>Creates the exception with a message naming the step and what was expected.</summary>
    public QuickstartException(string message) : base(message) { }
}
