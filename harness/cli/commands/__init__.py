"""Each module here registers its commands on `harness.cli.app.app` when imported."""
