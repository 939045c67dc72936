using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Testing;

namespace Adapters.Core.Tests.Configuration;

public sealed class PythonJsonTests
{
    [Theory]
    [InlineData(1.0, "1.0")]
    [InlineData(0.0, "0.0")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1e-05, "1e-05")]
    [InlineData(5e-05, "5e-05")]
    [InlineData(0.1, "0.1")]
    [InlineData(4.0, "4.0")]
    [InlineData(0.05, "0.05")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1234567890123456.0, "1234567890123456.0")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(1.5e-07, "1.5e-07")]
    [InlineData(123.456, "123.456")]
    public void Floats_are_formatted_like_python_repr(double value, string expected)
    {
        Assert.Equal(expected, PythonJson.FormatFloat(value));
    }

    [Theory]
    [InlineData("md_crosslingual", "adapter_config.json")]
    [InlineData("md_crosslingual", "head_config.json")]
    [InlineData("bigbird_rotten_tomatoes", "adapter_config.json")]
    [InlineData("bigbird_rotten_tomatoes", "head_config.json")]
    public void Python_written_configs_round_trip_byte_for_byte(string folder, string file)
    {
        var path = TestPaths.Fixture("models", "python-written", folder, file);
        var original = File.ReadAllBytes(path);

        var node = ConfigJson.Parse(File.ReadAllText(path), path);
        var written = System.Text.Encoding.UTF8.GetBytes(PythonJson.Serialize(node));

        Assert.Equal(original, written);
    }

    [Fact]
    public void Non_ascii_text_is_escaped_with_lowercase_utf16_escapes()
    {
        var node = new JsonObject { ["b"] = "👍 é\u007f", ["a"] = new JsonArray(), ["c"] = new JsonObject() };

        var text = PythonJson.Serialize(node);

        Assert.Equal("{\n  \"a\": [],\n  \"b\": \"\\ud83d\\udc4d \\u00e9\\u007f\",\n  \"c\": {}\n}", text);
    }

    [Fact]
    public void Ints_and_floats_keep_their_python_type()
    {
        var node = new JsonObject { ["f"] = 16.0, ["i"] = 16, ["parsed"] = JsonNode.Parse("[16, 16.0, 1e-05]") };

        Assert.Equal("{\n  \"f\": 16.0,\n  \"i\": 16,\n  \"parsed\": [\n    16,\n    16.0,\n    1e-05\n  ]\n}", PythonJson.Serialize(node));
    }
}
