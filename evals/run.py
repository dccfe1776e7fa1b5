"""Score the drafters on the eval incidents: factual consistency and personal data leaked.

    python evals/run.py                      # built-in, scripted models, each adapter vs its fake
    python evals/run.py --drafter builtin
    python evals/run.py --drafter anthropic --base-url http://127.0.0.1:8099   # settings from env

For each incident in evals/incidents/*.yaml the drafter writes a status update (at the stage the
incident names) and a postmortem, and classifies the war-room messages. Each draft is scored:

- problems: what checks.py finds (shape, personal data, invented facts), with the facts being
  everything the incident holds (so the built-in drafter, which sees unstripped facts, is judged
  on what it was given, and a model on what it was given plus nothing);
- invented: numbers, times, e-mails, URLs and names in the draft that are not in the input;
- missing: facts a good status update must carry (the public service name and the stage);
- leaked: planted personal values (people, e-mails, hosts, IPs, tokens) found in the draft; a
  postmortem may name the incident's own responders (it is internal and names people as
  colleagues do), so their names alone do not count there; their e-mails and chat ids do.

A draft is judged as a reader sees it: Markdown escapes (`cus\\_123`) are undone first, so an
escaped value cannot hide from the checks.

For a model (any `Completion`), the drafts are the ones production would keep: a ModelDrafter
behind a FallbackDrafter over the built-in drafter. The model's own answers are scored too
(`model problems`, `model leaked`), which shows what the checks stopped before anyone saw it.
To score another Completion, call `run(<name>, completion=<your client>)`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:  # `python evals/run.py` from a checkout
    sys.path.insert(0, str(ROOT / "src"))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evals import scripted  # noqa: E402
from evals.scripted import CarefulCompletion, HallucinatingCompletion  # noqa: E402
from incident_response.adapters.embedded.drafter import BuiltinDrafter  # noqa: E402
from incident_response.adapters.llm import checks, prompting  # noqa: E402
from incident_response.adapters.llm.completion import Completion, PromptRequest  # noqa: E402
from incident_response.adapters.llm.drafter import ModelDrafter  # noqa: E402
from incident_response.adapters.llm.fallback import FallbackDrafter  # noqa: E402
from incident_response.domain.alert import AlertSource, Severity  # noqa: E402
from incident_response.domain.audit import AuditEvent, AuditEventType, AuditKey, seal  # noqa: E402
from incident_response.domain.context import Change, PublicStatus  # noqa: E402
from incident_response.domain.incident import Incident, IncidentStatus, Responder  # noqa: E402
from incident_response.domain.privacy import found_personal_data  # noqa: E402
from incident_response.domain.public import public_service_name  # noqa: E402
from incident_response.ports import LLM, PostmortemContext, StatusContext  # noqa: E402

INCIDENTS = Path(__file__).parent / "incidents"
REPORT = Path(__file__).parent / "report.md"
EVAL_KEY = AuditKey(b"evals: not a secret")


@dataclass(frozen=True)
class Case:
    id: str
    status: StatusContext
    status_at: datetime
    postmortem: PostmortemContext
    planted: tuple[str, ...]
    names: tuple[str, ...]  # the incident's people by name: a postmortem may use them
    messages: tuple[tuple[str, bool], ...]
    raw_facts: str  # every value the incident holds, unstripped


class FixedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def load_case(path: Path) -> Case:
    raw: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    at = datetime.fromisoformat
    ic = raw["ic"]
    incident = Incident(
        id=raw["id"],
        status=IncidentStatus.RESOLVED,
        severity=Severity(raw["severity"]),
        title=raw["title"],
        source=AlertSource.GRAFANA_ONCALL,
        alert_group_id=raw["id"],
        alert_group_key=f"eval:{raw['id']}",
        service=raw["service"],
        labels=raw["labels"],
        created_at=at(raw["created_at"]),
        updated_at=at(raw["resolved_at"]),
        assembled_at=at(raw["assembled_at"]),
        mitigated_at=at(raw["mitigated_at"]),
        resolved_at=at(raw["resolved_at"]),
        ic=ic["email"],
        responders=tuple(Responder(**r) for r in raw["responders"]),
    )
    records = []
    previous = "0" * 64
    for seq, event in enumerate(raw["timeline"], start=1):
        record = seal(
            AuditEvent(
                incident_id=incident.id,
                type=AuditEventType(event["type"]),
                key=f"eval:{seq}",
                at=at(event["at"]),
                actor=event["actor"],
                data=event["data"],
            ),
            seq,
            previous,
            EVAL_KEY,
        )
        previous = record.hash
        records.append(record)
    update = raw["status_update"]
    stage = PublicStatus(update["stage"])
    # the status update is drafted mid-incident: it knows only what had happened by then
    during = incident.update(
        status=IncidentStatus.ASSEMBLED if stage is not PublicStatus.RESOLVED else incident.status,
        mitigated_at=incident.mitigated_at
        if stage in (PublicStatus.MONITORING, PublicStatus.RESOLVED)
        else None,
        resolved_at=incident.resolved_at if stage is PublicStatus.RESOLVED else None,
    )
    changes = tuple(Change(**{**c, "at": at(c["at"])}) for c in raw.get("changes", ()))
    postmortem = PostmortemContext(
        incident=incident,
        timeline=tuple(records),
        changes=changes,
        published_updates=tuple(raw.get("published_updates", ())),
    )
    return Case(
        id=raw["id"],
        status=StatusContext(
            incident=during,
            public_status=stage.value,
            previous_updates=tuple(update.get("previous_updates", ())),
        ),
        status_at=at(update["at"]),
        postmortem=postmortem,
        planted=tuple(raw["planted"]),
        names=tuple(
            dict.fromkeys(
                n for n in (ic.get("name"), *(r.get("name") for r in raw["responders"])) if n
            )
        ),
        messages=tuple((m["text"], bool(m["is_update"])) for m in raw.get("messages", ())),
        raw_facts=yaml.safe_dump(raw, allow_unicode=True, width=10_000),
    )


def load_cases(directory: Path = INCIDENTS) -> list[Case]:
    return [load_case(path) for path in sorted(directory.glob("*.yaml"))]


@dataclass
class Score:
    """Totals over the incidents for one kind of draft."""

    drafts: int = 0
    problems: int = 0
    invented: int = 0
    personal: int = 0
    leaked: int = 0
    missing: int = 0
    model_answers: int = 0
    model_rejected: int = 0
    model_problems: int = 0
    model_leaked: int = 0
    flagged: int = 0  # drafts with any problem, leak or missing fact
    examples: list[str] = field(default_factory=list)

    def clean(self) -> int:
        return self.drafts - self.flagged


@dataclass
class Result:
    drafter: str
    status: Score = field(default_factory=Score)
    postmortem: Score = field(default_factory=Score)
    classified: int = 0
    classified_right: int = 0


class QuietLog:
    """The FallbackDrafter's log, kept out of the table (the scores count the fallbacks)."""

    def warning(self, event: str, **fields: Any) -> None:
        return None


