"""Platform adapters: the only code that knows Label Studio or Argilla (see base.Platform)."""
