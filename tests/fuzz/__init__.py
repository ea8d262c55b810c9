"""The API fuzzed against its own OpenAPI spec (schemathesis), and the defects it found."""
