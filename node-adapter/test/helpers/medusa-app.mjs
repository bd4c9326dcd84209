// What the Medusa app test layers share: (b) medusa-app, (c) plugin-app, (d) the
// plugin app's Admin in Chromium. A throw-away PostgreSQL database per run, the
// medusa CLI and `medusa start` as process groups with their output in log
// files, a loyalty-server with the app's API key, the loyalty service read
// back over gRPC with the repo's proto, and plain HTTP.
import assert from "node:assert/strict"
import { execFile, spawn } from "node:child_process"
import { appendFileSync, mkdtempSync } from "node:fs"
import { createHash, randomBytes } from "node:crypto"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import * as grpc from "@grpc/grpc-js"
import * as protoLoader from "@grpc/proto-loader"
import { ADAPTER_ROOT, freePort, serverBin, serveHelp, startServer } from "./server.mjs"

/** The repo's contract, read directly (independent of the adapter's copy). */
export const REPO_PROTOS = resolve(ADAPTER_ROOT, "..", "protos")
export const PG_ADMIN_URL = process.env.MEDUSA_TEST_PG_URL || "postgres://postgres@localhost:5432/postgres"

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * One test app and this run's resources for it, for the test file at
 * `testFileUrl` (import.meta.url) in <app>/test or <app>/test-browser.
 * `name` names them: the database `medusa_loyalty_<name>_<time>_<random>`
 * (its own, dropped at the end), the log folder `medusa-loyalty-<name>-*` when
 * MEDUSA_LOG_DIR is unset, the log files `<name>-*.log`, and the bearer token
 * the app sends when the server takes API keys. Options:
 * - database, logPrefix: other names than those
 * - app: the app's folder, when the caller is not a test file in <app>/test
 * - env: the variables every medusa process of this app gets (NODE_ENV, ...),
 *   or a function of { LOG_DIR } returning them
 */
