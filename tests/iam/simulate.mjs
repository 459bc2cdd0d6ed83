// Evaluate recorded AWS calls against the template's policies with @cloud-copilot/iam-simulate.
// stdin: {"identity": {setId: [policy documents]}, "resource": {id: policy document},
//         "requests": [{"id", "principal", "action", "resource", "identity": setId, "resourcePolicy": id|null}]}
// stdout: [{"id", "result", "allowedBy": [[policy index, statement]], "errors": message|null}]
import { runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const account = '123456789012'

function grants(analysis) {
  // The identity statements that allowed the request: least privilege is measured with them.
  const found = analysis?.identityAnalysis?.allowStatements ?? []
  return found.map((s) => [Number(s.policyId), s.statement])
}

const out = []
for (const req of input.requests) {
  const simulation = {
    request: {
      principal: req.principal,
      action: req.action,
      resource: { resource: req.resource, accountId: account },
      contextVariables: {
        'aws:SecureTransport': 'true',
        'aws:PrincipalArn': req.principal,
        'aws:PrincipalAccount': account,
        ...(req.context ?? {}),
      },
    },
    identityPolicies: (input.identity[req.identity] ?? []).map((policy, i) => ({ name: String(i), policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: req.resourcePolicy == null ? undefined : input.resource[req.resourcePolicy],
  }
  const result = await runSimulation(simulation, {})
  if (result.resultType === 'error' || result.errors) {
    out.push({ id: req.id, result: 'Error', allowedBy: [], errors: JSON.stringify(result.errors ?? result) })
    continue
  }
  const single = result.result ?? {}
  out.push({ id: req.id, result: result.overallResult, allowedBy: grants(single.analysis), errors: null })
}
process.stdout.write(JSON.stringify(out))
