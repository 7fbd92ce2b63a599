"""Mode selection: target analysis, capabilities, cost model, rules, strategies, learning."""
