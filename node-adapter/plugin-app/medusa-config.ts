import { defineConfig, loadEnv } from "@medusajs/framework/utils"

loadEnv(process.env.NODE_ENV || "development", process.cwd())

/**
 * The official @medusajs/loyalty-plugin 2.21.1 (its Admin and Store routes,
 * workflows, links, hooks and subscriber) with its two modules replaced by
 * medusa-loyalty-grpc: the `modules` entries below use the plugin's module
 * keys, so every gift card, store-credit account and ledger row lives in the
 * loyalty service. medusa-loyalty-grpc is also installed as a plugin (the
 * Points API routes); the `modules` keys decide which module serves.
 */
const loyaltyOptions = {
  address: process.env.LOYALTY_GRPC_ADDRESS,
  token: process.env.LOYALTY_GRPC_TOKEN || undefined,
  timeoutMs: Number(process.env.LOYALTY_GRPC_TIMEOUT_MS || 5000),
  // The points program (issue 15): 10 points per dollar of the items after
  // discounts; a point is worth a cent at checkout, held for an hour.
  points: {
    earn: { per_unit: { usd: "10" }, rounding: "floor" as const },
    redeem: { value_per_point: { usd: "0.01" }, hold_minutes: 60 },
  },
}

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
    // The test app is served over plain http, also in production (the built
    // Admin of layer d): a Secure session cookie would never be sent back.
    cookieOptions: { secure: false },
  },
  // The Admin is built and served only for the browser layer (d).
  admin: { disable: process.env.PLUGIN_APP_ADMIN !== "true" },
  plugins: [
    { resolve: "@medusajs/loyalty-plugin", options: {} },
    { resolve: "medusa-loyalty-grpc", options: loyaltyOptions },
  ],
  modules: [
    { key: "loyalty", resolve: "medusa-loyalty-grpc/module", options: loyaltyOptions },
    { key: "store_credit", resolve: "medusa-loyalty-grpc/store-credit", options: loyaltyOptions },
    // The system provider stays; a test provider that declines every
    // authorization (pp_declining_declining) makes cart completion fail after
    // the plugin's debit, to prove its compensation.
    {
      resolve: "@medusajs/medusa/payment",
      options: { providers: [{ resolve: "./src/modules/declining-payment", id: "declining" }] },
    },
  ],
})
