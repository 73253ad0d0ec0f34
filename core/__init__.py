"""The numerical core: network, data, metrics, parallel trials and the result store (no UI)."""
