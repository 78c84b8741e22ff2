"""Helpers for the tests against the running test stack: polling with a deadline, the Prometheus,
Alertmanager and alert-sink APIs, Monit, and each app server's /metrics."""

import json
import time
import urllib.error
import urllib.parse
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from stack import control


def get_json(url: str, params: dict | None = None, timeout: float = 10.0):
    if params:
        url += "?" + urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


class Prometheus:
    def __init__(self, stack):
        self.base = f"http://127.0.0.1:{stack.ports['prometheus']}"

    def api(self, path: str, params: dict | None = None) -> dict:
        """An API call; a PromQL error (HTTP 400/422) raises with Prometheus' message."""
        try:
            body = get_json(self.base + path, params)
        except urllib.error.HTTPError as error:
            raise AssertionError(f"Prometheus refused {params}: {error.read().decode()}") from None
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        return self.api("/api/v1/query", {"query": expr})["result"]

    def query_range(self, expr: str, seconds: int = 60, step: str = "2s") -> list[dict]:
        end = time.time()
        return self.api("/api/v1/query_range", {"query": expr, "start": end - seconds, "end": end,
                                                 "step": step})["result"]

    def alerts(self, name: str, state: str | None = None, **labels) -> list[dict]:
        return [a for a in self.api("/api/v1/alerts")["alerts"]
                if a["labels"].get("alertname") == name and (state is None or a["state"] == state)
                and all(a["labels"].get(k) == v for k, v in labels.items())]


def sink_notifications(stack, since: float) -> list[dict]:
    """What Alertmanager delivered to the alert sink (webhook payloads) since a time.time()."""
    payloads = get_json(f"http://127.0.0.1:{stack.ports['alert_sink']}/alerts")
    return [p for p in payloads if p["received"] >= since]


def delivered(stack, since: float, name: str, status: str, **labels) -> list[dict]:
    """Alerts of a name and status ('firing' or 'resolved') delivered to the sink since a time."""
    return [alert for payload in sink_notifications(stack, since) for alert in payload.get("alerts", [])
            if alert["labels"].get("alertname") == name and alert["status"] == status
            and all(alert["labels"].get(k) == v for k, v in labels.items())]


def alertmanager_alerts(stack, name: str) -> list[dict]:
    alerts = get_json(f"http://127.0.0.1:{stack.ports['alertmanager']}/api/v2/alerts")
    return [a for a in alerts if a["labels"].get("alertname") == name]


def monit_status(stack, service: str) -> str:
    """Monit's status line of a service: 'OK', 'Not monitored', 'Does not exist', ..."""
    out = control.monit(stack, "status", service, check=False).stdout
    for line in out.splitlines():
        if line.strip().startswith("status"):
            return line.split(None, 1)[1].strip()
    return out


def monitoring(stack, service: str) -> str:
    out = control.monit(stack, "status", service, check=False).stdout
    for line in out.splitlines():
        if line.strip().startswith("monitoring status"):
            return line.split("monitoring status", 1)[1].strip()
    return out


def scrape(port: int) -> dict[tuple, float]:
    """An app server's /metrics as {(sample name, sorted labels): value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict[tuple, float], name: str, **labels) -> float:
    """The value of one sample (0 when it does not exist yet: a labelled child appears on first use)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)
