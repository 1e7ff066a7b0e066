"""Check results as developer-portal scorecards: Backstage Tech Insights and Port.

Both are generated from the check registry (docs/scorecards.md), so a new check, or a
plugin's, reaches the portal without anyone editing its configuration by hand. A check
counts as met when it passed or was skipped (a skip names its reason; a failed
prerequisite already fails on its own); a missing result counts as not met.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import yaml

from .engine import Check

FACT_RETRIEVER = "scaffoldCheckFactRetriever"
MET = ["pass", "skip"]
# Port levels, from the basics to what only a well-run service has.
PORT_LEVELS = ["Basic", "Bronze", "Silver", "Gold"]
_FAMILY_LEVEL = {
    "repo": "Bronze",
    "docs": "Bronze",
    "container": "Silver",
    "ci": "Silver",
    "deploy": "Silver",
}


def facts(report: dict[str, Any]) -> dict[str, str]:
    """A `scaffold check --format json` report as Tech Insights facts: check id -> status."""
    return {str(result["id"]): str(result["status"]) for result in report["results"]}


def tech_insights_checks(checks: Iterable[type[Check]]) -> dict[str, Any]:
    """`techInsights.factChecker.checks` for the json-rules-engine fact checker."""
    return {
        check.id.lower(): {
            "type": "json-rules-engine",
            "name": f"{check.id} {check.title()}",
            "description": check.why,
            "factIds": [FACT_RETRIEVER],
            "rule": {"conditions": {"all": [{"fact": check.id, "operator": "in", "value": MET}]}},
        }
        for check in sorted(checks, key=lambda c: c.id)
    }


def tech_insights_schema(checks: Iterable[type[Check]]) -> dict[str, Any]:
    """The fact schema the retriever declares: one string fact per check id."""
    return {
        check.id: {"type": "string", "description": check.title()}
        for check in sorted(checks, key=lambda c: c.id)
    }


def port_properties(checks: Iterable[type[Check]]) -> dict[str, Any]:
    """Blueprint properties (one per check) that `port_entity` fills."""
    return {
        check.id.lower(): {
            "title": f"{check.id} {check.title()}",
            "type": "string",
            "enum": ["pass", "fail", "skip"],
        }
        for check in sorted(checks, key=lambda c: c.id)
    }


def port_scorecard(checks: Iterable[type[Check]]) -> dict[str, Any]:
    """A Port scorecard: one rule per check, levelled by family (monitoring and plugins: Gold)."""
    return {
        "identifier": "golden_path",
        "title": "Golden path",
        "levels": [
            {"title": title, "color": color}
            for title, color in zip(PORT_LEVELS, ["paleBlue", "bronze", "silver", "gold"], strict=True)
        ],
        "rules": [
            {
                "identifier": check.id.lower(),
                "title": f"{check.id} {check.title()}",
                "description": check.why,
                "level": _FAMILY_LEVEL.get(check.family, "Gold"),
                "query": {
                    "combinator": "or",
                    "conditions": [
                        {"property": check.id.lower(), "operator": "=", "value": status} for status in MET
                    ],
                },
            }
            for check in sorted(checks, key=lambda c: c.id)
        ],
    }


def port_entity(report: dict[str, Any]) -> dict[str, Any]:
    """The Port entity (upsert body) of one repository's report, keyed by its catalog entity."""
    entity = report.get("entity") or ""
    identifier = entity.rsplit("/", 1)[-1] if entity else "unknown"
    return {
        "identifier": identifier,
        "properties": {check_id.lower(): status for check_id, status in facts(report).items()},
    }


def page(checks: list[type[Check]], generated: str) -> str:
    """docs/md: the checks as Backstage Tech Insights and Port configuration."""
    ti_config = {"techInsights": {"factChecker": {"checks": tech_insights_checks(checks)}}}
    schema = json.dumps(tech_insights_schema(checks), indent=2)
    blueprint = json.dumps({"properties": port_properties(checks)}, indent=2)
    scorecard = json.dumps(port_scorecard(checks), indent=2)
    lines = [
        "# Scorecards in developer portals",
        "",
        generated,
        "",
        "`scaffold check --format json` (schema:",
        "[check-report.schema.json](reference/check-report.schema.json))",
        "and `scaffold fleet status --format json` (one record per repository, keyed by the",
        "`entity` reference from its `catalog-info.yaml`, with every check's status) are the data;",
        "this page is the configuration that turns them into scorecards. It is generated from",
        "the check registry (`scaffold.checks.scorecards`), so a new check appears here with the",
        "release that adds it; a platform team's plugin checks are added the same way by",
        "calling the same functions in its own build. A check is met when it passed or was",
        "skipped (a skipped check names its reason, and a failed prerequisite fails by itself).",
        "",
        "A scheduled job of the platform team publishes the fleet's results, for example:",
        "",
        "```bash",
        "scaffold fleet status --manifest fleet.yaml --format json > fleet-status.json",
        "```",
        "",
        "## Backstage Tech Insights",
        "",
        f"A fact retriever (`{FACT_RETRIEVER}`) reads `fleet-status.json` and returns, per",
        "entity, one fact per check id whose value is the check's status. Its fact schema:",
        "",
        "```json",
        schema,
        "```",
        "",
        "The retriever, registered through the tech-insights backend's fact-retriever extension point:",
        "",
        "```ts",
        "import { FactRetriever } from '@backstage-community/plugin-tech-insights-node';",
        "",
        f"export const {FACT_RETRIEVER}: FactRetriever = {{",
        f"  id: '{FACT_RETRIEVER}',",
        "  version: '1.0.0',",
        "  entityFilter: [{ kind: 'component' }],",
        "  schema: SCHEMA, // the JSON above",
        "  handler: async ({ config }) => {",
        "    const url = config.getString('scaffold.fleetStatusUrl');",
        "    const { repos } = await (await fetch(url)).json();",
        "    return repos",
        "      .filter((repo: any) => repo.entity)",
        "      .map((repo: any) => {",
        "        const [kind, ref] = repo.entity.split(':');",
        "        const [namespace, name] = ref.split('/');",
        "        return { entity: { kind, namespace, name }, facts: repo.checks };",
        "      });",
        "  },",
        "};",
        "```",
        "",
        "The checks, for `app-config.yaml` (json-rules-engine fact checker; a test runs these",
        "rules with json-rules-engine against real reports):",
        "",
        "```yaml",
        yaml.safe_dump(ti_config, sort_keys=False, width=100).rstrip(),
        "```",
        "",
        "## Port",
        "",
        "Add one property per check to the blueprint of your services:",
        "",
        "```json",
        blueprint,
        "```",
        "",
        "Upsert each repository's statuses (`scaffold.checks.scorecards.port_entity` builds the body",
        "from a `scaffold check --format json` report; the identifier is the catalog entity's name):",
        "",
        "```bash",
        "scaffold check --format json --output report.json",
        "python -c 'import json; from scaffold.checks.scorecards import port_entity; "
        'print(json.dumps(port_entity(json.load(open("report.json")))))\' > entity.json',
        'curl -fsS -X POST "https://api.getport.io/v1/blueprints/service/entities?upsert=true&merge=true" \\',
        '  -H "Authorization: Bearer $PORT_TOKEN" -H "Content-Type: application/json" -d @entity.json',
        "```",
        "",
        "The scorecard (levels by family: repository basics and documents are Bronze; the",
        "container, CI and chart Silver; monitoring, and plugins' checks, Gold):",
        "",
        "```json",
        scorecard,
        "```",
        "",
    ]
    return "\n".join(lines)
