"""The ``motorsign`` command line.

Each verb lives in its own module under :mod:`motorsign.commands` and is
imported only when that verb runs, so ``motorsign info`` never pays for
importing MNE, matplotlib or Dask. A verb module provides::

    HELP: str                                   one line for the verb list
    def add_arguments(parser) -> None           its options
    def run(args) -> int                        the work; returns the exit code

Exit codes: 0 success, 1 failure (one line on stderr; the traceback only with
``--debug``), 2 bad usage (argparse), 3 partial success (``run`` with failed
recordings).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

#: verb -> (module, one-line description). The descriptions live here so the
#: verb list prints without importing any verb module.
VERBS: dict[str, tuple[str, str]] = {
    "info": ("motorsign.commands.info", "describe a recording: format, streams, channels, events"),
    "detect": ("motorsign.commands.detect", "spontaneous activity (fibrillations, PSWs, fasciculations)"),
    "mup": ("motorsign.commands.mup", "voluntary motor unit potential analysis"),
    "mep": ("motorsign.commands.mep", "motor evoked potentials after TMS"),
    "nerve": ("motorsign.commands.nerve", "M-waves and F-waves after nerve stimulation"),
    "cmct": ("motorsign.commands.cmct", "central motor conduction time"),
    "fuse": ("motorsign.commands.fuse", "UMN/LMN evidence and ALS criteria from a case file"),
    "simulate": ("motorsign.commands.simulate", "simulated recordings with ground truth"),
    "score": ("motorsign.commands.score", "score a result against ground truth"),
    "run": ("motorsign.commands.run", "run a pipeline file over many recordings"),
}

log = logging.getLogger("motorsign")


def _version() -> str:
    from motorsign import __version__

    return __version__


def _top_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="motorsign",
        description="EMG and TMS recordings to upper/lower motor neuron evidence.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="verbs:\n"
        + "\n".join(f"  {v:<10}{d}" for v, (_, d) in VERBS.items())
        + "\n\n'motorsign VERB --help' shows a verb's options.",
    )
    p.add_argument("--version", action="version", version=f"motorsign {_version()}")
    p.add_argument("verb", nargs="?", help="one of: " + ", ".join(VERBS))
    return p


def _common_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("general")
    g.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    g.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO)")
    g.add_argument("-q", "--quiet", action="store_true", help="only errors")


def build_verb_parser(verb: str) -> tuple[argparse.ArgumentParser, object]:
    """Import a verb's module and build its parser."""
    module_name, description = VERBS[verb]
    module = importlib.import_module(module_name)
    p = argparse.ArgumentParser(
        prog=f"motorsign {verb}",
        description=getattr(module, "DESCRIPTION", None) or description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.add_arguments(p)
    _common_options(p)
    return p, module


def _setup_logging(args: argparse.Namespace) -> None:
    level = logging.WARNING
    if getattr(args, "verbose", False):
        level = logging.INFO
    if getattr(args, "debug", False):
        level = logging.DEBUG
    if getattr(args, "quiet", False):
        level = logging.ERROR
    logging.basicConfig(level=level, format="motorsign: %(levelname)s: %(message)s")
    logging.captureWarnings(True)
    warnings.formatwarning = _format_warning
    if level > logging.INFO:  # neo logs multi-line messages; motorsign raises its own one-line error
        logging.getLogger("neo").setLevel(logging.CRITICAL)


def _format_warning(message, category, filename, lineno, line=None) -> str:
    """One line per warning: motorsign's own without the source location."""
    from motorsign.errors import MotorsignWarning

    text = " ".join(str(message).split())
    if issubclass(category, MotorsignWarning):
        return text
    return f"{category.__name__}: {text} ({filename}:{lineno})"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


#: verbs whose ``--out`` is a folder (``fuse --out`` is a file)
_OUT_DIR_VERBS = ("detect", "mup", "mep", "nerve", "simulate", "run")


def _check_out_dir(verb: str, args: argparse.Namespace) -> None:
    """Refuse an ``--out`` that is an existing file before any work is done."""
    from motorsign.errors import ConfigError

    out = getattr(args, "out", None)
    if verb in _OUT_DIR_VERBS and out and Path(out).exists() and not Path(out).is_dir():
        raise ConfigError("--out exists and is a file, not a folder (give a folder name)", out)


def _warn_unknown_muscle(verb: str, args: argparse.Namespace) -> None:
    """One warning for a ``--muscle`` the catalog does not know (``mep`` warns on its own)."""
    muscle = getattr(args, "muscle", None)
    if verb not in ("detect", "mup", "nerve", "cmct") or not isinstance(muscle, str) or not muscle:
        return
    from motorsign.fusion.catalog import load_catalog

    catalog = load_catalog()
    if catalog.find(muscle) is None:
        near = catalog.suggest(muscle)
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        log.warning("--muscle %r is not a muscle of the catalog%s: no muscle-specific reference "
                    "values or norms apply", muscle, hint)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``motorsign`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in VERBS:
        top = _top_parser()
        if not argv:
            top.print_help()
            return 2
        if argv[0].startswith("-"):
            top.parse_args(argv)  # --help / --version exit here
            return 2
        top.error(f"unknown verb {argv[0]!r}; choose one of: {', '.join(VERBS)}")
    verb = argv[0]
    debug = "--debug" in argv
    try:
        parser, module = build_verb_parser(verb)
    except Exception as exc:  # a broken install, not a user mistake
        if debug:
            raise
        print(f"motorsign {verb}: error: cannot load the verb ({_one_line(exc)})", file=sys.stderr)
        return 1
    args = parser.parse_args(argv[1:])
    _setup_logging(args)
    from motorsign.errors import MotorsignError

    try:
        _check_out_dir(verb, args)
        _warn_unknown_muscle(verb, args)
        code = module.run(args)
        return 0 if code is None else int(code)
    except KeyboardInterrupt:
        print(f"motorsign {verb}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`motorsign ... | head`): stop
        # quietly, as command-line tools do; result files are already written.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except MotorsignError as exc:
        if args.debug:
            raise
        print(f"motorsign {verb}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError) as exc:
        if args.debug:
            raise
        where = getattr(exc, "filename", None)
        out = getattr(args, "out", None)
        if (isinstance(exc, OSError) and exc.strerror and where and out
                and (Path(where) == Path(out) or Path(where) in Path(out).parents)):
            msg = f"{where}: cannot write the --out {'file' if verb == 'fuse' else 'folder'} ({exc.strerror})"
        elif isinstance(exc, OSError) and exc.strerror:
            msg = f"{where}: {exc.strerror}" if where else exc.strerror
        else:
            msg = _one_line(exc)
            if where and str(where) not in msg:
                msg = f"{where}: {msg}"
        print(f"motorsign {verb}: error: {msg}", file=sys.stderr)
        return 1
    except MemoryError as exc:  # usually an absurd option (a duration of years)
        if args.debug:
            raise
        print(f"motorsign {verb}: error: not enough memory ({_one_line(exc)}): check the sizes asked for",
              file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: still one line, with a hint
        if _caused_by_interrupt(exc):
            # Ctrl-C landing inside a compiled call surfaces as SystemError
            # ("returned a result with an exception set") around the interrupt
            print(f"motorsign {verb}: interrupted", file=sys.stderr)
            return 130
        if args.debug:
            raise
        print(
            f"motorsign {verb}: error: internal error {type(exc).__name__}: {_one_line(exc)} "
            "(rerun with --debug and report it)",
            file=sys.stderr,
        )
        return 1



def _caused_by_interrupt(exc: BaseException) -> bool:
    """Whether a KeyboardInterrupt is in ``exc``'s chain of causes and contexts."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
