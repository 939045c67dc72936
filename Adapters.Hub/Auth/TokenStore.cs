using System.Text;

namespace Adapters.Hub.Auth;

/// <summary>
/// The token files Python's <c>huggingface_hub</c> 1.x keeps: the active token at <c>HF_TOKEN_PATH</c>
/// (the bare token) and every saved token in <c>stored_tokens</c> beside it, an INI file with one
/// section per token name (<c>hf_token = ...</c>, plus <c>refresh_token</c>/<c>expires_at</c> for OAuth
/// logins). Both are secrets: mode 0600 in a 0700 folder, replaced atomically.
/// </summary>
public sealed class TokenStore
{
    /// <summary>The largest <c>stored_tokens</c> file read (a token file is a few hundred bytes per token).</summary>
    public const int MaxStoredTokensBytes = 1 << 20;

    /// <summary>A store over the active token file <paramref name="tokenPath"/> (see <see cref="HubEnvironment.TokenPath"/>).</summary>
    public TokenStore(string tokenPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tokenPath);
        TokenPath = Path.GetFullPath(tokenPath);
        StoredTokensPath = Path.Combine(Path.GetDirectoryName(TokenPath)!, "stored_tokens");
    }

    /// <summary>The active token file.</summary>
    public string TokenPath { get; }

    /// <summary>The file of all saved tokens (<c>stored_tokens</c> next to <see cref="TokenPath"/>).</summary>
    public string StoredTokensPath { get; }

    /// <summary>The active token (cleaned as Python does: line breaks removed, trimmed), or null.</summary>
    public string? ReadActiveToken()
    {
        if (!File.Exists(TokenPath)) return null;
        var token = File.ReadAllText(TokenPath).Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal).Trim();
        return token.Length == 0 ? null : token;
    }

    /// <summary>Saved tokens by name (the <c>hf_token</c> of each section); empty when there is no file.</summary>
    /// <exception cref="InvalidDataException">The file is larger than <see cref="MaxStoredTokensBytes"/> or not an INI file.</exception>
    public IReadOnlyDictionary<string, string> ReadStoredTokens() =>
        ReadSections().Where(s => s.Value.ContainsKey("hf_token")).ToDictionary(s => s.Key, s => s.Value["hf_token"], StringComparer.Ordinal);

    /// <summary>
    /// Python's <c>login</c> after <c>whoami</c>: saves <paramref name="token"/> under <paramref name="name"/>
    /// (replacing that whole section, so stale OAuth fields go) and makes it the active token.
    /// </summary>
    public void Save(string name, string token)
    {
        ValidateName(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        if (token.Any(char.IsControl)) throw new ArgumentException("A token cannot contain control characters.", nameof(token));
        var sections = ReadSections();
        sections[name] = new Dictionary<string, string>(StringComparer.Ordinal) { ["hf_token"] = token };
        WriteSections(sections);
        SecretFile.Write(TokenPath, token);
    }

    /// <summary>
    /// Python's <c>logout</c>: without a name, deletes the active token file and <c>stored_tokens</c>;
    /// with a name, removes that section, and the active token file too when it holds that token.
    /// </summary>
    /// <returns>The files that were deleted or rewritten.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a saved token.</exception>
    public IReadOnlyList<string> Logout(string? name = null)
    {
        var changed = new List<string>();
        if (name is null)
        {
            foreach (var path in new[] { TokenPath, StoredTokensPath })
            {
                if (!File.Exists(path)) continue;
                File.Delete(path);
                changed.Add(path);
            }
            return changed;
        }
        var sections = ReadSections();
        if (!sections.Remove(name, out var removed))
        {
            throw new ArgumentException($"No token named '{name}' in {StoredTokensPath}; saved names: {(sections.Count == 0 ? "none" : string.Join(", ", sections.Keys))}.", nameof(name));
        }
        WriteSections(sections);
        changed.Add(StoredTokensPath);
        if (removed.TryGetValue("hf_token", out var token) && token == ReadActiveToken())
        {
            File.Delete(TokenPath);
            changed.Add(TokenPath);
        }
        return changed;
    }

    /// <summary>Python's <c>auth switch</c>: makes the saved token <paramref name="name"/> the active one.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a saved token.</exception>
    public void Switch(string name)
    {
        if (!ReadStoredTokens().TryGetValue(name, out var token))
        {
            throw new ArgumentException($"No token named '{name}' in {StoredTokensPath}.", nameof(name));
        }
        SecretFile.Write(TokenPath, token);
    }

    private static void ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.Any(c => char.IsControl(c) || c is '[' or ']') || name != name.Trim())
        {
            throw new ArgumentException($"Token name '{name}' cannot contain brackets, control characters or surrounding spaces (it becomes an INI section).", nameof(name));
        }
    }

    /// <summary>
    /// Reads the INI file as Python's <c>configparser</c> with interpolation off: <c>[section]</c> headers,
    /// <c>key = value</c> or <c>key: value</c> lines (keys lower-cased), <c>#</c>/<c>;</c> comments.
    /// </summary>
    private SortedDictionary<string, Dictionary<string, string>> ReadSections()
    {
        var sections = new SortedDictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        if (!File.Exists(StoredTokensPath)) return sections;
        var length = new FileInfo(StoredTokensPath).Length;
        if (length > MaxStoredTokensBytes)
        {
            throw new InvalidDataException($"{StoredTokensPath} is {length} bytes; a token file is expected to be under {MaxStoredTokensBytes} bytes.");
        }
        Dictionary<string, string>? current = null;
        var lineNumber = 0;
        foreach (var raw in File.ReadAllLines(StoredTokensPath))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';') continue;
            if (line[0] == '[' && line[^1] == ']')
            {
                current = new Dictionary<string, string>(StringComparer.Ordinal);
                sections[line[1..^1]] = current;
                continue;
            }
            var separator = line.IndexOfAny(['=', ':']);
            if (current is null || separator <= 0)
            {
                throw new InvalidDataException($"{StoredTokensPath} line {lineNumber}: expected '[name]' or 'key = value'.");
            }
            current[line[..separator].Trim().ToLowerInvariant()] = line[(separator + 1)..].Trim();
        }
        return sections;
    }

    /// <summary>Writes sections sorted by name, <c>key = value</c> lines and a blank line after each, as Python does.</summary>
    private void WriteSections(SortedDictionary<string, Dictionary<string, string>> sections)
    {
        var text = new StringBuilder();
        foreach (var (name, values) in sections)
        {
            text.Append('[').Append(name).Append("]\n");
            foreach (var (key, value) in values) text.Append(key).Append(" = ").Append(value).Append('\n');
            text.Append('\n');
        }
        SecretFile.Write(StoredTokensPath, text.ToString());
    }
}
