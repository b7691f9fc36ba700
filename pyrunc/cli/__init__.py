"""The command line: the flag/command table, the fast parser, help texts, and a click app for completion."""