class RecordingCompletion:
    """Keeps the model's last raw answer per task, so the scorer can judge it too."""

    def __init__(self, inner: Completion) -> None:
        self.inner = inner
        self.name = inner.name
        self.answers: dict[str, str] = {}

    async def complete(self, request: PromptRequest, *, model: str) -> str:
        self.answers.pop(request.task, None)
        answer = await self.inner.complete(request, model=model)
        self.answers[request.task] = answer
        return answer


def must_carry(context: StatusContext) -> list[str]:
    """What a status update at this stage must say: the service's public name and the stage."""
    name = public_service_name(context.incident.service) or "some of our services"
    return [name, context.public_status]


MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()<>#+!|~-])")


def rendered(text: str) -> str:
    """`text` with Markdown's backslash escapes undone: what a reader sees."""
    return MARKDOWN_ESCAPE.sub(r"\1", text)


def leaked(text: str, planted: Sequence[str]) -> list[str]:
    lowered = text.lower()
    return [p for p in planted if p.lower() in lowered]


def score(
    total: Score,
    case: Case,
    text: str,
    facts: str,
    problems_of: Callable[[str, str], list[str]],
    required: Sequence[str] = (),
    named: Sequence[str] = (),
) -> None:
    """Add one draft to `total`; `named` are planted names the draft may carry."""
    text = rendered(text)
    every_fact = facts + "\n" + case.raw_facts
    problems = problems_of(text, every_fact)
    invented = checks.invented(text, every_fact)
    leaks = leaked(text, [p for p in case.planted if p not in named])
    missing = [r for r in required if r.lower() not in text.lower()]
    total.drafts += 1
    total.problems += len(problems)
    total.invented += len(invented)
    total.personal += len(found_personal_data(text))
    total.leaked += len(leaks)
    total.missing += len(missing)
    if problems or leaks or missing:
        total.flagged += 1
        if len(total.examples) < 3:
            shown = [*problems[:2], *(f"leaked {v!r}" for v in leaks[:2]), *missing[:1]]
            total.examples.append(f"{case.id}: " + "; ".join(shown))


