"""python -m stack up|down|status|drill (the native stack), render|compose-env (the containers)"""

import argparse
import sys


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m stack", description="PiggyBank's native stack")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="install nothing; render, start everything under Monit, wait until healthy")
    commands.add_parser("down", help="stop everything by pid file and wait until the ports are free")
    commands.add_parser("status", help="Monit's summary and each app server's health")
    commands.add_parser("restart", help="restart the app servers one after the other (new code, no failed request)")
    drill = commands.add_parser("drill", help="kill -9 a process and time until Monit has it healthy again")
    drill.add_argument("service", nargs="?", default="appserver1",
                       help="appserver1 ... appserver<PIGGY_APP_SERVERS>, haproxy, nginx, and mariadb, "
                            "or db1 ... db<PIGGY_DB_NODES> for a cluster")
    drill.add_argument("--times", type=int, default=1)
    render = commands.add_parser("render", help="render the configs for the containers (the `config` service)")
    render.add_argument("--target", choices=["compose"], required=True)
    render.add_argument("--out", required=True, help="the directory of the `config` volume")
    render.add_argument("--secrets", required=True, help="the secrets file: generated unless it exists, then kept")
    render.add_argument("--tls", help="make the TLS certificate here, unless it exists")
    render.add_argument("--chown", action="store_true", help="give each file to the user that reads it (as root)")
    env_file = commands.add_parser("compose-env", help="write .env (the containers' secrets) unless complete")
    env_file.add_argument("--out", help="default: .env beside docker-compose.yml")
    args = parser.parse_args()
    # compose-env runs on the system Python (standard library only), before any virtualenv exists.
    if args.command == "compose-env":
        from stack import compose

        compose.write_env(args.out)
        return 0
    if args.command == "render":
        from stack import compose

        compose.render(args.out, args.secrets, args.tls, args.chown)
        return 0

    from stack import control
    from stack.settings import Stack

    stack = Stack.from_env()
    if args.command == "up":
        control.up(stack)
    elif args.command == "down":
        control.down(stack)
    elif args.command == "status":
        return control.status(stack)
    elif args.command == "restart":
        control.rolling_restart(stack)
    elif args.command == "drill":
        from stack import drill as restart_drill

        services = [s.name for s in stack.app_servers] + ["mariadb", "haproxy", "nginx"]
        if args.service not in services:
            parser.error(f"no such service {args.service!r}: one of {', '.join(services)}")
        return restart_drill.main(stack, args.service, args.times)
    return 0


if __name__ == "__main__":
    sys.exit(main())
