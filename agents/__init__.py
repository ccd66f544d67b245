"""Thin Faust agents, one module per flow: read state, call the pure step, assign the state back, send commands."""
