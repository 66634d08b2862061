"""The guided lab: its steps as data, the evidence each one waits for, and the progress."""
