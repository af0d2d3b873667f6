"""The `flowdesk` command (CONTRACT.md lists its sub-commands)."""

from __future__ import annotations

import argparse
import dataclasses
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
            email=args.email,
        )
        print(f"created user {user.username} ({', '.join(sorted(user.role_names))})")
    return 0


def cmd_user_password(args: argparse.Namespace) -> int:
    from engine.db import unit_of_work
    from engine.identity import SYSTEM, set_password

    with unit_of_work() as session:
        set_password(session, username=args.name, password=args.password, actor=SYSTEM)
    print(f"new password for {args.name}; their sessions and tokens have ended")
    return 0


def cmd_user_deactivate(args: argparse.Namespace) -> int:
    from engine.db import unit_of_work
    from engine.identity import SYSTEM
    from engine.user_admin import update_user

    # The operator at the server's console administers it: the same rule as the admin
    # API (refused while the user holds work), recorded as done by `system`.
    console = dataclasses.replace(SYSTEM, roles=SYSTEM.roles | {"admin"})
    with unit_of_work() as session:
        update_user(session, username=args.name, changes={"active": False}, actor=console)
    print(f"deactivated {args.name}; their sessions and tokens have ended")
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
    # A process's forms: `<process_key>.json` beside its file, else the forms/ folder's.
    folders = {name: Path(name).parent for name, _ in files}
    with unit_of_work() as session:
        results = deploy_files(session, files=files, actor=SYSTEM, forms_folders=folders)
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
    from engine.witness import check_witness, read_witness

    if args.witness == "":  # --witness without a file: the configured witness file
        from engine.config import get_settings

        configured = get_settings().witness_file
        if configured is None:
            print("no witness file is configured: give one, --witness FILE", file=sys.stderr)
            return 2
        args.witness = str(configured)
    heads = read_witness(Path(args.witness)) if args.witness else None
    with unit_of_work(write=False) as session:
        result = verify_chain(session)
        witnessed = check_witness(session, heads) if heads is not None else None
    if not result.ok:
        print(f"history broken at event {result.first_bad_seq}: {result.problem}")
        return 1
    if witnessed is not None and not witnessed.ok:
        print(
            f"history chain intact ({result.events} events) but it does not match the "
            f"witness {args.witness}: {witnessed.problem}"
        )
        return 1
    print(f"history intact: {result.events} events verified")
    if witnessed is not None:
        print(
            f"witness {args.witness}: the history holds all {witnessed.heads} witnessed "
            f"heads (the newest is event {witnessed.newest_seq})"
        )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from engine.backup import backup_database, sidecar_path

    result = backup_database(Path(args.file))
    using = f" with {result.tool}" if result.tool else ""
    print(
        f"backed up the {result.kind} database{using} to {result.path} "
        f"(history up to event {result.head.seq}; its head is in {sidecar_path(result.path)})"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from engine.backup import restore_database
    from engine.config import get_settings

    result = restore_database(Path(args.file), force=args.force)
    using = f" with {result.tool}" if result.tool else ""
    print(f"restored {args.file}{using}: the history ends at event {result.head.seq}")
    ahead = result.witnessed_ahead
    if ahead is not None:
        print(
            f"note: the witness file {get_settings().witness_file} saw the history up to "
            f"event {ahead.seq} ({ahead.at}): {ahead.seq - result.head.seq} events are not in "
            "this backup. `flowdesk audit verify --witness` will say so; after a deliberate "
            "restore keep that file as the record and move it aside to start a new witness.",
            file=sys.stderr,
        )
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from crm.demo import DEMO_PASSWORD, database_is_empty, seed_demo
    from engine.config import get_settings

    if args.if_empty and not database_is_empty():
        print("the database already has users; demo data not added")
        return 0
    users = seed_demo(get_settings().processes_dir)
    print(f"demo organisation created; every demo user's password is: {DEMO_PASSWORD}")
    for u in users:
        where = f" ({u.department})" if u.department else ""
        print(f"  {u.username:<12} {'/'.join(u.roles)}{where}  {u.display_name}")
    return 0


def _local_instant(text: str) -> datetime:
    """An ISO-8601 instant; without an offset it is read in the configured time zone."""
    from engine.calendar import timezone

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 instant: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone())


