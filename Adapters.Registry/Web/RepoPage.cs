using System.Text;
using Adapters.Registry.Storage;
using Adapters.Registry.Xet;

namespace Adapters.Registry.Web;

/// <summary>
/// A repository's page (<c>/-/models/{namespace}/{name}[?revision=]</c>): the rendered model card, the adapter
/// config, a parameter summary from each safetensors header, the files with sizes and hashes, branches, tags,
/// the commit history, and usage snippets.
/// </summary>
internal static class RepoPage
{
    /// <summary>Commits listed (newest first).</summary>
    public const int MaxCommits = 50;

    /// <summary>Safetensors files summarised; a repository with more lists the rest without a summary.</summary>
    public const int MaxSummarisedWeightFiles = 16;

    public static async Task<string> RenderAsync(RepoKey key, ResolvedRevision resolved, string revision, AdapterFacts facts, RegistryStore store, XetStorage xet, string registryUrl, CancellationToken cancellationToken)
    {
        var commit = resolved.Commit;
        var body = new StringBuilder();
        body.Append("<h1 id=\"repo-title\">").Append(Html.Text(key.Id)).Append("</h1>");
        body.Append("<p>");
        if (resolved.Repo.Private) body.Append("<span class=\"chip\">private</span>");
        if (facts.Library != AdapterLibrary.Other) body.Append("<span class=\"chip library\">").Append(facts.Library.Name()).Append("</span>");
        if (facts.Architecture is { } architecture) body.Append("<span class=\"chip\">architecture: ").Append(Html.Text(architecture)).Append("</span>");
        if (facts.ModelType is { } modelType) body.Append("<span class=\"chip\">model type: ").Append(Html.Text(modelType)).Append("</span>");
        foreach (var task in facts.Tasks) body.Append("<span class=\"chip\">task: ").Append(Html.Text(task)).Append("</span>");
        foreach (var language in facts.Languages) body.Append("<span class=\"chip\">language: ").Append(Html.Text(language)).Append("</span>");
        body.Append("</p><p class=\"muted\">");
        if (facts.BaseModel is { } baseModel) body.Append("Base model <code>").Append(Html.Text(baseModel)).Append("</code> · ");
        body.Append("revision <code>").Append(Html.Text(revision)).Append("</code> at commit <code class=\"hash\">").Append(Html.Text(commit.Id)).Append("</code></p>");

        body.Append("<h2>Model card</h2><div class=\"card\" id=\"card\">");
        if (facts.CardBody is { } card)
        {
            // The Hub's file URL at the commit shown, so a card's relative links and images cannot drift with the branch.
            var filePrefix = "/" + key.Type.UrlPrefix() + key.Id + "/resolve/" + commit.Id + "/";
            body.Append(CardMarkdown.ToSafeHtml(card, path => filePrefix + string.Join('/', path.Split('/').Select(segment => Html.Url(Uri.UnescapeDataString(segment))))));
        }
        else body.Append("<p class=\"muted\">").Append(Html.Text(facts.CardProblem ?? "This revision has no README.md.")).Append("</p>");
        body.Append("</div>");

        body.Append("<h2>Use it</h2><div id=\"snippets\">");
        foreach (var (label, code) in UsageSnippets.For(key, facts, registryUrl, revision))
        {
            body.Append("<h3>").Append(Html.Text(label)).Append("</h3><pre><code>").Append(Html.Text(code)).Append("</code></pre>");
        }
        body.Append("</div>");

        body.Append("<h2>Adapter config</h2><div id=\"config\">");
        if (facts.ConfigText is { } config) body.Append("<pre><code>").Append(Html.Text(config)).Append("</code></pre>");
        else body.Append("<p class=\"").Append(facts.ConfigProblem is null ? "muted" : "problem").Append("\">")
            .Append(Html.Text(facts.ConfigProblem ?? $"This revision has no {AdapterFacts.ConfigFile}.")).Append("</p>");
        body.Append("</div>");

        await AppendParametersAsync(body, commit, store.Blobs, xet, cancellationToken).ConfigureAwait(false);
        AppendFiles(body, commit);
        AppendRefs(body, key, store.ReadRefs(key));
        AppendCommits(body, store.History(key, commit.Id));
        return Html.Page(key.Id + " · Adapter registry", body.ToString());
    }

