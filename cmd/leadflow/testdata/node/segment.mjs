// A visitor's journey sent to leadflow with @segment/analytics-node, written
// as a user of the library would write it; only the host differs from
// sending to Segment. Run by TestNodeSDK, which passes the server and the
// ids in the environment and then checks the lead through the REST API.
//
// Two requests: the anonymous visit is flushed first, so that the identify
// in the second one has to join page views already stored. The script
// exits non-zero if the library reports an error or any answer is not 200.
import { Analytics } from '@segment/analytics-node'

function env(name) {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set`)
  return v
}

const host = env('LEADFLOW_HOST')
const writeKey = env('LEADFLOW_WRITE_KEY')
const email = env('LEAD_EMAIL')
const userId = env('LEAD_USER_ID')
const anonymousId = env('LEAD_ANONYMOUS_ID')

// flushAt above the number of calls, so each flush is one request and the
// requests cannot overtake one another; few retries, so a refusal fails fast.
const analytics = new Analytics({ writeKey, host, flushAt: 20, maxRetries: 2 })

let failed = false
const statuses = []
const delivered = {}
analytics.on('error', (err) => {
  failed = true
  console.error(`analytics error: ${err.code}: ${err.reason}`)
})
analytics.on('http_request', (req) => console.error(`> ${req.method} ${req.url} ${req.headers['Content-Type']} ${req.body.length} bytes`))
analytics.on('http_response', (res) => {
  statuses.push(res.status)
  console.error(`< ${res.status} ${res.statusText}`)
  if (res.status !== 200) failed = true
})
for (const type of ['identify', 'page', 'track']) {
  analytics.on(type, () => { delivered[type] = (delivered[type] ?? 0) + 1 })
}

// Yesterday, before signing up: two views of the pricing pages.
const yesterday = Date.now() - 24 * 60 * 60 * 1000
analytics.page({
  anonymousId,
  name: 'Pricing',
  properties: {
    path: '/pricing',
    url: 'https://www.example.com/pricing?utm_source=google&utm_medium=cpc&utm_campaign=mfg-2026',
    search: '?utm_source=google&utm_medium=cpc&utm_campaign=mfg-2026',
    title: '料金プラン',
  },
  timestamp: new Date(yesterday),
})
analytics.page({
  anonymousId,
  name: 'Pricing Enterprise',
  properties: { path: '/pricing/enterprise', url: 'https://www.example.com/pricing/enterprise' },
  timestamp: new Date(yesterday + 60 * 1000),
})
await analytics.flush()

// Today: the visitor signs up, reads more and asks for a demo.
analytics.identify({
  userId,
  anonymousId,
  traits: {
    email,
    name: '山田 太郎',
    company: '山田製作所株式会社',
    title: '部長',
    industry: 'manufacturing',
    employees: 250,
  },
})
analytics.page({ userId, name: 'Pricing', properties: { path: '/pricing' } })
analytics.page({ userId, name: 'Pricing', properties: { path: '/pricing', search: '?plan=enterprise' } })
analytics.track({ userId, event: 'Document Downloaded', properties: { document: 'leadflow-whitepaper.pdf' } })
analytics.track({ userId, event: 'Demo Requested', properties: { preferred_date: '来週' } })
await analytics.closeAndFlush({ timeout: 30000 })

console.log(JSON.stringify({ library: '@segment/analytics-node', version: analytics.VERSION, statuses, delivered }))
process.exitCode = failed ? 1 : 0
