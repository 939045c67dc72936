namespace Adapters.Core.Models;

/// <summary>One row of <see cref="AdapterModel.AdapterSummary"/>, as Python's <c>adapter_summary(as_dict=True)</c> returns it.</summary>
/// <param name="Name">Adapter name, or "Full model".</param>
/// <param name="Architecture">"bottleneck", "lora", "union", …; null for the full-model row.</param>
/// <param name="ParameterCount">Number of parameters (frozen ones included).</param>
/// <param name="ParameterPercent">Share of the model without adapters, in percent.</param>
/// <param name="Active">Whether the adapter is active; null for the full-model row.</param>
/// <param name="Train">Whether every counted parameter is trainable (for the model: not frozen).</param>
public sealed record AdapterSummaryRow(string Name, string? Architecture, long ParameterCount, double ParameterPercent, bool? Active, bool Train);
