"""python -m stack up|down|status|drill"""

import argparse
import sys

from stack import control
from stack.settings import Stack


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m stack", description="PiggyBank's native stack")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="install nothing; render, start everything under Monit, wait until healthy")
    commands.add_parser("down", help="stop everything by pid file and wait until the ports are free")
    commands.add_parser("status", help="Monit's summary and each app server's health")
    drill = commands.add_parser("drill", help="kill -9 a process and time until Monit has it healthy again")
    drill.add_argument("service", nargs="?", default="appserver1",
                       choices=["appserver1", "appserver2", "mariadb", "nginx"])
    drill.add_argument("--times", type=int, default=1)
    args = parser.parse_args()
    stack = Stack.from_env()
    if args.command == "up":
        control.up(stack)
    elif args.command == "down":
        control.down(stack)
    elif args.command == "status":
        return control.status(stack)
    elif args.command == "drill":
        from stack import drill as restart_drill

        return restart_drill.main(stack, args.service, args.times)
    return 0


if __name__ == "__main__":
    sys.exit(main())
