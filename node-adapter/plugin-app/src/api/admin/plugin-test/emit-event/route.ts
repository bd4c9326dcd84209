import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import type { IEventBusModuleService } from "@medusajs/framework/types"
import { MedusaError, Modules } from "@medusajs/framework/utils"

type Body = { name?: string; data?: Record<string, unknown> }

/**
 * Test-only: emits an event on the app's event bus, as a redelivery would
 * (e.g. order.placed for an order that already exists).
 */
export const POST = async (req: AuthenticatedMedusaRequest<Body>, res: MedusaResponse) => {
  const body = (req.body ?? {}) as Body
  if (typeof body.name !== "string" || !body.name) {
    throw new MedusaError(MedusaError.Types.INVALID_DATA, "name is required")
  }
  const bus = req.scope.resolve<IEventBusModuleService>(Modules.EVENT_BUS)
  await bus.emit({ name: body.name, data: body.data ?? {} })
  res.json({ emitted: body.name, data: body.data ?? {} })
}
