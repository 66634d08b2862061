"""Stand-in for a student's program that crashes at once."""
raise SystemExit("Traceback: NameError: name 'sokcet' is not defined")
