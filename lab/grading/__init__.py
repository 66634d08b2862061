"""What a student hands in and a grader checks: stamps, manifest, seal, verify, report."""
