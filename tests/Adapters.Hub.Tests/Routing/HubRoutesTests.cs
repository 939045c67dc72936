using Adapters.Hub.Routing;

namespace Adapters.Hub.Tests.Routing;

/// <summary>
/// The shared route table: the URLs it expands to are byte for byte those <c>huggingface_hub</c> sends
/// (hf-hub-protocol.md §0, hf-hub-protocol-2026.md §1-§8), and a server reading them back gets the same values.
/// </summary>
public sealed class HubRoutesTests
{
    public static TheoryData<string, string> PythonUrls() => new()
    {
        // quote(revision, safe=""): refs/pr/1 travels as one segment; quote(filename) keeps '/'.
        { HubRoutes.ResolveFile.Expand(RepoType.Model, "me/model", "refs/pr/1", "sub dir/a+b.json"), "me/model/resolve/refs%2Fpr%2F1/sub%20dir/a%2Bb.json" },
        { HubRoutes.ResolveFile.Expand(RepoType.Dataset, "gpt2", "main", "data/train.csv"), "datasets/gpt2/resolve/main/data/train.csv" },
        { HubRoutes.RawFile.Expand(RepoType.Space, "me/app", "v1.0", "app.py"), "spaces/me/app/raw/v1.0/app.py" },
        { HubRoutes.ListRepos.Expand(RepoType.Model), "api/models" },
        { HubRoutes.RepoInfo.Expand(RepoType.Space, "me/app"), "api/spaces/me/app" },
        { HubRoutes.RepoInfoAtRevision.Expand(RepoType.Model, "me/model", "refs/pr/2"), "api/models/me/model/revision/refs%2Fpr%2F2" },
        { HubRoutes.Tree.Expand(RepoType.Dataset, "me/set", "main"), "api/datasets/me/set/tree/main" },
        // list_repo_tree quotes the folder with safe="" too.
        { HubRoutes.TreeAtPath.Expand(RepoType.Model, "me/model", "main", "a/b c"), "api/models/me/model/tree/main/a%2Fb%20c" },
        { HubRoutes.PathsInfo.Expand(RepoType.Model, "me/model", "dev"), "api/models/me/model/paths-info/dev" },
        { HubRoutes.Refs.Expand(RepoType.Model, "me/model"), "api/models/me/model/refs" },
        { HubRoutes.CreateBranch.Expand(RepoType.Model, "me/model", "feature/x"), "api/models/me/model/branch/feature%2Fx" },
        { HubRoutes.DeleteBranch.Expand(RepoType.Model, "me/model", "dev"), "api/models/me/model/branch/dev" },
        { HubRoutes.CreateTag.Expand(RepoType.Model, "me/model", "refs/pr/1"), "api/models/me/model/tag/refs%2Fpr%2F1" },
        { HubRoutes.DeleteTag.Expand(RepoType.Dataset, "me/set", "v1"), "api/datasets/me/set/tag/v1" },
        { HubRoutes.Commits.Expand(RepoType.Model, "gpt2", "main"), "api/models/gpt2/commits/main" },
        { HubRoutes.SuperSquash.Expand(RepoType.Model, "me/model", "main"), "api/models/me/model/super-squash/main" },
        { HubRoutes.Preupload.Expand(RepoType.Model, "me/model", "refs/pr/3"), "api/models/me/model/preupload/refs%2Fpr%2F3" },
        { HubRoutes.Commit.Expand(RepoType.Space, "me/app", "main"), "api/spaces/me/app/commit/main" },
        { HubRoutes.LfsBatch.Expand(RepoType.Model, "me/model"), "me/model.git/info/lfs/objects/batch" },
        { HubRoutes.LfsBatch.Expand(RepoType.Dataset, "me/set"), "datasets/me/set.git/info/lfs/objects/batch" },
        { HubRoutes.LfsVerify.Expand(RepoType.Space, "me/app"), "spaces/me/app.git/info/lfs/objects/verify" },
        { HubRoutes.ListDiscussions.Expand(RepoType.Model, "me/model"), "api/models/me/model/discussions" },
        { HubRoutes.CreateDiscussion.Expand(RepoType.Dataset, "me/set"), "api/datasets/me/set/discussions" },
        { HubRoutes.DiscussionDetails.Expand(RepoType.Model, "me/model", number: 12), "api/models/me/model/discussions/12" },
        { HubRoutes.CommentDiscussion.Expand(RepoType.Model, "me/model", number: 1), "api/models/me/model/discussions/1/comment" },
        { HubRoutes.RenameDiscussion.Expand(RepoType.Model, "me/model", number: 1), "api/models/me/model/discussions/1/title" },
        { HubRoutes.DiscussionStatus.Expand(RepoType.Model, "me/model", number: 1), "api/models/me/model/discussions/1/status" },
        { HubRoutes.MergePullRequest.Expand(RepoType.Model, "me/model", number: 4), "api/models/me/model/discussions/4/merge" },
        // Python lower-cases the comment id.
        { HubRoutes.EditComment.Expand(RepoType.Model, "me/model", number: 1, commentId: "65AB12"), "api/models/me/model/discussions/1/comment/65ab12/edit" },
        { HubRoutes.HideComment.Expand(RepoType.Model, "me/model", number: 1, commentId: "65ab12"), "api/models/me/model/discussions/1/comment/65ab12/hide" },
        { HubRoutes.WhoAmI.Expand(), "api/whoami-v2" },
        { HubRoutes.ValidateYaml.Expand(), "api/validate-yaml" },
        { HubRoutes.CreateRepo.Expand(), "api/repos/create" },
        { HubRoutes.DeleteRepo.Expand(), "api/repos/delete" },
    };

