import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"
import type { Logger } from "@medusajs/framework/types"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"
import { handlePaymentRefunded } from "../lib/order-points"

/**
 * payment.refunded (emitted by refundPaymentWorkflow, e.g. POST /admin/payments/:id/refund,
 * with the payment's id): each refund takes back its share of the order's points.
 */
export default async function loyaltyPaymentRefunded({ event, container }: SubscriberArgs<{ id: string }>) {
  const outcome = await handlePaymentRefunded(container, event.data.id)
  // One line per delivery (a redelivery shows "replayed": true), for operators and the tests.
  container
    .resolve<Logger>(ContainerRegistrationKeys.LOGGER)
    .info(`medusa-loyalty-grpc: payment.refunded ${event.data.id}: ${JSON.stringify(outcome)}`)
}

export const config: SubscriberConfig = {
  event: "payment.refunded",
  context: { subscriberId: "medusa-loyalty-grpc-payment-refunded" },
}
