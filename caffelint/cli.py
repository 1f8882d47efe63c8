"""Command line: parse options, call the api, print, choose the exit code.

Exit status: 0 nothing at or above the failure threshold, 1 findings that
reach it (or, for `fix`, changes to make), 2 usage errors and unreadable input.
Heavy modules are imported inside the commands, so `--version` stays fast.
"""

from __future__ import annotations

import sys

import click

from caffelint import __version__

FORMATS = ("text", "concise", "json", "sarif", "github")


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def selection_options(func):
    """Options shared by `check` and `fix`: which rules, which config, which data."""
    decorators = [
        click.option("--select", multiple=True, help="Only these rules (codes, names, prefixes, ALL)."),
        click.option("--extend-select", multiple=True, help="Add rules to the selection."),
        click.option("--ignore", multiple=True, help="Skip these rules (codes, names or prefixes)."),
        click.option("--tier", type=click.Choice(["minimal", "recommended", "strict"]),
                     help="Rule set by strictness (default: recommended)."),
        click.option("--config", type=click.Path(dir_okay=False),
                     help="Use this config file instead of the .caffelint.yaml (or pyproject.toml) found upward."),
        click.option("--isolated", is_flag=True, help="Ignore all configuration files."),
        click.option("--kind", type=click.Choice(["net", "solver"]), help="Treat every file as this kind."),
        click.option("--root", type=click.Path(file_okay=False),
                     help="Folder that relative paths in solvers and nets are relative to."),
        click.option("--proto", type=click.Path(dir_okay=False),
                     help="Validate against this caffe.proto (a fork's) instead of BVLC's."),
        click.option("--no-data", is_flag=True, help="Do not open data sources (LMDB, lists, HDF5)."),
        click.option("--require-data", is_flag=True, help="A missing data source is an error."),
        click.option("--sample", type=click.IntRange(min=1), help="Scan about N records per data source, as runs spread over it (more than half: all of it)."),
        click.option("--no-suppressions", is_flag=True, help="Ignore # caffelint: disable comments."),
        click.option("--debug", is_flag=True, help="Show tracebacks of internal errors."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def build_options(kwargs: dict, **extra):
    from caffelint.config import Options

    values = {
        "select": _split(kwargs["select"]) or None,
        "extend_select": _split(kwargs["extend_select"]),
        "ignore": _split(kwargs["ignore"]),
        "config": kwargs["config"],
        "isolated": kwargs["isolated"],
        "kind": kwargs["kind"],
        "root": kwargs["root"],
        "proto": kwargs["proto"],
        "no_data": kwargs["no_data"],
        "require_data": kwargs["require_data"],
        "sample": kwargs["sample"],
        "no_suppressions": kwargs["no_suppressions"],
    }
    if kwargs.get("tier"):
        values["tier"] = kwargs["tier"]
    values.update(extra)
    return Options.from_kwargs(**{k: v for k, v in values.items() if v is not None or k == "select"})


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="caffelint")
def cli() -> None:
    """Lint and fix Caffe solver and net prototxt files, their data and their training logs."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@selection_options
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output-file", "-o", type=click.Path(dir_okay=False), help="Write the report here.")
@click.option("--statistics", is_flag=True, help="Count findings per rule instead of listing them.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings reach the threshold.")
@click.option("--failure-threshold", type=click.Choice(["error", "warning", "info"]),
              help="Lowest severity that makes the exit status 1 (default: error).")
@click.option("--fix", "apply_fixes", is_flag=True, help="Apply fixes: the same as `caffelint fix --apply`.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix, also apply unsafe fixes.")
@click.option("--add-noqa", is_flag=True,
              help="Add a `# caffelint: disable=CODE` comment to each line with a finding, instead of reporting.")
def check(paths, output_format, output_file, statistics, exit_zero, failure_threshold, apply_fixes,
          unsafe_fixes, add_noqa, **kwargs) -> None:
    """Check solver and net files (folders are searched for *.prototxt, *.pbtxt, *.pt, *solver*)."""
    if add_noqa:
        sys.exit(_run_add_noqa(paths, build_options(kwargs), debug=kwargs["debug"]))
    if apply_fixes:
        sys.exit(_run_fix(paths, build_options(kwargs, unsafe_fixes=unsafe_fixes), apply=True,
                          from_log=None, follow_symlinks=False, debug=kwargs["debug"]))
    from caffelint.api import check_paths
    from caffelint.config import threshold_for
    from caffelint.report import render

    options = build_options(kwargs)
    report = check_paths(list(paths), options, debug=kwargs["debug"])
    text = render(output_format, report, statistics=statistics)
    _emit(text, output_file)
    # Each file's own config may set failure-threshold; --failure-threshold overrides them all.
    thresholds = {path: threshold_for(options, path, failure_threshold) for path in {f.path for f in report.findings}}
    failed = any(f.severity >= thresholds[f.path] for f in report.findings)
    sys.exit(1 if failed and not exit_zero else 0)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@selection_options
@click.option("--apply", "apply_fixes", is_flag=True, help="Write the fixes (default: print a diff).")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that change training.")
@click.option("--from-log", type=click.Path(dir_okay=False),
              help="Propose solver changes that this training log's diagnosis implies.")
@click.option("--follow-symlinks", is_flag=True, help="Write through symlinks that leave the repository.")
def fix(paths, apply_fixes, unsafe_fixes, from_log, follow_symlinks, **kwargs) -> None:
    """Show (or, with --apply, write) the fixes for the findings in PATHS."""
    sys.exit(_run_fix(paths, build_options(kwargs, unsafe_fixes=unsafe_fixes), apply=apply_fixes,
                      from_log=from_log, follow_symlinks=follow_symlinks, debug=kwargs["debug"]))


def _run_add_noqa(paths, options, *, debug: bool) -> int:
    from caffelint.noqa import add_noqa

    report = add_noqa(list(paths), options, debug=debug)
    for note in report.notes + report.errors:
        sys.stderr.write(f"caffelint: {note}\n")
    total = sum(report.added.values())
    files = len(report.added)
    sys.stdout.write(f"Added {total} suppression{'s' * (total != 1)} to {files} file{'s' * (files != 1)}.\n")
    return report.exit_code


def _run_fix(paths, options, *, apply: bool, from_log, follow_symlinks: bool, debug: bool) -> int:
    from caffelint.fixing import fix_paths
    from caffelint.report.fixes import render_fix_report

    report = fix_paths(list(paths), options, apply=apply, from_log=from_log,
                       follow_symlinks=follow_symlinks, debug=debug)
    out, err = render_fix_report(report, apply=apply)
    sys.stdout.write(out)
    if err:
        sys.stderr.write(err)
    return report.exit_code


@cli.command()
@click.argument("logfile", type=click.Path(dir_okay=False))
@click.option("--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False), help="Draw the curves to .png, .svg or .html.")
@click.option("--output-dir", type=click.Path(file_okay=False), help="Where --format csv writes .train/.test.")
@click.option("--select", multiple=True, help="Only these rules.")
@click.option("--ignore", multiple=True, help="Skip these rules.")
@click.option("--config", type=click.Path(dir_okay=False), help="Config file (rule thresholds).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings reach the threshold.")
@click.option("--failure-threshold", type=click.Choice(["error", "warning", "info"]))
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def log(logfile, output_format, plot, output_dir, select, ignore, config, exit_zero, failure_threshold,
        debug) -> None:
    """Diagnose a Caffe training log: NaN, divergence, plateaus, overfitting and more."""
    from caffelint.config import Options
    from caffelint.findings import Severity
    from caffelint.logdiag import diagnose_log
    from caffelint.report.logreport import render_log

    options = Options.from_kwargs(select=_split(select) or None, ignore=_split(ignore), config=config)
    report = diagnose_log(logfile, options, debug=debug)
    if plot:
        from caffelint.report.plot import plot_log

        plot_log(report, plot)
    sys.stdout.write(render_log(report, output_format, output_dir=output_dir))
    threshold = Severity.parse(failure_threshold or options.failure_threshold)
    failed = any(f.severity >= threshold for f in report.findings)
    sys.exit(1 if failed and not exit_zero else 0)


@cli.command("rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def rules_command(output_format) -> None:
    """List every rule: code, name, severity, tier, fix kind and summary."""
    from caffelint.report.catalogue import render_rules

    click.echo(render_rules(output_format), nl=False)


@cli.command()
@click.argument("rule")
def explain(rule) -> None:
    """Explain one rule (by code or name), with an example."""
    from caffelint.errors import UsageError
    from caffelint.report.catalogue import render_explain

    text = render_explain(rule)
    if text is None:
        raise UsageError(f"unknown rule {rule!r} (see `caffelint rules`)")
    click.echo(text, nl=False)


def _emit(text: str, output_file: str | None) -> None:
    if output_file:
        from caffelint.writer import write_text_atomic

        write_text_atomic(output_file, text)
    else:
        sys.stdout.write(text)


def main() -> None:
    from caffelint.errors import CaffelintError

    # File text is decoded with surrogate escapes (bytes survive); show such bytes as escapes.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:  # bad options: one line, like every other usage error
        command = getattr(getattr(exc, "ctx", None), "command_path", "caffelint")
        click.echo(f"caffelint: error: {exc.format_message().rstrip('.')} (see `{command} --help`)", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        sys.exit(130)
    except CaffelintError as exc:
        click.echo(f"caffelint: error: {exc}", err=True)
        sys.exit(2)
    except RecursionError:
        click.echo("caffelint: error: input nested too deeply to analyse", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    except Exception as exc:  # the last line of defence: never a traceback without --debug
        if "--debug" in sys.argv:
            raise
        click.echo(f"caffelint: internal error: {type(exc).__name__}: {exc} (rerun with --debug)", err=True)
        sys.exit(2)
    sys.exit(0)


if __name__ == "__main__":
    main()
