"""The app's widgets, one module per pane."""
