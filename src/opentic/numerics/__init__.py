"""The ground floor: pure cores every app shares (GB/T 8170 rounding, safe formulas, decision rules,
LOQ reporting, the statistics of ISO 13528 / 5725 / GUM / SPC, SVG plots). No Django import here:
plain data in, plain data out, so every floor above may use them and they are tested without a database."""