    [Theory]
    [MemberData(nameof(PythonUrls))]
    public void Routes_expand_to_the_urls_python_sends(string expanded, string python) => Assert.Equal(python, expanded);

    [Fact]
    public void The_table_lists_every_route_once_with_distinct_method_and_template_pairs()
    {
        var declared = typeof(HubRoutes).GetProperties().Where(p => p.PropertyType == typeof(HubRoute)).Select(p => (HubRoute)p.GetValue(null)!).ToList();
        Assert.Equal(declared.Count, HubRoutes.All.Count);
        Assert.All(declared, route => Assert.Contains(route, HubRoutes.All));
        var pairs = HubRoutes.All.SelectMany(r => r.Methods.Select(m => $"{m} {r.Template}")).ToList();
        Assert.Equal(pairs.Count, pairs.Distinct(StringComparer.Ordinal).Count());
    }

    public static TheoryData<string> RouteNames() => new(HubRoutes.All.Select(r => r.Name));

    [Theory]
    [MemberData(nameof(RouteNames))]
    public void A_server_reading_an_expanded_url_back_gets_the_same_values(string name)
    {
        var route = HubRoutes.All.Single(r => r.Name == name);
        foreach (var type in new[] { RepoType.Model, RepoType.Dataset, RepoType.Space })
        {
            foreach (var repo in new[] { "gpt2", "me/model" })
            {
                var url = route.Expand(type, repo, "refs/pr/1", "dir/sub dir/file.bin", 7, "abc123");
                var segments = url.Split('/').Select(Uri.UnescapeDataString).ToArray();
                var reading = Assert.Single(route.Match(segments), m => m.RepoId == (route.Template.Contains("{repo}", StringComparison.Ordinal) ? repo : null));
                if (route.Template.Contains("{repo}", StringComparison.Ordinal) || route.Template.Contains("{type}", StringComparison.Ordinal)) Assert.Equal(type, reading.RepoType);
                if (route.Template.Contains("{rev}", StringComparison.Ordinal)) Assert.Equal("refs/pr/1", reading.Revision);
                if (route.Template.Contains("ath}", StringComparison.Ordinal)) Assert.Equal("dir/sub dir/file.bin", reading.Path);
                if (route.Template.Contains("{num}", StringComparison.Ordinal)) Assert.Equal("7", reading.Number);
                if (route.Template.Contains("{commentId}", StringComparison.Ordinal)) Assert.Equal("abc123", reading.CommentId);
                Assert.Contains(reading, HubRoutes.MatchAll(route.Methods[0], segments));
            }
        }
    }

    [Fact]
    public void A_path_that_fits_two_repository_ids_is_offered_both_ways_for_the_server_to_choose()
    {
        // gpt2's refs, or the info of a repository named gpt2/refs.
        var readings = HubRoutes.MatchAll("GET", ["api", "models", "gpt2", "refs"]);
        Assert.Equal(2, readings.Count);
        Assert.Contains(readings, m => m.Route == HubRoutes.Refs && m.RepoId == "gpt2");
        Assert.Contains(readings, m => m.Route == HubRoutes.RepoInfo && m.RepoId == "gpt2/refs");
        // The method narrows the table; unknown paths fit nothing.
        Assert.Empty(HubRoutes.MatchAll("DELETE", ["api", "models", "gpt2", "refs"]));
        Assert.Empty(HubRoutes.MatchAll("GET", ["api", "models", "me", "model", "no-such-action", "main"]));
        // "datasets/" is a type prefix, never a model namespace.
        var dataset = Assert.Single(HubRoutes.MatchAll("HEAD", ["datasets", "set", "resolve", "main", "a.csv"]));
        Assert.Equal((RepoType.Dataset, "set", "a.csv"), (dataset.RepoType, dataset.RepoId, dataset.Path));
    }

    [Fact]
    public void Expanding_without_a_value_the_template_needs_names_the_route_and_the_value()
    {
        var error = Assert.Throws<ArgumentException>(() => HubRoutes.CreateTag.Expand(RepoType.Model, "me/model"));
        Assert.Contains("create-tag", error.Message, StringComparison.Ordinal);
        Assert.Equal("revision", error.ParamName);
        Assert.Equal("number", Assert.Throws<ArgumentException>(() => HubRoutes.DiscussionDetails.Expand(RepoType.Model, "me/model")).ParamName);
        Assert.Throws<ArgumentException>(() => new HubRoute("bad", "api/{what}/x", "GET"));
        Assert.Throws<ArgumentException>(() => new HubRoute("bad", "{path}/x", "GET"));
    }
}
