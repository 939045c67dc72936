using System.Text;
using System.Text.RegularExpressions;

namespace Adapters.Registry.Mirror;

/// <summary>
/// The allow and deny globs of <see cref="UpstreamMirrorOptions"/>: <c>*</c> within one segment, <c>**</c> across
/// segments, <c>?</c> one character other than <c>/</c>; matched case-insensitively against the whole id.
/// </summary>
internal sealed class RepoIdPatterns
{
    private readonly IReadOnlyList<(string Text, Regex Pattern)> _allow;
    private readonly IReadOnlyList<(string Text, Regex Pattern)> _deny;

    public RepoIdPatterns(IReadOnlyList<string> allow, IReadOnlyList<string> deny)
    {
        _allow = allow.Select(p => (p, Compile(p, "Allow"))).ToList();
        _deny = deny.Select(p => (p, Compile(p, "Deny"))).ToList();
    }

    /// <summary>The pattern that keeps <paramref name="repoId"/> from being mirrored, or null when it may be.</summary>
    public string? Refusal(string repoId)
    {
        foreach (var (text, pattern) in _deny)
        {
            if (pattern.IsMatch(repoId)) return $"deny pattern '{text}'";
        }
        if (_allow.Count > 0 && !_allow.Any(a => a.Pattern.IsMatch(repoId))) return "no allow pattern";
        return null;
    }

    private static Regex Compile(string glob, string list)
    {
        if (string.IsNullOrWhiteSpace(glob) || glob.Length > 200)
        {
            throw new ArgumentException($"Mirror {list} pattern '{glob}' must be a non-empty glob of at most 200 characters.");
        }
        var regex = new StringBuilder("^");
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                regex.Append(".*");
                i++;
            }
            else if (c == '*') regex.Append("[^/]*");
            else if (c == '?') regex.Append("[^/]");
            else regex.Append(Regex.Escape(c.ToString()));
        }
        return new Regex(regex.Append('$').ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
    }
}