export function medusaTestApp(testFileUrl, name, { database, logPrefix = `${name}-`, env = {}, app: appDir } = {}) {
  const app = appDir ?? resolve(dirname(fileURLToPath(testFileUrl)), "..")
  const snake = name.replace(/-/g, "_")
  const require = createRequire(join(app, "package.json"))
  const pg = require("pg")
  const DB_NAME = `${database ?? `medusa_loyalty_${snake}`}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`
  const LOG_DIR = process.env.MEDUSA_LOG_DIR || mkdtempSync(join(tmpdir(), `medusa-loyalty-${name}-`))
  const TOKEN = serveHelp().includes("--api-keys") ? `lk_${snake}_test_token_0123456789abcdef` : undefined
  const MEDUSA_BIN = join(app, "node_modules", "@medusajs", "cli", "cli.js")
  const appEnv = typeof env === "function" ? env({ LOG_DIR }) : env

  const ctx = {
    APP: app,
    require,
    pg,
    DB_NAME,
    DATABASE_URL: PG_ADMIN_URL.replace(/\/[^/]*$/, `/${DB_NAME}`),
    LOG_DIR,
    TOKEN,
    MEDUSA_BIN,
    /** Set by startLoyaltyServer(), boot() and startMedusa(). */
    loyaltyServer: undefined,
    raw: undefined,
    medusa: undefined,
    baseUrl: undefined,

    /** A log file of this app in LOG_DIR. */
    log(name) {
      return join(LOG_DIR, `${logPrefix}${name}`)
    },

    /** The environment of a medusa process: the app's variables, the loyalty server's address and token, `extra`. */
    env(extra = {}) {
      return {
        ...process.env,
        DATABASE_URL: ctx.DATABASE_URL,
        MEDUSA_DISABLE_TELEMETRY: "true",
        LOYALTY_GRPC_ADDRESS: ctx.loyaltyServer?.address ?? "127.0.0.1:1",
        ...(TOKEN ? { LOYALTY_GRPC_TOKEN: TOKEN } : {}),
        ...appEnv,
        ...extra,
      }
    },

    /** One statement on the maintenance database. */
    async pgAdmin(sql, params) {
      const client = new pg.Client({ connectionString: PG_ADMIN_URL })
      await client.connect()
      try {
        return await client.query(sql, params)
      } finally {
        await client.end()
      }
    },

    /** Creates this run's own database (its name is unique, so nothing else uses it). */
    createDatabase() {
      return ctx.pgAdmin(`CREATE DATABASE "${DB_NAME}"`)
    },

    /** Drops this run's database; only this run's own sessions can be on it. */
    async dropDatabase() {
      await ctx.pgAdmin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [DB_NAME])
      await ctx.pgAdmin(`DROP DATABASE IF EXISTS "${DB_NAME}"`)
    },

    /** The loyalty-server arguments that accept the app's token (none when the server has no API keys). */
    loyaltyServerArgs() {
      const sha = TOKEN && createHash("sha256").update(TOKEN).digest("hex")
      return TOKEN ? ["--api-keys", `medusa:${sha}=loyalty:read,loyalty:write`] : []
    },

    /**
     * Starts a loyalty-server that accepts the app's token; ctx.env() points the app at it.
     * Options: databaseUrl (migrated first; default a fresh SQLite file), more extraArgs.
     */
    async startLoyaltyServer({ databaseUrl, extraArgs = [] } = {}) {
      ctx.loyaltyServer = await startServer({ databaseUrl, extraArgs: [...ctx.loyaltyServerArgs(), ...extraArgs] })
      return ctx.loyaltyServer
    },

    /** The loyalty service over gRPC with the repo's proto and the app's token. */
    rawLoyaltyClient(address) {
      return rawLoyaltyClient(address, TOKEN)
    },

    /**
     * Runs one medusa CLI command to completion, its output appended to the
     * log `<name>.log`. Resolves { code, output, seconds, logFile }; rejects
     * when it outlives timeoutMs (its process group is killed).
     */
    runMedusa(name, args, { cwd = app, env: processEnv = ctx.env(), timeoutMs = 240000 } = {}) {
      const logFile = ctx.log(`${name}.log`)
      return new Promise((ok, fail) => {
        const t0 = Date.now()
        const child = spawn(process.execPath, [MEDUSA_BIN, ...args], { cwd, env: processEnv, stdio: ["ignore", "pipe", "pipe"], detached: true })
        let output = ""
        const onData = (d) => {
          output += d
          appendFileSync(logFile, d)
        }
        child.stdout.on("data", onData)
        child.stderr.on("data", onData)
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid, "SIGKILL")
          } catch {}
          fail(new Error(`medusa ${args.join(" ")} timed out after ${timeoutMs} ms; log: ${logFile}`))
        }, timeoutMs)
        child.on("exit", (code) => {
          clearTimeout(timer)
          ok({ code, output, seconds: (Date.now() - t0) / 1000, logFile })
        })
      })
    },

    /** runMedusa, resolving its output; a non-zero exit rejects with the end of it. */
    async medusaCli(name, args, opts) {
      const run = await ctx.runMedusa(name, args, opts)
      if (run.code === 0) return run.output
      throw new Error(`medusa ${args.join(" ")} exited ${run.code}; log: ${run.logFile}\n${run.output.slice(-2000)}`)
    },

    /** `medusa start` on `port` in its own process group, its output appended to the log `<logName>.log`. */
    startMedusa(port, { cwd = app, env: extra = {}, logName = "start" } = {}) {
      const logFile = ctx.log(`${logName}.log`)
      const child = spawn(process.execPath, [MEDUSA_BIN, "start", "--port", String(port)], {
        cwd,
        env: ctx.env({ ...extra, PORT: String(port) }),
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      })
      child.stdout.on("data", (d) => appendFileSync(logFile, d))
      child.stderr.on("data", (d) => appendFileSync(logFile, d))
      child.logFile = logFile
      ctx.baseUrl = `http://127.0.0.1:${port}`
      ctx.medusa = child
      return child
    },

    /**
     * Boots the app for HTTP tests: a loyalty-server with the app's key and
     * this run's database (side by side), the raw gRPC client (ctx.raw),
     * `prepare` (default: db:migrate; its result in ctx.prepared), the admin
     * user (userEnv: more variables for it), and `medusa start` on a free port
     * (from startCwd) until /health answers. The user is created while medusa
     * starts, or before with userFirst.
     */
    async boot({ admin, prepare = () => ctx.medusaCli("db-migrate", ["db:migrate"]), userEnv = {}, userFirst = false, startCwd = app, healthTimeoutMs = 180000 }) {
      const serverStarting = ctx.startLoyaltyServer()
      await ctx.createDatabase()
      await serverStarting
      ctx.raw = ctx.rawLoyaltyClient(ctx.loyaltyServer.address)
      ctx.prepared = await prepare()
      const userCreated = ctx.medusaCli("user", ["user", "-e", admin.email, "-p", admin.password], { env: ctx.env(userEnv) })
      if (userFirst) await userCreated
      ctx.startMedusa(await freePort(), { cwd: startCwd })
      await userCreated
      await waitForHealth(ctx.baseUrl, ctx.medusa, healthTimeoutMs)
      return ctx
    },

    /** Stops what boot() started and drops the database; `beforeServerStop` runs after medusa stopped. */
    async shutdown({ beforeServerStop } = {}) {
      await stopMedusa(ctx.medusa)
      ctx.raw?.close()
      await beforeServerStop?.()
      await ctx.loyaltyServer?.stop()
      await ctx.dropDatabase()
    },

    /** One HTTP call to the app (httpCall), logged to `<name>-http.log`. */
    http(method, path, opts = {}) {
      return httpCall(ctx.baseUrl, method, path, { logFile: ctx.log("http.log"), ...opts })
    },
  }
  return ctx
}

