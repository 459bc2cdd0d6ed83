"""Game days: one scenario per runbook section, injected through the real paths."""
