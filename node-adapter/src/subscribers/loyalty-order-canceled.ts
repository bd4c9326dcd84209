import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"
import { handleOrderCanceled } from "../lib/order-points"

/**
 * order.canceled (emitted by cancelOrderWorkflow, e.g. POST /admin/orders/:id/cancel):
 * returns the points the order spent and takes back all it earned and has left.
 */
export default async function loyaltyOrderCanceled({ event, container }: SubscriberArgs<{ id: string }>) {
  await handleOrderCanceled(container, event.data.id)
}

export const config: SubscriberConfig = {
  event: "order.canceled",
  context: { subscriberId: "medusa-loyalty-grpc-order-canceled" },
}
