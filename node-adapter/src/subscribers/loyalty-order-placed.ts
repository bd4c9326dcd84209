import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"
import type { Logger } from "@medusajs/framework/types"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"
import { handleOrderPlaced } from "../lib/order-points"

/**
 * order.placed (emitted by completeCartWorkflow once the order exists and the
 * workflow succeeded, and by draft-order conversion): captures the points the
 * cart applied and earns the order's points by the rule. Both are idempotent
 * in the loyalty service, so a redelivered event earns and spends once.
 */
export default async function loyaltyOrderPlaced({ event, container }: SubscriberArgs<{ id: string }>) {
  const outcome = await handleOrderPlaced(container, event.data.id)
  // One line per delivery (a redelivery shows "replayed": true), for operators and the tests.
  container
    .resolve<Logger>(ContainerRegistrationKeys.LOGGER)
    .info(`medusa-loyalty-grpc: order.placed ${event.data.id}: ${JSON.stringify(outcome)}`)
}

export const config: SubscriberConfig = {
  event: "order.placed",
  context: { subscriberId: "medusa-loyalty-grpc-order-placed" },
}
