"""Cross-cutting web concerns: security headers, error pages, template helpers."""
