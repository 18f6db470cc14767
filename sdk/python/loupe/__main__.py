"""python3 -m loupe sync [--host URL] [--spool-dir DIR] [--timeout SECONDS]

Exits 0 when every spooled run was sent, 1 when some are still spooled (the server was
unreachable or failing: run it again later)."""
import argparse
import sys

from ._sync import sync_report


def main():
    parser = argparse.ArgumentParser(prog="python3 -m loupe")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sync", help="send runs left in the spool to the server")
    s.add_argument("--host", help="server URL (default: the one each run used)")
    s.add_argument("--spool-dir", help="spool directory (default $LOUPE_SPOOL_DIR, else ~/.cache/loupe/spool)")
    s.add_argument("--timeout", type=float, default=60.0,
                   help="seconds to keep retrying each run while the server is unreachable (default 60)")
    args = parser.parse_args()
    report = sync_report(spool_dir=args.spool_dir, host=args.host, timeout=args.timeout)
    print(f"loupe: {report.sent} run(s) sent")
    if report.busy:
        print(f"loupe: {report.busy} run(s) left alone: their process is still running")
    if report.left:
        print(f"loupe: {report.left} run(s) could not be sent and are still spooled; run sync again later",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
