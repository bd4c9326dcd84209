import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"
import type { Logger } from "@medusajs/framework/types"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"
import { handleOrderCanceled } from "../lib/order-points"

/**
 * order.canceled (emitted by cancelOrderWorkflow, e.g. POST /admin/orders/:id/cancel):
 * returns the points the order spent and takes back all it earned and has left.
 */
export default async function loyaltyOrderCanceled({ event, container }: SubscriberArgs<{ id: string }>) {
  const outcome = await handleOrderCanceled(container, event.data.id)
  // One line per delivery (a redelivery shows "replayed": true), for operators and the tests.
  container
    .resolve<Logger>(ContainerRegistrationKeys.LOGGER)
    .info(`medusa-loyalty-grpc: order.canceled ${event.data.id}: ${JSON.stringify(outcome)}`)
}

export const config: SubscriberConfig = {
  event: "order.canceled",
  context: { subscriberId: "medusa-loyalty-grpc-order-canceled" },
}
