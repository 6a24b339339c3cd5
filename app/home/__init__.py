"""The signed-in home page for each role, the language switch, the health check, the demo."""
