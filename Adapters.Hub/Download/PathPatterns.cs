using System.Text;
using System.Text.RegularExpressions;

namespace Adapters.Hub.Download;

/// <summary>
/// Python's <c>filter_repo_objects</c>: <c>fnmatchcase</c> globs on the <c>/</c> path, where <c>*</c> also
/// matches <c>/</c>, a pattern ending in <c>/</c> gets <c>*</c> appended, the allow-list applies first and
/// the ignore-list second.
/// </summary>
public static class PathPatterns
{
    /// <summary>Keeps the paths matched by an allow pattern (all when none) and by no ignore pattern.</summary>
    public static IEnumerable<string> Filter(IEnumerable<string> paths, IEnumerable<string>? allowPatterns, IEnumerable<string>? ignorePatterns)
    {
        var allow = Compile(allowPatterns);
        var ignore = Compile(ignorePatterns);
        return paths.Where(p => (allow.Count == 0 || allow.Any(r => r.IsMatch(p))) && !ignore.Any(r => r.IsMatch(p)));
    }

    /// <summary>Whether <paramref name="path"/> matches one glob (case-sensitive, as <c>fnmatchcase</c>).</summary>
    public static bool IsMatch(string path, string pattern) => ToRegex(pattern).IsMatch(path);

    private static List<Regex> Compile(IEnumerable<string>? patterns) => patterns?.Select(ToRegex).ToList() ?? [];

    private static Regex ToRegex(string pattern)
    {
        if (pattern.EndsWith('/')) pattern += "*";
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*': regex.Append("(?s:.*)"); break;
                case '?': regex.Append("(?s:.)"); break;
                case '[':
                    var close = pattern.IndexOf(']', i + 2 <= pattern.Length ? i + 2 : pattern.Length);
                    if (close < 0)
                    {
                        regex.Append(@"\[");
                        break;
                    }
                    var set = pattern[(i + 1)..close];
                    regex.Append('[');
                    if (set.StartsWith('!')) { regex.Append('^'); set = set[1..]; }
                    else if (set.StartsWith('^')) { regex.Append(@"\^"); set = set[1..]; }
                    regex.Append(set.Replace(@"\", @"\\", StringComparison.Ordinal));
                    regex.Append(']');
                    i = close;
                    break;
                default: regex.Append(Regex.Escape(c.ToString())); break;
            }
        }
        regex.Append(@"\z");
        return new Regex(regex.ToString(), RegexOptions.CultureInvariant);
    }
}
