"""The command line: one thin module per command, registered on the typer app by
`netverify.cli.app`. Each parses options, calls the loader and the engine, asks
`netverify.report.formats` for a formatter, and picks the exit code.

Exit codes: 0 all hold · 1 some violated · 2 usage or input error · 3 some unknown, none
violated · 130 interrupted.
"""
