// Lazy connect, unreachable server, deadlines, bearer token: real processes and sockets only.
import { after, before, describe, it } from "node:test"
import assert from "node:assert/strict"
import { createServer } from "node:net"
import { createHash } from "node:crypto"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort, serveHelp, startServer } from "./helpers/server.mjs"
import { MedusaError, makeService, moduleExport, pkg, rejection } from "./helpers/pkg.mjs"

const cleanups = []

const sha256 = (s) => createHash("sha256").update(s).digest("hex")

function hasOpenssl() {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate (EC P-256). */
function makePki() {
  const dir = mkdtempSync(join(tmpdir(), "loyalty-node-pki-"))
  cleanups.push(() => execFileSync("rm", ["-rf", dir]))
  const f = (n) => join(dir, n)
  const ssl = (...args) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" })
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
  ssl("req", "-x509", ...ec, "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "2", "-subj", "/CN=loyalty-test-ca")
  writeFileSync(f("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
  writeFileSync(f("client.ext"), "extendedKeyUsage=clientAuth\n")
  for (const who of ["server", "client"]) {
    ssl("req", ...ec, "-keyout", f(`${who}.key`), "-out", f(`${who}.csr`), "-subj", `/CN=loyalty-test-${who}`)
    ssl("x509", "-req", "-in", f(`${who}.csr`), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f(`${who}.pem`), "-days", "2", "-extfile", f(`${who}.ext`))
  }
  return { ca: f("ca.pem"), serverCert: f("server.pem"), serverKey: f("server.key"), clientCert: f("client.pem"), clientKey: f("client.key") }
}
after(async () => {
  for (const fn of cleanups.reverse()) await fn()
})

describe("lazy connect", () => {
  it("the service is constructed with the server down, fails with the address, then works once it is up", async () => {
    const port = await freePort()
    const address = `127.0.0.1:${port}`
    // Medusa does `new Service(deps, options)` at every boot (db:migrate, exec, user): it must not dial or throw.
    const loyalty = makeService({ address, timeoutMs: 3000 })
    cleanups.push(() => loyalty.__hooks.onApplicationShutdown())
    assert.equal(loyalty.address, address)

    const err = await rejection(loyalty.getPointsBalance("cus_lazy"))
    assert.ok(err instanceof MedusaError, `expected a MedusaError, got ${err?.constructor?.name}`)
    assert.equal(err.type, "unexpected_state")
    assert.match(err.message, new RegExp(`Loyalty gRPC server at ${address.replace(/\./g, "\\.")} is unreachable`))

    const server = await startServer({ port })
    cleanups.push(() => server.stop())
    // grpc-js backs off after a refused connection; the same instance recovers by itself.
    const started = Date.now()
    let balance
    while (!balance) {
      try {
        balance = await loyalty.getPointsBalance("cus_lazy")
      } catch (e) {
        assert.equal(e.type, "unexpected_state")
        if (Date.now() - started > 20000) throw e
        await new Promise((r) => setTimeout(r, 250))
      }
    }
    assert.equal(balance.balance, 0)
  })

  it("the default address is LOYALTY_ADDRESS, else LOYALTY_GRPC_ADDRESS (the former name), else 127.0.0.1:50051; the same for the token and LOYALTY_TIMEOUT_MS", () => {
    const names = ["ADDRESS", "TOKEN", "TIMEOUT_MS"].flatMap((n) => [`LOYALTY_${n}`, `LOYALTY_GRPC_${n}`])
    const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]))
    try {
      for (const n of names) delete process.env[n]
      assert.equal(makeService({}).address, "127.0.0.1:50051")
      process.env.LOYALTY_GRPC_ADDRESS = "10.1.2.3:7000" // never dialled: construction is lazy
      assert.equal(makeService(undefined).address, "10.1.2.3:7000")
      process.env.LOYALTY_ADDRESS = "10.1.2.4:7000" // the name the loyalty CLI reads too
      assert.equal(makeService(undefined).address, "10.1.2.4:7000")
      assert.equal(makeService({ address: "127.0.0.1:1" }).address, "127.0.0.1:1")
      process.env.LOYALTY_GRPC_TIMEOUT_MS = "3000"
      assert.equal(pkg.resolveOptions({}).timeoutMs, 3000)
      process.env.LOYALTY_TIMEOUT_MS = "4000"
      assert.equal(pkg.resolveOptions({}).timeoutMs, 4000)
      assert.equal(pkg.resolveOptions({ timeoutMs: 500 }).timeoutMs, 500)
      assert.equal(pkg.resolveOptions({}).token, undefined)
      process.env.LOYALTY_GRPC_TOKEN = "old"
      assert.equal(pkg.resolveOptions({}).token, "old")
      process.env.LOYALTY_TOKEN = "new"
      assert.equal(pkg.resolveOptions({}).token, "new")
      assert.equal(pkg.resolveOptions({ token: "opt" }).token, "opt")
    } finally {
      for (const n of names) {
        if (saved[n] === undefined) delete process.env[n]
        else process.env[n] = saved[n]
      }
    }
  })
})

describe("deadlines", () => {
  it("a peer that accepts TCP but never answers gRPC hits the deadline, mapped with the address", async () => {
    // A real socket that never completes the HTTP/2 handshake: the call can only end by its deadline.
    const sockets = new Set()
    const silent = createServer((s) => {
      sockets.add(s)
      s.on("error", () => {})
    })
    await new Promise((ok) => silent.listen(0, "127.0.0.1", ok))
    cleanups.push(
      () =>
        new Promise((ok) => {
          for (const s of sockets) s.destroy()
          silent.close(ok)
        })
    )
    const address = `127.0.0.1:${silent.address().port}`
    const loyalty = makeService({ address, timeoutMs: 400 })
    cleanups.push(() => loyalty.__hooks.onApplicationShutdown())
    const t0 = Date.now()
    const err = await rejection(loyalty.getOptions())
    const elapsed = Date.now() - t0
    assert.ok(err instanceof MedusaError)
    assert.equal(err.type, "unexpected_state")
    assert.equal(err.grpcCode, 4) // DEADLINE_EXCEEDED
    assert.match(err.message, new RegExp(`GetOptions to ${address.replace(/\./g, "\\.")} exceeded its deadline of 400 ms`))
    assert.ok(elapsed >= 350 && elapsed < 3000, `deadline took ${elapsed} ms`)
  })

  it("every call carries the deadline (a 1 ms deadline against the real server expires)", async () => {
    const server = await startServer()
    cleanups.push(() => server.stop())
    const fast = makeService({ address: server.address, timeoutMs: 5000 })
    cleanups.push(() => fast.__hooks.onApplicationShutdown())
    assert.equal((await fast.getOptions()).sections, 4)

    const tight = makeService({ address: server.address, timeoutMs: 1 })
    cleanups.push(() => tight.__hooks.onApplicationShutdown())
    const err = await rejection(tight.listGiftCards({}, { take: 1000 }))
    assert.equal(err.type, "unexpected_state")
    assert.match(err.message, /exceeded its deadline of 1 ms/)
  })
})

describe("bearer token (server started with --api-keys)", () => {
  const supported = serveHelp().includes("--api-keys")
  const skip = supported ? false : "this loyalty-server has no --api-keys"
  const writer = "lk_node_adapter_writer_0123456789abcdef"
  const reader = "lk_node_adapter_reader_0123456789abcdef"
  let server

  before(async () => {
    if (!supported) return
    const keys = `writer:${sha256(writer)}=loyalty:read,loyalty:write;reader:${sha256(reader)}=loyalty:read`
    server = await startServer({ extraArgs: ["--api-keys", keys] })
    cleanups.push(() => server.stop())
  })

  it("no token -> unauthorized", { skip }, async () => {
    const anon = makeService({ address: server.address })
    cleanups.push(() => anon.__hooks.onApplicationShutdown())
    const err = await rejection(anon.getOptions())
    assert.ok(err instanceof MedusaError)
    assert.equal(err.type, "unauthorized")
    assert.equal(err.reason, "UNAUTHORIZED")
    assert.equal(err.grpcCode, 16)
  })

  it("a wrong token -> unauthorized", { skip }, async () => {
    const bad = makeService({ address: server.address, token: "lk_wrong" })
    cleanups.push(() => bad.__hooks.onApplicationShutdown())
    const err = await rejection(bad.getOptions())
    assert.equal(err.type, "unauthorized")
  })

  it("a read-only token may read but a write is FORBIDDEN -> forbidden", { skip }, async () => {
    const ro = makeService({ address: server.address, token: reader })
    cleanups.push(() => ro.__hooks.onApplicationShutdown())
    assert.equal((await ro.getPointsBalance("cus_token")).balance, 0)
    const err = await rejection(ro.adjustPoints({ customer_id: "cus_token", delta: 1 }))
    assert.ok(err instanceof MedusaError)
    assert.equal(err.type, "forbidden")
    assert.equal(err.reason, "FORBIDDEN")
    assert.equal(err.grpcCode, 7)
  })

  it("the right token is sent as authorization: Bearer and works", { skip }, async () => {
    const rw = makeService({ address: server.address, token: writer })
    cleanups.push(() => rw.__hooks.onApplicationShutdown())
    assert.equal((await rw.adjustPoints({ customer_id: "cus_token", delta: 3 })).balance_after, 3)
  })
})

describe("TLS (server started with --tls-cert/--tls-key/--tls-client-ca)", () => {
  const supported = serveHelp().includes("--tls-client-ca") && hasOpenssl()
  const skip = supported ? false : "no openssl, or this loyalty-server has no --tls-client-ca"
  let pki
  let server

  before(async () => {
    if (!supported) return
    pki = makePki()
    server = await startServer({
      extraArgs: ["--tls-cert", pki.serverCert, "--tls-key", pki.serverKey, "--tls-client-ca", pki.ca],
      tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
    })
    cleanups.push(() => server.stop())
  })

  it("mutual TLS with CA, client certificate and key (paths or PEM text) works", { skip }, async () => {
    const byPath = makeService({ address: server.address, tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } })
    cleanups.push(() => byPath.__hooks.onApplicationShutdown())
    assert.equal((await byPath.getOptions()).sections, 4)
    const byPem = makeService({
      address: server.address,
      tls: { ca: readFileSync(pki.ca, "utf8"), cert: readFileSync(pki.clientCert, "utf8"), key: readFileSync(pki.clientKey) },
    })
    cleanups.push(() => byPem.__hooks.onApplicationShutdown())
    assert.equal((await byPem.adjustPoints({ customer_id: "cus_tls", delta: 2 })).balance_after, 2)
  })

  it("without a client certificate the call fails as unexpected_state naming the address", { skip }, async () => {
    const noCert = makeService({ address: server.address, tls: { ca: pki.ca }, timeoutMs: 3000 })
    cleanups.push(() => noCert.__hooks.onApplicationShutdown())
    const err = await rejection(noCert.getOptions())
    assert.ok(err instanceof MedusaError)
    assert.equal(err.type, "unexpected_state")
    assert.ok(err.message.includes(server.address), err.message)
  })

  it("plaintext against a TLS server fails as unexpected_state", { skip }, async () => {
    const plain = makeService({ address: server.address, timeoutMs: 3000 })
    cleanups.push(() => plain.__hooks.onApplicationShutdown())
    const err = await rejection(plain.getOptions())
    assert.equal(err.type, "unexpected_state")
    assert.ok(err.message.includes(server.address), err.message)
  })
})

describe("module export", () => {
  it("is { service, linkable } with the loyalty joiner config", () => {
    const mod = moduleExport.default
    assert.equal(typeof mod.service, "function")
    const joiner = new mod.service({}, {}).__joinerConfig()
    assert.equal(joiner.serviceName, "loyalty")
    assert.deepEqual(joiner.primaryKeys, ["id"])
    assert.deepEqual(joiner.linkableKeys, { gift_card_id: "GiftCard" })
    assert.deepEqual(joiner.alias[0].name, ["gift_card", "gift_cards"])
    assert.equal(joiner.alias[0].args.methodSuffix, "GiftCards")
    assert.match(joiner.schema, /type GiftCard \{/)
    assert.deepEqual(mod.linkable.giftCard.toJSON(), {
      linkable: "gift_card_id",
      primaryKey: "id",
      serviceName: "loyalty",
      field: "giftCard",
      entity: "GiftCard",
    })
    assert.equal(moduleExport.linkable, mod.linkable)
    assert.equal(typeof pkg.createGiftCardsStep, "function")
    assert.equal(typeof pkg.adjustPointsStep, "function")
    assert.equal(typeof pkg.adjustPointsWorkflow, "function")
  })
})
