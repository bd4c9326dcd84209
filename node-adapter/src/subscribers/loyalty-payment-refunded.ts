import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"
import { handlePaymentRefunded } from "../lib/order-points"

/**
 * payment.refunded (emitted by refundPaymentWorkflow, e.g. POST /admin/payments/:id/refund,
 * with the payment's id): each refund takes back its share of the order's points.
 */
export default async function loyaltyPaymentRefunded({ event, container }: SubscriberArgs<{ id: string }>) {
  await handlePaymentRefunded(container, event.data.id)
}

export const config: SubscriberConfig = {
  event: "payment.refunded",
  context: { subscriberId: "medusa-loyalty-grpc-payment-refunded" },
}
