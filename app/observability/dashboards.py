"""The Grafana dashboards, as code (grafana-foundation-sdk): the SRE overview, one per tenant and one per property.

``lis dashboards`` writes them to ``observability/grafana/``; ``tests/unit/test_dashboards.py`` checks the files are
what this module builds, loads each back, parses every query and checks it names only exported metrics or the
recording rules of ``observability/prometheus/rules.yml``. Panels read the Prometheus picked by the ``datasource``
variable; the per-tenant and per-property dashboards filter on their ``tenant`` / ``property`` variables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grafana_foundation_sdk.builders.common import ReduceDataOptions, VizLegendOptions, VizTooltipOptions
from grafana_foundation_sdk.builders.dashboard import Dashboard, DatasourceVariable, QueryVariable, Row
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.builders.stat import Panel as Stat
from grafana_foundation_sdk.builders.timeseries import Panel as Timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import LegendDisplayMode, LegendPlacement, SortOrder, TooltipDisplayMode
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh, VariableSort

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
ISSUE_TYPES = 'type=~"key.issued|key.issue_failed"'  # settled issues, as the SLO counts them (delayed is pending)
FAILURE_TYPES = 'type=~"key.issue_failed|key.revoke_failed|key.update_failed|key.issue_delayed"'


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    queries: tuple[Query, ...]
    stat: bool = False  # a single number (the latest value) rather than a time series
    description: str = ""


def _panel(chart: Chart, panel_id: int) -> Stat | Timeseries:
    panel: Stat | Timeseries
    if chart.stat:  # the latest value of each series
        panel = Stat().reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False)).height(6).span(6)
    else:
        legend = VizLegendOptions().show_legend(True).display_mode(LegendDisplayMode.LIST)
        panel = (Timeseries().legend(legend.placement(LegendPlacement.BOTTOM))
                 .tooltip(VizTooltipOptions().mode(TooltipDisplayMode.MULTI).sort(SortOrder.DESCENDING))
                 .height(8).span(12))
    panel = panel.id(panel_id).title(chart.title).unit(chart.unit).datasource(DATASOURCE)
    if chart.description:
        panel = panel.description(chart.description)
    for ref, query in zip("ABCDEFGH", chart.queries, strict=False):
        panel = panel.with_target(Dataquery().expr(query.expr).legend_format(query.legend).ref_id(ref)
                                  .datasource(DATASOURCE))
    return panel


def _variable(name: str, label: str, query: str) -> QueryVariable:
    return (QueryVariable(name).label(label).query(query).datasource(DATASOURCE)
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).sort(VariableSort.ALPHABETICAL_ASC))


def _dashboard(uid: str, title: str, rows: dict[str, list[Chart]], variables: list[QueryVariable]) -> Dashboard:
    board = (Dashboard(title).uid(uid).tags(["lock-integration-service", "generated"]).refresh("1m")
             .time("now-6h", "now").timezone("utc").editable()
             .with_variable(DatasourceVariable("datasource").label("Prometheus").type("prometheus")))
    for variable in variables:
        board = board.with_variable(variable)
    panel_ids = iter(range(1, 100))
    for row, charts in rows.items():
        board = board.with_row(Row(row).id(next(panel_ids)))
        for chart in charts:
            board = board.with_panel(_panel(chart, next(panel_ids)))
    return board


def _sre_overview() -> Dashboard:
    keys = [
        Chart("Lock events by type", "ops", (Query("sum by (type) (rate(lis_lock_events_total[5m]))", "{{type}}"),)),
        Chart("Issuance errors, 1 h (budget 0.5 %)", "percentunit",
              (Query("max by (tenant) (lis:key_issue_errors:ratio_rate1h)", "{{tenant}}"),)),
        Chart("Late revokes, 1 h (budget 0.1 %)", "percentunit",
              (Query("max by (tenant) (lis:key_revoke_slow:ratio_rate1h)", "{{tenant}}"),)),
        Chart("Revokes failed, 24 h", "short",
              (Query('sum(increase(lis_lock_events_total{type="key.revoke_failed"}[24h]))', "failed"),), stat=True),
        Chart("Keys delayed, 24 h", "short",
              (Query('sum(increase(lis_lock_events_total{type="key.issue_delayed"}[24h]))', "delayed"),), stat=True),
    ]
    vendors = [
        Chart("Vendor calls by outcome", "ops", (Query(
            'sum by (vendor, outcome) (rate(lis_vendor_calls_total{vendor=~"$vendor"}[5m]))',
            "{{vendor}} {{outcome}}"),)),
        Chart("Vendor error ratio, 10 m", "percentunit",
              (Query('max by (vendor) (lis:vendor_call_errors:ratio_rate10m{vendor=~"$vendor"})', "{{vendor}}"),)),
        Chart("Vendor call latency, p99", "s", (Query(
            'histogram_quantile(0.99, sum by (vendor, action, le) '
            '(rate(lis_vendor_call_seconds_bucket{vendor=~"$vendor"}[5m])))', "{{vendor}} {{action}}"),)),
        Chart("Breakers open", "short", (Query('sum(lis_circuit_open{vendor=~"$vendor"})', "open"),), stat=True),
        Chart("Steps waiting for a retry", "short",
              (Query('sum by (vendor) (lis_saga_steps_retry_pending{vendor=~"$vendor"})', "{{vendor}}"),)),
        Chart("Steps stalled", "short", (Query("sum(lis_saga_steps_stalled)", "stalled"),), stat=True),
        Chart("Retries scheduled", "ops",
              (Query('sum by (vendor) (rate(lis_retries_scheduled_total{vendor=~"$vendor"}[5m]))', "{{vendor}}"),)),
    ]
    streams = [
        Chart("Dead letters by source topic", "ops",
              (Query("sum by (source) (rate(lis_dead_letters_total[5m]))", "{{source}}"),)),
        Chart("Stream gaps repaired", "short",
              (Query("sum by (topic) (increase(lis_stream_gaps_total[1h]))", "{{topic}}"),)),
        Chart("Stream audit differences", "short",
              (Query("sum(lis_stream_audit_differences)", "differences"),), stat=True),
        Chart("Consumer lag by topic", "short", (Query(
            "sum by (topic) (max by (topic, partition) (lis_consumer_lag))", "{{topic}}"),),
              description="Records the workers have not committed past, from the broker (ConsumerLagHigh)."),
        Chart("Oldest unanchored audit record", "s", (Query(
            "max by (tenant) (time() - lis_audit_unanchored_since_timestamp_seconds "
            "and lis_audit_unanchored_since_timestamp_seconds > 0)", "{{tenant}}"),),
              description="Stored audit records not yet under a signed checkpoint (AuditAnchoringLate at 15 min)."),
        Chart("Database retries", "ops", (Query("sum(rate(lis_database_retries_total[5m]))", "retries"),)),
        Chart("Credential drift found", "short",
              (Query("sum by (problem) (increase(lis_reconcile_drift_total[1h]))", "{{problem}}"),)),
    ]
    synthetics = [
        Chart("Synthetic checks passing", "short",
              (Query('min by (vendor, region) (lis_synthetic_check_up{vendor=~"$vendor"})', "{{vendor}} {{region}}"),),
              stat=True, description="1 when the last canary issue-and-revoke on the test lock passed (lis "
                                     "synthetics run); 0 pages as SyntheticCheckFailing after 15 minutes."),
        Chart("Synthetic check time p99", "s", (Query(
            'histogram_quantile(0.99, sum by (vendor, region, le) (rate(lis_synthetic_check_seconds_bucket'
            '{vendor=~"$vendor"}[30m])))', "{{vendor}} {{region}}"),)),
        Chart("Synthetic check failures by step", "short", (Query(
            'sum by (vendor, outcome) (increase(lis_synthetic_checks_total{vendor=~"$vendor", outcome!="ok"}[1h]))',
            "{{vendor}} {{outcome}}"),)),
    ]
    ingress = [
        Chart("Webhook answers by status", "reqps",
              (Query("sum by (vendor, status) (rate(lis_webhook_responses_total[5m]))", "{{vendor}} {{status}}"),)),
        Chart("Webhook answer time p99", "s", (Query(
            "histogram_quantile(0.99, sum by (vendor, le) (rate(lis_webhook_request_seconds_bucket[5m])))",
            "{{vendor}}"),)),
    ]
    vendor = _variable("vendor", "Vendor", "label_values(lis_vendor_calls_total, vendor)").multi(True)
    return _dashboard("lis-sre-overview", "Lock integration: SRE overview",
                      {"Keys": keys, "Vendors": vendors, "Synthetic checks": synthetics, "Streams": streams,
                       "Webhook ingress": ingress},
                      [vendor.include_all(True).all_value(".*")])


def _latency(quantile: str, event: str) -> Query:
    expr = (f"histogram_quantile({quantile}, sum by (le) (rate(lis_pms_to_lock_event_seconds_bucket"
            f'{{tenant="$tenant", type="{event}"}}[5m])))')
    return Query(expr, f"p{quantile[2:]}")


def _tenant() -> Dashboard:
    slo = [
        Chart("Issuance errors (budget 0.5 %)", "percentunit", tuple(
            Query(f'lis:key_issue_errors:ratio_rate{window}{{tenant="$tenant"}}', window) for window in ("5m", "1h"))),
        Chart("Keys later than 60 s (budget 1 %)", "percentunit", tuple(
            Query(f'lis:key_issue_slow:ratio_rate{window}{{tenant="$tenant"}}', window) for window in ("5m", "1h"))),
        Chart("Revokes later than 5 min (budget 0.1 %)", "percentunit", tuple(
            Query(f'lis:key_revoke_slow:ratio_rate{window}{{tenant="$tenant"}}', window) for window in ("5m", "1h"))),
    ]
    keys = [
        Chart("Lock events by type", "ops",
              (Query('sum by (type) (rate(lis_lock_events_total{tenant="$tenant"}[5m]))', "{{type}}"),)),
        Chart("PMS event to key issued", "s", (_latency("0.5", "key.issued"), _latency("0.99", "key.issued"))),
        Chart("Checkout to key revoked", "s", (_latency("0.5", "key.revoked"), _latency("0.99", "key.revoked"))),
        Chart("Offline codes issued, 24 h", "short",
              (Query('sum(increase(lis_offline_codes_total{tenant="$tenant"}[24h]))', "offline"),), stat=True),
        Chart("Vendor breakers open", "short",
              (Query('sum by (vendor) (lis_circuit_open{tenant="$tenant"})', "{{vendor}}"),), stat=True),
    ]
    tenant = _variable("tenant", "Tenant", "label_values(lis_lock_events_total, tenant)")
    return _dashboard("lis-tenant", "Lock integration: tenant $tenant", {"SLOs": slo, "Keys": keys}, [tenant])


def _property() -> Dashboard:
    where = 'tenant="$tenant", property="$property"'
    keys = [
        Chart("Lock events by type", "ops",
              (Query(f"sum by (type) (rate(lis_property_lock_events_total{{{where}}}[5m]))", "{{type}}"),)),
        Chart("Keys issued, 24 h", "short", (Query(
            f'sum(increase(lis_property_lock_events_total{{{where}, type="key.issued"}}[24h]))', "issued"),),
              stat=True),
        Chart("Keys revoked, 24 h", "short", (Query(
            f'sum(increase(lis_property_lock_events_total{{{where}, type="key.revoked"}}[24h]))', "revoked"),),
              stat=True),
        Chart("Failures and delays, 24 h", "short", (Query(
            f"sum by (type) (increase(lis_property_lock_events_total{{{where}, {FAILURE_TYPES}}}[24h]))", "{{type}}"),),
              description="Each one is a guest without a working key or a departed guest whose key still works: "
                          "the runbooks of KeyRevokeFailed and KeyIssueDelayed say what to do."),
        Chart("Issue attempts that failed, 1 h", "percentunit", (Query(
            f'sum(rate(lis_property_lock_events_total{{{where}, type="key.issue_failed"}}[1h])) / '
            f"sum(rate(lis_property_lock_events_total{{{where}, {ISSUE_TYPES}}}[1h]))", "failed"),)),
        Chart("Master-key shift: locks by phase", "short",
              (Query(f"max by (phase) (lis_master_key_shift_locks{{{where}}})", "{{phase}}"),),
              description="The shift in progress (or the last one); its stragglers, with their causes, are in "
                          "GET /ops/master-keys (docs/OPS_API.md)."),
    ]
    tenant = _variable("tenant", "Tenant", "label_values(lis_property_lock_events_total, tenant)")
    prop = _variable("property", "Property", 'label_values(lis_property_lock_events_total{tenant="$tenant"}, property)')
    return _dashboard("lis-property", "Lock integration: property $property", {"Keys": keys}, [tenant, prop])


def dashboards() -> dict[str, str]:
    """File name → dashboard JSON, as ``lis dashboards`` writes it."""
    encoder = JSONEncoder(sort_keys=True, indent=2)
    boards = {"sre-overview.json": _sre_overview(), "tenant.json": _tenant(), "property.json": _property()}
    return {name: encoder.encode(board.build()) + "\n" for name, board in boards.items()}


def write_dashboards(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in dashboards().items():
        (folder / name).write_text(text)
    return sorted(folder / name for name in dashboards())
