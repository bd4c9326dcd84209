// The built package, as Medusa loads it (.medusa/server/src).
import { createRequire } from "node:module"
import { existsSync } from "node:fs"
import { join } from "node:path"
import assert from "node:assert/strict"
import { ADAPTER_ROOT, startServer } from "./server.mjs"

const require = createRequire(import.meta.url)
const entry = join(ADAPTER_ROOT, ".medusa", "server", "src", "index.js")
if (!existsSync(entry)) {
  throw new Error(`${entry} is missing: run "npm run build" first`)
}
export const pkg = require(entry)
export const moduleExport = require(join(ADAPTER_ROOT, ".medusa", "server", "src", "modules", "loyalty", "index.js"))
export const storeCreditModuleExport = require(join(ADAPTER_ROOT, ".medusa", "server", "src", "modules", "store-credit", "index.js"))
export const { MedusaError, BigNumber } = require("@medusajs/framework/utils")

/** A fresh module service, constructed the way Medusa does: new Service(deps, options). */
export function makeService(options) {
  const Service = moduleExport.default.service
  return new Service({}, options)
}

/** A fresh `store_credit` module service, constructed the way Medusa does. */
export function makeStoreCreditService(options) {
  const Service = storeCreditModuleExport.default.service
  return new Service({}, options)
}

/** Awaits a rejection and returns it (fails if the promise resolves). */
export async function rejection(promise) {
  try {
    const value = await promise
    throw Object.assign(new Error(`expected a rejection, got ${JSON.stringify(value)}`), { unexpected: true })
  } catch (e) {
    if (e && e.unexpected) throw e
    return e
  }
}

/**
 * A real loyalty-server and the module services on it, as the layer (a) tests
 * use them: { server, loyalty, sc } (`sc`: the store_credit service).
 */
export async function startLiveServices() {
  const server = await startServer()
  const options = { address: server.address, timeoutMs: 5000 }
  return { server, loyalty: makeService(options), sc: makeStoreCreditService(options) }
}

/** Closes the services' channels and stops the server of startLiveServices(). */
export async function stopLiveServices({ server, loyalty, sc } = {}) {
  await sc?.__hooks.onApplicationShutdown()
  await loyalty?.__hooks.onApplicationShutdown()
  await server?.stop()
}

/** `err` is a MedusaError of `type`; its message equals `message` (a string) or matches it (a RegExp). */
export function assertMedusaError(err, type, message) {
  assert.ok(err instanceof MedusaError, `expected a MedusaError, got ${err?.constructor?.name}: ${err?.message}`)
  assert.equal(MedusaError.isMedusaError(err), true)
  assert.equal(err.type, type, `${err.type}: ${err.message}`)
  if (message instanceof RegExp) {
    assert.match(err.message, message)
  } else if (message !== undefined) {
    assert.equal(err.message, message)
  }
}
