"""Stand-in for a client that never reads its input (it waits on something else).

Usage: python sourd.py [SECONDS]  (it ends after SECONDS, an hour by default)
"""
import sys
import time

print("Je ne lis jamais mon entree", flush=True)
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 3600)
