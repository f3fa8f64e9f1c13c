"""Models fitted on the unit tokens: topic models and clustering."""
