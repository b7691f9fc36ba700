"""One module per command: `pyrunc.commands.<name>.run(inv) -> int`, imported only when that command runs."""