def cmd_calendar_due(args: argparse.Namespace) -> int:
    from engine import calendar

    if args.hours < 0:
        print("--hours must not be negative", file=sys.stderr)
        return 2
    cal = calendar.get_calendar(args.calendar)
    due = cal.add(args.start, args.hours)
    print(due.astimezone(calendar.timezone()).isoformat())
    return 0


def cmd_calendar_show(args: argparse.Namespace) -> int:
    from engine import calendar

    schedule = calendar.china_days().schedule(args.year)
    if args.json:
        print(json.dumps(schedule.as_dict(), ensure_ascii=False))
        return 0
    print(f"{args.year}: {schedule.describe_source()}")
    print("non-working weekdays (statutory holidays and days off):")
    for day, name in schedule.nonworking_weekdays:
        print(f"  {day.isoformat()} {day.strftime('%a')}  {name}")
    print("working weekend days (调休):")
    if not schedule.working_weekend_days:
        print("  none" + (" known" if schedule.source == calendar.SOURCE_COMPUTED else ""))
    for day, name in schedule.working_weekend_days:
        print(f"  {day.isoformat()} {day.strftime('%a')}  {name}")
    return 0


def cmd_calendar_load(args: argparse.Namespace) -> int:
    from engine import calendar
    from engine.calendar_admin import load_schedule
    from engine.db import unit_of_work
    from engine.identity import SYSTEM

    path = Path(args.file)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"{args.file}: cannot read a JSON schedule: {exc}", file=sys.stderr)
        return 1
    try:
        schedule = calendar.parse_schedule_file(payload)
    except calendar.CalendarError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 1
    with unit_of_work() as session:
        load_schedule(session, schedule=schedule, actor=SYSTEM, source=path.name)
    print(
        f"{schedule.year}: loaded {len(schedule.holidays)} holidays and "
        f"{len(schedule.workdays)} adjusted working days"
    )
    return 0


def cmd_calendar_assign(args: argparse.Namespace) -> int:
    from engine.calendar_admin import assign_calendar
    from engine.db import unit_of_work
    from engine.identity import SYSTEM

    with unit_of_work() as session:
        assign_calendar(session, department=args.department, name=args.calendar, actor=SYSTEM)
    print(f"{args.department}: calendar {args.calendar}")
    return 0


def _celery_argv(args: argparse.Namespace, kind: str) -> list[str]:
    from engine.config import get_settings

    if not get_settings().broker_url:
        raise SystemExit(
            f"flowdesk {kind}: set FLOWDESK_BROKER_URL (redis://… or amqp://…); without a broker "
            "`flowdesk serve` runs the background work in-process"
        )
    return [kind, f"--loglevel={args.loglevel}", *args.celery_args]


def cmd_worker(args: argparse.Namespace) -> int:
    argv = _celery_argv(args, "worker")
    from engine.secret_key import require_secret_key

    require_secret_key("worker")
    from worker.app import app

    if args.concurrency:
        argv.append(f"--concurrency={args.concurrency}")
    if args.name:
        argv.append(f"--hostname={args.name}")
    argv.append(f"--queues={args.queues}")
    app.worker_main(argv)
    return 0


