#!/usr/bin/env bash
# Redrive a DLQ back to its main queue (SQS StartMessageMoveTask). Thin wrapper over `byoip redrive`:
#   scripts/redrive-dlq.sh --source-arn <DLQ ARN> --destination-arn <main queue ARN> \
#     --region <region> --max-pps 50 --wait --yes        (add --dry-run to only check and preview)
# The CLI refuses an ARN that does not parse, a source that is not a DLQ, a rate outside 1-500,
# a running move task, and any start without --yes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
byoip="${here}/.venv/bin/byoip"
if [[ ! -x "${byoip}" ]]; then
  byoip="$(command -v byoip || true)"
fi
if [[ -z "${byoip}" ]]; then
  echo "error: the byoip CLI is not installed: run 'make install' in ${here}" >&2
  exit 2
fi
exec "${byoip}" redrive "$@"
