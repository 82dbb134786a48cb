"""``python -m mobility.jobs plan RUN_ID [SETTINGS_JSON]`` or ``... send``: one job in
this process (how :class:`~mobility.jobs.queues.LocalQueue` runs a job)."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from mobility.config import config_from_env
from mobility.jobs.tasks import plan_job, send_messages


def main(argv: list[str] | None = None) -> int:
    """Run the job named on the command line."""
    parser = argparse.ArgumentParser(prog="python -m mobility.jobs")
    sub = parser.add_subparsers(dest="job", required=True)
    plan = sub.add_parser("plan", help="do a queued planning run")
    plan.add_argument("run_id", type=int)
    plan.add_argument("settings", nargs="?", default="{}")
    sub.add_parser("send", help="send the messages that are due, while any wait")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.job == "send":
        report = send_messages(config_from_env(), until_done=True)
        logging.getLogger(__name__).info("messages: %s", report.as_dict())
        return 0
    status = plan_job(args.run_id, json.loads(args.settings))
    return 0 if status == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
