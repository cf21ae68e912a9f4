"""Explaining a confirmed leak: which line of the user's code (attribution, growth), which
types, who holds them (samples, owners), where the leak goes (signatures), and whether
it is a leak the project accepts (known_leaks)."""
