namespace Adapters.Registry.Web;

/// <summary>Which Python library a repository's adapter is written for, as the page filters it.</summary>
internal enum AdapterLibrary
{
    /// <summary>Neither an <c>adapters</c> nor a PEFT adapter as far as its files and card say.</summary>
    Other,

    /// <summary>AdapterHub's <c>adapters</c> (formerly <c>adapter-transformers</c>): <c>load_adapter</c>.</summary>
    Adapters,

    /// <summary>Hugging Face PEFT: <c>PeftModel.from_pretrained</c>.</summary>
    Peft,
}

internal static class AdapterLibraryNames
{
    /// <summary>The name used in the page's filter and query string.</summary>
    public static string Name(this AdapterLibrary library) => library switch
    {
        AdapterLibrary.Adapters => "adapters",
        AdapterLibrary.Peft => "peft",
        _ => "other",
    };
}
