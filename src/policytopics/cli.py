"""Command line: argument parsing only; every command calls one library function.

In: ``argv``. Out: an exit code — 0 on success, 2 for a user error (bad config, missing
corpus, a run folder made from another config, ...) reported as one line on stderr without
a traceback, 130 when interrupted (Ctrl-C), with one line saying the previous results were
left as they were.

Commands::

    python -m policytopics run CONFIG [--set key.path=value ...] [--force]    # policytopics.run
    python -m policytopics clean CONFIG [--set key.path=value ...] [--force]  # policytopics.clean_corpus
    python -m policytopics check CONFIG [--set ...]                  # print the resolved config
    python -m policytopics tokens CONFIG "一段文字" [--set ...]        # how a text is tokenised
    python -m policytopics validate RUN_DIR LABELS.csv [--split NAME] [--seed N] [--out FILE.json]
                                                       # a run folder's unit themes vs hand labels

``--force`` (the commands that write a run folder) replaces a run folder that was made from
another config; without it such a folder is left alone and the command exits with code 2.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence

from policytopics import __version__
from policytopics.errors import PolicytopicsError


#: An error message that starts with a dotted setting (``lda.num_topics: ...``), found at run
#: time: the CLI adds the config file it came from.
_SETTING_FIRST = re.compile(r"^[a-z_]+\.[a-z_.]+: ")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m policytopics",
        description="Policy-theme and topic modelling of Chinese development-zone speeches.",
    )
    parser.add_argument("--version", action="version", version=f"policytopics {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    helps = {
        "run": "run the whole pipeline and write results/<name>/",
        "clean": "run only ingestion, cleaning and segmentation and write the cleaned documents",
        "check": "check a config and print it resolved, with every default filled in",
        "validate": "compare the unit themes of a run folder (written by run; nothing is re-run) with "
        "hand-coded labels: accuracy, macro-F1, Cohen's kappa with intervals, per-theme precision and "
        "recall, the confusion table, next to the plain keyword count and the keyword mixing, with McNemar tests",
        "tokens": "show how a text is tokenised under a config: every word, its POS tag, "
        "and whether it is kept or why it is dropped",
        "apply": "measure a new corpus with a published run's model (no refit): documents.csv and units.csv in "
        "the run's format, cleaned and tokenised as in the run, with a manifest naming the model",
        "sample": "draw a random (or theme-stratified) sample of a run's units for hand coding: the key, a coding "
        "sheet and an offline HTML coding page (and, on request, word- and topic-intrusion tests)",
        "compare": "estimate the config's effects section (theme shares by metadata, with the measurement's "
        "uncertainty) from its existing run folder, without re-running it",
    }
    for name, help_text in helps.items():
        command = commands.add_parser(name, help=help_text, description=help_text)
        if name == "validate":
            _add_validate_arguments(command)
            continue
        if name == "apply":
            _add_apply_arguments(command)
            continue
        if name == "sample":
            _add_sample_arguments(command)
            continue
        command.add_argument("config", help="a YAML config file, e.g. configs/default.yaml")
        if name == "tokens":
            command.add_argument("text", nargs="?", help="the text (read from stdin when omitted)")
        if name in ("run", "clean"):  # the commands that write a run folder
            command.add_argument(
                "--force",
                action="store_true",
                help="replace the run folder results_dir/name even if it was made from another config",
            )
        command.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a setting, e.g. --set segment.max_unit_chars=800 (repeatable)",
        )
        verbosity = command.add_mutually_exclusive_group()
        verbosity.add_argument("-v", "--verbose", action="store_true", help="log every file")
        verbosity.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    return parser


def _add_validate_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("run_dir", help="a run folder written by run, e.g. results/default")
    command.add_argument("labels", help="CSV with unit_id (or snippet) and theme columns, optionally split")
    command.add_argument("--split", metavar="NAME", help="keep only the labels whose split column is NAME")
    command.add_argument("--seed", type=int, help="seed of the bootstrap (default: the run's seed)")
    command.add_argument("--out", metavar="FILE.json", help="also write every figure as JSON to this file")
    command.add_argument("--coder", dest="coders", action="append", default=[], metavar="SHEET.csv",
                         help="a coder's answers (repeat for each coder, two or more): LABELS.csv is then the "
                         "sample's key (sample.csv of the sample command)")
    command.add_argument("--adjudication", metavar="FILE.csv", help="with --coder: the adjudicated disagreements")
    command.add_argument("--disagreements", metavar="FILE.csv", help="with --coder: write the disagreements to adjudicate")
    verbosity = command.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="log every file")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="log warnings only")


def _add_apply_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("run_dir", help="a run folder written by run, e.g. results/city-2024")
    command.add_argument("corpus", help="a folder of .txt files, or a .csv/.jsonl file")
    command.add_argument("--out", metavar="DIR", help="the output folder (default: RUN_DIR-applied-<corpus name>)")
    command.add_argument("--set", dest="overrides", action="append", default=[], metavar="corpus.KEY=VALUE",
                         help="how to read the new corpus, e.g. --set corpus.text_column=body (repeatable)")
    verbosity = command.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="log every file")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="log warnings only")


def _add_sample_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("run_dir", help="a run folder written by run, e.g. results/city-2024")
    command.add_argument("--n", type=int, required=True, help="units to draw")
    command.add_argument("--stratify", choices=["theme"], help="equal allocation over the run's predicted themes "
                         "(sampling weights recorded, so validate can re-weight accuracy to the corpus)")
    command.add_argument("--seed", type=int, help="seed of the draw (default: the run's seed)")
    command.add_argument("--out", metavar="DIR", help="where to write (default: RUN_DIR-coding)")
    command.add_argument("--word-intrusion", type=int, default=0, metavar="N", help="word-intrusion items per topic")
    command.add_argument("--topic-intrusion", type=int, default=0, metavar="N", help="topic-intrusion items in all")
    command.add_argument("--no-split", action="store_true", help="no design half: every unit is held out")
    verbosity = command.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="log every file")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="log warnings only")


class _StderrHandler(logging.StreamHandler):
    """Writes each record to ``sys.stderr`` as it is at that moment (notebooks and tests replace
    it; a handler bound to the stream of the first call would write to a closed file later)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:  # logging.StreamHandler.__init__ assigns it
        pass


