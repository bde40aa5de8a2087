"""The `punc` command line. Commands live one per module in `harness.cli.commands`."""
