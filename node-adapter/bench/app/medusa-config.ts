import { defineConfig, loadEnv } from "@medusajs/framework/utils"

loadEnv(process.env.NODE_ENV || "development", process.cwd())

/**
 * The benchmark's app (bench/run.sh). BENCH_MODULES picks what serves the
 * `loyalty` and `store_credit` keys:
 * - "ours" (default): medusa-loyalty-grpc's two modules, forwarding to the
 *   loyalty server at LOYALTY_GRPC_ADDRESS;
 * - "plugin": the official @medusajs/loyalty-plugin 2.21.1 with its own
 *   modules, on Medusa's database through MikroORM (nothing of ours loaded).
 */
const loyaltyOptions = {
  address: process.env.LOYALTY_GRPC_ADDRESS,
  token: process.env.LOYALTY_GRPC_TOKEN || undefined,
  timeoutMs: Number(process.env.LOYALTY_GRPC_TIMEOUT_MS || 10000),
}
const plugin = process.env.BENCH_MODULES === "plugin"

module.exports = defineConfig({
  projectConfig: {
    databaseUrl: process.env.DATABASE_URL,
    databaseLogging: false,
    http: {
      storeCors: "http://localhost:8000",
      adminCors: "http://localhost:9000",
      authCors: "http://localhost:9000",
      jwtSecret: "supersecret-bench-only",
      cookieSecret: "supersecret-bench-only",
    },
  },
  admin: { disable: true },
  plugins: plugin ? [{ resolve: "@medusajs/loyalty-plugin", options: {} }] : [],
  modules: plugin
    ? []
    : [
        { key: "loyalty", resolve: "medusa-loyalty-grpc/module", options: loyaltyOptions },
        { key: "store_credit", resolve: "medusa-loyalty-grpc/store-credit", options: loyaltyOptions },
      ],
})
