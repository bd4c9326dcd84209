import { defineConfig, loadEnv } from "@medusajs/framework/utils"

loadEnv(process.env.NODE_ENV || "development", process.cwd())

/**
 * The adapter's test app. LOYALTY_MODE picks how the adapter is installed:
 * "plugin" (default: the `loyalty` and `store_credit` modules plus the Admin
 * routes) or "module" (the two modules alone, under the keys `loyalty` and
 * `store_credit`).
 */
const loyaltyOptions = {
  address: process.env.LOYALTY_GRPC_ADDRESS,
  token: process.env.LOYALTY_GRPC_TOKEN || undefined,
  timeoutMs: Number(process.env.LOYALTY_GRPC_TIMEOUT_MS || 5000),
}
const mode = process.env.LOYALTY_MODE || "plugin"

module.exports = defineConfig({
  projectConfig: {
    databaseUrl: process.env.DATABASE_URL,
    databaseLogging: false,
    http: {
      storeCors: process.env.STORE_CORS || "http://localhost:8000",
      adminCors: process.env.ADMIN_CORS || "http://localhost:9000",
      authCors: process.env.AUTH_CORS || "http://localhost:9000",
      jwtSecret: process.env.JWT_SECRET || "supersecret-test-only",
      cookieSecret: process.env.COOKIE_SECRET || "supersecret-test-only",
    },
  },
  admin: { disable: true },
  plugins: mode === "plugin" ? [{ resolve: "medusa-loyalty-grpc", options: loyaltyOptions }] : [],
  modules:
    mode === "module"
      ? [
          { key: "loyalty", resolve: "medusa-loyalty-grpc/module", options: loyaltyOptions },
          { key: "store_credit", resolve: "medusa-loyalty-grpc/store-credit", options: loyaltyOptions },
        ]
      : [],
})