def score_model_answer(
    total: Score,
    case: Case,
    answer: str | None,
    facts: str,
    problems_of: Callable[[str, str], list[str]],
) -> None:
    if answer is None:
        return
    total.model_answers += 1
    problems = problems_of(answer.strip(), facts)
    total.model_problems += len(problems)
    total.model_leaked += len(leaked(answer, case.planted))
    if problems:
        total.model_rejected += 1


async def evaluate(
    name: str,
    cases: Sequence[Case],
    *,
    completion: Completion | None = None,
    make_completion: Callable[[Case], Completion] | None = None,
    llm: Callable[[Case], Awaitable[LLM]] | None = None,
    timeout_seconds: float = 60.0,
) -> Result:
    """Score one drafter: the built-in one (neither argument), a model over a `completion` (or
    one per case from `make_completion`), or any ready LLM port from `llm`."""
    result = Result(drafter=name)
    for case in cases:
        clock = FixedClock(case.status_at)
        builtin = BuiltinDrafter(clock=clock)
        recorder: RecordingCompletion | None = None
        drafter: LLM = builtin
        chosen = make_completion(case) if make_completion else completion
        if chosen is not None:
            recorder = RecordingCompletion(chosen)
            model = ModelDrafter(recorder, model="eval-model", clock=clock)
            drafter = FallbackDrafter(
                model, builtin, timeout_seconds=timeout_seconds, logger=QuietLog()
            )
        elif llm is not None:
            drafter = await llm(case)
        status_facts = prompting.status_update_request(case.status, now=case.status_at).user
        text = await drafter.draft_status_update(case.status)
        score(
            result.status,
            case,
            text,
            status_facts,
            checks.status_update_problems,
            must_carry(case.status),
        )
        postmortem_facts = prompting.postmortem_request(case.postmortem).user
        if recorder is not None:
            score_model_answer(
                result.status,
                case,
                recorder.answers.get("status_update"),
                status_facts,
                checks.status_update_problems,
            )
        text = await drafter.draft_postmortem(case.postmortem)
        score(
            result.postmortem,
            case,
            text,
            postmortem_facts,
            checks.postmortem_problems,
            named=case.names,
        )
        if recorder is not None:
            score_model_answer(
                result.postmortem,
                case,
                recorder.answers.get("postmortem"),
                postmortem_facts,
                checks.postmortem_problems,
            )
        for message, expected in case.messages:
            result.classified += 1
            result.classified_right += (await drafter.is_status_update(message)) is expected
    return result


COLUMNS = (
    "drafter",
    "draft",
    "n",
    "clean",
    "problems",
    "invented",
    "personal data",
    "planted leaked",
    "missing facts",
    "model rejected",
    "model leaked",
)


def rows(results: Sequence[Result]) -> list[list[str]]:
    table: list[list[str]] = []
    for result in results:
        for kind, total in (("status update", result.status), ("postmortem", result.postmortem)):
            table.append(
                [
                    result.drafter,
                    kind,
                    str(total.drafts),
                    str(total.clean()),
                    str(total.problems),
                    str(total.invented),
                    str(total.personal),
                    str(total.leaked),
                    str(total.missing) if kind == "status update" else "-",
                    f"{total.model_rejected}/{total.model_answers}" if total.model_answers else "-",
                    str(total.model_leaked) if total.model_answers else "-",
                ]
            )
    return table


