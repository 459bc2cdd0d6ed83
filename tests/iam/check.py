"""Every recorded AWS call, evaluated against the synthesized template's policies by a real IAM
evaluator (@cloud-copilot/iam-simulate, run by node: tests/iam/simulate.mjs).

A call is evaluated as its caller's role (identity policies) and against the resource policy of
the resource it reaches (bucket, key, secret, queue). S3 object calls on an SSE-KMS bucket add
the KMS call S3 makes with the caller's credentials. CLI calls run with an operator's own
credentials, which no template holds: they are listed, not evaluated.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitoring.evaluator.templates import cached_template
from tests.iam.template_policies import Deployed, bindings_from_environment, deployed

REPO = Path(__file__).resolve().parents[2]
SIMULATE = Path(__file__).with_name("simulate.mjs")
Triple = tuple[str, str, str]  # (caller, action, resource)
TemplateFor = Callable[[str], dict[str, Any]]
GrantKey = tuple[str, int, int, str, int]  # (caller, policy, statement, action, resource index)


@dataclass
class Report:
    calls: int = 0
    triples: set[Triple] = field(default_factory=set)
    denials: list[tuple[Triple, str]] = field(default_factory=list)  # (triple, result or error)
    not_evaluated: set[Triple] = field(default_factory=set)
    outside_stack: dict[Triple, str] = field(default_factory=dict)  # triple -> the test's stated reason
    granted: dict[GrantKey, Triple] = field(default_factory=dict)  # key -> (caller, action, resource)
    used: set[GrantKey] = field(default_factory=set)

    def unused(self) -> list[Triple]:
        """Granted (caller, action, resource) no allowed call used, stage-free and sorted."""
        return sorted({t for k, t in self.granted.items() if k not in self.used})

    def denial_lines(self) -> list[str]:
        return [f"DENIED {c} {a} on {r} ({why})" for (c, a, r), why in sorted(self.denials)]


def read_records(directory: Path) -> list[dict[str, Any]]:
    """Every record the session's processes wrote (calls and bindings)."""
    records = []
    for path in sorted(directory.glob("calls-*.jsonl")):
        records.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return records


def _wildcard(pattern: str, value: str, *, fold: bool) -> bool:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if fold else 0) is not None


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


Context = tuple[tuple[str, str], ...]  # the request's condition keys (sorted), e.g. S3's SSE headers


def _requests(calls: Iterable[dict[str, Any]], policies: Deployed) -> list[tuple[Triple, str, str, Context]]:
    """(triple, action, resource, context) per call, plus the KMS call an SSE-KMS object call implies."""
    out = []
    for call in calls:
        caller, action, resource = call["caller"], call["action"], call["resource"]
        resource = policies.aliases.get(resource, resource)
        out.append(
            ((caller, action, resource), action, resource, tuple(sorted(call.get("context", {}).items())))
        )
        key = (
            policies.bucket_keys.get(policies.owner(resource))
            if resource.startswith("arn:aws:s3:::")
            else None
        )
        implied = {"s3:PutObject": "kms:GenerateDataKey", "s3:GetObject": "kms:Decrypt"}.get(action)
        if key and implied and "/" in resource.removeprefix("arn:aws:s3:::"):
            out.append(((caller, implied, key), implied, key, ()))
    return out