def cmd_beat(args: argparse.Namespace) -> int:
    argv = _celery_argv(args, "beat")
    from engine.secret_key import require_secret_key

    require_secret_key("beat")
    from worker.app import app, beat_schedule_file

    app.start([*argv, f"--schedule={beat_schedule_file()}"])
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    from cli.server import run_server
    from engine import wal
    from engine.config import get_settings
    from engine.secret_key import require_secret_key
    from engine.serving import prepare_for_serving

    require_secret_key("serve")
    # Every connection of this process, the set-up's too: commits leave SQLite's log to
    # the API process's checkpoint thread (engine/wal.py).
    os.environ.setdefault(wal.ENV, "background")
    prepare_for_serving()
    if get_settings().broker_url is None:
        os.environ.setdefault("FLOWDESK_EMBEDDED_BACKGROUND", "1")
    os.environ.setdefault("FLOWDESK_GC_FREEZE", "1")  # engine/gc_pause.py, per API process
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
    add.add_argument("--email", help="address for notification e-mail")
    add.set_defaults(func=cmd_user_add)
    password = user_sub.add_parser(
        "password", help="set a user's password (ends their sessions and tokens)"
    )
    password.add_argument("name")
    password.add_argument("--password", required=True)
    password.set_defaults(func=cmd_user_password)
    deactivate = user_sub.add_parser(
        "deactivate", help="deactivate a user (ends their sessions and tokens)"
    )
    deactivate.add_argument("name")
    deactivate.set_defaults(func=cmd_user_deactivate)

    validate = sub.add_parser("validate", help="check BPMN/DMN files")
    validate.add_argument("files", nargs="+")
    validate.set_defaults(func=cmd_validate)

    deploy = sub.add_parser("deploy", help="validate and deploy BPMN/DMN files")
    deploy.add_argument("files", nargs="+")
    deploy.set_defaults(func=cmd_deploy)

    seed = sub.add_parser("seed-demo", help="the demo organisation and sample cases")
    seed.add_argument("--if-empty", action="store_true", help="only on a database without users")
    seed.set_defaults(func=cmd_seed_demo)

    worker = sub.add_parser("worker", help="Celery worker (needs FLOWDESK_BROKER_URL)")
    worker.add_argument("--concurrency", type=int)
    worker.add_argument("--name", "-n", help="worker node name, e.g. w1@%%h")
    worker.add_argument("--queues", "-Q", default="flowdesk")
    worker.add_argument("--loglevel", default="info")
    worker.add_argument("celery_args", nargs=argparse.REMAINDER, help="passed to celery")
    worker.set_defaults(func=cmd_worker)
    beat = sub.add_parser("beat", help="Celery beat: schedules the background rounds")
    beat.add_argument("--loglevel", default="info")
    beat.add_argument("celery_args", nargs=argparse.REMAINDER, help="passed to celery")
    beat.set_defaults(func=cmd_beat)

    cal = sub.add_parser("calendar", help="the working calendar")
    cal_sub = cal.add_subparsers(dest="calendar_command", required=True)
    due = cal_sub.add_parser("due", help="the instant N working hours after another")
    due.add_argument("--from", dest="start", type=_local_instant, required=True)
    due.add_argument("--hours", type=float, required=True)
    due.add_argument("--calendar", default="standard", help="calendar name (default standard)")
    due.set_defaults(func=cmd_calendar_due)
    show = cal_sub.add_parser("show", help="a year's holidays and adjusted working days")
    show.add_argument("year", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_calendar_show)
    load = cal_sub.add_parser("load", help="load a year's official schedule (JSON)")
    load.add_argument("file")
    load.set_defaults(func=cmd_calendar_load)
    assign = cal_sub.add_parser("assign", help="give a department its own calendar")
    assign.add_argument("department")
    assign.add_argument("calendar", choices=["standard", "round_the_clock", "sales_office"])
    assign.set_defaults(func=cmd_calendar_assign)

    tick = sub.add_parser("tick", help="one round of background work")
    tick.add_argument("--at", type=_parse_instant, help="ISO-8601 instant with offset")
    tick.set_defaults(func=cmd_tick)

    audit = sub.add_parser("audit", help="history")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check the hash chain")
    verify.add_argument(
        "--witness",
        metavar="FILE",
        nargs="?",
        const="",
        help="also check the history against a witness file or a backup's .witness.json "
        "(without FILE: FLOWDESK_WITNESS_FILE or its default)",
    )
    verify.set_defaults(func=cmd_audit_verify)

    backup = sub.add_parser("backup", help="a consistent copy of the whole database")
    backup.add_argument("file")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="put a backup back into the configured database")
    restore.add_argument("file")
    restore.add_argument("--force", action="store_true", help="replace a database that holds data")
    restore.set_defaults(func=cmd_restore)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    import crm

    crm.install()  # the real-estate vertical: its records follow every step a command runs
    try:
        return int(args.func(args) or 0)
    except InvalidBpmn as exc:
        for problem in exc.problems:
            print(problem.format(), file=sys.stderr)
        return 1
    except InvalidData as exc:
        for field_problem in exc.problems:
            print(f"{field_problem.field}: {field_problem.message}", file=sys.stderr)
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
