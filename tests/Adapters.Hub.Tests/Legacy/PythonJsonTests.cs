using Adapters.Hub.Json;
using System.Text.Json.Nodes;
using Adapters.Hub.Legacy;
using Adapters.Testing;

namespace Adapters.Hub.Tests.Legacy;

public sealed class PythonJsonTests
{
    [Theory]
    [InlineData(1.0, "1.0")]
    [InlineData(2.0, "2.0")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1e-05, "1e-05")]
    [InlineData(0.1, "0.1")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(123456789.125, "123456789.125")]
    [InlineData(-0.5, "-0.5")]
    [InlineData(1.5e-7, "1.5e-07")]
    [InlineData(2.5e20, "2.5e+20")]
    [InlineData(0.3333333333333333, "0.3333333333333333")]
    public void Floats_render_like_python_repr(double value, string expected)
    {
        Assert.Equal(expected, PythonJson.FormatFloat(value));
    }

    [Fact]
    public void Compact_output_uses_python_separators_sorting_and_ascii_escapes()
    {
        var node = JsonNode.Parse("""{"b": [1, 2.0, true, null], "a": "caf\u00e9 \"q\" \ud83d\udc4d\n", "A": {}}""");

        var text = PythonJson.Dumps(node);

        Assert.Equal("""{"A": {}, "a": "caf\u00e9 \"q\" \ud83d\udc4d\n", "b": [1, 2.0, true, null]}""", text);
    }

    [Theory]
    [InlineData("adapter_config.json")]
    [InlineData("head_config.json")]
    public void Indented_output_reproduces_files_written_by_python_byte_for_byte(string name)
    {
        var path = TestPaths.Fixture("legacy-hub", "python-written", "adapter1", name);
        var original = File.ReadAllText(path);

        var rewritten = PythonJson.Dumps(JsonNode.Parse(original), indent: 2);

        Assert.Equal(original, rewritten);
    }

    [Fact]
    public void Int_and_float_kinds_survive_a_json_round_trip()
    {
        var node = JsonNode.Parse("""{"i": 2, "f": 2.0, "e": 1e-05}""")!;

        Assert.Equal("""{"e": 1e-05, "f": 2.0, "i": 2}""", PythonJson.Dumps(node));
    }
}
