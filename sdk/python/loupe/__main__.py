"""python3 -m loupe sync [--host URL] [--spool-dir DIR]"""
import argparse
import sys

from ._sync import sync


def main():
    parser = argparse.ArgumentParser(prog="python3 -m loupe")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sync", help="send runs left in the spool to the server")
    s.add_argument("--host", help="server URL (default: the one each run used)")
    s.add_argument("--spool-dir", help="spool directory (default ~/.cache/loupe/spool)")
    args = parser.parse_args()
    n = sync(spool_dir=args.spool_dir, host=args.host)
    print(f"loupe: {n} run(s) sent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
