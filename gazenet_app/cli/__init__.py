"""The `gazenet` command line: `main(argv)` in main.py, one module per subcommand."""
