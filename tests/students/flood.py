"""Stand-in for a program that prints endlessly, with binary and escape sequences."""
import sys

out = sys.stdout.buffer
n = 0
while True:
    n += 1
    out.write(b"line %d \x1b[31mred\x1b[0m \xff\xfe\x00\n" % n)
    if n % 1000 == 0:
        out.write(b"x" * 100000)
    out.flush()
