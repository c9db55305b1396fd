"""The authors' command line: ``python -m course_admin.quiz COMMAND``.

    python -m course_admin.quiz seal quizzes/drafts/01_x.yaml -o quizzes/01_x.yaml
    python -m course_admin.quiz unseal quizzes/01_x.yaml -o quizzes/drafts/01_x.yaml
    python -m course_admin.quiz check quizzes/*.yaml
    python -m course_admin.quiz show 01_linear_autoencoder_and_pca --lang vi [--learner An]
    python -m course_admin.quiz blind quizzes/*.yaml   # what blind guessing scores

The exit code is 0 when every bank is valid (check) or fair (blind), 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys

from course_admin.quiz.blind import blind_report, format_blind, pooled, verdicts
from course_admin.quiz.seal import DRAFT_HEADER, HEADER, seal, unseal
from course_utils.quiz.bank import LANGS, QuizBankError
from course_utils.quiz.files import load_bank, read_yaml, write_yaml
from course_utils.quiz.text import render_text


def _parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="python -m course_admin.quiz", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = cli.add_subparsers(dest="command", required=True)
    for name, what in (("seal", "draft"), ("unseal", "bank")):
        p = sub.add_parser(name, help=f"{name} a {what}")
        p.add_argument(what)
        p.add_argument("-o", "--output", required=True)
    sub.add_parser("check", help="validate banks").add_argument("banks", nargs="+")
    sub.add_parser("blind", help="score blind-guessing strategies").add_argument("banks", nargs="+")
    p = sub.add_parser("show", help="print a lesson's quiz")
    p.add_argument("lesson")
    p.add_argument("--lang", choices=LANGS)
    p.add_argument("--learner", help="the name that fixes the order of the options")
    return cli


def _check(paths: list[str]) -> int:
    """Validate each bank; print OK or every problem. The number of banks with problems."""
    failed = 0
    for path in paths:
        try:
            print(f"{path}: OK ({len(load_bank(path).questions)} questions)")
        except (QuizBankError, FileNotFoundError) as err:
            print(err, file=sys.stderr)
            failed += 1
    return failed


def _blind(paths: list[str]) -> int:
    """Print each bank's table, the pooled table (cued questions) and every breach; 1 if any."""
    reports = [blind_report(load_bank(p), lang) for p in paths for lang in LANGS]
    print(format_blind(reports))
    print("\nPooled, over the questions each strategy cues:")
    print(format_blind([pooled(reports, lang) for lang in LANGS], on="cue"))
    breaches = verdicts(reports)
    print("\n" + ("\n".join(breaches) if breaches else "Every strategy stays near chance."))
    return int(bool(breaches))


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the exit code (0 when everything is fine)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "seal":
            sealed = seal(read_yaml(args.draft), args.draft)
            write_yaml(sealed, args.output, HEADER)
            print(f"Sealed {len(sealed['questions'])} questions into {args.output}.")
        elif args.command == "unseal":
            write_yaml(unseal(load_bank(args.bank)), args.output, DRAFT_HEADER)
            print(f"Wrote {args.output}. It holds the answers: keep it in quizzes/drafts/.")
        elif args.command == "check":
            return int(_check(args.banks) > 0)
        elif args.command == "blind":
            return _blind(args.banks)
        else:
            print(render_text(load_bank(args.lesson), args.lang, args.learner))
    except (QuizBankError, FileNotFoundError) as err:
        print(err, file=sys.stderr)
        return 1
    return 0