    private static async Task AppendParametersAsync(StringBuilder body, CommitRecord commit, BlobStore blobs, XetStorage xet, CancellationToken cancellationToken)
    {
        body.Append("<h2>Parameters</h2><div id=\"parameters\">");
        var weights = commit.Files.Where(f => f.Key.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)).ToList();
        if (weights.Count == 0)
        {
            body.Append("<p class=\"muted\">No safetensors file in this revision.</p></div>");
            return;
        }
        body.Append("<table><tr><th>file</th><th>tensors</th><th>parameters</th><th>by dtype</th></tr>");
        foreach (var (path, file) in weights.Take(MaxSummarisedWeightFiles))
        {
            body.Append("<tr><td>").Append(Html.Text(path)).Append("</td>");
            try
            {
                SafetensorsSummary summary;
                if (file.XetHash is { } xetHash)
                {
                    // Only the header's chunks are rebuilt, not the file.
                    var record = xet.Metadata.FindFile(xetHash) ?? throw new IOException($"{path}: Xet file {xetHash} is not registered.");
                    summary = await SafetensorsSummary.ReadAsync(async (offset, count) =>
                    {
                        using var buffer = new MemoryStream();
                        var available = Math.Max(0, Math.Min(count, file.Size - offset));
                        if (available > 0) await xet.CopyRangeAsync(record, offset, available, buffer, cancellationToken).ConfigureAwait(false);
                        return buffer.ToArray();
                    }, file.Size, path).ConfigureAwait(false);
                }
                else
                {
                    summary = SafetensorsSummary.Read(file.Lfs ? blobs.LfsPath(file.Oid) : blobs.GitPath(file.Oid), file.Size, path);
                }
                body.Append("<td>").Append(Html.Count(summary.Tensors)).Append("</td><td>").Append(Html.Count(summary.Parameters)).Append("</td><td>")
                    .Append(Html.Text(string.Join(", ", summary.ParametersByDtype.Select(d => $"{d.Key}: {Html.Count(d.Value)}")))).Append("</td>");
            }
            catch (Exception error) when (error is InvalidDataException or IOException or RegistryException)
            {
                body.Append("<td colspan=\"3\" class=\"problem\">").Append(Html.Text(error.Message)).Append("</td>");
            }
            body.Append("</tr>");
        }
        body.Append("</table>");
        if (weights.Count > MaxSummarisedWeightFiles) body.Append("<p class=\"muted\">").Append(weights.Count - MaxSummarisedWeightFiles).Append(" more safetensors files are not summarised.</p>");
        body.Append("</div>");
    }

    private static void AppendFiles(StringBuilder body, CommitRecord commit)
    {
        body.Append("<h2>Files</h2><table id=\"files\"><tr><th>path</th><th>size</th><th>storage</th><th>hash</th></tr>");
        foreach (var (path, file) in commit.Files)
        {
            body.Append("<tr><td>").Append(Html.Text(path)).Append("</td><td>").Append(Html.Bytes(file.Size)).Append("</td><td>")
                .Append(file.XetHash is not null ? "Xet" : file.Lfs ? "LFS" : "git").Append("</td><td class=\"hash\">").Append(file.Lfs || file.XetHash is not null ? "sha256 " : "git sha1 ").Append(Html.Text(file.Oid)).Append("</td></tr>");
        }
        body.Append("</table>");
    }

    private static void AppendRefs(StringBuilder body, RepoKey key, IReadOnlyDictionary<string, string> refs)
    {
        var branches = refs.Where(r => !r.Key.StartsWith("refs/", StringComparison.Ordinal)).Select(r => (Name: r.Key, Target: r.Value)).OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
        var tags = refs.Where(r => r.Key.StartsWith("refs/tags/", StringComparison.Ordinal)).Select(r => (Name: r.Key["refs/tags/".Length..], Target: r.Value)).OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
        body.Append("<h2>Branches and tags</h2><table id=\"refs\"><tr><th>kind</th><th>name</th><th>commit</th></tr>");
        foreach (var (kind, list) in new[] { ("branch", branches), ("tag", tags) })
        {
            foreach (var (name, target) in list)
            {
                body.Append("<tr><td>").Append(kind).Append("</td><td><a href=\"").Append(Html.Attribute(Html.RepoPath(key) + "?revision=" + Html.Url(name))).Append("\">")
                    .Append(Html.Text(name)).Append("</a></td><td class=\"hash\">").Append(Html.Text(target)).Append("</td></tr>");
            }
        }
        body.Append("</table>");
    }

    private static void AppendCommits(StringBuilder body, IReadOnlyList<CommitRecord> history)
    {
        body.Append("<h2>Commits</h2><table id=\"commits\"><tr><th>commit</th><th>title</th><th>author</th><th>date</th></tr>");
        foreach (var commit in history.Take(MaxCommits))
        {
            body.Append("<tr><td class=\"hash\">").Append(Html.Text(commit.Id[..Math.Min(12, commit.Id.Length)])).Append("</td><td>").Append(Html.Text(commit.Title))
                .Append("</td><td>").Append(Html.Text(commit.Author ?? "")).Append("</td><td>").Append(Html.Date(commit.Date)).Append("</td></tr>");
        }
        body.Append("</table>");
        if (history.Count > MaxCommits) body.Append("<p class=\"muted\">").Append(history.Count - MaxCommits).Append(" older commits are not listed.</p>");
    }
}
