import { authenticate, defineMiddlewares } from "@medusajs/framework/http"

/**
 * Where Medusa's RBAC feature is on, the Points API needs `loyalty:read`
 * (the GET routes) and `loyalty:write` (the adjustment). Without RBAC these
 * policies are ignored and any authenticated admin may call the routes.
 */
export default defineMiddlewares({
  routes: [
    {
      matcher: "/admin/loyalty/points/adjust",
      methods: ["POST"],
      policies: [{ resource: "loyalty", operation: "write" }],
    },
    {
      matcher: "/admin/loyalty/points/:customer_id",
      methods: ["GET"],
      policies: [{ resource: "loyalty", operation: "read" }],
    },
    {
      matcher: "/admin/loyalty/points/:customer_id/adjustments",
      methods: ["GET"],
      policies: [{ resource: "loyalty", operation: "read" }],
    },
    // The points program's Store routes: a logged-in customer only (session or bearer token).
    {
      matcher: "/store/carts/:id/loyalty-points",
      methods: ["POST", "DELETE"],
      middlewares: [authenticate("customer", ["session", "bearer"])],
    },
    {
      matcher: "/store/loyalty/points",
      methods: ["GET"],
      middlewares: [authenticate("customer", ["session", "bearer"])],
    },
  ],
})
