"""OpenTIC: the unified inspection-and-testing supervision and service platform."""
