"""The banking rules: plain functions over an open unit of work (app.db), with no HTTP in them."""