def _configure_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("policytopics")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, call the library, and return the exit code.

    Examples
    --------
    >>> main(["check", "configs/default.yaml", "--set", "name=trial", "-q"])  # doctest: +SKIP
    0
    """
    args = _build_parser().parse_args(argv)
    _configure_logging(args.verbose, args.quiet)
    config = None
    try:
        if args.command == "validate":  # reads a run folder: no config, nothing re-run
            from policytopics.validation import validate_run

            print(validate_run(args.run_dir, args.labels, split=args.split, seed=args.seed, out=args.out,
                               coders=args.coders, adjudication=args.adjudication, disagreements_out=args.disagreements))
            return 0
        if args.command == "sample":  # reads a run folder
            from policytopics.sampling import sample_run

            print(sample_run(args.run_dir, args.n, stratify=args.stratify, seed=args.seed, out=args.out,
                             word_intrusion=args.word_intrusion, topic_intrusion=args.topic_intrusion,
                             split=not args.no_split))
            return 0
        if args.command == "apply":  # reads a run folder: its own config, nothing refitted
            from policytopics.apply import apply_corpus

            print(apply_corpus(args.run_dir, args.corpus, args.out, args.overrides))
            return 0
        from policytopics.config import load_config

        config = load_config(args.config, args.overrides)
        if args.command == "check":
            sys.stdout.write(config.to_yaml())
            return 0
        if args.command == "tokens":
            from policytopics.tokenize import Tokenizer, format_decisions

            text = args.text if args.text is not None else sys.stdin.read()
            tokenizer = Tokenizer(config.tokenize, cache_dir=f"{config.cache.dir}/jieba")
            print(format_decisions(tokenizer.explain(text)))
            return 0
        import policytopics

        if args.command == "compare":
            print(policytopics.compare(config))
            return 0
        action = policytopics.run if args.command == "run" else policytopics.clean_corpus
        result = action(config, force=args.force)
        print(result.run_dir)
        return 0
    except PolicytopicsError as error:
        message = " ".join(str(error).split())  # one line, whatever the message holds
        if _SETTING_FIRST.match(message) and args.command not in ("validate", "apply", "sample") and args.config not in message:
            message = f"{args.config}: {message}"  # a setting found impossible at run time
        print(f"error: {message}", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. results folder not writable, disk full
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if config is not None and args.command in ("run", "clean"):
            folder = f"{config.output.results_dir}/{config.name}"
            print(f"interrupted: the run was stopped; {folder} was left as it was", file=sys.stderr)
        else:
            print("interrupted", file=sys.stderr)
        return 130
