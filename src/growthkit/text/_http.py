"""JSON over HTTP for the OpenAI-compatible backends: one POST with retries and clear errors.

Standard library only. Timeouts, connection errors, 408/409/425/429 and 5xx answers are
retried with exponential backoff (``backoff``, 2x, 4x, ...); other HTTP errors fail at once
with the server's message and a hint about the setting to check.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from growthkit.errors import TextBackendError

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def post_json(
    url: str,
    payload: Mapping[str, Any],
    *,
    api_key: str | None,
    timeout: float,
    retries: int,
    backoff: float,
    what: str,
    other_hint: str = "",
    on_attempt: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """POST ``payload`` as JSON to ``url`` and return the JSON answer.

    ``what`` names the backend in log lines; ``other_hint`` is appended to non-retryable
    errors other than 401/403 (which point at ``openai_api_key``); ``on_attempt`` is called
    before every request (request counters).
    """
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        req = urllib.request.Request(url, data=body, headers=headers, method="POST")
        if on_attempt is not None:
            on_attempt()
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                data: dict[str, Any] = json.loads(resp.read().decode("utf-8"))
                return data
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            last = f"HTTP {exc.code} from {url}: {detail}"
            if exc.code not in RETRY_STATUS:
                hint = " (check openai_api_key)" if exc.code in (401, 403) else other_hint
                raise TextBackendError(last + hint) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            last = f"cannot reach {url}: {getattr(exc, 'reason', exc)}"
        except json.JSONDecodeError as exc:
            raise TextBackendError(f"{url} did not answer with JSON") from exc
        log.info("%s: attempt %d failed: %s", what, attempt + 1, last)
    raise TextBackendError(f"{last} (gave up after {retries + 1} attempts; check openai_base_url)")
