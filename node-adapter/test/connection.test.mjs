// Lazy connect, unreachable server, deadlines, bearer token: real processes and sockets only.
import { after, describe, it } from "node:test"
import assert from "node:assert/strict"
import { createServer } from "node:net"
import { freePort, startServer, tokenFlag } from "./helpers/server.mjs"
import { MedusaError, makeService, moduleExport, pkg, rejection } from "./helpers/pkg.mjs"

const cleanups = []
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

  it("the default address is LOYALTY_GRPC_ADDRESS, else 127.0.0.1:50051", () => {
    const saved = process.env.LOYALTY_GRPC_ADDRESS
    try {
      delete process.env.LOYALTY_GRPC_ADDRESS
      assert.equal(makeService({}).address, "127.0.0.1:50051")
      process.env.LOYALTY_GRPC_ADDRESS = "10.1.2.3:7000" // never dialled: construction is lazy
      assert.equal(makeService(undefined).address, "10.1.2.3:7000")
      assert.equal(makeService({ address: "127.0.0.1:1" }).address, "127.0.0.1:1")
    } finally {
      if (saved === undefined) delete process.env.LOYALTY_GRPC_ADDRESS
      else process.env.LOYALTY_GRPC_ADDRESS = saved
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

describe("bearer token", () => {
  const flag = tokenFlag()
  it("a wrong token is UNAUTHORIZED -> unauthorized; the right one works", { skip: flag ? false : "this loyalty-server has no token flag in `serve --help`" }, async () => {
    const server = await startServer({ extraArgs: [flag, "s3cret-token"] })
    cleanups.push(() => server.stop())
    const bad = makeService({ address: server.address, token: "wrong" })
    cleanups.push(() => bad.__hooks.onApplicationShutdown())
    const err = await rejection(bad.getOptions())
    assert.ok(err instanceof MedusaError)
    assert.equal(err.type, "unauthorized")
    const good = makeService({ address: server.address, token: "s3cret-token" })
    cleanups.push(() => good.__hooks.onApplicationShutdown())
    assert.equal((await good.getOptions()).sections, 4)
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
