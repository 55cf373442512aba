// The journey of segment.mjs sent with @rudderstack/rudder-sdk-node, which
// gzips its batches by default and waits for each request before the next.
// Run by TestNodeSDK; exits non-zero if the library reports an error.
import Analytics from '@rudderstack/rudder-sdk-node'

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

let failed = false
const delivered = {}
const client = new Analytics(writeKey, {
  dataPlaneUrl: host,
  flushAt: 20,
  retryCount: 1,
  logLevel: 'error',
  errorHandler: (err) => {
    failed = true
    console.error(`rudder error: ${err.message} ${JSON.stringify(err.response?.data ?? null)}`)
  },
})

// done is the per-call callback a user passes to learn about delivery.
function done(type) {
  return (err) => {
    if (err) {
      failed = true
      console.error(`${type} not delivered: ${err.message}`)
      return
    }
    delivered[type] = (delivered[type] ?? 0) + 1
  }
}

const yesterday = Date.now() - 24 * 60 * 60 * 1000
client.page({
  anonymousId,
  name: 'Pricing',
  properties: {
    path: '/pricing',
    url: 'https://www.example.com/pricing?utm_source=google&utm_medium=cpc&utm_campaign=mfg-2026',
    search: '?utm_source=google&utm_medium=cpc&utm_campaign=mfg-2026',
    title: '料金プラン',
  },
  timestamp: new Date(yesterday),
}, done('page'))
client.page({
  anonymousId,
  name: 'Pricing Enterprise',
  properties: { path: '/pricing/enterprise', url: 'https://www.example.com/pricing/enterprise' },
  timestamp: new Date(yesterday + 60 * 1000),
}, done('page'))
await client.flush()

client.identify({
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
}, done('identify'))
client.page({ userId, name: 'Pricing', properties: { path: '/pricing' } }, done('page'))
client.page({ userId, name: 'Pricing', properties: { path: '/pricing', search: '?plan=enterprise' } }, done('page'))
client.track({ userId, event: 'Document Downloaded', properties: { document: 'leadflow-whitepaper.pdf' } }, done('track'))
client.track({ userId, event: 'Demo Requested', properties: { preferred_date: '来週' } }, done('track'))
await client.flush()
// Delivery callbacks run on the next turn of the event loop.
await new Promise((resolve) => setImmediate(resolve))

console.log(JSON.stringify({ library: '@rudderstack/rudder-sdk-node', gzip: client.gzip, delivered }))
process.exitCode = failed ? 1 : 0