def text_table(results: Sequence[Result]) -> str:
    table = [list(COLUMNS), *rows(results)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines += [
        f"{r.drafter}: classification {r.classified_right}/{r.classified} war-room messages right"
        for r in results
    ]
    return "\n".join(lines)


NOTES = """
For a model, the drafts scored are the ones production keeps: the model's answer when it passed
the checks, else the built-in drafter's (FallbackDrafter). `model rejected` and `model leaked`
score the model's own answers before that: the hallucinating model's invented figure, invented
names and planted e-mail address are refused every time, so its kept drafts are the built-in
drafter's. Its classification falls back too (it answers "maybe").

The built-in postmortem is filed in the issue tracker and read widely, and it is what a model's
failed postmortem falls back to: it names the incident's responders by name (or role), never by
e-mail or chat id, and strips personal data from every outside text (alert title, audit details,
notes, checklist, change titles and authors), so it leaks nothing; the responders' names are the
only planted values it may carry and are not counted for postmortems. Its remaining `invented`
hits are one count it makes itself, correctly: with one update published, "Customer-facing status
updates published: 1" and the list's "1. Update 1" hold a number the input never states. The
checks refuse counts from a model (which could miscount); the built-in drafter counts the record.
Drafts are scored as read, Markdown escapes undone, so an escaped value (`cus\\_...`) cannot hide.

The `(fake)` rows are the production LLM adapters (Anthropic Messages, OpenAI-compatible Chat
Completions, Bedrock Converse), each built by its integration factory and called over HTTP against
its vendor's local fake, the fake answering with the careful script: the same scores as
`scripted-careful` mean the adapter sent the prompt and read the answer faithfully, and that the
kept drafts are the model's (a fallback to the built-in postmortem would show its 14/20).
"""


def markdown(results: Sequence[Result], cases: int) -> str:
    head = "| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS) + "\n"
    body = "".join("| " + " | ".join(row) + " |\n" for row in rows(results))
    classification = "".join(
        f"- {r.drafter}: {r.classified_right} of {r.classified} war-room messages classified "
        "right (status update or not)\n"
        for r in results
    )
    examples = "".join(
        f"- {r.drafter}, {kind}: {example}\n"
        for r in results
        for kind, total in (("status update", r.status), ("postmortem", r.postmortem))
        for example in total.examples
    )
    return (
        "# AI drafting evals\n\n"
        f"Generated by `python evals/run.py` over {cases} incidents in `evals/incidents/`. "
        "Columns are totals over the incidents; `clean` counts drafts with no problem, no leak "
        "and no missing fact. See docs/ai-drafting.md for what each column means.\n\n"
        + head
        + body
        + NOTES
        + "\n## Classification\n\n"
        + classification
        + ("\n## Examples of what was flagged\n\n" + examples if examples else "")
    )


def vendor_llm(
    name: str, base_url: str | None, environ: dict[str, str] | None = None
) -> Callable[[Case], Awaitable[LLM]]:
    """A vendor's drafter built by its integration factory from the environment (the same
    settings as `serve`), e.g. ANTHROPIC_API_KEY; `--base-url` points it at a fake or a proxy."""
    from incident_response import integrations
    from incident_response.adapters.embedded.drafter import BuiltinDrafter as Builtin
    from incident_response.config import load_settings
    from incident_response.http import OutboundHttp

    integration = {"openai": "openai-compatible"}.get(name, name)
    if integration not in integrations.available():
        raise SystemExit(
            f"the {integration} client is not in this build yet; score any Completion with "
            "evals.run.evaluate(name, cases, completion=...)"
        )
    variable = {
        "anthropic": "ANTHROPIC_BASE_URL",
        "openai-compatible": "OPENAI_BASE_URL",
        "bedrock": "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    }[integration]
    environ = dict(os.environ if environ is None else environ)
    if base_url:
        environ[variable] = base_url
    settings = load_settings(environ)

    async def build(case: Case) -> LLM:
        clock = FixedClock(case.status_at)
        wiring = integrations.Wiring(
            settings=settings,
            http=OutboundHttp(default_timeout=settings.incident_response_http_call_timeout_seconds),
            clock=clock,
            directory=None,  # type: ignore[arg-type]  # an LLM factory needs neither
            oncall=None,  # type: ignore[arg-type]
            drafter=Builtin(clock=clock),
        )
        contribution = await integrations.factory(integration)(wiring)
        if contribution.llm is None:
            raise SystemExit(f"the {integration} integration built no drafter")
        return contribution.llm

    return build


OFFLINE: dict[str, Callable[[], dict[str, Any]]] = {
    "builtin": dict,
    "scripted-careful": lambda: {"completion": CarefulCompletion()},
    # leaks the first planted e-mail address of each incident (a model should never have it)
    "scripted-hallucinating": lambda: {
        "make_completion": lambda case: HallucinatingCompletion(
            next((p for p in case.planted if "@" in p), "jane.doe@example.com")
        )
    },
}


def careful_script(prompt: Any) -> str:
    """The scripted careful model behind a vendor fake: the fake hands over the prompt as its
    vendor's request carried it, and the careful model answers from it."""
    system = prompt.system.lower()
    task = (
        "classify"
        if "yes or no" in system
        else ("postmortem" if "postmortem" in system else "status_update")
    )
    request = PromptRequest(task=task, version="", system=prompt.system, user=prompt.user)
    if task == "classify":
        return scripted.classification(request)
    if task == "postmortem":
        return scripted.postmortem(request)
    return scripted.status_update(request)


async def through_vendor_fakes(cases: Sequence[Case], call_timeout: float) -> list[Result]:
    """Each LLM adapter (Anthropic, OpenAI-compatible, Bedrock) built by its integration factory
    and scored over HTTP against its vendor's fake, the fake answering with the careful script:
    the adapter's score, request shapes and answer parsing included."""
    from tests.fakes.anthropic import FakeAnthropic
    from tests.fakes.bedrock import MODELS as BEDROCK_MODELS
    from tests.fakes.bedrock import FakeBedrock
    from tests.fakes.openai import FakeOpenAI

    results: list[Result] = []
    base = {k: v for k, v in os.environ.items() if not k.startswith(VENDOR_PREFIXES)}
    async with FakeAnthropic(api_key="sk-ant-eval", script=careful_script) as anthropic:
        environ = {**base, "ANTHROPIC_API_KEY": "sk-ant-eval"}
        llm = vendor_llm("anthropic", anthropic.url, environ)
        results.append(
            await evaluate("anthropic (fake)", cases, llm=llm, timeout_seconds=call_timeout)
        )
    async with FakeOpenAI(script=careful_script) as openai:
        environ = {**base, "OPENAI_MODEL": "llama3.1:8b"}
        llm = vendor_llm("openai", openai.base_url, environ)
        results.append(
            await evaluate("openai-compatible (fake)", cases, llm=llm, timeout_seconds=call_timeout)
        )
    async with FakeBedrock(script=careful_script) as bedrock:
        environ = {
            **base,
            "BEDROCK_MODEL_ID": BEDROCK_MODELS[0],
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "eval-only-secret",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        saved = {k: os.environ.get(k) for k in environ if k.startswith("AWS_")}
        os.environ.update({k: v for k, v in environ.items() if k.startswith("AWS_")})
        os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = bedrock.url
        try:
            llm = vendor_llm("bedrock", bedrock.url, environ)
            results.append(
                await evaluate("bedrock (fake)", cases, llm=llm, timeout_seconds=call_timeout)
            )
        finally:
            os.environ.pop("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", None)
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return results


VENDOR_PREFIXES = ("ANTHROPIC_", "OPENAI_", "BEDROCK_", "AWS_")


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--drafter",
        choices=["all", *OFFLINE, "vendor-fakes", "anthropic", "openai", "bedrock"],
        default="all",
        help="all = the built-in drafter, both scripted models, and each LLM adapter against "
        "its vendor's local fake answering with the careful script (no network beyond loopback)",
    )
    parser.add_argument("--base-url", help="the vendor endpoint (a fake, a proxy, a region)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per model call")
    parser.add_argument("--report", type=Path, default=REPORT)
    options = parser.parse_args(argv)
    cases = load_cases()
    names = [*OFFLINE, "vendor-fakes"] if options.drafter == "all" else [options.drafter]
    results: list[Result] = []
    for name in names:
        if name in OFFLINE:
            results.append(
                await evaluate(name, cases, timeout_seconds=options.timeout, **OFFLINE[name]())
            )
        elif name == "vendor-fakes":
            results.extend(await through_vendor_fakes(cases, options.timeout))
        else:
            results.append(await evaluate(name, cases, llm=vendor_llm(name, options.base_url)))
    print(text_table(results))
    options.report.write_text(markdown(results, len(cases)), "utf-8")
    print(f"\nwrote {options.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
