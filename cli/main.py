"""The `flowdesk` command (CONTRACT.md lists its sub-commands)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from engine.errors import FlowdeskError, InvalidBpmn, InvalidData


def _parse_instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 instant: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give the instant with its offset, e.g. {text}+08:00")
    return value


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from engine.migrations import upgrade_database

    upgrade_database()
    print("database is up to date")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from engine.db import unit_of_work
    from engine.identity import create_user

    with unit_of_work() as session:
        user = create_user(
            session,
            username=args.name,
            password=args.password,
            roles=args.role,
            department=args.department,
            display_name=args.display_name,
        )
        print(f"created user {user.username} ({', '.join(sorted(user.role_names))})")
    return 0


def _read_files(paths: list[str]) -> list[tuple[str, bytes]]:
    files = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise InvalidBpmn([_problem(p, "no such file")])
        files.append((p, path.read_bytes()))
    return files


def _problem(file: str, message: str):  # type: ignore[no-untyped-def]
    from engine.errors import BpmnProblem

    return BpmnProblem(None, None, message, file)


def cmd_validate(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from engine.db import unit_of_work
    from engine.definitions import validate_files

    files = _read_files(args.files)
    try:
        with unit_of_work(write=False) as session:
            _, processes = validate_files(session, files)
    except (OperationalError, ProgrammingError):
        # No (migrated) database: validate the files on their own, without the
        # deployed processes and decisions they might call.
        _, processes = validate_files(None, files)
    for p in processes:
        print(f"{p.filename}: {p.key} ({p.name}): ok")
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    from engine.db import unit_of_work
    from engine.definitions import deploy_files
    from engine.identity import SYSTEM

    files = _read_files(args.files)
    with unit_of_work() as session:
        results = deploy_files(session, files=files, actor=SYSTEM)
    for r in results:
        state = "deployed" if r.created else "unchanged"
        print(f"{r.key}: version {r.version} {state}")
    return 0


def cmd_tick(args: argparse.Namespace) -> int:
    from engine import clock
    from engine.rounds import run_round

    at = args.at or clock.now()
    with clock.frozen_at(at):
        result = run_round(at)
    print(json.dumps(result.as_dict()))
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from engine.audit import verify_chain
    from engine.db import unit_of_work

    with unit_of_work(write=False) as session:
        result = verify_chain(session)
    if result.ok:
        print(f"history intact: {result.events} events verified")
        return 0
    print(f"history broken at event {result.first_bad_seq}: {result.problem}")
    return 1


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from engine.config import get_settings
    from engine.demo import DEMO_PASSWORD, database_is_empty, seed_demo

    if args.if_empty and not database_is_empty():
        print("the database already has users; demo data not added")
        return 0
    users = seed_demo(get_settings().processes_dir)
    print(f"demo organisation created; every demo user's password is: {DEMO_PASSWORD}")
    for u in users:
        where = f" ({u.department})" if u.department else ""
        print(f"  {u.username:<12} {'/'.join(u.roles)}{where}  {u.display_name}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    from cli.server import run_server
    from engine.config import get_settings
    from engine.serving import prepare_for_serving

    prepare_for_serving()
    if get_settings().broker_url is None:
        os.environ.setdefault("FLOWDESK_EMBEDDED_BACKGROUND", "1")
    run_server(host=args.host, port=args.port, workers=args.workers)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `flowdesk` command."""
    parser = argparse.ArgumentParser(prog="flowdesk", description="flowdesk process platform")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API and pages")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="API worker processes")
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    user = sub.add_parser("user", help="users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--password", required=True)
    add.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["staff", "supervisor", "executive", "designer", "auditor", "admin"],
    )
    add.add_argument("--department")
    add.add_argument("--display-name")
    add.set_defaults(func=cmd_user_add)

    validate = sub.add_parser("validate", help="check BPMN/DMN files")
    validate.add_argument("files", nargs="+")
    validate.set_defaults(func=cmd_validate)

    deploy = sub.add_parser("deploy", help="validate and deploy BPMN/DMN files")
    deploy.add_argument("files", nargs="+")
    deploy.set_defaults(func=cmd_deploy)

    seed = sub.add_parser("seed-demo", help="the demo organisation and sample cases")
    seed.add_argument("--if-empty", action="store_true", help="only on a database without users")
    seed.set_defaults(func=cmd_seed_demo)

    tick = sub.add_parser("tick", help="one round of background work")
    tick.add_argument("--at", type=_parse_instant, help="ISO-8601 instant with offset")
    tick.set_defaults(func=cmd_tick)

    audit = sub.add_parser("audit", help="history")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check the hash chain").set_defaults(func=cmd_audit_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InvalidBpmn as exc:
        for p in exc.problems:
            print(p.format(), file=sys.stderr)
        return 1
    except InvalidData as exc:
        for p in exc.problems:
            print(f"{p.field}: {p.message}", file=sys.stderr)
        return 1
    except FlowdeskError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(
            f"error: the database is not usable ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}); is it migrated? run `flowdesk db upgrade`",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
