using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Adapters.Hub.Text;

namespace Adapters.Hub.Cli.Commands;

/// <summary>
/// Where <c>serve</c> takes each setting from, first match wins: the command line, then the environment variable
/// <c>ADAPTERS_SERVE_&lt;NAME&gt;</c> (the option's name upper-cased, <c>-</c> as <c>_</c>: <c>--lfs-chunk-size</c> is
/// <c>ADAPTERS_SERVE_LFS_CHUNK_SIZE</c>; lists comma-separated), then the JSON settings file of <c>--config</c> (or
/// <c>ADAPTERS_SERVE_CONFIG</c>), whose keys are the option names without dashes in front
/// (<c>{"root": "/data", "port": 8787, "token": ["read:hf_x"]}</c>), then the option's default.
/// </summary>
internal sealed class ServeSettings
{
    /// <summary>The prefix of every environment variable <c>serve</c> reads its settings from.</summary>
    public const string EnvironmentPrefix = "ADAPTERS_SERVE_";

    /// <summary>The most a settings file may hold; it is a handful of keys.</summary>
    private const long MaxFileBytes = 1024 * 1024;

    private readonly ParseResult _parseResult;
    private readonly Func<string, string?> _environment;
    private readonly string? _file;
    private readonly Dictionary<string, JsonElement> _values;

    private ServeSettings(ParseResult parseResult, Func<string, string?> environment, string? file, Dictionary<string, JsonElement> values)
    {
        _parseResult = parseResult;
        _environment = environment;
        _file = file;
        _values = values;
    }

    /// <summary>
    /// Reads the settings file named by <paramref name="config"/> or <c>ADAPTERS_SERVE_CONFIG</c>, if any. Every key
    /// must name one of <paramref name="known"/> options; anything else is an error naming the file and the key.
    /// </summary>
    public static ServeSettings Load(ParseResult parseResult, Option<string?> config, IEnumerable<Option> known, Func<string, string?> environment)
    {
        var path = parseResult.GetValue(config) is { Length: > 0 } given ? given : environment(VariableOf(config)) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (path is null) return new ServeSettings(parseResult, environment, null, values);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"The serve settings file {path} does not exist.", path);
        if (info.Length > MaxFileBytes) throw new ArgumentException($"The serve settings file {path} has {info.Length} bytes; at most {MaxFileBytes} are read.");
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 8, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"The serve settings file {path} is not valid JSON: {ex.Message}");
        }
        if (root.ValueKind != JsonValueKind.Object) throw new ArgumentException($"The serve settings file {path} must hold a JSON object of settings.");
        var names = known.Select(KeyOf).ToHashSet(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (!names.Contains(property.Name) || property.Name == KeyOf(config))
            {
                throw new ArgumentException($"The serve settings file {path} has an unknown key '{SafeText.Escape(SafeText.Shorten(property.Name, 80))}'; known keys: {string.Join(", ", names.Where(n => n != KeyOf(config)).Order(StringComparer.Ordinal))}.");
            }
            values[property.Name] = property.Value;
        }
        return new ServeSettings(parseResult, environment, path, values);
    }

    /// <summary>The settings-file key of an option: its name without the leading dashes.</summary>
    public static string KeyOf(Option option) => option.Name.TrimStart('-');

    /// <summary>The environment variable of an option, e.g. <c>ADAPTERS_SERVE_UPSTREAM_TOKEN</c>.</summary>
    public static string VariableOf(Option option) => EnvironmentPrefix + KeyOf(option).ToUpperInvariant().Replace('-', '_');

    public string? String(Option<string?> option) => Raw(option) ?? _parseResult.GetValue(option);

    /// <summary>A text setting whose option has a default, so it is never null.</summary>
    public string Defaulted(Option<string> option) => Raw(option) ?? _parseResult.GetValue(option)!;

    public int Int(Option<int> option) => Raw(option) is { } text ? Parse(option, text, s => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture)) : _parseResult.GetValue(option);

    public long Long(Option<long> option) => Raw(option) is { } text ? Parse(option, text, s => long.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture)) : _parseResult.GetValue(option);

    public bool Bool(Option<bool> option) => Raw(option) is { } text ? Parse(option, text, s => s is "1" || bool.Parse(s)) : _parseResult.GetValue(option);

    /// <summary>A list: the command line's values, else the variable's comma-separated ones, else the file's array.</summary>
    public string[] Strings(Option<string[]> option)
    {
        if (IsOnCommandLine(option)) return _parseResult.GetValue(option) ?? [];
        if (_environment(VariableOf(option)) is { Length: > 0 } variable) return variable.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (!_values.TryGetValue(KeyOf(option), out var value)) return _parseResult.GetValue(option) ?? [];
        if (value.ValueKind == JsonValueKind.String) return [value.GetString()!];
        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            throw new ArgumentException($"The serve settings file {_file}: '{KeyOf(option)}' must be a string or an array of strings.");
        }
        return value.EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    /// <summary>Where a setting that is not on the command line comes from, as text: the variable's value, else the file's.</summary>
    private string? Raw(Option option)
    {
        if (IsOnCommandLine(option)) return null;
        if (_environment(VariableOf(option)) is { Length: > 0 } variable) return variable;
        if (!_values.TryGetValue(KeyOf(option), out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => throw new ArgumentException($"The serve settings file {_file}: '{KeyOf(option)}' must be a string, number or boolean, not {value.ValueKind}."),
        };
    }

    private bool IsOnCommandLine(Option option) => _parseResult.GetResult(option) is { Implicit: false };

    private T Parse<T>(Option option, string text, Func<string, T> parse)
    {
        try
        {
            return parse(text);
        }
        catch (FormatException)
        {
            throw new ArgumentException($"'{SafeText.Escape(SafeText.Shorten(text, 80))}' for {option.Name} (from {VariableOf(option)} or {_file ?? "the settings file"}) is not a valid {typeof(T).Name}.");
        }
        catch (OverflowException)
        {
            throw new ArgumentException($"'{SafeText.Escape(SafeText.Shorten(text, 80))}' for {option.Name} (from {VariableOf(option)} or {_file ?? "the settings file"}) is out of range.");
        }
    }
}
