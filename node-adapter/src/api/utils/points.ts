import type { ICustomerModuleService, MedusaContainer } from "@medusajs/framework/types"
import { MedusaError, Modules } from "@medusajs/framework/utils"
import type { PointAdjustmentDTO } from "../../modules/loyalty/convert"

/** `?include_history=true` (also 1/yes). */
export function flag(value: unknown): boolean {
  const v = Array.isArray(value) ? value[value.length - 1] : value
  return typeof v === "string" ? ["true", "1", "yes"].includes(v.toLowerCase()) : v === true
}

/** 404 unless the customer exists in Medusa's customer module. */
export async function assertCustomerExists(scope: MedusaContainer, customerId: unknown): Promise<string> {
  if (typeof customerId !== "string" || !customerId) {
    throw new MedusaError(MedusaError.Types.INVALID_DATA, "customer_id is required")
  }
  const customers = scope.resolve<ICustomerModuleService>(Modules.CUSTOMER)
  const found = await customers.listCustomers({ id: [customerId] }, { select: ["id"], take: 1 })
  if (!found?.length) {
    throw new MedusaError(MedusaError.Types.NOT_FOUND, `Customer with id: ${customerId} was not found`)
  }
  return customerId
}

/** One history entry as the Points API prints it. */
export function historyEntry(a: PointAdjustmentDTO) {
  return {
    id: a.id,
    customer_id: a.customer_id,
    delta: a.delta,
    reason: a.reason,
    balance_after: a.balance_after,
    created_at: a.created_at,
  }
}