/** The loyalty service over gRPC with the repo's proto; `call(method, request)` with a 5 s deadline. */
export function rawLoyaltyClient(address, token) {
  const def = protoLoader.loadSync(join(REPO_PROTOS, "loyalty", "v1", "loyalty.proto"), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [REPO_PROTOS],
  })
  const Ctor = grpc.loadPackageDefinition(def).loyalty.v1.LoyaltyService
  const client = new Ctor(address, grpc.credentials.createInsecure())
  const md = new grpc.Metadata()
  if (token) md.set("authorization", `Bearer ${token}`)
  const call = (method, req) =>
    new Promise((ok, fail) => client[method](req, md, { deadline: Date.now() + 5000 }, (e, r) => (e ? fail(e) : ok(r))))
  return { call, close: () => client.close() }
}

/** Waits until `url`/health answers 200; fails early when the process exits. Resolves the seconds it took. */
export async function waitForHealth(url, child, timeoutMs) {
  const t0 = Date.now()
  while (Date.now() - t0 < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`medusa start exited with ${child.exitCode}; log: ${child.logFile}`)
    try {
      if ((await fetch(`${url}/health`)).ok) return (Date.now() - t0) / 1000
    } catch {}
    await sleep(500)
  }
  throw new Error(`medusa start not healthy after ${timeoutMs} ms`)
}

/** Stops a `medusa start` process group: SIGTERM, SIGKILL after 8 s. */
export async function stopMedusa(child) {
  if (!child || child.exitCode !== null) return
  const gone = new Promise((r) => child.once("exit", r))
  try {
    process.kill(-child.pid, "SIGTERM")
  } catch {}
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid, "SIGKILL")
    } catch {}
  }, 8000)
  await gone
  clearTimeout(timer)
}

/**
 * One HTTP call to `baseUrl + path`: JSON body, bearer `token`, extra `headers`.
 * Resolves { status, body (parsed JSON, else the text) }; appends the
 * exchange to `logFile` when given.
 */
export async function httpCall(baseUrl, method, path, { token, body, headers = {}, logFile, logChars = 4000 } = {}) {
  const h = { ...headers }
  if (body !== undefined) h["Content-Type"] = "application/json"
  if (token) h.Authorization = `Bearer ${token}`
  const res = await fetch(`${baseUrl}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {
    json = text
  }
  if (logFile) appendFileSync(logFile, `${method} ${path} -> ${res.status}\n${text.slice(0, logChars)}\n\n`)
  return { status: res.status, body: json }
}

/** The body of a 2xx response; anything else fails with the response. */
export function okBody(res, method, path) {
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path} -> ${res.status}: ${JSON.stringify(res.body)}`)
  return res.body
}

/** Polls `check` until it returns true; fails after timeoutMs with `what` and the last answer. */
export async function waitFor(check, timeoutMs, what) {
  const t0 = Date.now()
  let last
  for (;;) {
    last = await check()
    if (last === true) return
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what} within ${timeoutMs} ms (last: ${JSON.stringify(last)})`)
    await sleep(200)
  }
}

/** Registers a customer over the Store API and logs them in: { id, token }. */
export async function registerCustomer(ok, who, { first_name, last_name }) {
  const registered = await ok("POST", "/auth/customer/emailpass/register", { body: who })
  const { customer } = await ok("POST", "/store/customers", { token: registered.token, pk: true, body: { email: who.email, first_name, last_name } })
  const token = (await ok("POST", "/auth/customer/emailpass", { body: who })).token
  return { id: customer.id, token }
}

/** Opens a payment session with `providerId` on the cart's payment collection (created or reused), whose amount must be `amount`. */
export async function payWith(ok, cartId, providerId, amount) {
  const { payment_collection } = await ok("POST", "/store/payment-collections", { pk: true, body: { cart_id: cartId } })
  assert.equal(payment_collection.amount, amount)
  await ok("POST", `/store/payment-collections/${payment_collection.id}/payment-sessions`, { pk: true, body: { provider_id: providerId } })
}

/** `loyalty-server verify` on a server's database: { code, output }. */
export function verifyLedger(databaseUrl) {
  return new Promise((done) => {
    execFile(serverBin(), ["verify", "--database-url", databaseUrl], { encoding: "utf8" }, (err, stdout, stderr) =>
      done({ code: err ? (err.code ?? 1) : 0, output: `${stdout}${stderr}` })
    )
  })
}
