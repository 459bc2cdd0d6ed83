"""The functions' Powertools Logger: JSON lines without the keys no reader uses.

Powertools puts `location` (the logging call's function and line), `service`
(POWERTOOLS_SERVICE_NAME) and `timestamp` (the time of the call, as text) on every line. Nothing
reads them: the log group already names the function (`/aws/lambda/byoip-<s>-<function>`),
CloudWatch Logs stores every event with its own timestamp (Lambda's, taken when the line is
written: what Logs Insights' `@timestamp`, the console and `byoip job show` show), and no metric
filter, Contributor Insights rule, saved query or command looks at the three keys. On a job's two
lines they were ~170 B of CloudWatch Logs ingestion (docs/cost.md). POWERTOOLS_SERVICE_NAME stays
set: the Tracer annotates its segments with it.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger


def function_logger() -> Logger:
    """A handler's Logger: `level`, `message` and the keys the code adds."""
    logger = Logger(location=None, timestamp=None)  # a key whose value is None is left out of the line
    logger.remove_keys(["service"])
    return logger
