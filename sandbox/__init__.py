"""The whole BYO-IP system on one machine: no AWS account, no Docker.

    make run                          the default drill (poison-pill incident, end to end)
    byoip sandbox up                  keep a sandbox running; prints the WebSocket URL and a token
    byoip gameday SCENARIO            one runbook scenario: timeline, summary, JSON report
                                      (--speed 1-60: faster falls behind on a 2-core machine)
    python -m sandbox.agent URL --token T   one reference agent, logging what it does

Parts (each file has one job):
- template.py / provision.py   synthesize stage `local` (child process), create its queues, tables, buckets,
                               secret and topic in moto (moto_server.py: two child processes,
                               moto_process.py; moto_patches.py: its slow paths)
- lambda_runtime.py            the unmodified handlers, with Lambda's context, environments,
                               concurrency and AWS/Lambda metrics; capture.py routes their output
- gateway.py / ws_events.py    API Gateway's WebSocket contract; connections_api.py @connections
- poller.py                    the SQS event source mapping and `rate()` schedules
- queue_metrics.py, log_metrics.py, metrics.py   AWS/SQS metrics, EMF, metric filters
- alarm_loop.py, outbox.py, ssm.py   alarms evaluated live (monitoring.evaluator), emails to
                               an outbox file, EventBridge -> SSM Automation documents
- agent.py, fleet.py, tokens.py      the reference agent and a fleet of them
- clock.py                     time compression (`speed`), production minutes in reports
- faults.py                    the AWS faults tests/simulation and the `chaos` game day inject
- cli.py, console.py           the commands; consoles that never hard-wrap URLs in logs
- gameday/                     scenarios, producer, ledger (nothing lost), timeline, report;
                               counts run from the fault (setup and after-recovery apart);
                               duplicate completions or a lost job fail the game day;
                               fleet_day.py: 1,000 agents, every connection dropped at once
"""
