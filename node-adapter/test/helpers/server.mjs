// Starts and stops a real `loyalty-server` process for the tests: a free port,
// a temporary SQLite file, wait for grpc.health.v1 SERVING, kill at the end.
import { spawn, execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import * as grpc from "@grpc/grpc-js"

export const ADAPTER_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..")

/** LOYALTY_SERVER_BIN, else ../.venv/bin/loyalty-server relative to node-adapter. */
export function serverBin() {
  const bin = process.env.LOYALTY_SERVER_BIN || resolve(ADAPTER_ROOT, "..", ".venv", "bin", "loyalty-server")
  if (!existsSync(bin)) {
    throw new Error(`loyalty-server not found at ${bin}: install the repo (pip install -e .) or set LOYALTY_SERVER_BIN`)
  }
  return bin
}

/** A port nothing listens on right now. */
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer()
    srv.unref()
    srv.on("error", fail)
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address()
      srv.close(() => ok(port))
    })
  })
}

/** One grpc.health.v1.Health/Check; resolves true when SERVING. */
export function healthServing(address, timeoutMs = 1000, tls) {
  return new Promise((ok) => {
    const creds = tls
      ? grpc.credentials.createSsl(readFileSync(tls.ca), tls.key ? readFileSync(tls.key) : null, tls.cert ? readFileSync(tls.cert) : null)
      : grpc.credentials.createInsecure()
    const client = new grpc.Client(address, creds)
    client.makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      (x) => x,
      (x) => x,
      Buffer.alloc(0), // HealthCheckRequest{service: ""}
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err, res) => {
        client.close()
        // HealthCheckResponse{status: SERVING(1)} encodes as 08 01.
        ok(!err && res && res.length >= 2 && res[0] === 0x08 && res[1] === 0x01)
      }
    )
  })
}

let helpText
/**
 * `loyalty-server serve --help`, to see which options this server has.
 * Throws when it cannot be read: an empty text would silently skip the tests that depend on it.
 */
export function serveHelp() {
  if (helpText === undefined) {
    let text
    try {
      text = execFileSync(serverBin(), ["serve", "--help"], { encoding: "utf8" })
    } catch (e) {
      throw new Error(`could not read \`${serverBin()} serve --help\`: ${e?.message ?? e}`)
    }
    if (!text.trim()) {
      throw new Error(`\`${serverBin()} serve --help\` printed nothing`)
    }
    helpText = text
  }
  return helpText
}

/**
 * Starts loyalty-server on a free port with a fresh SQLite file, or on
 * `databaseUrl` (e.g. a PostgreSQL database of the caller's), which
 * `loyalty-server migrate` migrates first.
 * Returns { address, port, databaseUrl, stop(), logs() }.
 */
export async function startServer({ port, extraArgs = [], env = {}, timeoutMs = 30000, tls, databaseUrl: givenUrl } = {}) {
  const bin = serverBin()
  const dir = mkdtempSync(join(tmpdir(), "loyalty-node-test-"))
  const p = port ?? (await freePort())
  const address = `127.0.0.1:${p}`
  let output = ""
  const databaseUrl = givenUrl ?? `sqlite:///${join(dir, "loyalty.db")}`
  if (givenUrl) {
    try {
      execFileSync(bin, ["migrate", "--database-url", givenUrl, "--log-level", "WARNING"], { encoding: "utf8", stdio: "pipe", env: { ...process.env, ...env } })
    } catch (e) {
      rmSync(dir, { recursive: true, force: true })
      throw new Error(`loyalty-server migrate failed on ${givenUrl}:\n${e.stdout ?? ""}${e.stderr ?? e.message}`)
    }
  }
  const child = spawn(bin, ["serve", "--listen", address, "--database-url", databaseUrl, "--grace-period", "1", ...extraArgs], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  })
  child.stdout.on("data", (d) => (output += d))
  child.stderr.on("data", (d) => (output += d))
  let exited = false
  child.on("exit", () => (exited = true))

  const stop = async () => {
    if (!exited) {
      const gone = new Promise((ok) => child.once("exit", ok))
      child.kill("SIGTERM")
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000)
      await gone
      clearTimeout(timer)
    }
    rmSync(dir, { recursive: true, force: true })
  }

  const started = Date.now()
  while (!(await healthServing(address, 500, tls))) {
    if (exited) {
      await stop()
      throw new Error(`loyalty-server exited before serving:\n${output}`)
    }
    if (Date.now() - started > timeoutMs) {
      await stop()
      throw new Error(`loyalty-server not SERVING on ${address} after ${timeoutMs} ms:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return { address, port: p, databaseUrl, stop, logs: () => output, pid: child.pid }
}