def simulate(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Run tests/iam/simulate.mjs once over a batch of requests."""
    done = subprocess.run(
        ["node", str(SIMULATE)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"iam-simulate failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def policies_for(binding: dict[str, Any], template_for: TemplateFor) -> Deployed:
    template = template_for(binding["stage"])
    bound = {"refs": dict(binding.get("refs", {})), "attrs": dict(binding.get("attrs", {}))}
    if binding.get("env"):
        from_env = bindings_from_environment(template, binding["env"])
        bound["refs"] = {**from_env["refs"], **bound["refs"]}
        bound["attrs"] = {**from_env["attrs"], **bound["attrs"]}
    return deployed(template, stage=binding["stage"], region=binding["region"], binding=bound)


def evaluate(records: list[dict[str, Any]], template_for: TemplateFor | None = None) -> Report:
    """Evaluate every recorded call; collect denials, grants and the grants the allowed calls used."""
    template_for = template_for or (lambda stage: cached_template(stage, "composite"))
    bindings = {r["binding"]: r for r in records if r.get("binding")}
    calls = [r for r in records if not r.get("binding")]
    report = Report(calls=len(calls), triples={(c["caller"], c["action"], c["resource"]) for c in calls})
    report.outside_stack = {
        (c["caller"], c["action"], c["resource"]): c["outside_stack"] for c in calls if c.get("outside_stack")
    }
    calls = [c for c in calls if not c.get("outside_stack")]
    for deployment, binding in sorted(bindings.items()):
        policies = policies_for(binding, template_for)
        mine = [c for c in calls if c["deployment"] == deployment]
        _evaluate_deployment(mine, policies, report, label=binding["stage"])
    report.not_evaluated |= {t for t in report.triples if t[0].startswith("cli:")}
    unbound = {c["deployment"] for c in calls} - set(bindings)
    for c in calls:
        if c["deployment"] in unbound and not c["caller"].startswith("cli:"):
            report.denials.append(
                ((c["caller"], c["action"], c["resource"]), "no binding for its deployment")
            )
    return report


def _evaluate_deployment(calls: list[dict[str, Any]], policies: Deployed, report: Report, label: str) -> None:
    evaluated = [c for c in calls if not c["caller"].startswith("cli:")]
    requests = sorted(set(_requests(evaluated, policies)))
    callers = {t[0] for t, _, _, _ in requests}
    for caller in callers - set(policies.caller_roles):
        report.denials.append(((caller, "-", "-"), f"the {label} template has no role for this caller"))
    requests = [r for r in requests if r[0][0] in policies.caller_roles]
    roles = {policies.caller_roles[c] for c in callers if c in policies.caller_roles}
    payload = {
        "identity": {role: policies.role_policies.get(role, []) for role in roles},
        "resource": policies.resource_policies,
        "requests": [
            {
                "id": i,
                "principal": policies.caller_roles[triple[0]],
                "action": action,
                "resource": resource,
                "identity": policies.caller_roles[triple[0]],
                "resourcePolicy": policies.owner(resource)
                if policies.owner(resource) in policies.resource_policies
                else None,
                "context": dict(context),
            }
            for i, (triple, action, resource, context) in enumerate(requests)
        ],
    }
    results = simulate(payload) if requests else []
    for (triple, action, resource, _), result in zip(requests, results, strict=True):
        if result["result"] != "Allowed":
            report.denials.append((triple, result["errors"] or result["result"]))
            continue
        documents = policies.role_policies[policies.caller_roles[triple[0]]]
        for doc_index, statement in result["allowedBy"]:
            stmt_index = documents[doc_index]["Statement"].index(statement)
            for key, (granted_action, granted_resource) in _keyed(
                triple[0], doc_index, stmt_index, statement
            ):
                if _wildcard(granted_action, action, fold=True) and _wildcard(
                    granted_resource, resource, fold=False
                ):
                    report.used.add(key)
    for caller, role in policies.caller_roles.items():
        for doc_index, document in enumerate(policies.role_policies.get(role, [])):
            for stmt_index, statement in enumerate(_listed_statements(document)):
                if statement.get("Effect") == "Allow":
                    for key, (a, r) in _keyed(caller, doc_index, stmt_index, statement):
                        label, known = (_stage_free(caller), a, _stage_free(r)), report.granted.get(key)
                        # A deployment that did not bind a runtime-named resource (a bucket) leaves its
                        # logical id in the ARN; the name a binding gives is the stable label.
                        if known is None or (_UNBOUND.search(known[2]) and not _UNBOUND.search(label[2])):
                            report.granted[key] = label


def _listed_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else statements


def _keyed(
    caller: str, doc: int, stmt: int, statement: dict[str, Any]
) -> list[tuple[GrantKey, tuple[str, str]]]:
    """Each (action, resource) an Allow statement grants, under a key that is the same in every stage
    (caller without its stage, the statement's place in the role's policies, the pair's place in it)."""
    actions, resources = _listed(statement.get("Action")), _listed(statement.get("Resource"))
    return [
        ((_stage_free(caller), doc, stmt, a, ri), (a, r)) for a in actions for ri, r in enumerate(resources)
    ]


_UNBOUND = re.compile(r"[A-Z][A-Za-z0-9]+[0-9A-F]{8}\b")  # a CloudFormation logical id
# Grants are compared across deployments (stages, regions, bound ids) in a stage-free form.
_STAGE_NAME = re.compile(r"(byoip-|BYOIP-|byoip/)[a-z][a-z0-9-]*?(?=-|/)")


def _stage_free(text: str) -> str:
    text = re.sub(r"arn:aws:([a-z0-9-]+):[a-z0-9-]+:\d+:", r"arn:aws:\1:R:A:", text)
    return _STAGE_NAME.sub(r"\1S", text)


def summary(report: Report) -> list[str]:
    """Figures for the terminal: calls, triples, denials, unused grants."""
    kinds = Counter(t[0].split(":")[0] for t in report.triples)
    return [
        f"IAM check: {report.calls} recorded calls, {len(report.triples)} distinct (caller, action, resource)"
        f" ({dict(kinds)}), {len(report.denials)} denied,"
        f" {len(report.not_evaluated)} CLI calls not evaluated,"
        f" {len(report.outside_stack)} not evaluated on purpose (outside the stack, or malformed)",
        *report.denial_lines(),
        *(
            f"  not evaluated: {c} {a} on {r}: {why}"
            for (c, a, r), why in sorted(report.outside_stack.items())
        ),
    ]
